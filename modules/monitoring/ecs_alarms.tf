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
  # No data means no running tasks, which the running- or healthy-tasks alarm reports; don't double-page.
  treat_missing_data = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "ecs_memory_high" {
  for_each = var.agents

  alarm_name        = "${var.name_prefix}-${each.key}-memory-high"
  alarm_description = "Average memory of ECS service ${each.value.service_name} above ${var.memory_threshold_percent}% for 3 consecutive minutes. Autoscaling tracks memory too; if it persists the service is at max_count and tasks risk being OOM-killed."

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

# Fires when fewer tasks run than the service wants right now (with Container Insights): Container Insights
# publishes both the running and the live desired count (which autoscaling moves) once a minute, and metric
# math compares them, so a scaled-out service that loses tasks alarms too. Five minutes absorb a scale-out's
# task start-up; a deployment runs more tasks than desired, never fewer. Missing data means the service or
# Container Insights is gone, which is treated as an outage. Agents seeded at zero tasks get no alarm.
resource "aws_cloudwatch_metric_alarm" "ecs_running_tasks_low" {
  for_each = { for name, agent in var.agents : name => agent if agent.desired_count > 0 && var.container_insights }

  alarm_name        = "${var.name_prefix}-${each.key}-running-tasks-low"
  alarm_description = "ECS service ${each.value.service_name} has run fewer tasks than its current desired count for 5 consecutive minutes (crash loop, failed deployment or capacity problem)."

  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  treat_missing_data  = "breaching"

  metric_query {
    id          = "missing"
    expression  = "desired - running"
    label       = "Tasks below desired"
    return_data = true
  }

  metric_query {
    id = "running"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      dimensions = {
        ClusterName = each.value.cluster_name
        ServiceName = each.value.service_name
      }
      stat   = "Average"
      period = 60
    }
  }

  metric_query {
    id = "desired"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      dimensions = {
        ClusterName = each.value.cluster_name
        ServiceName = each.value.service_name
      }
      stat   = "Average"
      period = 60
    }
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}

# Without Container Insights: fires when fewer tasks pass the load balancer's health check than the
# service's baseline (its autoscaling minimum) for 5 consecutive minutes. The load balancer publishes
# HealthyHostCount for every target group each minute at no charge, and a task that runs but fails its
# health check counts as missing, which a running count would not see. A rolling deployment replaces
# tasks within the 5 minutes; a longer gap is what this alarm is for. Missing data means the target
# group is gone, an outage. Agents seeded at zero tasks get no alarm.
resource "aws_cloudwatch_metric_alarm" "ecs_healthy_tasks_low" {
  for_each = { for name, agent in var.agents : name => agent if agent.desired_count > 0 && !var.container_insights }

  alarm_name        = "${var.name_prefix}-${each.key}-healthy-tasks-low"
  alarm_description = "Fewer than ${each.value.desired_count} task(s) of ECS service ${each.value.service_name} have passed the load balancer's health check for 5 consecutive minutes (crash loop, failed deployment or capacity problem)."

  namespace   = "AWS/ApplicationELB"
  metric_name = "HealthyHostCount"
  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = each.value.target_group_arn_suffix
  }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = each.value.desired_count
  treat_missing_data  = "breaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}
