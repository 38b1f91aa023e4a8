# The disaster-recovery side of the database's backups: a vault in another Region, encrypted with a key of
# that Region, which receives a copy of each daily recovery point (the copy rule is in the aurora module's
# backup plan). A regional outage of the environment's own Region leaves these copies, and the key that
# decrypts them, intact. Everything here lives in the DR Region (this module's provider).

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  account    = "arn:${local.partition}:iam::${local.account_id}:root"

  # AWS Backup writes the copies, RDS makes them (a cluster snapshot copy): both on behalf of this account.
  via_services = [for service in ["backup", "rds"] : "${service}.${local.region}.amazonaws.com"]
}

data "aws_iam_policy_document" "key" {
  # Administration through IAM policies of this account; no encrypt, decrypt or grant.
  statement {
    sid    = "AccountAdministersKey"
    effect = "Allow"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:Delete*",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:Revoke*",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account]
    }
  }

  # The copies are encrypted and, at a restore, decrypted only through AWS Backup and RDS in this Region.
  statement {
    sid    = "AccountUsesKeyThroughBackup"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.via_services
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "AccountGrantsKeyToServices"
    effect    = "Allow"
    actions   = ["kms:CreateGrant", "kms:ListGrants"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.via_services
    }

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix} multi-agent: copies of the database's backups in ${local.region}"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = {
    Name = "${var.name_prefix}-multi-agent-dr"
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-multi-agent-dr"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_backup_vault" "this" {
  name        = "${var.name_prefix}-multi-agent-dr"
  kms_key_arn = aws_kms_key.this.arn
  # Only where the environment itself may go without a final snapshot (dev): prod's copies outlive it.
  force_destroy = var.force_destroy

  tags = {
    Name = "${var.name_prefix}-multi-agent-dr"
  }
}
