output "vault_arn" {
  description = "The DR vault: the destination of the backup plan's copy rule."
  value       = aws_backup_vault.this.arn
}

output "vault_name" {
  description = "The DR vault's name, for listing and restoring its recovery points in the DR Region."
  value       = aws_backup_vault.this.name
}
