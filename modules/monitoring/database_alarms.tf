# Database connection failures are measured on the CLIENT side, from the agents' logs.
#
# Aurora publishes no metric for failed connection attempts: DatabaseConnections only counts
# connections that succeeded, and rejected logins (bad IAM token, expired secret, max_connections
# reached) appear only in the PostgreSQL log. Most failures the agents can hit never reach
# PostgreSQL anyway: Data API throttling or errors, DNS/network timeouts, Secrets Manager or IAM
# denials. The only place that sees all of them is the application, so the contract is:
#
#   every agent writes one structured JSON log line per failed connection attempt / Data API call,
#   e.g. {"event": "db_connection_failed", "error": "...", ...}, to stdout (awslogs driver).
#
# One metric filter per agent log group turns each such line into a DatabaseConnectionFailures
# data point of 1. The metric has no dimensions, so all agents add up into a single series and a
# single alarm; the log lines themselves say which agent failed. default_value = 0 makes the
# metric report 0 (instead of nothing) while logs flow without failures.
resource "aws_cloudwatch_log_metric_filter" "db_connection_failures" {
  for_each = var.agents

  name           = "db-connection-failures"
  log_group_name = each.value.log_group_name
  pattern        = "{ $.event = \"db_connection_failed\" }"

  metric_transformation {
    namespace     = var.db_failure_metric_namespace
    name          = "DatabaseConnectionFailures"
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "db_connection_failures" {
  alarm_name        = "${var.name_prefix}-db-connection-failures"
  alarm_description = "At least one agent logged event=db_connection_failed in the last 5 minutes. Search the agent log groups for db_connection_failed to see which agent and why."

  namespace           = var.db_failure_metric_namespace
  metric_name         = "DatabaseConnectionFailures"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  # No data means no log traffic at all (not failures); idle agents must not alarm.
  treat_missing_data = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

# Early warning that the cluster is running against max_capacity. ACUUtilization is
# ServerlessDatabaseCapacity as a percentage of the configured maximum; near 100 % the cluster
# cannot scale any further and latency suffers. 15 minutes above 90 % means max_capacity should be
# raised (or the workload looked at) before users notice.
resource "aws_cloudwatch_metric_alarm" "aurora_acu_utilization_high" {
  alarm_name        = "${var.name_prefix}-aurora-acu-utilization-high"
  alarm_description = "Aurora cluster ${var.db_cluster_identifier} has used more than 90% of its maximum Serverless v2 capacity for 15 minutes. Consider raising max_capacity."

  namespace   = "AWS/RDS"
  metric_name = "ACUUtilization"
  dimensions = {
    DBClusterIdentifier = var.db_cluster_identifier
  }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 90
  treat_missing_data  = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}
