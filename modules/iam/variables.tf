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

variable "rds_access_role_name" {
  type        = string
  description = "Name of the agent's database access role (created only when database_access is true)."
}

variable "database_access" {
  type        = bool
  description = "Whether the agent uses the database (agents.toml `[agent.database]`): only its database access role (IAM authentication). Its Data API and own secret come from its policy in module database_bootstrap; no role here reads a database secret."
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

variable "db_cluster_resource_id" {
  type        = string
  description = "Aurora cluster resource ID (cluster-XXXXXXXX), used in rds-db:connect ARNs for IAM database authentication."

  validation {
    condition     = can(regex("^cluster-[A-Za-z0-9]+$", var.db_cluster_resource_id))
    error_message = "db_cluster_resource_id must look like \"cluster-ABCDEFGHIJKL0123456789\"."
  }
}

variable "db_iam_user" {
  type        = string
  description = "Database user the RDS access role may log in as with IAM authentication (must be granted rds_iam in PostgreSQL)."
  default     = "app_iam"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", var.db_iam_user))
    error_message = "db_iam_user must be a plain PostgreSQL identifier (letters, digits, underscores; max 63 characters)."
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
