variable "repositories" {
  type        = map(string)
  description = "Repository name per agent, keyed by agent name (e.g. order-management = \"prod/order-management-agent\")."

  validation {
    condition     = length(var.repositories) > 0
    error_message = "At least one repository is required."
  }

  validation {
    # ECR naming rules: lowercase, optional namespaces separated by "/", 2-256 characters.
    condition = alltrue([
      for name in values(var.repositories) :
      length(name) >= 2 && length(name) <= 256 && can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", name))
    ])
    error_message = "Repository names must be 2-256 lowercase characters: letters, digits, '.', '_', '-' and '/' namespaces."
  }
}

variable "image_tag_mutability" {
  type        = string
  description = "Tag mutability of every repository. IMMUTABLE guarantees a deployed tag always points at the same image."
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "scan_on_push" {
  type        = bool
  description = "Run the basic vulnerability scan on every pushed image."
  default     = true
}

variable "keep_tagged_images" {
  type        = number
  description = "Number of most recent tagged images kept per repository; older tagged images are expired."
  default     = 30

  validation {
    condition     = var.keep_tagged_images >= 1 && floor(var.keep_tagged_images) == var.keep_tagged_images
    error_message = "keep_tagged_images must be a whole number >= 1."
  }
}

variable "untagged_expiry_days" {
  type        = number
  description = "Untagged images (superseded build layers, failed pushes) are expired this many days after push."
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1 && floor(var.untagged_expiry_days) == var.untagged_expiry_days
    error_message = "untagged_expiry_days must be a whole number >= 1."
  }
}

variable "replication_regions" {
  type        = list(string)
  description = "Regions (same account) to replicate this environment's repositories to. Empty disables replication."
  default     = []

  validation {
    condition     = alltrue([for r in var.replication_regions : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", r))])
    error_message = "replication_regions must contain region names such as \"eu-central-1\"."
  }

  validation {
    condition     = length(distinct(var.replication_regions)) == length(var.replication_regions)
    error_message = "replication_regions must not contain duplicates."
  }
}

variable "replication_prefix" {
  type        = string
  description = "Repository-name prefix this environment owns (e.g. \"prod/\"); only repositories matching it are replicated."

  validation {
    condition     = length(var.replication_prefix) > 0
    error_message = "replication_prefix must not be empty (an empty PREFIX_MATCH filter is rejected by ECR)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the repositories; null for AES256 with ECR-managed keys."
  default     = null
}

variable "force_delete" {
  type        = bool
  description = "Delete the repositories with their images on destroy (dev); false refuses to delete one that holds images."
  default     = false
}
