variable "name_prefix" {
  description = "The environment's name: the CA's subject and the role's name start with it."
  type        = string
}

variable "certificate_authority_arn" {
  description = "An existing AWS Private CA in this Region, tagged AmazonECSManaged = true, to share instead of creating one; null creates one."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_authority_arn == null || can(regex("^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$", var.certificate_authority_arn))
    error_message = "certificate_authority_arn must be an AWS Private CA ARN."
  }
}
