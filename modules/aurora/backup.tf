# AWS Backup, on top of the cluster's own automated backups (backup_retention_days, point-in-time restore):
# daily recovery points in a separate, encrypted vault, kept backup_plan_retention_days and protected from
# the cluster's own deletion; with copy_vault_arn, each one copied to a vault in another Region too.

resource "aws_backup_vault" "this" {
  count = var.backup_plan_enabled ? 1 : 0

  name        = var.cluster_identifier
  kms_key_arn = var.kms_key_arn
  # Only where the cluster itself may be destroyed without a final snapshot (dev).
  force_destroy = var.skip_final_snapshot

  tags = {
    Name = var.cluster_identifier
  }
}

resource "aws_backup_plan" "this" {
  count = var.backup_plan_enabled ? 1 : 0

  name = var.cluster_identifier

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this[0].name
    # 06:00 UTC: after the cluster's automated backup window and its Sunday maintenance window.
    schedule          = "cron(0 6 * * ? *)"
    start_window      = 60
    completion_window = 240

    lifecycle {
      delete_after = var.backup_plan_retention_days
    }

    # Disaster recovery: a copy of each recovery point in the DR Region's vault, encrypted there with that
    # Region's key, kept copy_retention_days. A failed copy alerts the alarm topic (monitoring module).
    dynamic "copy_action" {
      for_each = var.copy_vault_arn == null ? [] : [var.copy_vault_arn]

      content {
        destination_vault_arn = copy_action.value

        lifecycle {
          delete_after = var.copy_retention_days
        }
      }
    }
  }

  tags = {
    Name = var.cluster_identifier
  }
}

# AWS Backup may assume the role only for backups of this account (the confused-deputy guard).
data "aws_iam_policy_document" "backup_assume" {
  statement {
    sid     = "BackupAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "backup" {
  count = var.backup_plan_enabled ? 1 : 0

  name               = "${var.cluster_identifier}-backup"
  description        = "AWS Backup of Aurora cluster ${var.cluster_identifier}."
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json

  tags = {
    Name = "${var.cluster_identifier}-backup"
  }
}

resource "aws_iam_role_policy_attachment" "backup" {
  count = var.backup_plan_enabled ? 1 : 0

  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

resource "aws_backup_selection" "this" {
  count = var.backup_plan_enabled ? 1 : 0

  name         = var.cluster_identifier
  plan_id      = aws_backup_plan.this[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_rds_cluster.this.arn]
}
