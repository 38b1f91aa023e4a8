# Service Connect TLS: the certificate authority that signs every agent's Service Connect certificate, and
# the role ECS uses to have it issue them. Each agent's Envoy proxy then serves TLS 1.3 to its callers with
# a certificate ECS rotates every 5 days; the applications keep calling http://<agent>:<port>.
#
# A root CA in short-lived certificate mode ($50 a month instead of $400; certificates live at most 7 days,
# which is all Service Connect asks), created here unless the spec shares one ([security] private_ca_arn).

data "aws_partition" "current" {}

locals {
  create_ca = var.certificate_authority_arn == null
  name      = "${var.name_prefix}-service-connect-tls"
}

resource "aws_acmpca_certificate_authority" "this" {
  count = local.create_ca ? 1 : 0

  type       = "ROOT"
  usage_mode = "SHORT_LIVED_CERTIFICATE"

  certificate_authority_configuration {
    key_algorithm     = "EC_prime256v1"
    signing_algorithm = "SHA256WITHECDSA"

    subject {
      common_name  = local.name
      organization = var.name_prefix
    }
  }

  # The shortest restore window: a deleted CA of a torn-down environment is gone within a week.
  permanent_deletion_time_in_days = 7

  tags = {
    Name = local.name
    # Required: the managed policy below lets ECS use only CAs that carry it.
    AmazonECSManaged = "true"
  }
}

# A root CA is activated by installing its own self-signed certificate. Private CA does not limit a root
# certificate's validity by the short-lived mode; ten years, renewed by replacing this resource.
resource "aws_acmpca_certificate" "root" {
  count = local.create_ca ? 1 : 0

  certificate_authority_arn   = aws_acmpca_certificate_authority.this[0].arn
  certificate_signing_request = aws_acmpca_certificate_authority.this[0].certificate_signing_request
  signing_algorithm           = "SHA256WITHECDSA"
  template_arn                = "arn:${data.aws_partition.current.partition}:acm-pca:::template/RootCACertificate/V1"

  validity {
    type  = "YEARS"
    value = 10
  }
}

resource "aws_acmpca_certificate_authority_certificate" "this" {
  count = local.create_ca ? 1 : 0

  certificate_authority_arn = aws_acmpca_certificate_authority.this[0].arn
  certificate               = aws_acmpca_certificate.root[0].certificate
  certificate_chain         = aws_acmpca_certificate.root[0].certificate_chain
}

# The ECS infrastructure role for Service Connect TLS. AWS's managed policy lets it issue certificates only
# from CAs tagged AmazonECSManaged = true, and keep their private keys in ECS-created Secrets Manager
# secrets (ecs-sc!*), encrypted with an AWS owned key.
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "EcsIssuesServiceConnectCertificates"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.name
  description        = "ECS issues and rotates the Service Connect TLS certificates of ${var.name_prefix}"
  assume_role_policy = data.aws_iam_policy_document.trust.json

  tags = {
    Name = local.name
  }
}

resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity"
}
