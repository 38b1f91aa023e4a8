data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

resource "aws_ecr_repository" "this" {
  for_each = var.repositories

  name                 = each.value
  image_tag_mutability = var.image_tag_mutability

  # Outside dev, Terraform never deletes a repository that still holds images; emptying it must be deliberate.
  force_delete = var.force_delete

  image_scanning_configuration {
    scan_on_push = var.scan_on_push
  }

  # The environment's customer-managed key, or AES256 (ECR-managed keys) without one. The encryption of an
  # existing repository cannot change: switching forces a new repository, so plan it as a migration.
  # Replicas in other regions are encrypted with those regions' AWS managed aws/ecr key.
  encryption_configuration {
    encryption_type = var.kms_key_arn == null ? "AES256" : "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = {
    Name = each.value
  }
}

# The lifecycle rules of every repository, and of its replicas in other regions (output below).
locals {
  lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images ${var.untagged_expiry_days} days after push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expiry_days
        }
        action = {
          type = "expire"
        }
      },
      {
        # tagStatus "tagged" requires a tag filter; the "*" pattern matches every tag, so untagged images
        # (handled by rule 1) never count towards the number of images kept here.
        rulePriority = 2
        description  = "Keep the last ${var.keep_tagged_images} tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.keep_tagged_images
        }
        action = {
          type = "expire"
        }
      },
    ]
  })
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy     = local.lifecycle_policy
}

# The replication configuration is a per-registry singleton (one per account and region), not per repository:
# whoever applies last owns it. Only one environment sharing this account/region may enable replication, and
# its rule is filtered to the repository prefix that environment owns.
resource "aws_ecr_replication_configuration" "this" {
  count = length(var.replication_regions) > 0 ? 1 : 0

  replication_configuration {
    rule {
      dynamic "destination" {
        for_each = var.replication_regions

        content {
          region      = destination.value
          registry_id = data.aws_caller_identity.current.account_id
        }
      }

      repository_filter {
        filter      = var.replication_prefix
        filter_type = "PREFIX_MATCH"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !contains(var.replication_regions, data.aws_region.current.name)
      error_message = "replication_regions must not contain the registry's own region."
    }

    precondition {
      condition     = alltrue([for name in values(var.repositories) : startswith(name, var.replication_prefix)])
      error_message = "Every repository name must start with replication_prefix, otherwise it would silently not be replicated."
    }
  }
}
