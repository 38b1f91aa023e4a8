# Each database agent's access: the RDS Data API on the cluster, with its own secret only. One policy per agent,
# attached to the role that agent's tasks run as (var.agent_role_names), so it follows the agent onto a role of
# its own. No agent policy names the master secret; only the bootstrap function's role reads it.
data "aws_iam_policy_document" "agent_database" {
  for_each = var.agents

  statement {
    sid       = "RdsDataApi"
    effect    = "Allow"
    actions   = local.rds_data_actions
    resources = [var.cluster_arn]
  }

  statement {
    sid       = "OwnDatabaseSecret"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.agent[each.key].arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptSecret"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.secretsmanager_endpoint]
      }
    }
  }
}

resource "aws_iam_policy" "agent_database" {
  for_each = var.agents

  name        = "${var.name_prefix}-multi-agent-db-${each.key}"
  description = "Agent ${each.key}: RDS Data API with its own database secret (role ${each.value.role})."
  policy      = data.aws_iam_policy_document.agent_database[each.key].json
}

resource "aws_iam_role_policy_attachment" "agent_database" {
  for_each = var.agents

  role       = var.agent_role_names[each.key]
  policy_arn = aws_iam_policy.agent_database[each.key].arn
}

# The bootstrap function's own role: the only identity that reads the master secret.
data "aws_iam_policy_document" "bootstrap_assume" {
  statement {
    sid     = "LambdaAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "bootstrap" {
  name               = local.function_name
  description        = "Database bootstrap function: master secret and RDS Data API, to create the agents' schemas and roles."
  assume_role_policy = data.aws_iam_policy_document.bootstrap_assume.json
}

data "aws_iam_policy_document" "bootstrap" {
  statement {
    sid       = "RdsDataApi"
    effect    = "Allow"
    actions   = ["rds-data:BeginTransaction", "rds-data:ExecuteStatement", "rds-data:CommitTransaction", "rds-data:RollbackTransaction"]
    resources = [var.cluster_arn]
  }

  statement {
    sid       = "MasterAndAgentSecrets"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([var.master_secret_arn], [for secret in aws_secretsmanager_secret.agent : secret.arn])
  }

  statement {
    sid       = "OwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.bootstrap.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.secretsmanager_endpoint, "s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "bootstrap" {
  name   = "db-bootstrap"
  role   = aws_iam_role.bootstrap.id
  policy = data.aws_iam_policy_document.bootstrap.json
}
