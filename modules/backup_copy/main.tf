# The disaster-recovery side of the database's backups: a vault in another Region, encrypted with a key of
# that Region (the kms module's, called by the root for this Region), which receives a copy of each daily
# recovery point (the copy rule is in the aurora module's backup plan). A regional outage of the
# environment's own Region leaves these copies, and the key that decrypts them, intact. Everything here
# lives in the DR Region (this module's provider).
resource "aws_backup_vault" "this" {
  name        = "${var.name_prefix}-multi-agent-dr"
  kms_key_arn = var.kms_key_arn
  # Only where the environment itself may go without a final snapshot (dev): prod's copies outlive it.
  force_destroy = var.force_destroy

  tags = {
    Name = "${var.name_prefix}-multi-agent-dr"
  }
}
