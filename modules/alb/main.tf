data "aws_caller_identity" "current" {}

locals {
  https_enabled = var.certificate_arn != null

  # Requests that match no agent rule get a JSON 404 instead of the load balancer's HTML error page.
  not_found_response = {
    content_type = "application/json"
    status_code  = "404"
    message_body = jsonencode({ error = "not_found", message = "No agent is routed at this path." })
  }
}

resource "aws_lb" "this" {
  name               = var.name
  internal           = false
  load_balancer_type = "application"
  security_groups    = [var.security_group_id]
  subnets            = var.public_subnet_ids

  idle_timeout               = var.idle_timeout
  enable_deletion_protection = var.deletion_protection

  # Reject requests with header names that are not valid HTTP (a request smuggling vector) rather than
  # passing them through to the agents.
  drop_invalid_header_fields = true

  # Access logs go to a private SSE-S3 bucket (the only encryption ALB log delivery supports), under the
  # load balancer's name. With logging off the bucket argument is unused, but the provider still requires it.
  access_logs {
    enabled = var.access_logs_enabled
    bucket  = var.access_logs_bucket == null ? "" : var.access_logs_bucket
    prefix  = var.name
  }

  tags = {
    Name = var.name
  }

  lifecycle {
    precondition {
      condition     = !var.access_logs_enabled || var.access_logs_bucket != null
      error_message = "access_logs_enabled needs access_logs_bucket."
    }
  }
}

################################################################################
# Target groups
################################################################################

# Fargate tasks in awsvpc mode register by IP address, hence target_type "ip". Because the name is fixed,
# a change that forces replacement (port, protocol, target type, VPC) also needs a new target_group_name
# (tfgen names HTTPS groups `-tls` and HTTP ones `-tg`), and the new group is created, and the rules and
# services moved to it, before the old one is destroyed.
#
# HTTPS (in-transit encryption): the load balancer encrypts to each task's TLS port, and checks no target
# certificate, so the self-signed one the application creates at start is enough (AWS's documentation of
# target groups). Health checks go the same way.
resource "aws_lb_target_group" "this" {
  for_each = var.agents

  name        = each.value.target_group_name
  vpc_id      = var.vpc_id
  target_type = "ip"
  protocol    = var.target_protocol
  port        = each.value.port

  # A deregistering task keeps its open connections as long as the idle timeout lets one live without a
  # byte: a non-streamed model answer cannot take longer through this ALB, so every in-flight answer
  # finishes (300 s by default; 3600 s is AWS's maximum). Old tasks drain in parallel, so a rolling
  # deployment takes one drain longer, not one per task. Then ECS sends SIGTERM and the container's
  # stopTimeout (120 s) covers the calls between agents.
  deregistration_delay = min(var.idle_timeout, 3600)

  health_check {
    enabled             = true
    protocol            = var.target_protocol
    port                = "traffic-port"
    path                = each.value.health_check_path
    matcher             = "200"
    interval            = 30
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = {
    Name = each.value.target_group_name
  }

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Listeners
################################################################################

# HTTP:80 always exists. With a certificate it only redirects to HTTPS; without one it carries the agent
# rules. Keeping it a single resource means adding a certificate later updates it in place.
resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:with a certificate (prod) this listener only answers with a 301 redirect to HTTPS, in a dynamic block checkov does not evaluate; without one (dev) it serves the agents over HTTP by design
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = local.https_enabled ? "redirect" : "fixed-response"

    dynamic "redirect" {
      for_each = local.https_enabled ? [1] : []

      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = local.https_enabled ? [] : [1]

      content {
        content_type = local.not_found_response.content_type
        status_code  = local.not_found_response.status_code
        message_body = local.not_found_response.message_body
      }
    }
  }

  tags = {
    Name = "${var.name}-http"
  }
}

resource "aws_lb_listener" "https" {
  count = local.https_enabled ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = local.not_found_response.content_type
      status_code  = local.not_found_response.status_code
      message_body = local.not_found_response.message_body
    }
  }

  tags = {
    Name = "${var.name}-https"
  }

  lifecycle {
    # A certificate of another account (a copied example) would fail the apply after the load balancer
    # exists, leaving no listener rule and no service; refuse it at plan instead.
    precondition {
      condition     = split(":", var.certificate_arn)[4] == data.aws_caller_identity.current.account_id
      error_message = "The certificate ${var.certificate_arn} is not in this account (${data.aws_caller_identity.current.account_id}): name one of the account you deploy to in [alb] certificate_arn."
    }
  }
}

################################################################################
# Routing rules
################################################################################

locals {
  # The listener that carries the agent rules. Switching it (adding or removing the certificate)
  # replaces the rules, since a rule cannot move between listeners.
  rules_listener_arn = local.https_enabled ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
}

resource "aws_lb_listener_rule" "this" {
  for_each = var.agents

  listener_arn = local.rules_listener_arn
  priority     = each.value.priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  tags = {
    Name = each.key
  }
}
