output "key_arn" {
  description = "ARN of the customer-managed key (for kms_key_id / kms_key_arn arguments and IAM policies)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "ID of the customer-managed key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Alias of the key, \"alias/<name_prefix>-multi-agent\"."
  value       = aws_kms_alias.this.name
}
