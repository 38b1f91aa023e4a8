# Every alarm notifies this topic on ALARM and again on OK, so recoveries are visible too.
#
# Encrypted with the environment's customer-managed key, whose policy lets cloudwatch.amazonaws.com use it
# (the AWS managed aws/sns key cannot grant that, so it is no alternative). Without a key (kms_key_arn null)
# the topic stays unencrypted; alarm notifications carry no secrets.
# The default topic policy already lets same-account CloudWatch alarms publish.
resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-multi-agent-alarms"
  kms_master_key_id = var.kms_key_arn
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
