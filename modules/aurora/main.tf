resource "aws_db_subnet_group" "this" {
  name        = var.cluster_identifier
  description = "Private subnets for Aurora cluster ${var.cluster_identifier}"
  subnet_ids  = var.subnet_ids
}

resource "aws_rds_cluster" "this" {
  cluster_identifier = var.cluster_identifier
  engine             = "aurora-postgresql"
  # Serverless v2 is "provisioned" mode with db.serverless instances, not the legacy "serverless" mode.
  engine_mode    = "provisioned"
  engine_version = var.engine_version

  database_name   = var.database_name
  master_username = var.master_username
  # RDS generates the password and keeps (and rotates) it in a Secrets Manager secret it owns,
  # so no password ever appears in configuration or state.
  manage_master_user_password = true

  # RDS Data API: the agents run SQL over HTTPS with IAM credentials + the master secret,
  # so they need no connection pool or drivers inside the VPC.
  enable_http_endpoint = true
  # IAM database authentication stays available, though no role uses it: every agent logs in through the
  # Data API with its own secret, and granting rds_iam to a role would end its password logins.
  iam_database_authentication_enabled = true

  serverlessv2_scaling_configuration {
    min_capacity = var.min_capacity
    max_capacity = var.max_capacity
    # Only a cluster that scales to zero (min_capacity = 0) pauses; null otherwise.
    seconds_until_auto_pause = var.seconds_until_auto_pause
  }

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  # availability_zones is deliberately NOT set: RDS always spreads cluster storage over three AZs
  # and reports all of them, so any shorter list here produces a perpetual diff (and a forced
  # replacement). Instance placement is controlled per instance below instead.

  # Encrypted with the environment's customer-managed key when one is given (aws/rds otherwise). The key
  # of an existing cluster cannot change in place: switching it means a snapshot restore into a new cluster.
  storage_encrypted = true
  kms_key_id        = var.kms_key_arn
  # The RDS-managed master secret rotates itself (every 7 days by default); it is encrypted with the same key.
  master_user_secret_kms_key_id = var.kms_key_arn

  # PostgreSQL logs (connections, DDL, slow statements: see the parameter group) go to CloudWatch Logs.
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name
  enabled_cloudwatch_logs_exports = ["postgresql"]

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = var.preferred_backup_window
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true

  deletion_protection = var.deletion_protection
  skip_final_snapshot = var.skip_final_snapshot
  # Named after the storage key too (final_snapshot_suffix): a re-created environment gets a new key, so
  # destroying it a second time does not collide with the first destroy's snapshot, which is kept.
  final_snapshot_identifier = (
    var.skip_final_snapshot ? null :
    var.final_snapshot_suffix == null ? "${var.cluster_identifier}-final" :
    "${var.cluster_identifier}-final-${var.final_snapshot_suffix}"
  )

  # RDS would create the export's log group itself, unencrypted and kept forever.
  depends_on = [aws_cloudwatch_log_group.postgresql]

  lifecycle {
    # Variable validation cannot compare two variables on Terraform < 1.9, so check here.
    precondition {
      condition     = var.max_capacity >= var.min_capacity
      error_message = "max_capacity must be greater than or equal to min_capacity."
    }
  }
}

resource "aws_rds_cluster_instance" "this" {
  #checkov:skip=CKV_AWS_226:the spec pins the engine's minor version and upgrades are spec edits; an automatic minor upgrade would make the next plan try a downgrade (see the comment at auto_minor_version_upgrade)
  count = var.instance_count

  identifier         = "${var.cluster_identifier}-${count.index + 1}"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version
  instance_class     = "db.serverless"

  db_subnet_group_name = aws_db_subnet_group.this.name
  availability_zone    = var.availability_zones[count.index % length(var.availability_zones)]
  publicly_accessible  = false

  # Instance 1 is the intended writer, the rest are readers. Which instance actually holds the
  # writer role is decided by RDS (and changes on failover); the tier only sets failover priority.
  # Keeping every reader in tier 0/1 matters for Serverless v2: readers in tiers 0-1 scale in step
  # with the writer, so a failover lands on an instance that is already warm enough for the load.
  promotion_tier = count.index == 0 ? 0 : 1

  # Engine-version policy: the spec pins MAJOR.MINOR and is the only way the version changes. With
  # automatic minor upgrades, AWS would move the cluster to a newer minor and the provider (v5.100,
  # compareActualEngineVersion in internal/service/rds) records the new version in state unless the
  # configured one is a prefix of it ("15" of "15.12", not "15.10"), so the next plan would try a
  # downgrade. Pinning only the major would avoid that but let AWS pick the minor, and tfgen checks the
  # Data API and scale to zero per minor. So: no automatic minor upgrades; upgrade by editing
  # engine_version in the spec (tfgen checks the new version; plan shows the in-place upgrade).
  auto_minor_version_upgrade   = false
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true

  # Performance Insights keeps 7 days (the free tier), encrypted with the cluster's key.
  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? var.kms_key_arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? 7 : null

  # Enhanced monitoring: OS metrics every monitoring_interval seconds (0 turns it off).
  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null
}
