variable "name_prefix" {
  type        = string
  description = "Environment prefix, e.g. \"prod\". The bucket is named \"<name_prefix>-alb-logs-<account>-<region>\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name_prefix))
    error_message = "name_prefix must be 1-20 characters of lowercase letters, digits and hyphens, starting with a letter (bucket names are at most 63 characters)."
  }
}

variable "log_prefix" {
  type        = string
  description = "Key prefix the load balancer writes under (its access_logs prefix), e.g. the load balancer's name."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]*$", var.log_prefix))
    error_message = "log_prefix must be letters, digits and hyphens (no slashes; AWSLogs/ is appended by the load balancer)."
  }
}

variable "expiration_days" {
  type        = number
  description = "Days an access log object is kept before the lifecycle rule deletes it."

  validation {
    condition     = var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be a whole number >= 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete the bucket with the logs still in it (dev); false keeps logs from being deleted with the environment."
}
