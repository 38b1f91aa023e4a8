output "cluster_name" {
  description = "Name of the agent's ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the agent's ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "service_id" {
  description = "ID (ARN) of the ECS service."
  value       = aws_ecs_service.this.id
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition the service runs."
  value       = aws_ecs_task_definition.this.arn
}

output "log_group_name" {
  description = "Name of the container log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the container log group (without the \":*\" suffix)."
  value       = aws_cloudwatch_log_group.this.arn
}
