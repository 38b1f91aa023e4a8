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

output "registry_ids" {
  description = "Registry (account) ID per agent's repository: known only once the repository exists, so a reader of a new repository waits for it."
  value       = { for agent, repo in aws_ecr_repository.this : agent => repo.registry_id }
}

output "lifecycle_policy" {
  description = "The repositories' lifecycle policy JSON, for their replicas' creation template."
  value       = local.lifecycle_policy
}
