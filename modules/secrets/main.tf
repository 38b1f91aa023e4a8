# Only the secret container is managed here. There is intentionally no
# aws_secretsmanager_secret_version: the value is written out of band, e.g.
#   aws secretsmanager put-secret-value --secret-id <name> --secret-string file://api-keys.json
# so API keys never pass through Terraform configuration, plans or state.
# ECS injects individual keys with "<arn>:<json-key>::" references, so the value should be a
# JSON object of KEY_NAME -> key.
resource "aws_secretsmanager_secret" "this" {
  name        = "${var.name_prefix}/multi-agent/api-keys"
  description = "External API keys for the ${var.name_prefix} multi-agent services (JSON object). The value is set out of band with 'aws secretsmanager put-secret-value' so it never enters Terraform state."

  recovery_window_in_days = var.recovery_window_in_days
}
