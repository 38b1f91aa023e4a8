# What PostgreSQL logs, and where it goes. The parameter family follows the engine's major version; a major
# upgrade creates a new group first (name_prefix + create_before_destroy) and switches the cluster to it.
resource "aws_rds_cluster_parameter_group" "this" {
  name_prefix = "${var.cluster_identifier}-"
  family      = "aurora-postgresql${split(".", var.engine_version)[0]}"
  description = "Logging and TLS settings for ${var.cluster_identifier}"

  # Schema changes (CREATE, ALTER, DROP), not every statement: statements carry customer data.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  # Statements slower than this many milliseconds, with their duration.
  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  # Refuse unencrypted client connections (the Data API always uses TLS).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Created here rather than by RDS, so that it is encrypted and expires.
resource "aws_cloudwatch_log_group" "postgresql" {
  name              = "/aws/rds/cluster/${var.cluster_identifier}/postgresql"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = {
    Name = "/aws/rds/cluster/${var.cluster_identifier}/postgresql"
  }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    sid     = "RdsMonitoringAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    # Confused deputy: RDS assumes this role only for this account's instances.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Enhanced monitoring publishes OS metrics to the RDSOSMetrics log group through this role. The AWS managed
# policy grants exactly that (logs on RDSOSMetrics only).
resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name               = "${var.cluster_identifier}-monitoring"
  description        = "Enhanced monitoring of Aurora cluster ${var.cluster_identifier}."
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json

  tags = {
    Name = "${var.cluster_identifier}-monitoring"
  }
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
