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
  }
}

# Execution role: the migration's logs, and the agent's password injected as PGPASSWORD. Nothing else.
resource "aws_iam_role" "execution" {
  name               = "${local.family}-exec"
  description        = "Runs the ${var.agent} SQLite migration task: logs and the agent's own database secret."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "Logs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.migration.arn}:*"]
  }

  statement {
    sid       = "AgentSecret"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.secret_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "Decrypt"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      # Only to read the agent's secret through Secrets Manager, never the key directly.
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "sqlite-migration-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Task role: reads the uploaded file, nothing else.
resource "aws_iam_role" "task" {
  name               = "${local.family}-task"
  description        = "The ${var.agent} SQLite migration task: reads the uploaded order_management.db."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadUpload"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.upload.arn}/${local.source_key}"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "Decrypt"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      # Only to read the uploaded file through S3, never the key directly.
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "sqlite-migration-task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

locals {
  log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.migration.name
      awslogs-region        = local.region
      awslogs-stream-prefix = "migration"
    }
  }
  mounts = [
    { sourceVolume = "data", containerPath = "/data", readOnly = false },
    { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
  ]
}

resource "aws_ecs_task_definition" "migration" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 4096
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  volume {
    name = "data"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = "fetch"
      image                  = var.aws_cli_image
      essential              = false
      command                = ["s3", "cp", "s3://${aws_s3_bucket.upload.id}/${local.source_key}", "/data/${local.source_key}"]
      readonlyRootFilesystem = true
      mountPoints            = local.mounts
      logConfiguration       = local.log_configuration
    },
    {
      name                   = "pgloader"
      image                  = var.pgloader_image
      essential              = true
      dependsOn              = [{ containerName = "fetch", condition = "SUCCESS" }]
      readonlyRootFilesystem = true
      mountPoints            = local.mounts
      logConfiguration       = local.log_configuration
      secrets                = [{ name = "PGPASSWORD", valueFrom = "${var.secret_arn}:password::" }]
      command = concat(["pgloader"], var.pgloader_arguments, [
        "sqlite:///data/${local.source_key}",
        "postgresql://${var.role}@${var.db_endpoint}:5432/${var.database_name}?sslmode=require",
      ])
    },
  ])
}
