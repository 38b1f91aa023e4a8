# Task role: the identity of one agent's application code inside its containers. Attach further per-agent
# permissions (its own database credentials, its own secrets) to this role, through the task_role_name
# output, with a policy of their own.
resource "aws_iam_role" "task" {
  name               = var.task_role_name
  description        = "ECS task role of agent ${var.agent_name}: Bedrock inference; its own database access is attached to it."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = {
    Name  = var.task_role_name
    Agent = var.agent_name
  }
}

# No database access here: each database agent's own policy (module database_bootstrap) grants the RDS Data API
# with its own secret only; the bootstrap function's role alone reads the database's admin credentials.
# Bedrock: the agent may invoke exactly the inference profile it is configured with, and the foundation model
# behind it only through that profile. These two statements are the only Bedrock grants in the tree.
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
