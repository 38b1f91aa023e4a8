# Least-privilege roles: no "*" action; every statement scoped to this module's resources, except
# ecr:GetAuthorizationToken, which has no resource to scope to.

data "aws_iam_policy_document" "codebuild_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "codepipeline_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codepipeline.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- the pipeline: starts builds and moves artifacts ---------------------------------------------------------

resource "aws_iam_role" "pipeline" {
  name               = "${var.name_prefix}-release-pipeline"
  assume_role_policy = data.aws_iam_policy_document.codepipeline_assume.json
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "UseSourceConnection"
    actions   = ["codestar-connections:UseConnection"]
    resources = [aws_codestarconnections_connection.source.arn]
  }

  statement {
    sid       = "RunBuildsAndDeploys"
    actions   = ["codebuild:BatchGetBuilds", "codebuild:StartBuild"]
    resources = concat([for p in aws_codebuild_project.build : p.arn], [for p in aws_codebuild_project.deploy : p.arn])
  }

  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetBucketVersioning", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "ArtifactKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = [aws_kms_key.pipeline.arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "release-pipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# --- builds: push to the release repositories only ----------------------------------------------------------------

resource "aws_iam_role" "build" {
  name               = "${var.name_prefix}-release-build"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
}

data "aws_iam_policy_document" "build" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.builds.arn}:*"]
  }

  statement {
    sid       = "SourceArtifact"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = [aws_kms_key.pipeline.arn]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # docker push pushes each platform's image (layers, manifest); imagetools create reads them (BatchGetImage,
  # and GetDownloadUrlForLayer for their configs) and pushes the index; the scan gate reads the index
  # (BatchGetImage), starts a platform image's scan if scan on push has not, and reads each one's findings.
  statement {
    sid = "PushAndScanReleaseImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImageScanFindings",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:StartImageScan",
      "ecr:UploadLayerPart",
    ]
    resources = [for repo in aws_ecr_repository.release : repo.arn]
  }
}

resource "aws_iam_role_policy" "build" {
  name   = "release-build"
  role   = aws_iam_role.build.id
  policy = data.aws_iam_policy_document.build.json
}

# --- deploys: read the release images, then act as the environment's own deploy role -------------------------------

resource "aws_iam_role" "deploy" {
  for_each = local.stages

  name               = "${var.name_prefix}-deploy-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
}

data "aws_iam_policy_document" "deploy" {
  for_each = local.stages

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.builds.arn}:*"]
  }

  statement {
    sid       = "SourceArtifact"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = [aws_kms_key.pipeline.arn]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # The copy into the environment's repositories reads the release image index, its platform images
  # (BatchGetImage) and their layers (GetDownloadUrlForLayer); the environment's side is its own role's.
  statement {
    sid       = "PullReleaseImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
    resources = [for repo in aws_ecr_repository.release : repo.arn]
  }

  # Everything the environment's apply does, it does as the environment's own role, and nothing else.
  statement {
    sid       = "ActAsTheEnvironment"
    actions   = ["sts:AssumeRole"]
    resources = [each.value.deploy_role_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.stages

  name   = "release-deploy-${each.key}"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}
