//! The resolved model: one environment, every default applied and every name, subnet, priority and move
//! derived. It is the single input of the render stage (serialized as the template context).
//!
//! Each section's resolved type lives with its raw type and checks in [`crate::sections`]; this module
//! only assembles them. Unlike [`crate::spec`] types, these carry no `Option`s for "not written": absence
//! has already been decided. No ARN is derived here: the certificate's is copied from the spec, and
//! templates build the rest from the model's IDs and from resource attributes.

use serde::Serialize;

use crate::bootstrap::Bootstrap;
use crate::names::{EnvName, EnvNames};
use crate::sections::account::Account;
use crate::sections::agents::Agent;
use crate::sections::alarms::Alarms;
use crate::sections::alb::Alb;
use crate::sections::backend::Backend;
use crate::sections::bedrock::Bedrock;
use crate::sections::cost::Usage;
use crate::sections::database::Database;
use crate::sections::deployment::Deployment;
use crate::sections::ecr::Ecr;
use crate::sections::network::Network;
use crate::sections::pipeline::Pipeline;
use crate::sections::security::Security;

/// `dev` or `prod` sizing, as the plan's "Resource Sizing" section defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sizing {
    Dev,
    Prod,
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
    /// The environment's AWS names (load balancer, database cluster), derived once; agents have their own.
    pub names: EnvNames,
    pub network: Network,
    pub database: Database,
    /// Each agent's schema, role and grants, and the function that creates them (issue 11).
    pub bootstrap: Bootstrap,
    pub bedrock: Bedrock,
    pub alb: Alb,
    pub alarms: Alarms,
    pub ecr: Ecr,
    pub deployment: Deployment,
    pub backend: Backend,
    /// `>= 1.5`, `>= 1.10` when the S3 backend's native locking needs it, `>= 1.11` with the database bootstrap.
    pub terraform_required_version: String,
    pub security: Security,
    /// The release pipeline this environment hosts (`[pipeline]`), if any.
    pub pipeline: Option<Pipeline>,
    pub agents: Vec<Agent>,
    /// State moves for renamed agents, one per agent-keyed resource.
    pub moves: Vec<Move>,
    /// The usage assumptions `tfgen cost` prices (`[cost]`); nothing renders them into Terraform.
    pub cost: Usage,
    /// The account the tree may be applied in (`[account] id`), if the spec names it.
    pub account: Account,
    /// The monthly cost budget (`[budget]`); `None` only where tfgen has no prices and no amount is stated.
    pub budget: Option<crate::sections::budget::Budget>,
    /// Where the database's backups are copied (`[dr]`); `None`: they stay in the Region.
    pub dr: Option<crate::sections::dr::Dr>,
}
