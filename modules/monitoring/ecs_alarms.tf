# Per-agent service alarms. All are keyed by agent name so adding or removing an agent never
# re-addresses another agent's alarms.

resource "aws_cloudwatch_metric_alarm" "ecs_cpu_high" {
  for_each = var.agents

  alarm_name        = "${var.name_prefix}-${each.key}-cpu-high"
  alarm_description = "Average CPU of ECS service ${each.value.service_name} above ${var.cpu_threshold_percent}% for 3 consecutive minutes. Autoscaling should already be adding tasks; if it persists the service is at max_count or the task size is too small."

  namespace   = "AWS/ECS"
  metric_name = "CPUUtilization"
  dimensions = {
    ClusterName = each.value.cluster_name
    ServiceName = each.value.service_name
  }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_threshold_percent
  # No data means no running tasks, which the running-task alarm reports; don't double-page.
  treat_missing_data = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "ecs_memory_high" {
  for_each = var.agents

  alarm_name        = "${var.name_prefix}-${each.key}-memory-high"
  alarm_description = "Average memory of ECS service ${each.value.service_name} above ${var.memory_threshold_percent}% for 3 consecutive minutes. Autoscaling tracks CPU only, so sustained memory pressure risks OOM-killed tasks."

  namespace   = "AWS/ECS"
  metric_name = "MemoryUtilization"
  dimensions = {
    ClusterName = each.value.cluster_name
    ServiceName = each.value.service_name
  }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.memory_threshold_percent
  treat_missing_data  = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

# Fires when fewer tasks run than the service's baseline (desired_count is also the autoscaling
# minimum, so normal scale-in never drops below it). Container Insights publishes
# RunningTaskCount once a minute; missing data means the service or Container Insights is gone,
# which is treated as an outage. Agents deliberately scaled to zero get no alarm: the condition
# "< 0" can never be true and missing data would alarm forever.
resource "aws_cloudwatch_metric_alarm" "ecs_running_tasks_low" {
  for_each = { for name, agent in var.agents : name => agent if agent.desired_count > 0 }

  alarm_name        = "${var.name_prefix}-${each.key}-running-tasks-low"
  alarm_description = "ECS service ${each.value.service_name} has had fewer than ${each.value.desired_count} running task(s) for 3 consecutive minutes (crash loop, failed deployment or capacity problem)."

  namespace   = "ECS/ContainerInsights"
  metric_name = "RunningTaskCount"
  dimensions = {
    ClusterName = each.value.cluster_name
    ServiceName = each.value.service_name
  }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = each.value.desired_count
  treat_missing_data  = "breaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}
