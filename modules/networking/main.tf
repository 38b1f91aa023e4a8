# Only zones that are enabled by default: the opt-in filter keeps Local Zones and Wavelength Zones (which
# support neither NAT gateways nor ALBs) out of the list even if the account has opted in to them.
data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:only the first az_count zones of the sorted name list are used; AWS adds zones with later letters, so a new zone never enters the slice, and pinning names per region and account would break the spec's region portability
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "The region offers fewer available availability zones than az_count."
    }
  }
}

locals {
  name = "${var.name_prefix}-multi-agent"

  # Ordered list of the AZs in use; subnet CIDRs are matched to it by index.
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # Subnets and route tables are keyed by AZ name rather than by list index, so that growing az_count
  # only adds resources and never renumbers existing ones. The index guard only keeps a too-short list
  # from failing here with "Invalid index"; the preconditions on aws_vpc.this reject it with a clear message.
  public_subnets  = { for index, az in local.azs : az => var.public_subnet_cidrs[index] if index < length(var.public_subnet_cidrs) }
  private_subnets = { for index, az in local.azs : az => var.private_subnet_cidrs[index] if index < length(var.private_subnet_cidrs) }

  # With a single NAT gateway it lives in the first AZ; switching to one per AZ later keeps that gateway
  # (and its public IP, which partners may have allow-listed) and only adds the others.
  nat_azs = var.nat == "per-az" ? local.azs : var.nat == "single" ? slice(local.azs, 0, 1) : []

  # AZ of the NAT gateway that each private route table sends its internet traffic to.
  nat_az_for = { for az in local.azs : az => var.nat == "per-az" ? az : local.azs[0] }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${local.name}-vpc"
  }

  # Cross-variable checks live here because variable validation blocks may only reference their own
  # variable on Terraform < 1.9.
  lifecycle {
    precondition {
      condition     = length(var.public_subnet_cidrs) == var.az_count
      error_message = "public_subnet_cidrs must contain exactly az_count CIDR blocks (one per AZ)."
    }

    precondition {
      condition     = length(var.private_subnet_cidrs) == var.az_count
      error_message = "private_subnet_cidrs must contain exactly az_count CIDR blocks (one per AZ)."
    }

    precondition {
      condition     = length(distinct(concat(var.public_subnet_cidrs, var.private_subnet_cidrs))) == length(var.public_subnet_cidrs) + length(var.private_subnet_cidrs)
      error_message = "Subnet CIDR blocks must be unique across public_subnet_cidrs and private_subnet_cidrs."
    }
  }
}

# Without ingress or egress blocks this resource strips every rule from the VPC's default security group,
# so anything accidentally launched into it is isolated instead of talking to everything else in it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-default-do-not-use"
  }
}

################################################################################
# Subnets
################################################################################

# Public subnets hold only the ALB and the NAT gateways, which get their public addresses explicitly;
# nothing launched here should receive a public IP by accident.
resource "aws_subnet" "public" {
  for_each = local.public_subnets

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.name}-public-${each.key}"
    Tier = "public"
  }
}

resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = {
    Name = "${local.name}-private-${each.key}"
    Tier = "private"
  }
}

################################################################################
# Internet and NAT gateways
################################################################################

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-igw"
  }
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"

  tags = {
    Name = "${local.name}-nat-${each.key}"
  }

  # An EIP in a VPC needs the internet gateway to exist before it can be associated.
  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = {
    Name = "${local.name}-nat-${each.key}"
  }

  depends_on = [aws_internet_gateway.this]
}

################################################################################
# Routing
################################################################################

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-public"
  }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

# One private route table per AZ even with a single NAT gateway: moving to per-AZ NAT gateways then
# only changes each table's default route instead of re-associating subnets.
resource "aws_route_table" "private" {
  for_each = local.private_subnets

  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-private-${each.key}"
  }
}

resource "aws_route" "private_nat" {
  for_each = aws_route_table.private

  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = var.nat == "instance" ? null : aws_nat_gateway.this[local.nat_az_for[each.key]].id
  network_interface_id   = var.nat == "instance" ? aws_instance.nat[0].primary_network_interface_id : null
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}
