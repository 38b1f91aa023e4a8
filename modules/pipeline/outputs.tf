output "pipeline_name" {
  description = "The release pipeline."
  value       = aws_codepipeline.release.name
}

output "connection_arn" {
  description = "The source connection; it stays PENDING until its handshake is completed once in the console."
  value       = aws_codestarconnections_connection.source.arn
}

output "release_repository_urls" {
  description = "Agent name => the repository each commit's image is built into once."
  value       = { for name, repo in aws_ecr_repository.release : name => repo.repository_url }
}
