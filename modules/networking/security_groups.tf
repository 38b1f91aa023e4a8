# Security groups carry no inline rules: every rule is its own aws_vpc_security_group_*_rule resource so
# that plans show one rule per line. On creation the AWS provider removes the allow-all egress rule that
# AWS adds to every new group, so a group without egress resources (db) really has no egress.

locals {
  # Keyed by the port as a string so that adding an agent port only adds rules.
  agent_ports = { for port in distinct(var.agent_ports) : tostring(port) => port }

  alb_listener_ports = {
    http  = 80
    https = 443
  }
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module alb, aws_lb.this); checkov does not follow module outputs into other modules
  name        = "${local.name}-alb"
  description = "Internet-facing ALB: HTTP/HTTPS from anywhere, agent ports to ECS tasks only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-alb"
  }
}

resource "aws_security_group" "ecs" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module ecs, aws_ecs_service.this); checkov does not follow module outputs into other modules
  name        = "${local.name}-ecs"
  description = "ECS agent tasks: agent ports from the ALB only, HTTPS out and the database port to the database"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-ecs"
  }
}

resource "aws_security_group" "db" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module aurora, aws_rds_cluster.this); checkov does not follow module outputs into other modules
  name        = "${local.name}-db"
  description = "Aurora cluster: database port from ECS tasks only, no egress"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-db"
  }
}

################################################################################
# ALB rules
################################################################################

# Port 443 stays open even while an environment has no certificate (HTTP-only ALB): nothing listens on
# it then, and opening it up front means enabling HTTPS needs no security group change.
resource "aws_vpc_security_group_ingress_rule" "alb_from_internet" {
  #checkov:skip=CKV_AWS_260:port 80 only answers with a 301 redirect to HTTPS once the environment has a certificate (prod); dev without a certificate serves HTTP on purpose
  for_each = local.alb_listener_ports

  security_group_id = aws_security_group.alb.id
  description       = "${upper(each.key)} from the internet"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${local.name}-alb-in-${each.key}"
  }
}

# Forwarded requests and target health checks (which use the traffic port) both go to the agent ports.
resource "aws_vpc_security_group_egress_rule" "alb_to_ecs" {
  for_each = local.agent_ports

  security_group_id            = aws_security_group.alb.id
  description                  = "Agent port ${each.value} to ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.ecs.id

  tags = {
    Name = "${local.name}-alb-out-${each.key}"
  }
}

################################################################################
# ECS rules
################################################################################

resource "aws_vpc_security_group_ingress_rule" "ecs_from_alb" {
  for_each = local.agent_ports

  security_group_id            = aws_security_group.ecs.id
  description                  = "Agent port ${each.value} from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.alb.id

  tags = {
    Name = "${local.name}-ecs-in-${each.key}"
  }
}

# What the agents need to reach, and nothing else:
# - HTTPS (443) anywhere, through the NAT gateways: Bedrock, ECR (image pulls), Secrets Manager, CloudWatch
#   Logs, the RDS Data API and the external SaaS APIs the agents call. The destinations are AWS and partner
#   endpoints whose addresses are not fixed, so the port is the only thing that can be pinned.
# - The database port, to the database security group only.
# DNS needs no rule: security groups never filter traffic to the VPC's Amazon DNS resolver (VPC base + 2,
# 169.254.169.253), nor to the ECS task metadata endpoint.
resource "aws_vpc_security_group_egress_rule" "ecs_https" {
  security_group_id = aws_security_group.ecs.id
  description       = "HTTPS to AWS APIs and external APIs via NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${local.name}-ecs-out-https"
  }
}

resource "aws_vpc_security_group_egress_rule" "ecs_to_db" {
  security_group_id            = aws_security_group.ecs.id
  description                  = "Database port to the Aurora cluster"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.db.id

  tags = {
    Name = "${local.name}-ecs-out-db"
  }
}

################################################################################
# Database rules
################################################################################

resource "aws_vpc_security_group_ingress_rule" "db_from_ecs" {
  security_group_id            = aws_security_group.db.id
  description                  = "Database port from ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.ecs.id

  tags = {
    Name = "${local.name}-db-in-ecs"
  }
}
