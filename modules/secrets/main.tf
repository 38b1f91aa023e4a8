# Only the secret container is managed here. There is intentionally no
# aws_secretsmanager_secret_version: the value is written out of band, e.g.
#   aws secretsmanager put-secret-value --secret-id <name> --secret-string file://api-keys.json
# so API keys never pass through Terraform configuration, plans or state.
# ECS injects individual keys with "<arn>:<json-key>::" references, so the value should be a
# JSON object of KEY_NAME -> key.
#
# No automatic rotation: these are keys issued by third parties, which no rotation Lambda can mint. Rotate
# them at the issuer, then put the new value. (The database's master secret is managed by RDS and rotates
# itself; it is not defined here.)
resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:third-party API keys cannot be rotated by a Lambda; they are rotated at the issuer and written with put-secret-value (the RDS-managed master secret rotates itself)
  name        = "${var.name_prefix}/multi-agent/api-keys"
  description = "External API keys for the ${var.name_prefix} multi-agent services (JSON object). The value is set out of band with 'aws secretsmanager put-secret-value' so it never enters Terraform state."

  recovery_window_in_days = var.recovery_window_in_days
  kms_key_id              = var.kms_key_arn
}
