# RDS access role ("for database connections"), only for an agent that uses the database: assumed by its task role when the application opens a
# PostgreSQL connection with IAM authentication (rds-db:connect) or uses the Data API with a separate identity.
data "aws_iam_policy_document" "rds_access_assume" {
  count = var.database_access ? 1 : 0

  statement {
    sid     = "TaskRoleAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    # IAM pins a role principal to the role's unique ID: if the task role is ever recreated, run another apply
    # so this trust policy is rewritten against the new role.
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.task.arn]
    }
  }
}

resource "aws_iam_role" "rds_access" {
  count = var.database_access ? 1 : 0

  name               = var.rds_access_role_name
  description        = "Database access of agent ${var.agent_name}; assumable only by its ECS task role."
  assume_role_policy = data.aws_iam_policy_document.rds_access_assume[0].json

  tags = {
    Name  = var.rds_access_role_name
    Agent = var.agent_name
  }
}

# No Data API and no secret: database agents get those from their own policy (module database_bootstrap).
data "aws_iam_policy_document" "rds_access" {
  count = var.database_access ? 1 : 0

  statement {
    sid       = "IamDatabaseAuth"
    effect    = "Allow"
    actions   = ["rds-db:connect"]
    resources = [local.db_user_arn]
  }
}

resource "aws_iam_role_policy" "rds_access" {
  count = var.database_access ? 1 : 0

  name   = "rds-access"
  role   = aws_iam_role.rds_access[0].id
  policy = data.aws_iam_policy_document.rds_access[0].json
}
