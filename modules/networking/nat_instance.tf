# A NAT instance instead of NAT gateways (`[network] nat = "instance"`, dev only): one t4g.nano in the
# first public subnet forwards the private subnets' outbound HTTPS, for about $4 a month plus its public
# IPv4 address instead of a NAT gateway's $33 plus data processing. It is one instance in one AZ, like a
# single NAT gateway, without the gateway's managed scaling: EC2 automatic recovery restarts it on
# failed hardware, and its security group forwards only what the agents may send (HTTPS).

data "aws_ssm_parameter" "nat_ami" {
  count = var.nat == "instance" ? 1 : 0

  # The latest Amazon Linux 2023 image for Graviton, as AWS publishes it. The AMI is read once: the
  # instance ignores later releases (see its lifecycle) and takes security updates with dnf-automatic.
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
}

resource "aws_security_group" "nat" {
  count = var.nat == "instance" ? 1 : 0

  name        = "${local.name}-nat"
  description = "NAT instance: HTTPS from the VPC, forwarded to the internet"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-nat"
  }
}

resource "aws_vpc_security_group_ingress_rule" "nat_from_vpc" {
  count = var.nat == "instance" ? 1 : 0

  security_group_id = aws_security_group.nat[0].id
  description       = "HTTPS from inside the VPC, to be forwarded (only the private subnets route to it)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr

  tags = {
    Name = "${local.name}-nat-in-vpc"
  }
}

resource "aws_vpc_security_group_egress_rule" "nat_https" {
  count = var.nat == "instance" ? 1 : 0

  security_group_id = aws_security_group.nat[0].id
  description       = "HTTPS to the internet: forwarded agent traffic and the instance's own package updates"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${local.name}-nat-out-https"
  }
}

resource "aws_instance" "nat" {
  #checkov:skip=CKV_AWS_88:a NAT instance needs a public IP to reach the internet; its security group admits only HTTPS from inside the VPC
  #checkov:skip=CKV_AWS_126:detailed monitoring would cost about half as much as the instance; EC2 automatic recovery acts on the basic status checks
  #checkov:skip=CKV2_AWS_41:the instance calls no AWS API; without a role it has no credentials to leak
  count = var.nat == "instance" ? 1 : 0

  ami                         = data.aws_ssm_parameter.nat_ami[0].insecure_value
  instance_type               = var.nat_instance_type
  subnet_id                   = aws_subnet.public[local.azs[0]].id
  vpc_security_group_ids      = [aws_security_group.nat[0].id]
  associate_public_ip_address = true
  # It forwards packets that are neither from nor to itself.
  source_dest_check = false
  ebs_optimized     = true
  monitoring        = false

  # Turn on forwarding, masquerade the private subnets behind the instance's address, keep both over
  # reboots, and install security updates daily.
  user_data                   = <<-EOT
    #!/bin/bash
    set -euo pipefail
    # Amazon Linux 2023 locks its repositories to the image's release; "latest" lets updates through.
    echo latest > /etc/dnf/vars/releasever
    dnf install -y iptables-services dnf-automatic
    echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat.conf
    sysctl --system
    iface="$(ip route show default | awk '{ print $5; exit }')"
    iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE
    iptables -P FORWARD ACCEPT
    iptables -F FORWARD
    iptables-save > /etc/sysconfig/iptables
    systemctl enable --now iptables
    sed -i 's/^apply_updates = .*/apply_updates = yes/; s/^upgrade_type = .*/upgrade_type = security/' /etc/dnf/automatic.conf
    systemctl enable --now dnf-automatic.timer
  EOT
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 8
    encrypted   = true
  }

  maintenance_options {
    auto_recovery = "default"
  }

  tags = {
    Name = "${local.name}-nat"
  }

  lifecycle {
    # A new Amazon Linux release would otherwise replace the instance (and drop connections) on an
    # unrelated apply; replace it on purpose with `terraform apply -replace`.
    ignore_changes = [ami]
  }
}
