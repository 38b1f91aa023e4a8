variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\": the vault is \"<name_prefix>-multi-agent-dr\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "A key of the DR Region that encrypts the copies: AWS Backup and RDS may use it there."
}

variable "force_destroy" {
  type        = bool
  description = "Delete the vault with the copies it holds (a disposable environment), instead of refusing while it holds any."
  default     = false
}
