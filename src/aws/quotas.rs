//! The account quotas an environment can outgrow on its first apply in a fresh account: Fargate vCPU
//! (on-demand and Spot), Elastic IP addresses (one per NAT gateway), Lambda concurrency (the database
//! bootstrap) and CodeBuild's concurrent builds (the release pipeline builds every agent at once). Data only; [`crate::sections::account`] compares them
//! with what an environment needs and warns.
//!
//! Each quota is adjustable; AWS states the defaults below, and says new accounts may start lower and are
//! raised with use. An environment that knows its account's applied value writes it under
//! `[account.quotas]`, and tfgen compares against that instead.
//!
//! Sources, checked 2026-12-07:
//! - Fargate: <https://docs.aws.amazon.com/general/latest/gr/ecs-service.html> ("Fargate On-Demand vCPU
//!   resource count" and "Fargate Spot vCPU resource count", each supported Region: 6, adjustable) and
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html> ("New AWS accounts
//!   might have initial lower quotas that can increase over time").
//! - Elastic IPs: <https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html> ("Elastic IP
//!   addresses per Region": 5, adjustable).
//! - Lambda: <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html> ("Concurrent
//!   executions": 1,000; "New AWS accounts have reduced concurrency and memory quotas"; accounts of 10 are
//!   reported) and <https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html> (a
//!   reservation must leave 100 unreserved, or the whole quota when it is lower: "decreases account's
//!   UnreservedConcurrentExecution below its minimum value of [10]" in a new account). tfgen reserves none.
//! - CodeBuild: <https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html> ("Internal metrics will
//!   determine the default quotas for concurrent running builds"; an earlier version of the page: "For a new
//!   account, the quota can be 1-5"). No default is stated, so tfgen assumes the lowest, 1. Builds beyond
//!   the quota wait in CodeBuild's queue rather than fail.
//! - Quota codes: the Service Quotas console's links on the VPC page (L-0263D0A3); the Fargate, Lambda and
//!   CodeBuild codes as `aws service-quotas list-aws-default-service-quotas` prints them (not on AWS's
//!   documentation pages).

/// One adjustable account quota of one Region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The key under `[account.quotas]` that states an account's applied value.
    pub key: &'static str,
    /// The quota's name in the Service Quotas console.
    pub name: &'static str,
    /// Service Quotas' service code and quota code (for `aws service-quotas request-service-quota-increase`).
    pub service: &'static str,
    pub code: &'static str,
    /// The value assumed when the spec states none: AWS's stated default, else the lowest reported.
    pub default: u32,
    /// Whether AWS states [`Self::default`] (CodeBuild states no default).
    pub stated: bool,
}

pub const FARGATE_ON_DEMAND_VCPU: Quota = Quota {
    key: "fargate_vcpu",
    name: "Fargate On-Demand vCPU resource count",
    service: "fargate",
    code: "L-3032A538",
    default: 6,
    stated: true,
};

pub const FARGATE_SPOT_VCPU: Quota = Quota {
    key: "fargate_spot_vcpu",
    name: "Fargate Spot vCPU resource count",
    service: "fargate",
    code: "L-36FBB829",
    default: 6,
    stated: true,
};

pub const ELASTIC_IPS: Quota = Quota {
    key: "elastic_ips",
    name: "EC2-VPC Elastic IPs",
    service: "ec2",
    code: "L-0263D0A3",
    default: 5,
    stated: true,
};

pub const LAMBDA_CONCURRENT_EXECUTIONS: Quota = Quota {
    key: "lambda_concurrent_executions",
    name: "Concurrent executions",
    service: "lambda",
    code: "L-B99A9384",
    default: 1000,
    stated: true,
};

pub const CODEBUILD_SMALL_BUILDS: Quota = Quota {
    key: "codebuild_small_builds",
    name: "Concurrently running builds for Linux/Small environment",
    service: "codebuild",
    code: "L-9D07B6EF",
    default: 1,
    stated: false,
};

/// Every quota tfgen checks, in the order `[account.quotas]` lists them.
pub const ALL: &[Quota] = &[
    FARGATE_ON_DEMAND_VCPU,
    FARGATE_SPOT_VCPU,
    ELASTIC_IPS,
    LAMBDA_CONCURRENT_EXECUTIONS,
    CODEBUILD_SMALL_BUILDS,
];

/// The resources that exist once per account and Region, whatever their name: two environments that
/// manage one overwrite each other, and destroying either removes the other's. Every resource type the
/// templates render is classified in tests/inventory.rs, so a new one must be placed here or there.
pub const ACCOUNT_SINGLETONS: &[&str] = &[ECR_REPLICATION, ECR_SCANNING];

/// ECR's replication configuration: an environment with `[ecr] replication_regions` sets it in its Region.
pub const ECR_REPLICATION: &str = "aws_ecr_replication_configuration";

/// ECR's registry scanning configuration: the same environment sets it in each replication Region, so the
/// replicas are scanned.
pub const ECR_SCANNING: &str = "aws_ecr_registry_scanning_configuration";
