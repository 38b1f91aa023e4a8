# Task role: the identity of the application code inside the containers.
resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-multi-agent-ecs-task"
  description        = "ECS task role for the multi-agent services: Bedrock inference, RDS Data API and application secrets."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = {
    Name = "${var.name_prefix}-multi-agent-ecs-task"
  }
}

data "aws_iam_policy_document" "task" {
  statement {
    sid    = "InvokeInferenceProfile"
    effect = "Allow"
    actions = [
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithResponseStream",
    ]
    resources = [local.bedrock_inference_profile_arn]
  }

  statement {
    # Required because the profile forwards the call to the model in one of the destination regions. The
    # condition keeps these ARNs usable only through our profile, never as direct on-demand model calls.
    sid    = "InvokeFoundationModelViaProfile"
    effect = "Allow"
    actions = [
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithResponseStream",
    ]
    resources = local.bedrock_foundation_model_arns

    condition {
      test     = "StringEquals"
      variable = "bedrock:InferenceProfileArn"
      values   = [local.bedrock_inference_profile_arn]
    }
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
      sid       = "ReadApplicationSecrets"
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

  statement {
    # The RDS access role's trust policy already names this role; granting it here as well keeps the permission
    # visible from the caller's side and keeps working if the trust policy is ever widened to the account.
    sid       = "AssumeRdsAccessRole"
    effect    = "Allow"
    actions   = ["sts:AssumeRole"]
    resources = [aws_iam_role.rds_access.arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ecs-task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
