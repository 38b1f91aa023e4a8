# The repositories ECR replication creates in this region get their settings from this template (applied
# for REPLICATION to every repository under the environment's prefix): without it, replicas are created
# with ECR's defaults (no lifecycle policy, so their storage only grows). The same lifecycle rules as the
# source repositories, immutable tags, and encryption with this region's AWS managed aws/ecr key (a
# customer-managed key here would need a key and a custom role in this region).
resource "aws_ecr_repository_creation_template" "replicas" {
  prefix      = var.prefix
  description = "Replicas of the ${var.prefix}/ repositories: lifecycle rules, immutable tags, KMS encryption."
  applied_for = ["REPLICATION"]

  image_tag_mutability = var.image_tag_mutability
  lifecycle_policy     = var.lifecycle_policy

  encryption_configuration {
    encryption_type = "KMS"
  }
}
