data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # Regions opened before August 2022 deliver ALB logs from a regional Elastic Load Balancing account; newer
  # regions use the log delivery service principal. Source: the ALB user guide, "Enable access logs".
  elb_account_ids = {
    "us-east-1"      = "127311923021"
    "us-east-2"      = "033677994240"
    "us-west-1"      = "027434742980"
    "us-west-2"      = "797873946194"
    "af-south-1"     = "098369216593"
    "ap-east-1"      = "754344448648"
    "ap-southeast-3" = "589379963580"
    "ap-south-1"     = "718504428378"
    "ap-northeast-3" = "383597477331"
    "ap-northeast-2" = "600734575887"
    "ap-southeast-1" = "114774131450"
    "ap-southeast-2" = "783225319266"
    "ap-northeast-1" = "582318560864"
    "ca-central-1"   = "985666609251"
    "eu-central-1"   = "054676820928"
    "eu-west-1"      = "156460612806"
    "eu-west-2"      = "652711504416"
    "eu-south-1"     = "635631232127"
    "eu-west-3"      = "009996457667"
    "eu-north-1"     = "897822967062"
    "me-south-1"     = "076674570225"
    "sa-east-1"      = "507241528517"
  }
  elb_account_id = lookup(local.elb_account_ids, local.region, null)

  bucket_name = "${var.name_prefix}-alb-logs-${local.account_id}-${local.region}"
  log_objects = "arn:${local.partition}:s3:::${local.bucket_name}/${var.log_prefix}/AWSLogs/${local.account_id}/*"
}

# ALB access logs support only SSE-S3 (AES256) buckets, never SSE-KMS; the bucket is private, versioned,
# TLS-only and expires objects, and nothing but the load balancer writes to it.
resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_145:ALB access logs can only be delivered to SSE-S3 (AES256) buckets; SSE-KMS is not supported by Elastic Load Balancing
  #checkov:skip=CKV_AWS_18:this bucket is the log sink; server access logs of it would need yet another bucket, and its only writer is the load balancer
  #checkov:skip=CKV_AWS_144:access logs are operational data with a fixed expiry; a cross-region copy is not worth its cost
  #checkov:skip=CKV2_AWS_62:nothing consumes object events of the log bucket; logs are read with Athena or downloads
  bucket        = local.bucket_name
  force_destroy = var.force_destroy

  tags = {
    Name = local.bucket_name
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.expiration_days
    }

    # Versioning keeps overwritten or deleted objects; they go after a week.
    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "LoadBalancerWritesAccessLogs"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [local.log_objects]

    principals {
      type        = local.elb_account_id == null ? "Service" : "AWS"
      identifiers = [local.elb_account_id == null ? "logdelivery.elasticloadbalancing.amazonaws.com" : "arn:${local.partition}:iam::${local.elb_account_id}:root"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # A policy that grants a service principal is rejected while Block Public Access is still being applied.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
