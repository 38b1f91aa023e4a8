# The repositories ECR replication creates in this region get their settings from this template (applied
# for REPLICATION to every repository under the environment's prefix): without it, replicas are created
# with ECR's defaults (no lifecycle policy, so their storage only grows). The same lifecycle rules as the
# source repositories, immutable tags, and AES256 encryption: ECR needs a custom role for a template that
# encrypts with KMS or tags, and none is created here.
resource "aws_ecr_repository_creation_template" "replicas" {
  prefix      = var.prefix
  description = "Replicas of the ${var.prefix}/ repositories: lifecycle rules, immutable tags, AES256 encryption."
  applied_for = ["REPLICATION"]

  image_tag_mutability = var.image_tag_mutability
  lifecycle_policy     = var.lifecycle_policy

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# Replicas are scanned too: this Region's registry sets every repository under the prefix to scan on push
# (basic scanning; repositories outside the filter keep manual scans). ECR's documentation does not say
# whether a replicated image counts as a push (checked 2026-12-07), so the DR runbook's first step scans the
# images it will run (`aws ecr start-image-scan`). Scanning is one setting per account and Region: tfgen
# refuses two environments of one account that replicate to the same Region (see `[account] id`).
resource "aws_ecr_registry_scanning_configuration" "replicas" {
  scan_type = "BASIC"

  rule {
    scan_frequency = "SCAN_ON_PUSH"

    repository_filter {
      filter      = "${var.prefix}/*"
      filter_type = "WILDCARD"
    }
  }
}
