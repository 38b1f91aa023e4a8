# Every alarm notifies this topic on ALARM and again on OK, so recoveries are visible too.
#
# The topic is not KMS-encrypted on purpose: CloudWatch alarms cannot publish to a topic encrypted
# with the AWS managed aws/sns key (its key policy cannot grant cloudwatch.amazonaws.com), and a
# customer managed key is out of scope here. Alarm notifications carry no secrets.
# The default topic policy already lets same-account CloudWatch alarms publish.
resource "aws_sns_topic" "this" {
  name = "${var.name_prefix}-multi-agent-alarms"
}

# E-mail subscriptions stay "pending confirmation" until the recipient clicks the link AWS sends;
# Terraform cannot confirm them, and it will not notice if the recipient unsubscribes.
resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.this.arn]
}
