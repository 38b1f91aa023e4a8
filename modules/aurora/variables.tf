variable "cluster_identifier" {
  type        = string
  description = "Aurora cluster identifier, e.g. \"prod-multi-agent-db\". Also the base name of the subnet group, the instances (\"<id>-1\", \"<id>-2\", ...) and the final snapshot."

  validation {
    # 63 is the RDS limit; keep 3 characters spare for the instance suffix "-NN".
    condition     = can(regex("^[a-z][a-z0-9-]*[a-z0-9]$", var.cluster_identifier)) && !strcontains(var.cluster_identifier, "--") && length(var.cluster_identifier) <= 60
    error_message = "cluster_identifier must start with a letter, contain only lowercase letters, digits and single hyphens, not end with a hyphen, and be at most 60 characters."
  }
}

variable "engine_version" {
  type        = string
  description = "Aurora PostgreSQL engine version, e.g. \"15.10\". Must support Serverless v2 and the RDS Data API."
  default     = "15.10"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a MAJOR.MINOR version such as \"15.10\"."
  }
}

variable "database_name" {
  type        = string
  description = "Name of the database created in the cluster, e.g. \"multi_agent\"."
  default     = "multi_agent"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and contain only letters, digits and underscores (max 63 characters)."
  }
}

variable "master_username" {
  type        = string
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager (see master_user_secret_arn)."
  default     = "multi_agent_admin"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.master_username)) && !startswith(lower(var.master_username), "rds")
    error_message = "master_username must start with a letter, contain only letters, digits and underscores (max 63 characters) and must not start with \"rds\" (reserved)."
  }
}

variable "min_capacity" {
  type        = number
  description = "Serverless v2 minimum capacity in ACUs (steps of 0.5)."
  default     = 0.5

  validation {
    condition     = var.min_capacity >= 0 && var.min_capacity <= 256 && floor(var.min_capacity * 2) == var.min_capacity * 2
    error_message = "min_capacity must be between 0 and 256 in steps of 0.5."
  }
}

variable "seconds_until_auto_pause" {
  type        = number
  description = "Seconds without connections before a cluster with min_capacity = 0 pauses (300-86400); null when it does not scale to zero."
  default     = null

  validation {
    condition     = var.seconds_until_auto_pause == null || try(var.seconds_until_auto_pause >= 300 && var.seconds_until_auto_pause <= 86400 && floor(var.seconds_until_auto_pause) == var.seconds_until_auto_pause, false)
    error_message = "seconds_until_auto_pause must be null or a whole number of seconds between 300 and 86400."
  }
}

variable "max_capacity" {
  type        = number
  description = "Serverless v2 maximum capacity in ACUs (steps of 0.5, >= min_capacity)."
  default     = 4

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 256 && floor(var.max_capacity * 2) == var.max_capacity * 2
    error_message = "max_capacity must be between 1 and 256 in steps of 0.5."
  }
}

variable "instance_count" {
  type        = number
  description = "Number of db.serverless instances: one writer plus (instance_count - 1) readers."

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 16 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number between 1 and 16 (one writer and up to 15 readers)."
  }
}

variable "backup_retention_days" {
  type        = number
  description = "Days automated backups are kept (1-35)."
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number between 1 and 35."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the cluster against deletion (true in prod)."
}

variable "skip_final_snapshot" {
  type        = bool
  description = "Skip the final snapshot on destroy. When false, a snapshot named \"<cluster_identifier>-final\" is taken."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnet IDs for the DB subnet group (at least two, in different AZs)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An RDS DB subnet group needs at least two subnets in different availability zones."
  }
}

variable "security_group_id" {
  type        = string
  description = "ID of the database security group (ingress on the DB port from the ECS security group only)."

  validation {
    condition     = startswith(var.security_group_id, "sg-")
    error_message = "security_group_id must be a security group ID (sg-...)."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "AZs the instances are spread over round-robin (instance N goes to availability_zones[N % length]). Not set on the cluster itself."

  validation {
    condition     = length(var.availability_zones) >= 1
    error_message = "availability_zones must contain at least one AZ."
  }
}

variable "preferred_backup_window" {
  type        = string
  description = "Daily automated backup window in UTC (hh24:mi-hh24:mi). Must not overlap the maintenance window."
  default     = "03:00-04:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_backup_window))
    error_message = "preferred_backup_window must look like \"03:00-04:00\" (UTC)."
  }
}

variable "preferred_maintenance_window" {
  type        = string
  description = "Weekly maintenance window in UTC (ddd:hh24:mi-ddd:hh24:mi), applied to the cluster and every instance."
  default     = "sun:04:30-sun:05:30"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_maintenance_window))
    error_message = "preferred_maintenance_window must look like \"sun:04:30-sun:05:30\" (UTC)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for storage, the master secret, Performance Insights, the PostgreSQL log group and the backup vault; null for AWS managed keys."
  default     = null
}

variable "final_snapshot_suffix" {
  type        = string
  description = "Appended to the final snapshot's name, unique to this cluster's lifetime (the storage key's ID), so that destroying a re-created environment does not collide with the snapshot of the first; null: \"<cluster_identifier>-final\"."
  default     = null
}

variable "performance_insights_enabled" {
  type        = bool
  description = "Turn on Performance Insights (7 days retention) on every instance."
  default     = true
}

variable "monitoring_interval" {
  type        = number
  description = "Seconds between enhanced monitoring samples: 0 (off), 1, 5, 10, 15, 30 or 60."
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be 0, 1, 5, 10, 15, 30 or 60."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the PostgreSQL log group keeps its events."
  default     = 365
}

variable "log_min_duration_statement_ms" {
  type        = number
  description = "Log statements that run longer than this many milliseconds."
  default     = 1000

  validation {
    condition     = var.log_min_duration_statement_ms >= 0 && floor(var.log_min_duration_statement_ms) == var.log_min_duration_statement_ms
    error_message = "log_min_duration_statement_ms must be a whole number >= 0."
  }
}

variable "backup_plan_enabled" {
  type        = bool
  description = "Back the cluster up daily with AWS Backup into its own vault."
  default     = true
}

variable "backup_plan_retention_days" {
  type        = number
  description = "Days AWS Backup keeps each recovery point."
  default     = 35

  validation {
    condition     = var.backup_plan_retention_days >= 1 && floor(var.backup_plan_retention_days) == var.backup_plan_retention_days
    error_message = "backup_plan_retention_days must be a whole number >= 1."
  }
}

variable "copy_vault_arn" {
  type        = string
  description = "A vault in another Region that receives a copy of each daily recovery point; null for none."
  default     = null
}

variable "copy_retention_days" {
  type        = number
  description = "Days AWS Backup keeps each copy in the copy vault."
  default     = 35

  validation {
    condition     = var.copy_retention_days >= 1 && floor(var.copy_retention_days) == var.copy_retention_days
    error_message = "copy_retention_days must be a whole number >= 1."
  }
}
