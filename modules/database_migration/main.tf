# The one-off migration of the plan's SQLite order_management.db into the agent's schema: pgloader in a Fargate
# task inside the VPC (the database is reachable nowhere else), logged in as the agent's own role, so the tables
# it creates belong to that role and land in its schema (the role's search_path). Nothing here runs on apply:
# upload the file, then start the task (README: "Migrating order_management.db").
#
# pgloader maps SQLite's types (INTEGER -> bigint, NUMERIC(p,s) -> numeric(p,s), TIMESTAMP -> timestamptz,
# TEXT -> text), creates the primary keys, unique and foreign keys and the indexes, resets sequences, and stops
# at the first error (--on-error-stop). It drops nothing: when the tables already exist, it fails. Its exit status
# is not the proof: check row counts and checksums afterwards (README).

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  family     = "${var.name_prefix}-${var.agent}-sqlite-migration"
  source_key = "order_management.db"
}

resource "aws_s3_bucket" "upload" {
  #checkov:skip=CKV_AWS_18:holds one uploaded file for a one-off migration; access logs of it would need another bucket
  #checkov:skip=CKV_AWS_144:the source file stays with its owner; a cross-region copy adds nothing
  #checkov:skip=CKV2_AWS_62:nothing consumes events of the upload bucket
  bucket_prefix = "${var.name_prefix}-sqlite-migration-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "upload" {
  bucket = aws_s3_bucket.upload.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "upload" {
  bucket = aws_s3_bucket.upload.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "upload" {
  bucket = aws_s3_bucket.upload.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

# Customer data: the uploaded file and its old versions are deleted 30 days after upload.
resource "aws_s3_bucket_lifecycle_configuration" "upload" {
  bucket = aws_s3_bucket.upload.id

  rule {
    id     = "expire-uploads"
    status = "Enabled"

    filter {}

    expiration {
      days = 30
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_cloudwatch_log_group" "migration" {
  name              = "/ecs/${local.family}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}
