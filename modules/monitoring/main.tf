# Every alarm notifies this topic on ALARM and again on OK, so recoveries are visible too.
#
# Encrypted with the environment's customer-managed key, whose policy lets cloudwatch.amazonaws.com,
# budgets.amazonaws.com and (with backup_failures) events.amazonaws.com use it (the AWS managed aws/sns key cannot grant that, so it is no alternative).
# Without a key (kms_key_arn null) the topic stays unencrypted; alarm notifications carry no secrets.
resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-multi-agent-alarms"
  kms_master_key_id = var.kms_key_arn
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  publishing_services = concat(
    ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"],
    var.backup_failures ? ["events.amazonaws.com"] : [],
  )
}

# Who may publish: this account's principals (as the default topic policy allows), CloudWatch alarms,
# AWS Budgets and (with backup_failures) EventBridge rules of this account; nobody else.
data "aws_iam_policy_document" "topic" {
  statement {
    sid = "AccountManagesTopic"
    actions = [
      "SNS:GetTopicAttributes",
      "SNS:SetTopicAttributes",
      "SNS:AddPermission",
      "SNS:RemovePermission",
      "SNS:DeleteTopic",
      "SNS:Subscribe",
      "SNS:ListSubscriptionsByTopic",
      "SNS:Publish",
    ]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesOfThisAccountPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = local.publishing_services
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
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
