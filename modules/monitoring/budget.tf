# The environment's monthly cost budget: what `tfgen cost` estimated plus a margin (or the spec's amount),
# for the costs tagged environment = <this environment> (the provider's default tags put the tag on every
# resource). It alerts the alarm topic when AWS forecasts the month above the limit and again when the
# actual spend passes it, so the first month's bill says whether the estimate was right.
#
# The tag must be activated once as a cost-allocation tag (Billing console, or `aws ce
# update-cost-allocation-tags-status`, in the organization's management account): until then the filter
# matches no cost and the budget stays at $0.
resource "aws_budgets_budget" "monthly" {
  count = var.budget_limit_usd == null ? 0 : 1

  name         = "${var.name_prefix}-multi-agent-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.budget_limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "TagKeyValue"
    values = [var.budget_tag_filter]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [aws_sns_topic.this.arn]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "ACTUAL"
    subscriber_sns_topic_arns = [aws_sns_topic.this.arn]
  }

  # AWS Budgets checks at create that it may publish to the topic.
  depends_on = [aws_sns_topic_policy.this]
}
