# The value is written out of band, e.g.
#   aws secretsmanager put-secret-value --secret-id <name> --secret-string file://api-keys.json
# so API keys never pass through Terraform configuration, plans or state. ECS injects the whole value
# (a JSON object of KEY_NAME -> key) as API_KEYS.
#
# A task whose secret has no AWSCURRENT version cannot start, so Terraform writes the first version itself:
# an empty object, which lets every service start on the first apply; the agents run without third-party
# keys until the real value is put. Terraform never looks at the value again (ignore_changes), so putting
# the real keys shows no diff. Running tasks keep the value they started with: after putting a new one,
# redeploy (`aws ecs update-service --force-new-deployment`, or any apply that changes the task definitions).
#
# No automatic rotation: these are keys issued by third parties, which no rotation Lambda can mint. Rotate
# them at the issuer, then put the new value. (The database's master secret is managed by RDS and rotates
# itself; it is not defined here.)
locals {
  name = "${var.name_prefix}/multi-agent/api-keys"
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:third-party API keys cannot be rotated by a Lambda; they are rotated at the issuer and written with put-secret-value (the RDS-managed master secret rotates itself)
  name        = var.name_suffix == null ? local.name : "${local.name}-${var.name_suffix}"
  description = "External API keys for the ${var.name_prefix} multi-agent services (JSON object). Terraform writes an empty object first; the keys are put out of band with 'aws secretsmanager put-secret-value', so they never enter Terraform state."

  recovery_window_in_days = var.recovery_window_in_days
  kms_key_id              = var.kms_key_arn
}

resource "aws_secretsmanager_secret_version" "initial" {
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({})

  lifecycle {
    ignore_changes = [secret_string]
  }
}
