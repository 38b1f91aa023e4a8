# Bedrock throttling: the reason the plan calls the model through a cross-region inference profile. A few
# throttles are retried by the SDK; a steady stream means the account's quota for the model is too small
# for the traffic, and customers wait or get errors.
resource "aws_cloudwatch_metric_alarm" "bedrock_throttles" {
  alarm_name        = "${var.name_prefix}-bedrock-throttles"
  alarm_description = "More than ${var.bedrock_throttles_threshold} Bedrock invocations of ${var.bedrock_model_id} were throttled in 5 minutes: request a quota increase or spread the load."

  namespace   = "AWS/Bedrock"
  metric_name = "InvocationThrottles"
  dimensions = {
    ModelId = var.bedrock_model_id
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.bedrock_throttles_threshold
  # No invocations, no throttles.
  treat_missing_data = "notBreaching"

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions
}
