output "agent_secret_arns" {
  description = "Each database agent's own secret (username, password, engine, dbname), by agent name: the secretArn its Data API calls pass."
  value       = { for name, secret in aws_secretsmanager_secret.agent : name => secret.arn }

  # Whatever reads a secret here (the agents' task definitions, the migration task) waits for the bootstrap
  # run that created the role and set its password: a task never starts with a login that does not exist yet.
  depends_on = [aws_lambda_invocation.bootstrap]
}

output "agent_schemas" {
  description = "Each database agent's schema (also its login role), by agent name."
  value       = { for name, agent in var.agents : name => agent.role }
}

output "agent_policy_arns" {
  description = "Each database agent's IAM policy (Data API + its own secret), by agent name."
  value       = { for name, policy in aws_iam_policy.agent_database : name => policy.arn }
}

output "function_name" {
  description = "The bootstrap function; re-run it with `terraform apply -replace=module.database_bootstrap.aws_lambda_invocation.bootstrap`."
  value       = aws_lambda_function.bootstrap.function_name
}

output "result" {
  description = "What the last bootstrap run did (statement count and the roles whose password it set; never a secret)."
  value       = jsondecode(aws_lambda_invocation.bootstrap.result)
}
