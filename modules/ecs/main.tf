locals {
  # Valid Fargate memory sizes (MiB) per CPU size.
  fargate_memory_by_cpu = {
    "256"   = [512, 1024, 2048]
    "512"   = range(1024, 4097, 1024)
    "1024"  = range(2048, 8193, 1024)
    "2048"  = range(4096, 16385, 1024)
    "4096"  = range(8192, 30721, 1024)
    "8192"  = range(16384, 61441, 4096)
    "16384" = range(32768, 122881, 8192)
  }

  container_definition = {
    name      = var.container_name
    image     = var.image
    essential = true

    # The first is named so that Service Connect can publish it: the agent's callers reach it as
    # http://<agent>:<port>. With in-transit encryption a second one, which Service Connect does not
    # touch, is where the application serves HTTPS to the load balancer (the image contract's TLS_PORT).
    portMappings = concat(
      [
        {
          name          = var.agent_name
          containerPort = var.container_port
          hostPort      = var.container_port
          protocol      = "tcp"
          appProtocol   = "http"
        },
      ],
      var.tls == null ? [] : [
        {
          name          = "${var.agent_name}-tls"
          containerPort = var.tls.port
          hostPort      = var.tls.port
          protocol      = "tcp"
        },
      ],
    )

    # Sorted by name so the rendered JSON (and therefore the task definition revision) is stable.
    environment = [
      for name in sort(keys(var.environment)) : {
        name  = name
        value = var.environment[name]
      }
    ]

    secrets = [
      for name in sort(keys(var.secrets)) : {
        name      = name
        valueFrom = var.secrets[name]
      }
    ]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.this.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = var.agent_name
        # non-blocking: a CloudWatch Logs hiccup drops log lines instead of stalling the application on stdout.
        "mode" = "non-blocking"
      }
    }

    # Python's standard library only, so it works in python:3.11-slim (which has no curl): urlopen raises on
    # a refused connection, a timeout or a non-2xx answer, and the uncaught exception exits 1. The ALB
    # health check decides routing; this one lets ECS replace a hung container even without traffic.
    healthCheck = {
      command     = ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:${var.container_port}${var.health_check_path}', timeout=4)"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }

    # After SIGTERM the container has this long (Fargate's maximum, 120 s) to finish the answers it is
    # still producing, including those to other agents through Service Connect, before SIGKILL.
    stopTimeout = var.stop_timeout_seconds

    # With a read-only root file system the application may write only to /tmp, a scratch volume private to
    # the task (Fargate ephemeral storage, gone when the task stops).
    readonlyRootFilesystem = var.read_only_root_filesystem
    mountPoints = [
      {
        sourceVolume  = "tmp"
        containerPath = "/tmp"
        readOnly      = false
      },
    ]
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:agent logs can hold customer conversations, so they are kept only as long as debugging needs ([deployment] log_retention_days, 30 days by default); flow, WAF and database logs keep a year
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = {
    Name = var.log_group_name
  }
}

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights is the spec's choice ([alarms] container_insights); without it the alarms read the free AWS/ECS and load balancer metrics
  name = var.cluster_name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  tags = {
    Name = var.cluster_name
  }
}

# FARGATE_SPOT is registered so that a service (or a RunTask call) can ask for Spot capacity.
resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
    base              = 0
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn
  container_definitions    = jsonencode([local.container_definition])

  volume {
    name = "tmp"
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  tags = {
    Name = var.task_family
  }

  lifecycle {
    precondition {
      condition     = contains(local.fargate_memory_by_cpu[tostring(var.cpu)], var.memory)
      error_message = "memory ${var.memory} MiB is not a valid Fargate size for cpu ${var.cpu}."
    }

    precondition {
      condition     = length(setintersection(keys(var.environment), keys(var.secrets))) == 0
      error_message = "A variable name must not appear in both environment and secrets."
    }
  }
}

resource "aws_ecs_service" "this" {
  name            = var.service_name
  cluster         = aws_ecs_cluster.this.arn
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.desired_count

  # On-demand: an explicit launch type keeps the service independent of the cluster's default capacity
  # provider strategy, which stays in place for ad-hoc RunTask calls (migrations, one-off jobs).
  # Spot: a capacity provider strategy instead (the two are exclusive): the on-demand base first, then the
  # tasks above it shared between FARGATE and FARGATE_SPOT by weight.
  launch_type      = length(var.capacity_strategy) == 0 ? "FARGATE" : null
  platform_version = "LATEST"

  dynamic "capacity_provider_strategy" {
    for_each = var.capacity_strategy
    content {
      capacity_provider = capacity_provider_strategy.value.capacity_provider
      weight            = capacity_provider_strategy.value.weight
      base              = capacity_provider_strategy.value.base
    }
  }

  deployment_minimum_healthy_percent = var.deployment_minimum_healthy_percent
  deployment_maximum_percent         = var.deployment_maximum_percent
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds

  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  wait_for_steady_state   = var.wait_for_steady_state

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = var.container_name
    container_port   = var.tls == null ? var.container_port : var.tls.port
  }

  # Every agent is a Service Connect service under its own name and port (its callers use
  # http://<agent>:<port>), and a client of the namespace, so it can call the agents it declares. With
  # in-transit encryption the proxies speak TLS 1.3 to each other, with certificates from the environment's
  # private CA; the applications still call http://, the proxy in their own task encrypts.
  service_connect_configuration {
    enabled   = true
    namespace = var.service_connect_namespace_arn

    service {
      port_name      = var.agent_name
      discovery_name = var.agent_name

      client_alias {
        dns_name = var.agent_name
        port     = var.container_port
      }

      # Envoy ends a request after 15 s by default, while the ALB waits for its idle timeout: a supervisor
      # call to a specialist that waits on the model would get a 504. Calls between agents may take as long
      # as the ALB waits for the first (the image contract's CALL_TIMEOUT_SECONDS is the same figure).
      timeout {
        per_request_timeout_seconds = var.request_timeout_seconds
        idle_timeout_seconds        = var.request_timeout_seconds
      }

      dynamic "tls" {
        for_each = var.tls == null ? [] : [var.tls]

        content {
          role_arn = tls.value.role_arn

          issuer_cert_authority {
            aws_pca_authority_arn = tls.value.certificate_authority_arn
          }
        }
      }
    }
  }

  # A deployment whose tasks never become healthy is stopped and rolled back to the last working revision.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = {
    Name = var.service_name
  }

  timeouts {
    create = var.deployment_timeout
    update = var.deployment_timeout
  }

  lifecycle {
    # desired_count only seeds the service; afterwards Application Auto Scaling owns it and Terraform must not
    # reset a scaled-out service on every apply.
    ignore_changes = [desired_count]

    # The image is in its repository (var.image_digest was read from it): the first deployment can start.
    precondition {
      condition     = var.image_digest != ""
      error_message = "The image ${var.image} is not in its repository: push it, then apply again."
    }
  }

  # A Spot strategy names a capacity provider that the cluster must already have: without this, the
  # service and the cluster's association are created in parallel and the service can fail at create.
  depends_on = [aws_ecs_cluster_capacity_providers.this]
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  min_capacity       = var.desired_count
  max_capacity       = var.max_count

  lifecycle {
    precondition {
      condition     = var.max_count >= var.desired_count
      error_message = "max_count (${var.max_count}) must be >= desired_count (${var.desired_count})."
    }
  }
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.service_name}-cpu-target-tracking"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent

    # Scale out quickly on load, scale in conservatively to avoid flapping.
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# Memory next to CPU: an agent holding long conversations in memory can run out of it with idle CPUs.
# Both policies track their own metric; Application Auto Scaling scales out when either asks to and in
# only when both allow it.
resource "aws_appautoscaling_policy" "memory" {
  name               = "${var.service_name}-memory-target-tracking"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value = var.memory_target_percent

    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}
