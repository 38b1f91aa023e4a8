variable "agent_name" {
  type        = string
  description = "Agent key (e.g. \"order-management\"); used as the awslogs stream prefix."

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.agent_name))
    error_message = "agent_name must be lowercase kebab-case."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the ECS cluster created for this agent."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "service_name" {
  type        = string
  description = "Name of the ECS service."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.service_name))
    error_message = "service_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "task_family" {
  type        = string
  description = "Task definition family."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.task_family))
    error_message = "task_family must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "container_name" {
  type        = string
  description = "Name of the (single) container in the task; the load balancer routes to it."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.container_name))
    error_message = "container_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "image" {
  type        = string
  description = "Full image URI including the tag or digest (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod/supervisor-agent:1.4.2)."

  validation {
    condition     = can(regex("(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.image))
    error_message = "image must carry an explicit tag or digest."
  }
}

variable "image_digest" {
  type        = string
  description = "Digest of var.image in its repository, as the caller's aws_ecr_image reads it: the service waits for it, so a missing image stops the apply before the service is created or changed."

  validation {
    condition     = startswith(var.image_digest, "sha256:")
    error_message = "image_digest must be an image digest (sha256:...): push the image before applying."
  }
}

variable "container_port" {
  type        = number
  description = "Port the container serves HTTP on: Service Connect, the container health check, and the target group unless tls is set."

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "container_port must be an integer between 1 and 65535."
  }
}

variable "cpu" {
  type        = number
  description = "Task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192 or 16384)."

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  type        = number
  description = "Task memory in MiB; must be a Fargate-supported value for the chosen cpu."
}

variable "desired_count" {
  type        = number
  description = "Initial task count and autoscaling minimum (0 stops the agent). After creation autoscaling owns the running count."

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 5000 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number between 0 and 5000 (ECS tasks per service)."
  }
}

variable "max_count" {
  type        = number
  description = "Autoscaling maximum task count (>= desired_count)."

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 5000 && floor(var.max_count) == var.max_count
    error_message = "max_count must be a whole number between 1 and 5000 (ECS tasks per service)."
  }
}

variable "cpu_target_percent" {
  type        = number
  description = "Average service CPU utilisation the target-tracking policy aims for."
  default     = 70

  validation {
    condition     = var.cpu_target_percent > 0 && var.cpu_target_percent <= 100
    error_message = "cpu_target_percent must be in (0, 100]."
  }
}

variable "health_check_path" {
  type        = string
  description = "HTTP path of the health endpoint, starting with \"/\" (used by the container health check)."

  validation {
    # Restricted to URL path characters because the value ends up in a shell command (CMD-SHELL).
    condition     = can(regex("^/[A-Za-z0-9/._~-]*$", var.health_check_path))
    error_message = "health_check_path must start with \"/\" and contain only letters, digits and / . _ ~ -."
  }
}

variable "health_check_grace_period_seconds" {
  type        = number
  description = "Seconds the service ignores load balancer health checks after a task starts."
  default     = 60

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "health_check_grace_period_seconds must be >= 0."
  }
}

variable "deployment_minimum_healthy_percent" {
  type        = number
  description = "Lower bound of running tasks during a deployment, as a percentage of the desired count."
  default     = 50

  validation {
    condition     = var.deployment_minimum_healthy_percent >= 0 && var.deployment_minimum_healthy_percent <= 100
    error_message = "deployment_minimum_healthy_percent must be between 0 and 100."
  }
}

variable "deployment_maximum_percent" {
  type        = number
  description = "Upper bound of running tasks during a deployment, as a percentage of the desired count."
  default     = 200

  validation {
    condition     = var.deployment_maximum_percent >= 100
    error_message = "deployment_maximum_percent must be >= 100."
  }
}

variable "deployment_timeout" {
  type        = string
  description = "Create/update timeout of the service (duration such as \"10m\"); bounds the wait when wait_for_steady_state is true."
  default     = "10m"

  validation {
    condition     = can(regex("^([0-9]+[hms])+$", var.deployment_timeout))
    error_message = "deployment_timeout must be a duration such as \"10m\", \"1h\" or \"1h30m\"."
  }
}

variable "wait_for_steady_state" {
  type        = bool
  description = "Make terraform apply wait until the service reaches a steady state."
  default     = false
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets the tasks run in."

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "At least one private subnet is required."
  }
}

variable "security_group_id" {
  type        = string
  description = "Security group attached to the tasks."
}

variable "target_group_arn" {
  type        = string
  description = "ALB target group (target_type ip) the service registers its tasks with."
}

variable "execution_role_arn" {
  type        = string
  description = "ARN of the task execution role (image pull, logs, secret injection)."
}

variable "task_role_arn" {
  type        = string
  description = "ARN of the task role the application runs as."
}

variable "log_group_name" {
  type        = string
  description = "CloudWatch log group created for the container logs."

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1-512 characters of letters, digits and _ / . # -."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the log group in days (a value CloudWatch Logs accepts)."

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "region" {
  type        = string
  description = "Region of the log group (awslogs-region)."
}

variable "environment" {
  type        = map(string)
  description = "Plain (non-secret) environment variables for the container."
  default     = {}
}

variable "secrets" {
  type        = map(string)
  description = "Environment variable name -> Secrets Manager ARN, optionally \"<arn>:<json-key>::\" to inject a single JSON key."
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:", arn))])
    error_message = "Every secrets value must be a Secrets Manager ARN (optionally with a :json-key:stage:version suffix)."
  }
}

variable "read_only_root_filesystem" {
  type        = bool
  description = "Mount the container's root file system read-only; /tmp stays writable."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the log group; null for CloudWatch Logs' default encryption."
  default     = null
}

variable "service_connect_namespace_arn" {
  type        = string
  description = "ARN of the environment's Service Connect namespace: the agent registers in it under its own name and calls other agents through it."
}

variable "stop_timeout_seconds" {
  type        = number
  description = "Seconds between SIGTERM and SIGKILL when a task stops, for in-flight answers to finish (Fargate allows at most 120)."
  default     = 120

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (Fargate's maximum)."
  }
}

variable "memory_target_percent" {
  type        = number
  description = "Average memory utilization the service's target tracking policy keeps it at."

  validation {
    condition     = var.memory_target_percent >= 10 && var.memory_target_percent <= 95
    error_message = "memory_target_percent must be between 10 and 95."
  }
}

variable "capacity_strategy" {
  type = list(object({
    capacity_provider = string
    base              = number
    weight            = number
  }))
  description = "The service's capacity provider strategy; empty runs every task on-demand (the FARGATE launch type). FARGATE_SPOT tasks are interruptible and about 70% cheaper."
  default     = []

  validation {
    condition     = alltrue([for s in var.capacity_strategy : contains(["FARGATE", "FARGATE_SPOT"], s.capacity_provider)])
    error_message = "Each capacity_provider must be FARGATE or FARGATE_SPOT."
  }

  validation {
    condition     = length(var.capacity_strategy) == 0 || sum(concat([0], [for s in var.capacity_strategy : s.weight])) > 0
    error_message = "A capacity provider strategy needs a weight above 0."
  }

  validation {
    condition     = length([for s in var.capacity_strategy : s if s.base > 0]) <= 1
    error_message = "Only one capacity provider of a strategy may have a base."
  }
}

variable "cpu_architecture" {
  type        = string
  description = "X86_64 or ARM64 (Graviton); Fargate and Fargate Spot run both."
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "container_insights" {
  type        = bool
  description = "Container Insights metrics for the cluster (billed as custom metrics, about $5 a month per cluster). Off, the service's CPU and memory still reach CloudWatch as free AWS/ECS metrics."
  default     = false
}

variable "request_timeout_seconds" {
  type        = number
  description = "Service Connect's per-request and idle timeout for calls to this agent: the ALB's idle timeout."

  validation {
    condition     = var.request_timeout_seconds >= 1 && var.request_timeout_seconds <= 4000
    error_message = "request_timeout_seconds must be between 1 and 4000 (the ALB's idle timeout range)."
  }
}

variable "tls" {
  type = object({
    port                      = number
    certificate_authority_arn = string
    role_arn                  = string
  })
  description = "In-transit encryption: the port the application serves HTTPS on for the load balancer, and the CA and ECS role of Service Connect TLS. null: plain HTTP inside the VPC."
  default     = null

  validation {
    condition     = var.tls == null || try(var.tls.port != var.container_port && var.tls.port >= 1 && var.tls.port <= 65535, false)
    error_message = "tls.port must be a port other than container_port."
  }
}
