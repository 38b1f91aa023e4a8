variable "agent_name" {
  type        = string
  description = "The agent these roles belong to: each agent has its own, and no role serves two agents."
}

variable "task_role_name" {
  type        = string
  description = "Name of the agent's task role (the application's identity)."
}

variable "execution_role_name" {
  type        = string
  description = "Name of the agent's task execution role (image pull, logs, secret injection)."
}

variable "repository_names" {
  type        = list(string)
  description = "ECR repository names the execution role may pull from (in the current region and account)."

  validation {
    condition     = length(var.repository_names) > 0
    error_message = "At least one repository name is required."
  }
}

variable "log_group_names" {
  type        = list(string)
  description = "CloudWatch log group names the execution role may write container logs to."

  validation {
    condition     = length(var.log_group_names) > 0
    error_message = "At least one log group name is required."
  }
}

variable "execution_secret_arns" {
  type        = list(string)
  description = "Secrets Manager ARNs the ECS agent injects into containers (task definition \"secrets\"). The \":json-key:stage:version\" valueFrom suffix is accepted and stripped."

  validation {
    condition     = alltrue([for arn in var.execution_secret_arns : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:", arn))])
    error_message = "execution_secret_arns must be Secrets Manager secret ARNs."
  }
}

variable "bedrock_grants" {
  type = list(object({
    sid        = string
    resources  = list(string)
    conditions = map(string)
  }))
  description = "The bedrock:InvokeModel* statements AWS documents for the agents' inference profile (from tfgen's facts, src/aws/bedrock.rs): the profile ARN, the foundation model in every destination Region, and for a global profile the Region-less model ARN. ARNs may hold the placeholders $${partition} and $${account_id}; conditions are StringEquals key = value."

  validation {
    condition     = length(var.bedrock_grants) > 0 && alltrue([for g in var.bedrock_grants : length(g.resources) > 0])
    error_message = "bedrock_grants needs at least one statement, each with at least one resource."
  }
}

variable "kms_key_arns" {
  type        = list(string)
  description = "Customer-managed KMS keys encrypting the secrets above (kms:Decrypt through Secrets Manager only); empty when the secrets use aws/secretsmanager. A list, so that its length is known at plan time."
  default     = []
}
