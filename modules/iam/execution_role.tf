# Task execution role: used by the ECS agent (not the application) to pull images, ship logs and resolve the
# task definition's "secrets" before the container starts.
resource "aws_iam_role" "execution" {
  name               = var.execution_role_name
  description        = "ECS task execution role of agent ${var.agent_name}: its image, its log group, its secrets."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = {
    Name  = var.execution_role_name
    Agent = var.agent_name
  }
}

data "aws_iam_policy_document" "execution" {
  statement {
    # GetAuthorizationToken is account-wide and supports no resource-level permissions, so AWS only accepts "*"
    # here. It merely issues a registry login token; what can be pulled is limited by the next statement.
    sid       = "EcrAuthToken"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid    = "EcrPull"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = local.repository_arns
  }

  statement {
    sid    = "ContainerLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = local.log_stream_arns
  }

  # Omitted when no secrets are injected: a statement without resources is an invalid policy.
  dynamic "statement" {
    for_each = length(local.execution_secret_arns) > 0 ? [local.execution_secret_arns] : []

    content {
      # Secrets encrypted with the default aws/secretsmanager key need no kms:Decrypt grant; a customer-managed
      # key needs the DecryptSecrets statement below.
      sid       = "InjectSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [var.kms_key_arns] : []

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

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}
