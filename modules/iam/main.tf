data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  repository_arns = [
    for name in var.repository_names : "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${name}"
  ]

  # "<group-arn>:*" covers the streams inside each group (PutLogEvents) and the group itself for CreateLogStream,
  # the same form AWS uses in its own awslogs examples.
  log_stream_arns = [
    for name in var.log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}:*"
  ]

  # ECS valueFrom may reference a single JSON key ("<secret-arn>:<json-key>:<stage>:<version>"); IAM only knows the
  # secret itself, which is always the first seven colon-separated fields.
  execution_secret_arns = distinct([for arn in var.execution_secret_arns : join(":", slice(split(":", arn), 0, 7))])

  # The Bedrock statements arrive as data (one per grant); only the account and partition are filled in here.
  bedrock_statements = [
    for g in var.bedrock_grants : {
      sid        = g.sid
      resources  = [for r in g.resources : replace(replace(r, "$${partition}", local.partition), "$${account_id}", local.account_id)]
      conditions = { for k, v in g.conditions : k => replace(replace(v, "$${partition}", local.partition), "$${account_id}", local.account_id) }
    }
  ]

  # KMS use is limited to decrypting secrets through Secrets Manager in this region.
  secretsmanager_endpoint = "secretsmanager.${local.region}.amazonaws.com"
}

# Trust policy of the agent's execution and task roles. The SourceAccount/SourceArn conditions stop the ECS
# service principal from assuming these roles on behalf of another account (confused deputy).
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}
