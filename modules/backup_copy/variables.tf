variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\": the vault is \"<name_prefix>-multi-agent-dr\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days a scheduled deletion of the DR key can still be cancelled (7-30). The copies are lost with it."
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Delete the vault with the copies it holds (a disposable environment), instead of refusing while it holds any."
  default     = false
}
