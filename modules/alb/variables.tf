variable "name" {
  type        = string
  description = "Name of the load balancer, e.g. \"prod-multi-agent-alb\"."

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$", var.name)) && !startswith(var.name, "internal-")
    error_message = "name must be 1-32 letters, digits or hyphens, must not start or end with a hyphen and must not start with \"internal-\"."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC the target groups belong to."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets to place the load balancer in (at least two, in different AZs)."

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs subnets in at least two availability zones."
  }
}

variable "security_group_id" {
  type        = string
  description = "Security group attached to the load balancer."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for the HTTPS:443 listener. When set, the rules live on HTTPS and HTTP:80 redirects to it; when null, HTTP:80 serves the rules."
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:[^:]+:acm:", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  type        = string
  description = "Security policy of the HTTPS listener (ignored without certificate_arn)."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "deletion_protection" {
  type        = bool
  description = "Whether AWS refuses to delete the load balancer until this is switched off again."
}

variable "idle_timeout" {
  type        = number
  description = "Seconds a connection may stay idle before the load balancer closes it; long enough for a streamed agent response (the spec's [alb] idle_timeout_seconds, default 300)."

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000 && floor(var.idle_timeout) == var.idle_timeout
    error_message = "idle_timeout must be a whole number of seconds between 1 and 4000."
  }
}

variable "agents" {
  type = map(object({
    target_group_name = string
    port              = number
    health_check_path = string
    path_patterns     = list(string)
    priority          = number
  }))
  description = "Agents behind the load balancer, keyed by agent name: target group name, container port, health check path, and the path patterns and priority of the listener rule that routes to it."

  validation {
    condition     = alltrue([for agent in values(var.agents) : can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$", agent.target_group_name))])
    error_message = "Each target_group_name must be 1-32 letters, digits or hyphens and must not start or end with a hyphen."
  }

  validation {
    condition     = alltrue([for agent in values(var.agents) : agent.port >= 1 && agent.port <= 65535 && floor(agent.port) == agent.port])
    error_message = "Each agent port must be a whole TCP port number between 1 and 65535."
  }

  validation {
    condition     = alltrue([for agent in values(var.agents) : startswith(agent.health_check_path, "/")])
    error_message = "Each health_check_path must start with \"/\"."
  }

  # AWS allows at most five condition values per listener rule, each up to 128 characters.
  validation {
    condition     = alltrue([for agent in values(var.agents) : length(agent.path_patterns) >= 1 && length(agent.path_patterns) <= 5 && alltrue([for pattern in agent.path_patterns : length(pattern) >= 1 && length(pattern) <= 128])])
    error_message = "Each agent needs 1-5 path_patterns of 1-128 characters."
  }

  validation {
    condition     = alltrue([for agent in values(var.agents) : agent.priority >= 1 && agent.priority <= 50000 && floor(agent.priority) == agent.priority])
    error_message = "Each priority must be a whole number between 1 and 50000."
  }

  validation {
    condition     = length(distinct([for agent in values(var.agents) : agent.priority])) == length(var.agents)
    error_message = "Listener rule priorities must be unique across agents."
  }

  validation {
    condition     = length(distinct([for agent in values(var.agents) : agent.target_group_name])) == length(var.agents)
    error_message = "Target group names must be unique across agents."
  }
}

variable "access_logs_enabled" {
  type        = bool
  description = "Write access logs to access_logs_bucket."
  default     = false
}

variable "access_logs_bucket" {
  type        = string
  description = "S3 bucket for the access logs (SSE-S3, with a policy letting Elastic Load Balancing write under \"<name>/\"); required when access_logs_enabled."
  default     = null
}

variable "waf_enabled" {
  type        = bool
  description = "Put a WAFv2 web ACL (rate limit and AWS managed rule groups, logged to CloudWatch Logs) in front of the load balancer."
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  type        = number
  description = "Requests one client IP may send in any 5-minute window before WAF blocks it."
  default     = 2000

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 10 && floor(var.waf_rate_limit_per_5_minutes) == var.waf_rate_limit_per_5_minutes
    error_message = "waf_rate_limit_per_5_minutes must be a whole number >= 10 (the WAF minimum)."
  }
}

variable "waf_log_retention_days" {
  type        = number
  description = "Days the WAF log group (aws-waf-logs-<name>) keeps its events."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the WAF log group, or null for CloudWatch Logs' default encryption."
  default     = null
}

variable "target_protocol" {
  type        = string
  description = "How the load balancer reaches the agents and checks their health: HTTP, or HTTPS to a port where they serve TLS (in-transit encryption)."
  default     = "HTTP"

  validation {
    condition     = contains(["HTTP", "HTTPS"], var.target_protocol)
    error_message = "target_protocol must be HTTP or HTTPS."
  }
}
