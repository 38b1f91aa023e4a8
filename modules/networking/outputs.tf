output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones in use, in the same order as the subnet ID lists."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, in availability_zones order."
  value       = [for az in local.azs : aws_subnet.public[az].id]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in availability_zones order."
  value       = [for az in local.azs : aws_subnet.private[az].id]
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways in availability_zones order (one element when nat is single, none when it is instance)."
  value       = [for az in local.nat_azs : aws_nat_gateway.this[az].id]
}

output "alb_security_group_id" {
  description = "ID of the security group for the application load balancer."
  value       = aws_security_group.alb.id
}

output "agent_security_group_ids" {
  description = "Each agent's own security group ID, keyed by agent name."
  value       = { for name, group in aws_security_group.agent : name => group.id }
}

output "service_connect_namespace_arn" {
  description = "ARN of the environment's Service Connect (Cloud Map HTTP) namespace the agents call each other through."
  value       = aws_service_discovery_http_namespace.agents.arn
}

output "db_security_group_id" {
  description = "ID of the security group for the Aurora cluster."
  value       = aws_security_group.db.id
}

output "flow_log_group_name" {
  description = "Name of the VPC flow log group (null when flow logs are off)."
  value       = var.flow_logs_enabled ? aws_cloudwatch_log_group.flow_logs[0].name : null
}
