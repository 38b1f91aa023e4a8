output "arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer, the LoadBalancer dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 hosted zone ID of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "target_group_arns" {
  description = "Target group ARN per agent name."
  value       = { for agent, target_group in aws_lb_target_group.this : agent => target_group.arn }

  # ECS rejects a service whose target group is not yet attached to a listener: consumers of these
  # ARNs (the services) wait for the listener rules.
  depends_on = [aws_lb_listener_rule.this]
}

output "target_group_arn_suffixes" {
  description = "Target group ARN suffix per agent name, the TargetGroup dimension of CloudWatch metrics."
  value       = { for agent, target_group in aws_lb_target_group.this : agent => target_group.arn_suffix }
}

output "listener_arn" {
  description = "ARN of the listener carrying the agent rules: HTTPS:443 when a certificate is set, HTTP:80 otherwise."
  value       = local.rules_listener_arn
}

output "https_enabled" {
  description = "Whether the load balancer terminates HTTPS (certificate_arn was set)."
  value       = local.https_enabled
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the load balancer (null when WAF is off)."
  value       = var.waf_enabled ? aws_wafv2_web_acl.this[0].arn : null
}
