# RDS access role ("for database connections"): assumed by the task role when the application opens a
# PostgreSQL connection with IAM authentication (rds-db:connect) or uses the Data API with a separate identity.
data "aws_iam_policy_document" "rds_access_assume" {
  statement {
    sid     = "TaskRoleAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    # IAM pins a role principal to the role's unique ID: if the task role is ever recreated, run another apply
    # so this trust policy is rewritten against the new role.
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.task.arn]
    }
  }
}

resource "aws_iam_role" "rds_access" {
  name               = "${var.name_prefix}-multi-agent-rds-access"
  description        = "Database access for the multi-agent services; assumable only by the ECS task role."
  assume_role_policy = data.aws_iam_policy_document.rds_access_assume.json

  tags = {
    Name = "${var.name_prefix}-multi-agent-rds-access"
  }
}

data "aws_iam_policy_document" "rds_access" {
  statement {
    sid       = "IamDatabaseAuth"
    effect    = "Allow"
    actions   = ["rds-db:connect"]
    resources = [local.db_user_arn]
  }

  statement {
    sid       = "RdsDataApi"
    effect    = "Allow"
    actions   = local.rds_data_actions
    resources = [var.db_cluster_arn]
  }

  dynamic "statement" {
    for_each = length(local.task_secret_arns) > 0 ? [local.task_secret_arns] : []

    content {
      sid       = "ReadDatabaseSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  # Those secrets are encrypted with the customer-managed key, if there is one.
  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 && length(local.task_secret_arns) > 0 ? [var.kms_key_arns] : []

    content {
      sid       = "DecryptSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = statement.value

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.secretsmanager_endpoint]
      }
    }
  }
}

resource "aws_iam_role_policy" "rds_access" {
  name   = "rds-access"
  role   = aws_iam_role.rds_access.id
  policy = data.aws_iam_policy_document.rds_access.json
}
