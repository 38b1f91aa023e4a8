//! Resolved model types: every default applied, every name, CIDR, priority and ARN part derived.
//!
//! These are what templates see (serialized as the render context). Unlike [`crate::spec`] types they
//! carry no source positions and no `Option`s for "not written": absence has already been decided.

use serde::Serialize;

use crate::cidr::Ipv4Cidr;
use crate::fargate::FargateSize;
use crate::names::{AgentName, AgentNames, EnvName, EnvNames};

/// `dev` or `prod` sizing, as the plan's "Resource Sizing" section defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sizing {
    Dev,
    Prod,
}

/// Where `BEDROCK_MODEL_ID` came from; recorded in the output so a stray variable shows in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// tfgen's default, the plan's Claude 3.7 Sonnet.
    Default,
    /// `[bedrock] model` in the spec.
    Spec,
    /// The `BEDROCK_MODEL_ID` environment variable at render time.
    EnvVar,
}

/// The Bedrock model every agent uses, as a cross-region inference profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bedrock {
    /// What containers get as `BEDROCK_MODEL_ID`: the inference profile ID, e.g. `eu.anthropic.…`.
    pub profile_id: String,
    /// The foundation model behind the profile, e.g. `anthropic.…`.
    pub model_id: String,
    /// Regions the profile routes to; the task role may invoke the model in each.
    pub destination_regions: Vec<String>,
    pub source: ModelSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub vpc_cidr: Ipv4Cidr,
    pub az_count: u8,
    pub single_nat_gateway: bool,
    pub public_subnets: Vec<Ipv4Cidr>,
    pub private_subnets: Vec<Ipv4Cidr>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    pub cluster_identifier: String,
    pub engine_version: String,
    pub database_name: String,
    pub master_username: String,
    pub min_acu: f64,
    pub max_acu: f64,
    pub instances: u32,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    /// Take a final snapshot on destroy (prod) or not (dev).
    pub final_snapshot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alb {
    pub name: String,
    pub certificate_arn: Option<String>,
    pub deletion_protection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Backend {
    /// `terraform.tfstate` next to the generated files: works with no set-up.
    Local,
    S3 {
        bucket: String,
        key: String,
        region: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub wait_for_steady_state: bool,
    pub cpu_target_percent: u32,
    pub log_retention_days: u32,
    pub health_check_grace_period_seconds: u32,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub timeout: String,
}

/// One agent, resolved for one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub name: AgentName,
    /// The name the agent had before a rename; its Terraform state is moved from there.
    pub renamed_from: Option<AgentName>,
    /// The name that AWS resources are called by: the old one after a rename, so nothing is replaced.
    pub physical_name: AgentName,
    pub port: u16,
    pub paths: Vec<String>,
    pub health_check_path: String,
    pub size: FargateSize,
    pub desired_count: u32,
    pub max_count: u32,
    /// ALB listener-rule priority, in declaration order.
    pub priority: u32,
    pub names: AgentNames,
}

/// A Terraform `moved` block: state at `from` now belongs to `to` (addresses, not values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// The agent's new name, for the comment above the block.
    pub agent: String,
    pub from: String,
    pub to: String,
}

/// An environment, fully resolved: the single input of the render stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub env: EnvName,
    /// The spec file this model came from, for the generated-file header.
    pub spec_file: String,
    pub region: String,
    pub sizing: Sizing,
    pub image_tag: String,
    pub names: EnvNames,
    pub network: Network,
    pub database: Database,
    pub bedrock: Bedrock,
    pub alb: Alb,
    pub alarm_email: Option<String>,
    pub ecr_replication_regions: Vec<String>,
    pub deployment: Deployment,
    pub backend: Backend,
    /// `>= 1.5`, or `>= 1.10` when the S3 backend's native locking needs it.
    pub terraform_required_version: String,
    pub security: crate::security::Security,
    pub agents: Vec<Agent>,
    /// State moves for renamed agents, one per agent-keyed resource.
    pub moves: Vec<Move>,
}
