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
