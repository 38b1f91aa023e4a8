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
# behind it only through that profile. These statements are the only Bedrock grants in the tree.
data "aws_iam_policy_document" "task" {
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
