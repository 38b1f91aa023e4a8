output "repository_urls" {
  description = "Repository URL (registry/name, without tag) per agent."
  value       = { for agent, repo in aws_ecr_repository.this : agent => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN per agent."
  value       = { for agent, repo in aws_ecr_repository.this : agent => repo.arn }
}

output "repository_names" {
  description = "Repository name per agent."
  value       = { for agent, repo in aws_ecr_repository.this : agent => repo.name }
}
