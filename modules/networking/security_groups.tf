# Security groups carry no inline rules: every rule is its own aws_vpc_security_group_*_rule resource so
# that plans show one rule per line. On creation the AWS provider removes the allow-all egress rule that
# AWS adds to every new group, so a group without egress resources (db) really has no egress.
#
# Every agent has its own group. Who may reach whom (`tfgen reach <env>` computes it from these rules):
#   internet          -> ALB                 80, 443
#   ALB               -> each agent          the agent's port (its TLS port with in-transit encryption)
#   caller            -> callee              the callee's port (declared with `calls` in agents.toml)
#   agent with the db -> database            the database port
#   each agent        -> anywhere            443 (AWS APIs and third-party APIs, through the NAT gateways)

locals {
  alb_listener_ports = {
    http  = 80
    https = 443
  }

  # The agent graph's edges, keyed "<caller>/<callee>" so that adding an agent or a call only adds rules.
  calls = {
    for edge in flatten([
      for caller, agent in var.agents : [
        for callee in agent.calls : {
          caller = caller
          callee = callee
          port   = var.agents[callee].port
        }
      ]
    ]) : "${edge.caller}/${edge.callee}" => edge
  }
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module alb, aws_lb.this); checkov does not follow module outputs into other modules
  name        = "${local.name}-alb"
  description = "Internet-facing ALB: HTTP/HTTPS from anywhere, each agent's port to that agent only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-alb"
  }
}

resource "aws_security_group" "agent" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module ecs, aws_ecs_service.this); checkov does not follow module outputs into other modules
  for_each = var.agents

  name        = each.value.security_group_name
  description = "Agent ${each.value.security_group_name}: port ${each.value.port} from the ALB and its callers only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = each.value.security_group_name
  }
}

resource "aws_security_group" "db" {
  #checkov:skip=CKV2_AWS_5:attached outside this module (module aurora, aws_rds_cluster.this); checkov does not follow module outputs into other modules
  name        = "${local.name}-db"
  description = "Aurora cluster: database port from the agents that use it only, no egress"
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

# Forwarded requests and target health checks (which use the traffic port) both go to the port the target
# group names: the agent's own, or with in-transit encryption its TLS port.
resource "aws_vpc_security_group_egress_rule" "alb_to_agent" {
  for_each = var.agents

  security_group_id            = aws_security_group.alb.id
  description                  = "Port ${each.value.alb_port} to agent ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = each.value.alb_port
  to_port                      = each.value.alb_port
  referenced_security_group_id = aws_security_group.agent[each.key].id

  tags = {
    Name = "${local.name}-alb-out-${each.key}"
  }
}

################################################################################
# Agent rules
################################################################################

resource "aws_vpc_security_group_ingress_rule" "agent_from_alb" {
  for_each = var.agents

  security_group_id            = aws_security_group.agent[each.key].id
  description                  = "Port ${each.value.alb_port} from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = each.value.alb_port
  to_port                      = each.value.alb_port
  referenced_security_group_id = aws_security_group.alb.id

  tags = {
    Name = "${local.name}-${each.key}-in-alb"
  }
}

# Service Connect: on Fargate the callee's Envoy proxy listens on the container port itself (the default
# ingressPortOverride), so the callee's port is the one to open, to its declared callers only.
resource "aws_vpc_security_group_ingress_rule" "agent_from_caller" {
  for_each = local.calls

  security_group_id            = aws_security_group.agent[each.value.callee].id
  description                  = "Port ${each.value.port} from its caller ${each.value.caller}"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.agent[each.value.caller].id

  tags = {
    Name = "${local.name}-${each.value.callee}-in-${each.value.caller}"
  }
}

resource "aws_vpc_security_group_egress_rule" "caller_to_agent" {
  for_each = local.calls

  security_group_id            = aws_security_group.agent[each.value.caller].id
  description                  = "Port ${each.value.port} to the agent it calls, ${each.value.callee}"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.agent[each.value.callee].id

  tags = {
    Name = "${local.name}-${each.value.caller}-out-${each.value.callee}"
  }
}

# HTTPS (443) anywhere, through the NAT gateways: Bedrock, ECR (image pulls), Secrets Manager, CloudWatch
# Logs, the RDS Data API, Service Connect's control plane and the external SaaS APIs the agents call. The
# destinations are AWS and partner endpoints whose addresses are not fixed, so the port is the only thing
# that can be pinned. DNS needs no rule: security groups never filter traffic to the VPC's Amazon DNS
# resolver (VPC base + 2, 169.254.169.253), nor to the ECS task metadata endpoint.
resource "aws_vpc_security_group_egress_rule" "agent_https" {
  for_each = var.agents

  security_group_id = aws_security_group.agent[each.key].id
  description       = "HTTPS to AWS APIs and external APIs via NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${local.name}-${each.key}-out-https"
  }
}

resource "aws_vpc_security_group_egress_rule" "agent_to_db" {
  for_each = { for name, agent in var.agents : name => agent if agent.uses_database }

  security_group_id            = aws_security_group.agent[each.key].id
  description                  = "Database port to the Aurora cluster"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.db.id

  tags = {
    Name = "${local.name}-${each.key}-out-db"
  }
}

################################################################################
# Database rules
################################################################################

resource "aws_vpc_security_group_ingress_rule" "db_from_agent" {
  for_each = { for name, agent in var.agents : name => agent if agent.uses_database }

  security_group_id            = aws_security_group.db.id
  description                  = "Database port from agent ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.agent[each.key].id

  tags = {
    Name = "${local.name}-db-in-${each.key}"
  }
}

################################################################################
# Service Connect
################################################################################

# One namespace per environment: every agent registers under its own name and port, and calls its callees
# at http://<callee>:<port> through the Service Connect proxy, inside the VPC (never through the ALB, its
# WAF or the NAT gateways).
resource "aws_service_discovery_http_namespace" "agents" {
  name        = "${local.name}-agents"
  description = "Service Connect namespace of the ${local.name} agents"

  tags = {
    Name = "${local.name}-agents"
  }
}
