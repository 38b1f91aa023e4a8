# Both outputs wait for what makes them usable (an active CA, a role with its policy), so that services
# using them are created after it and destroyed before it.

output "certificate_authority_arn" {
  description = "The CA that issues the Service Connect certificates, active."
  value       = local.create_ca ? aws_acmpca_certificate_authority_certificate.this[0].certificate_authority_arn : var.certificate_authority_arn
}

output "role_arn" {
  description = "The ECS infrastructure role for Service Connect TLS, with its policy attached."
  value       = aws_iam_role.this.arn
  depends_on  = [aws_iam_role_policy_attachment.this]
}
