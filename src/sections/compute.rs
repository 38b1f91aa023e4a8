//! `[compute]` and the per-agent `capacity`/`architecture` overrides: Fargate on-demand or Spot, x86_64 or
//! ARM64 (Graviton). Raw form, checks, and the resolved choice per agent.
//!
//! Fargate Spot runs no ARM64 tasks, so an agent that would get both is an error wherever the two were
//! chosen. This module neither sizes tasks (that is [`super::agents`]) nor renders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::agents::AgentOverride;
use super::context::{Checker, SpecFile, suggest};
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[compute]` and agents' `capacity`/`architecture`).
    pub enum Rule {
        UnknownCapacity,
        UnknownArchitecture,
        SpotArm64,
        AgentSpotArm64,
    }
}

/// `[compute]` as written: the environment's defaults for every agent.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeSpec {
    /// `on-demand` (default) or `spot` (Fargate Spot: about 70% cheaper, tasks may be interrupted).
    pub capacity: Option<Spanned<String>>,
    /// `x86_64` (default) or `arm64` (Graviton, about 20% cheaper; the images must be built for it).
    pub architecture: Option<Spanned<String>>,
}

/// Where an agent's tasks run; serialized as the ECS capacity provider the templates write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Capacity {
    #[default]
    #[serde(rename = "FARGATE")]
    OnDemand,
    #[serde(rename = "FARGATE_SPOT")]
    Spot,
}

impl Capacity {
    /// The ECS capacity provider.
    pub fn provider(self) -> &'static str {
        match self {
            Capacity::OnDemand => "FARGATE",
            Capacity::Spot => "FARGATE_SPOT",
        }
    }
}

/// The CPU architecture of an agent's tasks; serialized as the task definition's `cpu_architecture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Architecture {
    #[default]
    #[serde(rename = "X86_64")]
    X86_64,
    #[serde(rename = "ARM64")]
    Arm64,
}

impl Architecture {
    /// The task definition's `runtime_platform.cpu_architecture`.
    pub fn ecs_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "X86_64",
            Architecture::Arm64 => "ARM64",
        }
    }
}

/// One agent's capacity and architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    pub capacity: Capacity,
    pub architecture: Architecture,
}

fn capacity(cx: &mut Checker, v: &Spanned<String>) -> Option<Capacity> {
    match v.get_ref().as_str() {
        "on-demand" => Some(Capacity::OnDemand),
        "spot" => Some(Capacity::Spot),
        other => {
            let help = suggest(other, ["on-demand", "spot"], "`on-demand` or `spot`");
            cx.error(
                Rule::UnknownCapacity,
                SpecFile::Env,
                v,
                format!("unknown Fargate capacity `{other}`"),
                help,
            );
            None
        }
    }
}

fn architecture(cx: &mut Checker, v: &Spanned<String>) -> Option<Architecture> {
    match v.get_ref().as_str() {
        "x86_64" => Some(Architecture::X86_64),
        "arm64" => Some(Architecture::Arm64),
        other => {
            let help = suggest(other, ["x86_64", "arm64"], "`x86_64` or `arm64` (Graviton)");
            cx.error(
                Rule::UnknownArchitecture,
                SpecFile::Env,
                v,
                format!("unknown CPU architecture `{other}`"),
                help,
            );
            None
        }
    }
}

/// Each overridden agent's placement (by agent name), and the environment's default for the others.
pub fn check(
    cx: &mut Checker,
    spec: &ComputeSpec,
    overrides: &BTreeMap<Spanned<String>, AgentOverride>,
) -> (Placement, BTreeMap<String, Placement>) {
    let env_capacity = spec.capacity.as_ref().and_then(|v| capacity(cx, v));
    let env_arch = spec.architecture.as_ref().and_then(|v| architecture(cx, v));
    let default = Placement {
        capacity: env_capacity.unwrap_or_default(),
        architecture: env_arch.unwrap_or_default(),
    };
    let mut per_agent = BTreeMap::new();
    // A value already reported as unknown does not also make a pair.
    let env_ok = spec.capacity.is_some() == env_capacity.is_some() && spec.architecture.is_some() == env_arch.is_some();
    for (name, o) in overrides {
        let cap = o.capacity.as_ref().and_then(|v| capacity(cx, v));
        let arch = o.architecture.as_ref().and_then(|v| architecture(cx, v));
        let ok = env_ok && o.capacity.is_some() == cap.is_some() && o.architecture.is_some() == arch.is_some();
        let placement = Placement {
            capacity: cap.unwrap_or(default.capacity),
            architecture: arch.unwrap_or(default.architecture),
        };
        if ok && placement.capacity == Capacity::Spot && placement.architecture == Architecture::Arm64 {
            // Point at whichever of the two this agent's table wrote, else at the environment's.
            // Point at whichever of the two this agent's table wrote; `[compute]` alone is reported below.
            if let Some(at) = o.architecture.as_ref().or(o.capacity.as_ref()) {
                cx.error(
                    Rule::AgentSpotArm64,
                    SpecFile::Env,
                    at,
                    format!(
                        "agent `{}` would run ARM64 tasks on Fargate Spot, which does not offer ARM64",
                        name.get_ref()
                    ),
                    "choose one: `capacity = \"on-demand\"` with `architecture = \"arm64\"`, or Spot on x86_64",
                );
            }
        }
        per_agent.insert(name.get_ref().clone(), placement);
    }
    if env_ok
        && default.capacity == Capacity::Spot
        && default.architecture == Architecture::Arm64
        && let Some(at) = spec.architecture.as_ref()
    {
        cx.error(
            Rule::SpotArm64,
            SpecFile::Env,
            at,
            "`[compute]` asks for ARM64 tasks on Fargate Spot, which does not offer ARM64",
            "choose one: Spot on x86_64, or on-demand with `architecture = \"arm64\"`",
        );
    }
    (default, per_agent)
}
