//! `[compute]` and the per-agent `capacity`/`architecture` overrides: Fargate on-demand or Spot, x86_64 or
//! ARM64 (Graviton). Raw form, checks, and the resolved choice per agent.
//!
//! With `capacity = "spot"`, `on_demand_base` and `spot_percent` shape the service's capacity provider
//! strategy: the first tasks on-demand, a share of the rest on Spot. Either key without Spot is an error
//! (it would do nothing). Spot runs x86_64 and ARM64 alike (source in [`crate::aws::fargate`]).
//! This module neither sizes tasks (that is [`super::agents`]) nor renders.

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
        SpotSplitWithoutSpot,
        SpotPercentRange,
        OnDemandBaseRange,
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
    /// With `capacity = "spot"`: the first this many tasks of each agent run on-demand, Spot above them
    /// (default 0).
    pub on_demand_base: Option<Spanned<i64>>,
    /// With `capacity = "spot"`: the percentage of the tasks above `on_demand_base` that run on Spot, 1-100
    /// (default 100; the rest on-demand).
    pub spot_percent: Option<Spanned<i64>>,
}

/// Where an agent's tasks run; serialized as the spec spells it (`tfgen show` prints what the spec takes
/// back); [`Capacity::provider`] is ECS's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Capacity {
    #[default]
    #[serde(rename = "on-demand")]
    OnDemand,
    #[serde(rename = "spot")]
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

/// The CPU architecture of an agent's tasks; serialized as the spec spells it; [`Architecture::ecs_name`]
/// is the task definition's `cpu_architecture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Architecture {
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub capacity: Capacity,
    pub architecture: Architecture,
    /// Tasks that run on-demand before any runs on Spot (Spot only).
    pub on_demand_base: u32,
    /// Percentage of the tasks above the base on Spot (Spot only; 100 = all).
    pub spot_percent: u32,
}

impl Default for Placement {
    fn default() -> Self {
        Self {
            capacity: Capacity::OnDemand,
            architecture: Architecture::X86_64,
            on_demand_base: 0,
            spot_percent: 100,
        }
    }
}

/// One entry of an ECS service's capacity provider strategy, as the ECS module takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StrategyEntry {
    pub capacity_provider: &'static str,
    pub base: u32,
    pub weight: u32,
}

impl Placement {
    /// The service's capacity provider strategy: empty for on-demand (the service names the FARGATE launch
    /// type instead), else FARGATE with the base and Spot with the weights of `spot_percent`, in lowest
    /// terms (100 % Spot is `FARGATE_SPOT` weight 1 alone, as before these keys existed).
    pub fn strategy(&self) -> Vec<StrategyEntry> {
        if self.capacity == Capacity::OnDemand {
            return vec![];
        }
        let spot = self.spot_percent;
        let on_demand = 100 - spot;
        let g = gcd(spot, on_demand);
        let mut out = Vec::new();
        if self.on_demand_base > 0 || on_demand > 0 {
            out.push(StrategyEntry {
                capacity_provider: "FARGATE",
                base: self.on_demand_base,
                weight: on_demand / g,
            });
        }
        out.push(StrategyEntry {
            capacity_provider: "FARGATE_SPOT",
            base: 0,
            weight: spot / g,
        });
        out
    }

    /// Of `tasks` running tasks, how many run on-demand and how many on Spot: the base first, then the
    /// rest shared by weight (ECS places whole tasks; the estimate uses the exact share).
    pub fn split(&self, tasks: u32) -> (f64, f64) {
        let tasks = f64::from(tasks);
        if self.capacity == Capacity::OnDemand {
            return (tasks, 0.0);
        }
        let base = tasks.min(f64::from(self.on_demand_base));
        let spot = (tasks - base) * f64::from(self.spot_percent) / 100.0;
        (tasks - spot, spot)
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
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

/// `on_demand_base`: 0 to the most tasks a service runs.
fn on_demand_base(cx: &mut Checker, v: &Spanned<i64>) -> Option<u32> {
    let max = crate::aws::limits::ECS_TASKS_PER_SERVICE;
    match u32::try_from(*v.get_ref()) {
        Ok(n) if n <= max => Some(n),
        _ => {
            cx.error(
                Rule::OnDemandBaseRange,
                SpecFile::Env,
                v,
                format!("`on_demand_base = {}` is not a task count", v.get_ref()),
                format!("0 to {max}: how many of each agent's tasks run on-demand before any runs on Spot"),
            );
            None
        }
    }
}

/// `spot_percent`: 1 to 100.
fn spot_percent(cx: &mut Checker, v: &Spanned<i64>) -> Option<u32> {
    match u32::try_from(*v.get_ref()) {
        Ok(n) if (1..=100).contains(&n) => Some(n),
        _ => {
            cx.error(
                Rule::SpotPercentRange,
                SpecFile::Env,
                v,
                format!("`spot_percent = {}` is not a percentage of tasks on Spot", v.get_ref()),
                "1 to 100 (the tasks above `on_demand_base` on Spot); for none on Spot, `capacity = \"on-demand\"`",
            );
            None
        }
    }
}

/// One key of a table: not written, written but invalid (already reported), or its value.
#[derive(Clone, Copy)]
enum Key<T> {
    Absent,
    Invalid,
    Set(T),
}

impl<T: Copy> Key<T> {
    fn of<V>(written: Option<&V>, check: impl FnOnce(&V) -> Option<T>) -> Self {
        match written {
            None => Key::Absent,
            Some(v) => check(v).map_or(Key::Invalid, Key::Set),
        }
    }

    /// This key's value over `base`; `None` when it was invalid.
    fn over(self, base: T) -> Option<T> {
        match self {
            Key::Absent => Some(base),
            Key::Invalid => None,
            Key::Set(v) => Some(v),
        }
    }
}

/// The keys of one table (`[compute]` or `[agents.<name>]`), checked and typed.
struct Written<'a> {
    capacity: Key<Capacity>,
    architecture: Key<Architecture>,
    on_demand_base: Key<u32>,
    spot_percent: Key<u32>,
    base_at: Option<&'a Spanned<i64>>,
    percent_at: Option<&'a Spanned<i64>>,
}

impl<'a> Written<'a> {
    fn check(
        cx: &mut Checker,
        capacity_v: Option<&Spanned<String>>,
        architecture_v: Option<&Spanned<String>>,
        base_at: Option<&'a Spanned<i64>>,
        percent_at: Option<&'a Spanned<i64>>,
    ) -> Self {
        Self {
            capacity: Key::of(capacity_v, |v| capacity(cx, v)),
            architecture: Key::of(architecture_v, |v| architecture(cx, v)),
            on_demand_base: Key::of(base_at, |v| on_demand_base(cx, v)),
            spot_percent: Key::of(percent_at, |v| spot_percent(cx, v)),
            base_at,
            percent_at,
        }
    }

    /// `base` with this table's values over it; `None` when a value here was invalid.
    fn over(&self, base: Placement) -> Option<Placement> {
        Some(Placement {
            capacity: self.capacity.over(base.capacity)?,
            architecture: self.architecture.over(base.architecture)?,
            on_demand_base: self.on_demand_base.over(base.on_demand_base)?,
            spot_percent: self.spot_percent.over(base.spot_percent)?,
        })
    }

    /// A Spot split written here while the placement is on-demand does nothing: an error at the key, unless
    /// it restates the default (0 and 100, which `tfgen show` prints for every agent).
    fn split_without_spot(&self, cx: &mut Checker, placement: &Placement, whose: &str) {
        if placement.capacity == Capacity::Spot {
            return;
        }
        let defaults = Placement::default();
        for (key, at, default) in [
            ("on_demand_base", self.base_at, defaults.on_demand_base),
            ("spot_percent", self.percent_at, defaults.spot_percent),
        ] {
            if let Some(at) = at.filter(|at| *at.get_ref() != i64::from(default)) {
                cx.error(
                    Rule::SpotSplitWithoutSpot,
                    SpecFile::Env,
                    at,
                    format!("`{key}` splits tasks between on-demand and Spot, but {whose} runs on-demand only"),
                    "add `capacity = \"spot\"` beside it, or remove it",
                );
            }
        }
    }
}

/// Each overridden agent's placement (by agent name), and the environment's default for the others.
pub fn check(
    cx: &mut Checker,
    spec: &ComputeSpec,
    overrides: &BTreeMap<Spanned<String>, AgentOverride>,
) -> (Placement, BTreeMap<String, Placement>) {
    let env = Written::check(
        cx,
        spec.capacity.as_ref(),
        spec.architecture.as_ref(),
        spec.on_demand_base.as_ref(),
        spec.spot_percent.as_ref(),
    );
    let default_ok = env.over(Placement::default());
    let default = default_ok.unwrap_or_default();
    if let Some(p) = &default_ok {
        env.split_without_spot(cx, p, "`[compute]`");
    }
    let mut per_agent = BTreeMap::new();
    for (name, o) in overrides {
        let own = Written::check(
            cx,
            o.capacity.as_ref(),
            o.architecture.as_ref(),
            o.on_demand_base.as_ref(),
            o.spot_percent.as_ref(),
        );
        let placement = own.over(default);
        if let Some(p) = &placement
            && default_ok.is_some()
        {
            own.split_without_spot(cx, p, &format!("agent `{}`", name.get_ref()));
        }
        per_agent.insert(name.get_ref().clone(), placement.unwrap_or(default));
    }
    (default, per_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(on_demand_base: u32, spot_percent: u32) -> Placement {
        Placement {
            capacity: Capacity::Spot,
            on_demand_base,
            spot_percent,
            ..Placement::default()
        }
    }

    #[test]
    fn strategies_and_splits() {
        let entry = |capacity_provider, base, weight| StrategyEntry {
            capacity_provider,
            base,
            weight,
        };
        assert!(Placement::default().strategy().is_empty());
        assert_eq!(Placement::default().split(3), (3.0, 0.0));
        // All Spot: the one entry every Spot service had before the split existed.
        assert_eq!(spot(0, 100).strategy(), vec![entry("FARGATE_SPOT", 0, 1)]);
        assert_eq!(
            spot(2, 100).strategy(),
            vec![entry("FARGATE", 2, 0), entry("FARGATE_SPOT", 0, 1)]
        );
        assert_eq!(
            spot(1, 75).strategy(),
            vec![entry("FARGATE", 1, 1), entry("FARGATE_SPOT", 0, 3)]
        );
        assert_eq!(
            spot(0, 40).strategy(),
            vec![entry("FARGATE", 0, 3), entry("FARGATE_SPOT", 0, 2)]
        );
        assert_eq!(spot(1, 50).split(3), (2.0, 1.0));
        assert_eq!(spot(2, 50).split(1), (1.0, 0.0));
        assert_eq!(spot(0, 100).split(2), (0.0, 2.0));
    }
}
