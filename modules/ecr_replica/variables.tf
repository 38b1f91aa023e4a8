variable "prefix" {
  type        = string
  description = "The repository namespace the template applies to: \"prod\" covers every repository under prod/."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$", var.prefix))
    error_message = "prefix must be a repository namespace without a trailing slash, e.g. prod."
  }
}

variable "lifecycle_policy" {
  type        = string
  description = "The lifecycle policy JSON of the source repositories, applied to each replica."
}

variable "image_tag_mutability" {
  type        = string
  description = "Tag mutability of the replicas: the source repositories' setting."
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}
