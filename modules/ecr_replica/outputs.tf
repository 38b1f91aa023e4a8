output "registry_id" {
  description = "The registry (account) the template belongs to in this region."
  value       = aws_ecr_repository_creation_template.replicas.registry_id
}
