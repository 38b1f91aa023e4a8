output "api_keys_secret_arn" {
  description = "ARN of the API keys secret (append \":<json-key>::\" to inject a single key into a container)."
  value       = aws_secretsmanager_secret.this.arn
}

output "api_keys_secret_name" {
  description = "Name of the API keys secret, for 'aws secretsmanager put-secret-value --secret-id'."
  value       = aws_secretsmanager_secret.this.name
}
