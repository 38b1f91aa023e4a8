# The role ARN outputs wait for the inline policies: a service consuming them must not start tasks before the
# roles can actually pull images, write logs and read secrets.
output "execution_role_arn" {
  description = "ARN of the ECS task execution role (task definition execution_role_arn)."
  value       = aws_iam_role.execution.arn
  depends_on  = [aws_iam_role_policy.execution]
}

output "task_role_arn" {
  description = "ARN of the ECS task role (task definition task_role_arn)."
  value       = aws_iam_role.task.arn
  depends_on  = [aws_iam_role_policy.task]
}

output "execution_role_name" {
  description = "Name of the ECS task execution role."
  value       = aws_iam_role.execution.name
}

output "task_role_name" {
  description = "Name of the agent's ECS task role: attach per-agent policies (database credentials, secrets) to it."
  value       = aws_iam_role.task.name
}
