# One dashboard per environment with the plan's metrics: per agent CPU, memory, and running against
# desired tasks; the ALB's requests, target response time and 5xx; Aurora's connections, CPU and
# capacity (ACU); Bedrock's invocations, latency and throttles.
data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  alb    = ["LoadBalancer", var.alb_arn_suffix]
  db     = ["DBClusterIdentifier", var.db_cluster_identifier]
  model  = ["ModelId", var.bedrock_model_id]

  # Two widgets per agent, one row each, in the order of the agents' names.
  agent_widgets = flatten([
    for i, name in sort(keys(var.agents)) : [
      {
        type   = "metric"
        x      = 0
        y      = 6 + 6 * i
        width  = 12
        height = 6
        properties = {
          title  = "${name}: CPU and memory (%)"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/ECS", "CPUUtilization", "ClusterName", var.agents[name].cluster_name, "ServiceName", var.agents[name].service_name],
            ["AWS/ECS", "MemoryUtilization", "ClusterName", var.agents[name].cluster_name, "ServiceName", var.agents[name].service_name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 6 + 6 * i
        width  = 12
        height = 6
        properties = var.container_insights ? {
          title  = "${name}: running and desired tasks"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.agents[name].cluster_name, "ServiceName", var.agents[name].service_name],
            ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", var.agents[name].cluster_name, "ServiceName", var.agents[name].service_name],
          ]
          } : {
          title  = "${name}: healthy and unhealthy tasks"
          region = local.region
          stat   = "Minimum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", var.agents[name].target_group_arn_suffix, "LoadBalancer", var.alb_arn_suffix],
            ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", var.agents[name].target_group_arn_suffix, "LoadBalancer", var.alb_arn_suffix],
          ]
        }
      },
    ]
  ])

  shared_widgets = [
    {
      type   = "metric"
      x      = 0
      y      = 0
      width  = 8
      height = 6
      properties = {
        title  = "ALB: requests and 5xx"
        region = local.region
        stat   = "Sum"
        period = 60
        metrics = [
          concat(["AWS/ApplicationELB", "RequestCount"], local.alb),
          concat(["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"], local.alb),
          concat(["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"], local.alb),
        ]
      }
    },
    {
      type   = "metric"
      x      = 8
      y      = 0
      width  = 8
      height = 6
      properties = {
        title   = "ALB: target response time (s)"
        region  = local.region
        period  = 60
        metrics = [concat(["AWS/ApplicationELB", "TargetResponseTime"], local.alb, [{ stat = "p90" }])]
      }
    },
    {
      type   = "metric"
      x      = 16
      y      = 0
      width  = 8
      height = 6
      properties = {
        title  = "Aurora: connections, CPU (%) and capacity (ACU)"
        region = local.region
        stat   = "Average"
        period = 60
        metrics = [
          concat(["AWS/RDS", "DatabaseConnections"], local.db),
          concat(["AWS/RDS", "CPUUtilization"], local.db),
          concat(["AWS/RDS", "ServerlessDatabaseCapacity"], local.db),
        ]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 6 + 6 * length(var.agents)
      width  = 12
      height = 6
      properties = {
        title  = "Bedrock: invocations and throttles"
        region = local.region
        stat   = "Sum"
        period = 60
        metrics = [
          concat(["AWS/Bedrock", "Invocations"], local.model),
          concat(["AWS/Bedrock", "InvocationThrottles"], local.model),
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 6 + 6 * length(var.agents)
      width  = 12
      height = 6
      properties = {
        title   = "Bedrock: invocation latency (ms)"
        region  = local.region
        period  = 60
        metrics = [concat(["AWS/Bedrock", "InvocationLatency"], local.model, [{ stat = "p90" }])]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-multi-agent"
  dashboard_body = jsonencode({ widgets = concat(local.shared_widgets, local.agent_widgets) })
}
