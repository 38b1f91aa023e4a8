variable "name_prefix" {
  type        = string
  description = "Environment prefix for resource names and Name tags, e.g. \"prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name_prefix))
    error_message = "name_prefix must be 1-20 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the VPC, e.g. \"10.0.0.0/16\"."

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-8])$", var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length between /16 and /28 (the range AWS accepts for a VPC)."
  }
}

variable "az_count" {
  type        = number
  description = "Number of availability zones to spread the subnets over (the first az_count available zones of the region)."

  # An ALB and an RDS DB subnet group both require subnets in at least two AZs.
  validation {
    condition     = var.az_count >= 2 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number of at least 2 (ALB and Aurora need two AZs)."
  }
}

variable "public_subnet_cidrs" {
  type        = list(string)
  description = "CIDR blocks of the public subnets, one per AZ, in AZ order (length must equal az_count)."

  validation {
    condition     = alltrue([for cidr in var.public_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every entry of public_subnet_cidrs must be a valid IPv4 CIDR block."
  }
}

variable "private_subnet_cidrs" {
  type        = list(string)
  description = "CIDR blocks of the private subnets, one per AZ, in AZ order (length must equal az_count)."

  validation {
    condition     = alltrue([for cidr in var.private_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every entry of private_subnet_cidrs must be a valid IPv4 CIDR block."
  }
}

variable "nat" {
  type        = string
  description = "How the private subnets reach the internet: \"single\" (one NAT gateway in the first public subnet, shared by every AZ: cheaper, not AZ-resilient), \"per-az\" (a NAT gateway in every AZ) or \"instance\" (one NAT instance of nat_instance_type in the first public subnet)."

  validation {
    condition     = contains(["single", "per-az", "instance"], var.nat)
    error_message = "nat must be \"single\", \"per-az\" or \"instance\"."
  }
}

variable "nat_instance_type" {
  type        = string
  description = "Instance type of the NAT instance: a Graviton type, since the image is Amazon Linux 2023 for ARM64."
  default     = "t4g.nano"

  validation {
    condition     = can(regex("^[a-z][0-9]+g[a-z]*\\.[a-z0-9]+$", var.nat_instance_type))
    error_message = "nat_instance_type must be a Graviton (ARM64) instance type such as t4g.nano."
  }
}

variable "agents" {
  type = map(object({
    port                = number
    alb_port            = number
    calls               = list(string)
    uses_database       = bool
    security_group_name = string
  }))
  description = "The agents, keyed by name: each gets its own security group. Its port admits the agents that call it, its alb_port (the same port, or its TLS port with in-transit encryption) the ALB; it may reach the ports of the agents it calls, the database (if it uses it) and HTTPS anywhere."

  validation {
    condition     = length(var.agents) > 0 && alltrue([for agent in var.agents : alltrue([for port in [agent.port, agent.alb_port] : port >= 1 && port <= 65535 && floor(port) == port])])
    error_message = "agents must be non-empty, each with a whole TCP port number between 1 and 65535."
  }

  validation {
    condition     = alltrue(flatten([for name, agent in var.agents : [for callee in agent.calls : contains(keys(var.agents), callee) && callee != name]]))
    error_message = "An agent may call only other declared agents."
  }
}

variable "db_port" {
  type        = number
  description = "TCP port the database listens on; only the groups of the agents that use the database may reach it."
  default     = 5432

  validation {
    condition     = var.db_port >= 1 && var.db_port <= 65535 && floor(var.db_port) == var.db_port
    error_message = "db_port must be a whole TCP port number between 1 and 65535."
  }
}

variable "flow_logs_enabled" {
  type        = bool
  description = "Record VPC flow logs (all traffic) in a CloudWatch Logs group."
  default     = true
}

variable "flow_logs_retention_days" {
  type        = number
  description = "Days the flow log group keeps its events."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the flow log group, or null for CloudWatch Logs' default encryption."
  default     = null
}

variable "region" {
  type        = string
  description = "The region, for the endpoint service names (com.amazonaws.<region>.<service>)."
}

variable "interface_endpoints" {
  type        = list(string)
  description = "AWS services (e.g. \"ecr.api\", \"logs\") to reach through interface endpoints in every private subnet; non-empty also adds the S3 gateway endpoint. Empty: everything goes through the NAT gateways."
  default     = []
}
