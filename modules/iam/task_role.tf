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
  source_policy_documents = [data.aws_iam_policy_document.database_access.json]

  # One statement per grant AWS documents for the inference profile: the profile itself, and the
  # foundation model behind it (wherever the profile may route; for a global profile also the
  # Region-less model ARN with aws:RequestedRegion = "unspecified"), the latter only through the profile.
  dynamic "statement" {
    for_each = local.bedrock_statements
    content {
      sid    = statement.value.sid
      effect = "Allow"
      actions = [
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
      ]
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = "StringEquals"
          variable = condition.key
          values   = [condition.value]
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ecs-task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
