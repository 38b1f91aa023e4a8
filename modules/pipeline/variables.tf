variable "name_prefix" {
  description = "The hosting environment's name; prefixes every name in this module."
  type        = string
}

variable "agents" {
  description = "Agent name => the directory of its Dockerfile in the source repository."
  type        = map(string)
}

variable "connection_provider" {
  description = "The source repository's host, as aws_codestarconnections_connection names it (GitHub, GitLab, Bitbucket, GitHubEnterpriseServer)."
  type        = string
}

variable "repository" {
  description = "The source repository, owner/name."
  type        = string
}

variable "branch" {
  description = "The branch a release starts from."
  type        = string
}

variable "stages" {
  description = "The environments a release goes through, in order: its name, the role its deploy assumes, and whether a manual approval comes first."
  type = list(object({
    name            = string
    deploy_role_arn = string
    approval        = bool
  }))
}

variable "tfgen_repository" {
  description = "The git URL deploy builds install tfgen from."
  type        = string
}

variable "tfgen_version" {
  description = "The tfgen release (git tag v<version>) deploy builds render with."
  type        = string
}

variable "terraform_version" {
  description = "The Terraform release deploy builds apply with."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the build and deploy logs."
  type        = number
}

variable "keep_release_images" {
  description = "How many releases (commits built) each release repository keeps the images of: three images each, the index and its two platform images."
  type        = number
  default     = 100
}
