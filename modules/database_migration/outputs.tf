output "upload_bucket" {
  description = "Upload order_management.db here (as s3://<bucket>/order_management.db) before running the task."
  value       = aws_s3_bucket.upload.id
}

output "task_definition_arn" {
  description = "The migration task: `aws ecs run-task --launch-type FARGATE --task-definition <arn> ...`."
  value       = aws_ecs_task_definition.migration.arn
}

output "log_group_name" {
  description = "pgloader's report (rows read and imported per table, errors) lands here."
  value       = aws_cloudwatch_log_group.migration.name
}
