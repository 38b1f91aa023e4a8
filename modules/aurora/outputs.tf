output "cluster_arn" {
  description = "ARN of the Aurora cluster (resource for rds-data:* permissions)."
  value       = aws_rds_cluster.this.arn
}

output "cluster_identifier" {
  description = "Identifier of the Aurora cluster (CloudWatch DBClusterIdentifier dimension)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "Writer (cluster) endpoint."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Load-balanced reader endpoint (resolves to the writer while the cluster has no readers)."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "Port the cluster listens on."
  value       = aws_rds_cluster.this.port
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master credentials (used by the Data API)."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "database_name" {
  description = "Name of the database created in the cluster."
  value       = aws_rds_cluster.this.database_name
}

output "instance_identifiers" {
  description = "Identifiers of the cluster's instances (for whatever must wait until the cluster has a writer)."
  value       = [for instance in aws_rds_cluster_instance.this : instance.identifier]
}
