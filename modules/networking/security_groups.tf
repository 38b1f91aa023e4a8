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
  name        = "${local.name}-alb"
  description = "Internet-facing ALB: HTTP/HTTPS from anywhere, agent ports to ECS tasks only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-alb"
  }
}

resource "aws_security_group" "ecs" {
  name        = "${local.name}-ecs"
  description = "ECS agent tasks: agent ports from the ALB only, all egress for external API calls"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-ecs"
  }
}

resource "aws_security_group" "db" {
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

# Tasks call external model and SaaS APIs (and ECR, Secrets Manager, CloudWatch Logs and the RDS Data API
# over HTTPS) through the NAT gateways; the destinations are not known in advance, hence all traffic.
resource "aws_vpc_security_group_egress_rule" "ecs_all" {
  security_group_id = aws_security_group.ecs.id
  description       = "All traffic for external API calls"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${local.name}-ecs-out-all"
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
