variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\". The key's alias is \"alias/<name_prefix>-multi-agent\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days a scheduled key deletion can still be cancelled (7-30). Everything encrypted with the key is lost once it is deleted."
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "events_publish_to_topic" {
  type        = bool
  description = "Let EventBridge rules of this account encrypt with the key, to publish to the encrypted alarm topic (the backup-failure rule)."
  default     = false
}

variable "name_suffix" {
  type        = string
  description = "Appended to \"<name_prefix>-multi-agent\" in the alias and Name tag (\"-dr\": the DR region's key)."
  default     = ""
}

variable "description" {
  type        = string
  description = "The key's description; null for the environment key's."
  default     = null
}

variable "services" {
  type        = list(string)
  description = "The services (in this key's region) that may use the key for principals of this account, and hold grants of it."
  default     = ["secretsmanager", "ecr", "rds", "backup", "s3"]
}

variable "log_groups" {
  type        = bool
  description = "Let CloudWatch Logs encrypt this account's log groups of the region with the key."
  default     = true
}

variable "alarm_topic" {
  type        = bool
  description = "Let CloudWatch alarms and AWS Budgets (and, with events_publish_to_topic, EventBridge rules) of this account publish to a topic encrypted with the key."
  default     = true
}
