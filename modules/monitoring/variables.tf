variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\". Used for the SNS topic and alarm names."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "alarm_email" {
  type        = string
  description = "E-mail address subscribed to the alarm topic, or null for no subscription. The recipient must confirm the subscription."
  default     = null

  validation {
    # A conditional (not ||) so regex() is never evaluated on null.
    condition     = var.alarm_email == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or a valid e-mail address."
  }
}

variable "agents" {
  type = map(object({
    cluster_name            = string
    service_name            = string
    desired_count           = number
    log_group_name          = string
    target_group_arn_suffix = string
  }))
  description = "Agents keyed by agent name: the ECS cluster and service to watch, the service's baseline task count (autoscaling minimum), the log group its containers write to and its target group's ARN suffix (the TargetGroup dimension of HealthyHostCount)."

  validation {
    condition     = alltrue([for a in values(var.agents) : a.desired_count >= 0 && floor(a.desired_count) == a.desired_count])
    error_message = "Every agent's desired_count must be a whole number >= 0."
  }
}

variable "cpu_threshold_percent" {
  type        = number
  description = "Alarm when an agent service's average CPU utilization stays above this percentage for 3 minutes."
  default     = 80

  validation {
    condition     = var.cpu_threshold_percent > 0 && var.cpu_threshold_percent <= 100
    error_message = "cpu_threshold_percent must be in (0, 100]."
  }
}

variable "memory_threshold_percent" {
  type        = number
  description = "Alarm when an agent service's average memory utilization stays above this percentage for 3 minutes."
  default     = 80

  validation {
    condition     = var.memory_threshold_percent > 0 && var.memory_threshold_percent <= 100
    error_message = "memory_threshold_percent must be in (0, 100]."
  }
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the ALB (app/<name>/<id>), the CloudWatch LoadBalancer dimension."

  validation {
    condition     = startswith(var.alb_arn_suffix, "app/")
    error_message = "alb_arn_suffix must be an application load balancer ARN suffix (app/<name>/<id>)."
  }
}

variable "alb_5xx_rate_threshold_percent" {
  type        = number
  description = "Alarm when 5xx responses (ELB + target) exceed this percentage of ALB requests."
  default     = 5

  validation {
    condition     = var.alb_5xx_rate_threshold_percent > 0 && var.alb_5xx_rate_threshold_percent <= 100
    error_message = "alb_5xx_rate_threshold_percent must be in (0, 100]."
  }
}

variable "db_cluster_identifier" {
  type        = string
  description = "Aurora cluster identifier (CloudWatch DBClusterIdentifier dimension)."
}

variable "db_failure_metric_namespace" {
  type        = string
  description = "Custom CloudWatch namespace for the DatabaseConnectionFailures metric, e.g. \"MultiAgent/prod\"."

  validation {
    condition     = length(var.db_failure_metric_namespace) > 0 && !startswith(var.db_failure_metric_namespace, "AWS/")
    error_message = "db_failure_metric_namespace must be non-empty and must not start with the reserved \"AWS/\" prefix."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the alarm topic (its policy must let cloudwatch.amazonaws.com use it); null leaves the topic unencrypted."
  default     = null
}

variable "bedrock_model_id" {
  type        = string
  description = "The model or inference profile ID the agents invoke: the ModelId dimension of the AWS/Bedrock metrics."
}

variable "bedrock_throttles_threshold" {
  type        = number
  description = "Throttled Bedrock invocations in 5 minutes above which the throttling alarm fires (the SDK retries a few)."
  default     = 5
}

variable "container_insights" {
  type        = bool
  description = "Whether the agent clusters publish Container Insights: the running-tasks alarm then compares the live desired and running task counts; without it, the target group's healthy tasks against the baseline count."
  default     = false
}

variable "budget_limit_usd" {
  type        = number
  description = "The monthly cost budget in USD (tfgen cost's estimate plus a margin, or the spec's amount); null renders no budget."
  default     = null

  validation {
    condition     = var.budget_limit_usd == null ? true : var.budget_limit_usd >= 1
    error_message = "budget_limit_usd must be null or at least 1."
  }
}

variable "budget_tag_filter" {
  type        = string
  description = "The cost-allocation tag filter the budget counts, user:<tag key>$<value>."
  default     = null
}

variable "backup_failures" {
  type        = bool
  description = "Alert the topic when an AWS Backup backup or copy job fails (an EventBridge rule; EventBridge may then publish to the topic)."
  default     = false
}
