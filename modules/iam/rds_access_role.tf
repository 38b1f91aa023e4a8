# RDS access role ("for database connections"): assumed by the task role when the application opens a
# PostgreSQL connection with IAM authentication (rds-db:connect) or uses the Data API with a separate identity.
data "aws_iam_policy_document" "rds_access_assume" {
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
  name               = "${var.name_prefix}-multi-agent-rds-access"
  description        = "Database access for the multi-agent services; assumable only by the ECS task role."
  assume_role_policy = data.aws_iam_policy_document.rds_access_assume.json

  tags = {
    Name = "${var.name_prefix}-multi-agent-rds-access"
  }
}

# No Data API and no secret: the task role can assume this role, so anything here is every agent's.
data "aws_iam_policy_document" "rds_access" {
  statement {
    sid       = "IamDatabaseAuth"
    effect    = "Allow"
    actions   = ["rds-db:connect"]
    resources = [local.db_user_arn]
  }
}

resource "aws_iam_role_policy" "rds_access" {
  name   = "rds-access"
  role   = aws_iam_role.rds_access.id
  policy = data.aws_iam_policy_document.rds_access.json
}
