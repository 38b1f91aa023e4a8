# Task role: the identity of the application code inside the containers.
resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-multi-agent-ecs-task"
  description        = "ECS task role for the multi-agent services: Bedrock inference and application secrets; database access is attached per agent."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = {
    Name = "${var.name_prefix}-multi-agent-ecs-task"
  }
}

# No database access here: each database agent's own policy (module database_bootstrap) grants the RDS Data API
# with its own secret only; the bootstrap function's role alone reads the database's admin credentials.
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
}

resource "aws_iam_role_policy" "task" {
  name   = "ecs-task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
