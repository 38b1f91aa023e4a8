variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\". The secret is named \"<name_prefix>/multi-agent/api-keys\", followed by \"-<name_suffix>\" when one is set."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "recovery_window_in_days" {
  type        = number
  description = "Days Secrets Manager keeps the secret recoverable after deletion: 0 (delete immediately) or 7-30."
  default     = 7

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "name_suffix" {
  type        = string
  description = "Appended to the secret names after a hyphen, or null for none. With a recovery window, a deleted secret's name stays taken for that many days: a suffix that changes when the environment is re-created (its KMS key's id) lets it come back at once."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the secret; null for the AWS managed aws/secretsmanager key. Readers need kms:Decrypt on it."
  default     = null
}
