data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  account    = "arn:${local.partition}:iam::${local.account_id}:root"

  # The services that encrypt with this key on behalf of principals in this account (var.services; by
  # default those of the environment, S3 for the bootstrap code and the SQLite migration uploads).
  # `tfgen access` proves that each is used; SNS is not: the services that publish to the alarm topic have
  # their own statement below.
  via_services = [for service in var.services : "${service}.${local.region}.amazonaws.com"]
  name         = "${var.name_prefix}-multi-agent${var.name_suffix}"
}

# In a key policy "*" as the resource means this key and nothing else.
data "aws_iam_policy_document" "key" {
  # Administration only, through IAM policies of this account: the key can be managed (and its policy
  # updated by Terraform), but this statement grants no encrypt or decrypt, and no grant (kms:CreateGrant
  # would let any principal with it in IAM grant itself decrypt): grants are made only by the services below.
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

  # Principals of this account (the Terraform deployer, the ECS roles) may use the key only through the
  # services that store data with it (var.services; for the environment's key Secrets Manager, ECR, RDS
  # for storage, master secret and Performance Insights, AWS Backup and S3 for SSE-KMS buckets). Their IAM
  # policies must grant the same actions.
  statement {
    sid    = "AccountUsesKeyThroughServices"
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

  # Those services hold the key through grants (RDS, ECR, Backup); grants may only be made for AWS resources.
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

  # CloudWatch Logs encrypts log groups itself, but only log groups of this account and region.
  dynamic "statement" {
    for_each = var.log_groups ? ["logs"] : []

    content {
      sid    = "CloudWatchLogsEncryptsLogGroups"
      effect = "Allow"
      actions = [
        "kms:Decrypt*",
        "kms:Describe*",
        "kms:Encrypt*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
      ]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
      }
    }
  }

  # CloudWatch alarms, AWS Budgets and (with events_publish_to_topic) EventBridge rules publish to the
  # encrypted alarm topic as their services, not as principals of this account, so they need their own
  # grant (of this account only).
  dynamic "statement" {
    for_each = var.alarm_topic ? ["topic"] : []

    content {
      sid       = "ServicesPublishToTopic"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]

      principals {
        type = "Service"
        identifiers = concat(
          ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"],
          var.events_publish_to_topic ? ["events.amazonaws.com"] : [],
        )
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description == null ? "${var.name_prefix} multi-agent: CloudWatch Logs, Secrets Manager, SNS, ECR, Aurora and AWS Backup" : var.description
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = {
    Name = local.name
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}
