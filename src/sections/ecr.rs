//! `[ecr]`: the agents' image repositories. Cross-region replication targets. Raw form, checks, resolved
//! form. Repository names are derived ([`crate::names::AgentNames`]), not checked here.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use crate::aws::regions;
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[ecr]`).
    pub enum Rule {
        ReplicationRegionUnknown,
        ReplicationOwnRegion,
        ReplicationDuplicate,
    }
}

/// `[ecr]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcrSpec {
    /// Regions that receive a copy of every image pushed to this environment's repositories.
    pub replication_regions: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Repositories' settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ecr {
    /// Other regions, each once; empty: no replication.
    pub replication_regions: Vec<String>,
    /// One per replication region: the provider alias the tree configures there, for the repository
    /// creation template that gives the replicas their lifecycle rules and encryption.
    pub replicas: Vec<Replica>,
}

/// A replication region and the name of its provider configuration (`ecr_replica_eu_central_1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replica {
    pub region: String,
    pub alias: String,
}

impl Ecr {
    fn new(replication_regions: Vec<String>) -> Self {
        let replicas = replication_regions
            .iter()
            .map(|r| Replica {
                region: r.clone(),
                alias: format!("ecr_replica_{}", r.replace('-', "_")),
            })
            .collect();
        Self {
            replication_regions,
            replicas,
        }
    }
}

/// Checks `[ecr]`; `region` is the environment's, when it is valid.
pub fn check(cx: &mut Checker, ecr: &EcrSpec, region: Option<&str>) -> Option<Ecr> {
    let Some(list) = &ecr.replication_regions else {
        return Some(Ecr::new(Vec::new()));
    };
    let mut ok = true;
    let mut out: Vec<(String, &Spanned<String>)> = Vec::new();
    for r in list.get_ref() {
        let name = r.get_ref();
        if regions::region(name).is_none() {
            let help = suggest(name, regions::codes(), "use a commercial AWS region");
            cx.error(
                Rule::ReplicationRegionUnknown,
                SpecFile::Env,
                r,
                format!("unknown replication region `{name}`"),
                help,
            );
            ok = false;
        } else if Some(name.as_str()) == region {
            cx.error(
                Rule::ReplicationOwnRegion,
                SpecFile::Env,
                r,
                format!("`{name}` is this environment's own region"),
                "replicate to another region for disaster recovery",
            );
            ok = false;
        } else if let Some((_, first)) = out.iter().find(|(n, _)| n == name) {
            cx.duplicate(
                Rule::ReplicationDuplicate,
                SpecFile::Env,
                r,
                first,
                format!("replication region `{name}` is listed twice"),
                "first listed here",
                "list each region once",
            );
            ok = false;
        } else {
            out.push((name.clone(), r));
        }
    }
    ok.then(|| Ecr::new(out.into_iter().map(|(n, _)| n).collect()))
}
