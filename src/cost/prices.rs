//! AWS list prices per region, in USD, for every line `tfgen cost` prices: the one home of these
//! figures. Each table names its sources and the date they were checked; nothing else restates a price.
//!
//! Prices are on-demand list prices (no Savings Plans, no free tier). Fargate Spot has no fixed list
//! price: the figure is the price AWS showed for the region on the date checked (about 70% below
//! on-demand) and moves with supply. This module computes nothing.

/// When every figure below was checked against its source.
pub const CHECKED: &str = "2026-11-25";

/// The pages the figures come from (one per service; the per-region values are on each page).
pub const SOURCES: &[(&str, &str)] = &[
    ("Fargate (x86, ARM, Spot)", "https://aws.amazon.com/fargate/pricing/"),
    (
        "NAT gateway, public IPv4, interface endpoints",
        "https://aws.amazon.com/vpc/pricing/",
    ),
    (
        "PrivateLink interface endpoints",
        "https://aws.amazon.com/privatelink/pricing/",
    ),
    (
        "Application Load Balancer",
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    ("Aurora Serverless v2", "https://aws.amazon.com/rds/aurora/pricing/"),
    ("CloudWatch", "https://aws.amazon.com/cloudwatch/pricing/"),
    ("Secrets Manager", "https://aws.amazon.com/secrets-manager/pricing/"),
    ("KMS", "https://aws.amazon.com/kms/pricing/"),
    ("WAF", "https://aws.amazon.com/waf/pricing/"),
    ("ECR", "https://aws.amazon.com/ecr/pricing/"),
    ("AWS Backup", "https://aws.amazon.com/backup/pricing/"),
    (
        "Data transfer out",
        "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
    ),
    ("ECS Service Connect", "https://aws.amazon.com/ecs/pricing/"),
    ("Cloud Map", "https://aws.amazon.com/cloud-map/pricing/"),
    (
        "AWS Private CA, short-lived certificate mode (checked 2026-12-07: $50 a CA-month, $0.058 a certificate, the same in every region of the AWS Price List)",
        "https://aws.amazon.com/private-ca/pricing/",
    ),
    (
        "NAT instance (EC2 t4g.nano)",
        "https://aws.amazon.com/ec2/pricing/on-demand/",
    ),
    (
        "NAT instance root volume (EBS gp3)",
        "https://aws.amazon.com/ebs/pricing/",
    ),
];

/// One region's prices. Units are in the field names: `_hour` per hour, `_gb` per GB, `_month` per
/// month, `_million` per million, `_10k` per 10,000.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub region: &'static str,
    pub fargate_x86_vcpu_hour: f64,
    pub fargate_x86_gb_hour: f64,
    pub fargate_arm_vcpu_hour: f64,
    pub fargate_arm_gb_hour: f64,
    pub fargate_spot_vcpu_hour: f64,
    pub fargate_spot_gb_hour: f64,
    /// Fargate Spot on ARM64 (Graviton): derived, see [`DERIVED`].
    pub fargate_spot_arm_vcpu_hour: f64,
    pub fargate_spot_arm_gb_hour: f64,
    pub nat_hour: f64,
    pub nat_gb: f64,
    /// A t4g.nano on-demand Linux instance, the NAT instance of `nat = "instance"`.
    pub nat_instance_hour: f64,
    pub ebs_gp3_gb_month: f64,
    pub alb_hour: f64,
    pub alb_lcu_hour: f64,
    pub aurora_acu_hour: f64,
    pub aurora_storage_gb_month: f64,
    pub aurora_io_million: f64,
    pub public_ipv4_hour: f64,
    pub logs_ingest_gb: f64,
    pub logs_storage_gb_month: f64,
    pub metric_month: f64,
    pub alarm_month: f64,
    pub dashboard_month: f64,
    pub secret_month: f64,
    pub secrets_api_10k: f64,
    pub kms_key_month: f64,
    pub kms_requests_10k: f64,
    pub waf_acl_month: f64,
    pub waf_rule_month: f64,
    pub waf_requests_million: f64,
    pub ecr_storage_gb_month: f64,
    pub backup_aurora_gb_month: f64,
    pub endpoint_hour: f64,
    pub endpoint_gb: f64,
    pub data_out_gb: f64,
    /// A Cloud Map service instance registered for a month (each Service Connect task is one).
    pub cloud_map_instance_month: f64,
    /// An AWS Private CA in short-lived certificate mode, for a month.
    pub private_ca_short_lived_month: f64,
    /// One certificate issued by a short-lived-mode CA.
    pub private_ca_short_lived_certificate: f64,
}

/// us-east-1, the reference region of the goals in issue 15.
pub const US_EAST_1: Prices = Prices {
    region: "us-east-1",
    fargate_x86_vcpu_hour: 0.040_48,
    fargate_x86_gb_hour: 0.004_445,
    fargate_arm_vcpu_hour: 0.032_38,
    fargate_arm_gb_hour: 0.003_56,
    fargate_spot_vcpu_hour: 0.012_144,
    fargate_spot_gb_hour: 0.001_334,
    fargate_spot_arm_vcpu_hour: 0.009_714,
    fargate_spot_arm_gb_hour: 0.001_068,
    nat_hour: 0.045,
    nat_gb: 0.045,
    nat_instance_hour: 0.004_2,
    ebs_gp3_gb_month: 0.08,
    alb_hour: 0.0225,
    alb_lcu_hour: 0.008,
    aurora_acu_hour: 0.12,
    aurora_storage_gb_month: 0.10,
    aurora_io_million: 0.20,
    public_ipv4_hour: 0.005,
    logs_ingest_gb: 0.50,
    logs_storage_gb_month: 0.03,
    metric_month: 0.30,
    alarm_month: 0.10,
    dashboard_month: 3.00,
    secret_month: 0.40,
    secrets_api_10k: 0.05,
    kms_key_month: 1.00,
    kms_requests_10k: 0.03,
    waf_acl_month: 5.00,
    waf_rule_month: 1.00,
    waf_requests_million: 0.60,
    ecr_storage_gb_month: 0.10,
    backup_aurora_gb_month: 0.021,
    endpoint_hour: 0.01,
    endpoint_gb: 0.01,
    data_out_gb: 0.09,
    cloud_map_instance_month: 0.10,
    private_ca_short_lived_month: 50.0,
    private_ca_short_lived_certificate: 0.058,
};

/// us-east-2 (the `mini` fixture): the same list prices as us-east-1.
pub const US_EAST_2: Prices = Prices {
    region: "us-east-2",
    ..US_EAST_1
};

/// eu-west-1 (the shipped dev and prod specs).
pub const EU_WEST_1: Prices = Prices {
    region: "eu-west-1",
    fargate_x86_vcpu_hour: 0.040_48,
    fargate_x86_gb_hour: 0.004_445,
    fargate_arm_vcpu_hour: 0.032_38,
    fargate_arm_gb_hour: 0.003_56,
    fargate_spot_vcpu_hour: 0.012_144,
    fargate_spot_gb_hour: 0.001_334,
    fargate_spot_arm_vcpu_hour: 0.009_714,
    fargate_spot_arm_gb_hour: 0.001_068,
    nat_hour: 0.048,
    nat_gb: 0.048,
    nat_instance_hour: 0.004_6,
    ebs_gp3_gb_month: 0.088,
    alb_hour: 0.0252,
    alb_lcu_hour: 0.008,
    aurora_acu_hour: 0.13,
    aurora_storage_gb_month: 0.11,
    aurora_io_million: 0.22,
    public_ipv4_hour: 0.005,
    logs_ingest_gb: 0.57,
    logs_storage_gb_month: 0.03,
    metric_month: 0.30,
    alarm_month: 0.10,
    dashboard_month: 3.00,
    secret_month: 0.40,
    secrets_api_10k: 0.05,
    kms_key_month: 1.00,
    kms_requests_10k: 0.03,
    waf_acl_month: 5.00,
    waf_rule_month: 1.00,
    waf_requests_million: 0.60,
    ecr_storage_gb_month: 0.10,
    backup_aurora_gb_month: 0.021,
    endpoint_hour: 0.011,
    endpoint_gb: 0.01,
    data_out_gb: 0.09,
    cloud_map_instance_month: 0.10,
    private_ca_short_lived_month: 50.0,
    private_ca_short_lived_certificate: 0.058,
};

/// ap-northeast-1 (the `tokyo` fixture).
pub const AP_NORTHEAST_1: Prices = Prices {
    region: "ap-northeast-1",
    fargate_x86_vcpu_hour: 0.050_56,
    fargate_x86_gb_hour: 0.005_53,
    fargate_arm_vcpu_hour: 0.040_45,
    fargate_arm_gb_hour: 0.004_42,
    fargate_spot_vcpu_hour: 0.015_168,
    fargate_spot_gb_hour: 0.001_659,
    fargate_spot_arm_vcpu_hour: 0.012_135,
    fargate_spot_arm_gb_hour: 0.001_326,
    nat_hour: 0.062,
    nat_gb: 0.062,
    nat_instance_hour: 0.005_4,
    ebs_gp3_gb_month: 0.096,
    alb_hour: 0.0243,
    alb_lcu_hour: 0.008,
    aurora_acu_hour: 0.15,
    aurora_storage_gb_month: 0.12,
    aurora_io_million: 0.24,
    public_ipv4_hour: 0.005,
    logs_ingest_gb: 0.76,
    logs_storage_gb_month: 0.033,
    metric_month: 0.30,
    alarm_month: 0.10,
    dashboard_month: 3.00,
    secret_month: 0.40,
    secrets_api_10k: 0.05,
    kms_key_month: 1.00,
    kms_requests_10k: 0.03,
    waf_acl_month: 5.00,
    waf_rule_month: 1.00,
    waf_requests_million: 0.60,
    ecr_storage_gb_month: 0.10,
    backup_aurora_gb_month: 0.023,
    endpoint_hour: 0.014,
    endpoint_gb: 0.01,
    data_out_gb: 0.114,
    cloud_map_instance_month: 0.10,
    private_ca_short_lived_month: 50.0,
    private_ca_short_lived_certificate: 0.058,
};

/// Figures not copied from a price page, and how they were made. Fargate Spot's ARM64 price moves with
/// supply like its x86_64 one; the table holds the region's ARM64 on-demand price at the discount its x86_64
/// Spot price showed on the date checked (70 % in every priced region).
pub const DERIVED: &[(&str, &str)] = &[(
    "Fargate Spot ARM64 (all regions)",
    "the ARM64 on-demand price × the region's x86_64 Spot / on-demand ratio (0.30)",
)];

/// Figures the last check could not match against the price page for that region (the page renders its
/// regional prices with scripts the check could not run), carried from the table's earlier copy.
pub const UNCONFIRMED: &[(&str, &str)] = &[(
    "eu-west-1",
    "Fargate (equal to us-east-1's), Aurora Serverless v2 ACU-hours and CloudWatch Logs ingestion",
)];

/// Every priced region.
pub const REGIONS: &[Prices] = &[US_EAST_1, US_EAST_2, EU_WEST_1, AP_NORTHEAST_1];

/// The prices of `region`, if tfgen has a table for it.
pub fn for_region(region: &str) -> Option<&'static Prices> {
    REGIONS.iter().find(|p| p.region == region)
}

/// The priced regions, for an error message.
pub fn priced_regions() -> Vec<&'static str> {
    REGIONS.iter().map(|p| p.region).collect()
}
