output "api_keys_secret_arn" {
  description = "ARN of the API keys secret (append \":<json-key>::\" to inject a single key into a container)."
  value       = aws_secretsmanager_secret.this.arn

  # Whatever injects the secret (the task definitions) waits for its first version: ECS cannot start a
  # task whose secret has none.
  depends_on = [aws_secretsmanager_secret_version.initial]
}

output "api_keys_secret_name" {
  description = "Name of the API keys secret, for 'aws secretsmanager put-secret-value --secret-id'."
  value       = aws_secretsmanager_secret.this.name
}
