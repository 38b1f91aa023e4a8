output "sns_topic_arn" {
  description = "ARN of the SNS topic all alarms notify (subscribe further endpoints, e.g. chat integrations, here)."
  value       = aws_sns_topic.this.arn
}

output "alarm_names" {
  description = "Names of all CloudWatch alarms created by this module."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.ecs_cpu_high : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.ecs_memory_high : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.ecs_running_tasks_low : alarm.alarm_name],
    [
      aws_cloudwatch_metric_alarm.alb_5xx_rate_high.alarm_name,
      aws_cloudwatch_metric_alarm.db_connection_failures.alarm_name,
      aws_cloudwatch_metric_alarm.aurora_acu_utilization_high.alarm_name,
    ],
  )
}
