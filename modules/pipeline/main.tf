# The release pipeline: every commit of the branch is built once per agent into this module's release
# repositories (one multi-platform image for linux/amd64 and linux/arm64, each platform's image scanned,
# tagged with the commit; no BuildKit container), then deployed to each environment in turn, each after a
# manual approval but the first. A deploy copies the same image digests into the environment's own
# repositories, renders the environment with tfgen and applies it with the environment's deploy role.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  registry          = "${local.account_id}.dkr.ecr.${local.region}.amazonaws.com"
  repository_prefix = "${var.name_prefix}-release"
  log_group_name    = "/codebuild/${var.name_prefix}-release"
  log_group_arn     = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  stages            = { for stage in var.stages : stage.name => stage }
}

# --- encryption: one key for artifacts, build logs and release images ---------------------------------

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:a key policy: its resource "*" means the key it is attached to and nothing else, and its principals are this account (administration only) and the pipeline's own roles
  #checkov:skip=CKV_AWS_356:a key policy: its resource "*" means the key it is attached to and nothing else
  #checkov:skip=CKV_AWS_109:a key policy: its resource "*" means the key it is attached to; only this account's IAM administrators can change it
  # Administration through IAM policies of this account; this statement grants no encrypt or decrypt, and
  # no grant (kms:CreateGrant would let any principal with it in IAM grant itself decrypt).
  statement {
    sid    = "AccountAdministersKey"
    effect = "Allow"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:Delete*",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:Revoke*",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # The pipeline's own roles, for artifacts (through S3) and release images (through ECR).
  statement {
    sid       = "PipelineRolesUseKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = concat([aws_iam_role.pipeline.arn, aws_iam_role.build.arn], [for role in aws_iam_role.deploy : role.arn])
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }
  }

  # ECR holds the key for the release repositories through a grant, made when a repository is created;
  # grants may only be made through ECR, for AWS resources.
  statement {
    sid       = "AccountGrantsKeyToEcr"
    effect    = "Allow"
    actions   = ["kms:CreateGrant"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ecr.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    sid       = "BuildLogs"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }
}

resource "aws_kms_key" "pipeline" {
  description         = "${var.name_prefix} release pipeline: artifacts, build logs, release images"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "pipeline" {
  name          = "alias/${var.name_prefix}-release"
  target_key_id = aws_kms_key.pipeline.key_id
}

# --- artifacts -------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:the pipeline's artifact bucket has no server access logging: only the pipeline's roles read or write it, and CloudTrail records their calls
  #checkov:skip=CKV_AWS_144:the pipeline's artifact bucket is not replicated: its objects are a release's inputs, recreated by re-running the pipeline, and expire
  #checkov:skip=CKV2_AWS_62:the pipeline's artifact bucket sends no event notifications: nothing consumes them
  bucket_prefix = "${var.name_prefix}-release-"
  force_destroy = false
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.pipeline.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-artifacts"
    status = "Enabled"

    filter {}

    expiration {
      days = 90
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "artifacts" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts.json
}

resource "aws_cloudwatch_log_group" "builds" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.pipeline.arn
}

# --- source ------------------------------------------------------------------------------------------------

# Created PENDING: someone with access to the repository completes the handshake once, in the console
# (Developer Tools > Settings > Connections), before the first release.
resource "aws_codestarconnections_connection" "source" {
  name          = substr("${var.name_prefix}-source", 0, 32)
  provider_type = var.connection_provider
}

# --- release images: built once per commit, promoted by digest ---------------------------------------------

resource "aws_ecr_repository" "release" {
  for_each = var.agents

  name                 = "${local.repository_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.pipeline.arn
  }
}

# Each release is three images: the index tagged with the commit, and the linux/amd64 and linux/arm64 images
# it lists, tagged <commit>-amd64 and <commit>-arm64. The rule counts images, not releases, so it keeps three
# per release: the newest 3 x keep_release_images images, which are the last keep_release_images releases as
# long as every build pushed all three (a build of a commit that never finished leaves one or two platform
# images that count too, and the oldest release kept may then lose a platform image while its index stays).
resource "aws_ecr_lifecycle_policy" "release" {
  for_each = aws_ecr_repository.release

  repository = each.value.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the last ${var.keep_release_images} releases (3 images each: the index and its linux/amd64 and linux/arm64 images)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 3 * var.keep_release_images
        }
        action = {
          type = "expire"
        }
      },
    ]
  })
}

# --- builds: one project per agent ---------------------------------------------------------------------

resource "aws_codebuild_project" "build" {
  #checkov:skip=CKV_AWS_316:privileged mode runs the Docker daemon that builds the agent image, and registers the QEMU handler its arm64 image is built under; the project runs only this repository's buildspec, under a role that may push only to the release repositories
  for_each = var.agents

  name           = "${var.name_prefix}-build-${each.key}"
  description    = "Builds, scans and pushes the ${each.key} agent's image (linux/amd64 and linux/arm64), tagged with the commit."
  service_role   = aws_iam_role.build.arn
  encryption_key = aws_kms_key.pipeline.arn
  # The arm64 image is built under emulation, several times slower than the native one.
  build_timeout = 60

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type            = "LINUX_CONTAINER"
    compute_type    = "BUILD_GENERAL1_SMALL"
    image           = "aws/codebuild/standard:7.0"
    privileged_mode = true

    environment_variable {
      name  = "AGENT"
      value = each.key
    }
    environment_variable {
      name  = "CONTEXT"
      value = each.value
    }
    environment_variable {
      name  = "REPOSITORY_NAME"
      value = aws_ecr_repository.release[each.key].name
    }
    environment_variable {
      name  = "REPOSITORY_URL"
      value = aws_ecr_repository.release[each.key].repository_url
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "build-${each.key}"
    }
  }

  # One image per commit for every platform a stage can run: an image index (manifest list) of a linux/amd64
  # and a linux/arm64 image, each built and pushed on its own, then listed by the index. Always both, not the
  # architectures the stages run today: the same digest goes through every stage, an environment can switch
  # architecture ([compute] or [agents.<name>] architecture) without a rebuild, and a redeploy of an older
  # release still runs there.
  source {
    type = "CODEPIPELINE"

    buildspec = <<-YAML
      version: 0.2
      env:
        shell: bash
      phases:
        build:
          commands:
            - set -euo pipefail
            - TAG="$(echo "$COMMIT_ID" | cut -c1-12)"
            - PLATFORMS="linux/amd64 linux/arm64"
            - aws ecr get-login-password | docker login --username AWS --password-stdin "$(echo "$REPOSITORY_URL" | cut -d/ -f1)"
            # Tags are immutable: a commit that was built already is never rebuilt.
            - |
              if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG" >/dev/null 2>&1; then
                echo "$REPOSITORY_NAME:$TAG exists; not rebuilding"
              else
                # This host is x86_64: the arm64 image's build steps run under QEMU user emulation. standard:7.0 ships
                # Docker and buildx but no QEMU, and registers no binfmt_misc handler, so register arm64's. binfmt_misc
                # is the host kernel's, not a container's: the Docker daemon's build steps use the handler too, and
                # only a privileged container can write it. The image is the EKS Distro build tooling's copy of
                # tonistiigi/binfmt, from ECR Public rather than Docker Hub, whose anonymous pull limit is shared
                # by every build behind the same CodeBuild addresses.
                docker run --privileged --rm public.ecr.aws/eks-distro-build-tooling/binfmt-misc:qemu-v7.0.0 --install arm64
                # One image per platform, each built by the Docker daemon's own builder (the default `docker` driver:
                # no BuildKit container, so no builder image to trust with the push credentials). With the classic
                # image store it builds one platform at a time; the platform is in the image's config, which the push
                # carries. It attaches no attestations there (buildx adds its default provenance only on a builder
                # that can store an index); --provenance=false keeps it so under the containerd image store, where an
                # attestation would turn the platform's tag into an index of its own. Each is pushed under a tag of
                # its own, <commit>-<arch>, so scan on push scans it. A platform tag pushed by an earlier build of
                # this commit that stopped before the index was pushed is reused, not rebuilt (its tag is immutable
                # too): the gate below scans it like any other.
                sources=()
                for platform in $PLATFORMS; do
                  image="$REPOSITORY_URL:$TAG-$${platform#*/}"
                  if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG-$${platform#*/}" >/dev/null 2>&1; then
                    echo "$image exists (an earlier, interrupted build of this commit); reusing it"
                  else
                    docker build --pull --platform "$platform" --provenance=false --tag "$image" "$CONTEXT"
                    # An image built for another platform (QEMU missing, --platform ignored) is never pushed: its
                    # tag would be reused by every retry.
                    built="$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$image")"
                    test "$built" = "$platform" || { echo "$image was built for $built, not $platform"; exit 1; }
                    docker push "$image"
                  fi
                  sources+=("$image")
                done
                # The index that lists the platform images, pushed under the commit's tag: a registry-to-registry
                # operation of the buildx client (no builder), which reads each image's platform from its config.
                docker buildx imagetools create --tag "$REPOSITORY_URL:$TAG" "$${sources[@]}"
              fi
            # Scan on push, per platform. ECR scans image manifests, not an image index: a scan of the index
            # itself fails ("An artifact with media type 'application/vnd.oci.image.index.v1+json' cannot be
            # scanned"; docker/setup-buildx-action#186, aws/containers-roadmap#1683). Each platform's image is a
            # manifest of its own in this repository, pushed (under its platform tag) before the index: read the
            # index, and for each platform wait for its image's scan, by digest, and stop the release on any
            # critical or high finding. The index is what every stage deploys, so it must list exactly one image
            # per platform and nothing else (nothing unscanned): the tag of a commit built before both platforms
            # were is not an index, and stops here too.
            - |
              INDEX="$(aws ecr batch-get-image --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG" \
                --accepted-media-types application/vnd.oci.image.index.v1+json application/vnd.docker.distribution.manifest.list.v2+json \
                  application/vnd.oci.image.manifest.v1+json application/vnd.docker.distribution.manifest.v2+json \
                --query 'images[0].imageManifest' --output text)"
              echo "$INDEX" | jq -e '.manifests | type == "array"' >/dev/null 2>&1 ||
                { echo "$REPOSITORY_NAME:$TAG is not a multi-platform image index"; exit 1; }
              echo "$INDEX" | jq -e --arg platforms "$PLATFORMS" '.manifests | length == ($platforms | split(" ") | length)' >/dev/null ||
                { echo "$REPOSITORY_NAME:$TAG lists other manifests than one image per platform"; exit 1; }
              for platform in $PLATFORMS; do
                digest="$(echo "$INDEX" | jq -r --arg p "$platform" \
                  '[.manifests[] | select(.platform.os + "/" + .platform.architecture == $p) | .digest] | if length == 1 then .[0] else "" end')"
                test -n "$digest" || { echo "$REPOSITORY_NAME:$TAG has no single $platform image"; exit 1; }
                # Scan on push should have started this image's scan when it was pushed; if it has none (yet),
                # ask for one. That fails harmlessly when the scan on push has just started: the wait is the check.
                aws ecr describe-image-scan-findings --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$digest" >/dev/null 2>&1 ||
                  aws ecr start-image-scan --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$digest" >/dev/null 2>&1 ||
                  true
                aws ecr wait image-scan-complete --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$digest"
                COUNTS="$(aws ecr describe-image-scan-findings --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$digest" \
                  --query 'imageScanFindings.findingSeverityCounts' --output json)"
                echo "$platform image $digest: scan findings $COUNTS"
                test "$(echo "$COUNTS" | jq '(.CRITICAL // 0) + (.HIGH // 0)')" = 0 ||
                  { echo "$platform image $digest has critical or high findings: the release stops"; exit 1; }
              done
            # The release digest (the index's), which every stage's deploy copies.
            - aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG" --query 'imageDetails[0].imageDigest' --output text
    YAML
  }
}

# --- deploys: one project per environment ---------------------------------------------------------------------

resource "aws_codebuild_project" "deploy" {
  #checkov:skip=CKV_AWS_316:privileged mode runs the Docker daemon behind the Docker CLI that logs in to the registries and copies the release images, by digest, into the environment's repositories; nothing is built
  for_each = local.stages

  name           = "${var.name_prefix}-deploy-${each.key}"
  description    = "Promotes the commit's images by digest to ${each.key}, renders it with tfgen and applies it as its deploy role."
  service_role   = aws_iam_role.deploy[each.key].arn
  encryption_key = aws_kms_key.pipeline.arn
  build_timeout  = 90

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type            = "LINUX_CONTAINER"
    compute_type    = "BUILD_GENERAL1_MEDIUM"
    image           = "aws/codebuild/standard:7.0"
    privileged_mode = true

    environment_variable {
      name  = "ENVIRONMENT"
      value = each.key
    }
    environment_variable {
      name  = "DEPLOY_ROLE_ARN"
      value = each.value.deploy_role_arn
    }
    environment_variable {
      name  = "AGENTS"
      value = join(" ", sort(keys(var.agents)))
    }
    environment_variable {
      name  = "RELEASE_REGISTRY"
      value = local.registry
    }
    environment_variable {
      name  = "RELEASE_REPOSITORY_PREFIX"
      value = local.repository_prefix
    }
    environment_variable {
      name  = "TFGEN_REPOSITORY"
      value = var.tfgen_repository
    }
    environment_variable {
      name  = "TFGEN_VERSION"
      value = var.tfgen_version
    }
    environment_variable {
      name  = "TERRAFORM_VERSION"
      value = var.terraform_version
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "deploy-${each.key}"
    }
  }

  source {
    type = "CODEPIPELINE"

    buildspec = <<-YAML
      version: 0.2
      env:
        shell: bash
      phases:
        install:
          commands:
            - set -euo pipefail
            - curl -fsSL "https://releases.hashicorp.com/terraform/$TERRAFORM_VERSION/terraform_$${TERRAFORM_VERSION}_linux_amd64.zip" -o /tmp/terraform.zip
            - unzip -q -o /tmp/terraform.zip -d /usr/local/bin
            - curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal
            - PATH="$HOME/.cargo/bin:$PATH" cargo install --locked --git "$TFGEN_REPOSITORY" --tag "v$TFGEN_VERSION" tfgen
        build:
          commands:
            - set -euo pipefail
            - export PATH="$HOME/.cargo/bin:$PATH"
            - TAG="$(echo "$COMMIT_ID" | cut -c1-12)"
            # With this project's own role: the digest of each agent's release image for this commit, and the
            # registry login the copies below read the release repositories with.
            - aws ecr get-login-password | docker login --username AWS --password-stdin "$RELEASE_REGISTRY"
            - |
              : > /tmp/digests
              for agent in $AGENTS; do
                digest="$(aws ecr describe-images --repository-name "$RELEASE_REPOSITORY_PREFIX/$agent" --image-ids imageTag="$TAG" --query 'imageDetails[0].imageDigest' --output text)"
                echo "$agent $digest" >> /tmp/digests
              done
            # From here on, act as the environment's own deploy role.
            - |
              creds="$(aws sts assume-role --role-arn "$DEPLOY_ROLE_ARN" --role-session-name "release-$TAG" --duration-seconds 3600 --query Credentials --output json)"
              AWS_ACCESS_KEY_ID="$(echo "$creds" | jq -r .AccessKeyId)"
              AWS_SECRET_ACCESS_KEY="$(echo "$creds" | jq -r .SecretAccessKey)"
              AWS_SESSION_TOKEN="$(echo "$creds" | jq -r .SessionToken)"
              export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
              sed -i "s/^image_tag = .*/image_tag = \"$TAG\"/" "environments/$ENVIRONMENT.toml"
              tfgen render "$ENVIRONMENT"
              cd "generated/$ENVIRONMENT"
              # State in this build's container would be lost when it ends: a stage needs shared state.
              grep -q 'backend "s3"' backend.tf || { echo "$ENVIRONMENT has no [backend.s3]; a pipeline stage needs shared state"; exit 1; }
              terraform init -input=false
              # The environment's repositories exist before the images are copied (a first deploy creates them).
              terraform apply -input=false -auto-approve -target=module.ecr
              urls="$(terraform output -json ecr_repository_urls)"
              aws ecr get-login-password | docker login --username AWS --password-stdin "$(echo "$urls" | jq -r 'to_entries[0].value' | cut -d/ -f1)"
              while read -r agent digest; do
                url="$(echo "$urls" | jq -r --arg a "$agent" '.[$a]')"
                # The release's image index, copied whole, registry to registry: given one index and no
                # annotation, imagetools create copies each platform image and pushes the index's own bytes,
                # so the index and each platform's image keep their digests, and every stage runs what was
                # built and scanned, on either architecture. (docker pull, tag and push would copy only this
                # host's platform, as a new image with another digest.) Skipped when a retried deploy has
                # copied it already: the environment's tags are immutable.
                have="$(aws ecr describe-images --repository-name "$${url#*/}" --image-ids imageTag="$TAG" --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true)"
                if [ "$have" != "$digest" ]; then
                  docker buildx imagetools create --tag "$url:$TAG" "$RELEASE_REGISTRY/$RELEASE_REPOSITORY_PREFIX/$agent@$digest" < /dev/null
                fi
                pushed="$(aws ecr describe-images --repository-name "$${url#*/}" --image-ids imageTag="$TAG" --query 'imageDetails[0].imageDigest' --output text)"
                test "$pushed" = "$digest" || { echo "$agent: $ENVIRONMENT has $pushed, the release is $digest"; exit 1; }
              done < /tmp/digests
              terraform apply -input=false -auto-approve
              # The gate before the next stage: every agent answers through the load balancer, with its
              # database, the agents it calls and one model call (the tree's smoke.py; README "Smoke check").
              # Retried for up to 10 minutes while the services replace their tasks.
              python3 smoke.py --retry-for 600
    YAML
  }
}

# --- the pipeline ------------------------------------------------------------------------------------------------

resource "aws_codepipeline" "release" {
  name          = "${var.name_prefix}-release"
  role_arn      = aws_iam_role.pipeline.arn
  pipeline_type = "V2"

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket

    encryption_key {
      id   = aws_kms_key.pipeline.arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      namespace        = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]

      configuration = {
        ConnectionArn        = aws_codestarconnections_connection.source.arn
        FullRepositoryId     = var.repository
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
        DetectChanges        = "true"
      }
    }
  }

  stage {
    name = "Build"

    dynamic "action" {
      for_each = var.agents

      content {
        name            = "build-${action.key}"
        category        = "Build"
        owner           = "AWS"
        provider        = "CodeBuild"
        version         = "1"
        input_artifacts = ["source"]

        configuration = {
          ProjectName = aws_codebuild_project.build[action.key].name
          EnvironmentVariables = jsonencode([
            { name = "COMMIT_ID", value = "#{Source.CommitId}", type = "PLAINTEXT" },
          ])
        }
      }
    }
  }

  dynamic "stage" {
    for_each = var.stages

    content {
      name = "Deploy-${stage.value.name}"

      dynamic "action" {
        for_each = stage.value.approval ? [stage.value.name] : []

        content {
          name      = "approve-${action.value}"
          category  = "Approval"
          owner     = "AWS"
          provider  = "Manual"
          version   = "1"
          run_order = 1

          configuration = {
            CustomData = "Promote commit #{Source.CommitId} (the images already running in the previous environment) to ${action.value}?"
          }
        }
      }

      action {
        name            = "deploy-${stage.value.name}"
        category        = "Build"
        owner           = "AWS"
        provider        = "CodeBuild"
        version         = "1"
        run_order       = 2
        input_artifacts = ["source"]

        configuration = {
          ProjectName = aws_codebuild_project.deploy[stage.value.name].name
          EnvironmentVariables = jsonencode([
            { name = "COMMIT_ID", value = "#{Source.CommitId}", type = "PLAINTEXT" },
          ])
        }
      }
    }
  }
}
