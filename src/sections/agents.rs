//! Agents: `[[agent]]` in agents.toml (name, port, ALB paths, health check, rename, the agents it calls,
//! whether it has `[agent.database]`) and each environment's `[agents.<name>]` sizing overrides. Raw forms,
//! checks, and the resolved [`Agent`]. The graph of `calls` is checked here; it is wired (Service Connect,
//! security groups) by the templates and proven from the rendered tree by [`crate::reach`].
//!
//! Names, listener-rule priorities and state moves cross sections; [`crate::resolve`] derives them.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::compute::{Architecture, Capacity, Placement, StrategyEntry};
use super::context::{Checker, SpecFile, suggest};
use super::defaults::Defaults;
use crate::aws::fargate::FargateSize;
use crate::aws::limits;
use crate::diag::{Diagnostic, rules};
use crate::names::{AgentName, AgentNames};
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (the agents and their overrides).
    pub enum Rule {
        NoAgents,
        TooManyAgents,
        TooManyWildcards,
        HealthCheckPath,
        RenamedFromInvalid,
        UnknownOverride,
        RenamedStillExists,
        AgentName,
        AgentDuplicate,
        PortRange,
        PortReserved,
        PortDuplicate,
        NoPaths,
        TooManyPaths,
        PathPattern,
        PathDuplicate,
        PathCatchAll,
        RenamedFromDuplicate,
        FargateSize,
        DesiredCountNegative,
        DesiredCountTooHigh,
        MaxCount,
        DesiredAboveMax,
        UnknownCall,
        SelfCall,
        DuplicateCall,
    }
}

pub const DEFAULT_HEALTH_CHECK_PATH: &str = "/health";
/// ECS's tasks per service: the highest desired and maximum count.
const TASKS: u32 = limits::ECS_TASKS_PER_SERVICE;
/// Condition values (path patterns) per listener rule: one rule per agent.
pub const MAX_PATHS_PER_AGENT: usize = limits::ALB_CONDITION_VALUES_PER_RULE;

/// One `[[agent]]` entry, as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub name: Spanned<String>,
    pub port: Spanned<i64>,
    /// ALB path patterns routed to this agent, e.g. `["/order/*"]`.
    pub paths: Spanned<Vec<Spanned<String>>>,
    pub health_check_path: Option<Spanned<String>>,
    pub description: Option<String>,
    /// The agent's previous name: its Terraform state is moved, its AWS names are kept.
    pub renamed_from: Option<Spanned<String>>,
    /// The agents this one calls, by name (Service Connect, inside the VPC).
    #[serde(default)]
    pub calls: Vec<Spanned<String>>,
    /// `[agent.database]`: the agent's own schema and role, and what it reads of others' (issue 11). Its
    /// presence is the one declaration that the agent uses the database (port, Data API, its own secret).
    pub database: Option<super::agent_database::AgentDatabaseSpec>,
}

/// An environment's override of one shared agent's sizing (`[agents.<name>]`), as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentOverride {
    pub cpu: Option<Spanned<i64>>,
    pub memory: Option<Spanned<i64>>,
    pub desired_count: Option<Spanned<i64>>,
    pub max_count: Option<Spanned<i64>>,
    /// `on-demand` or `spot`; checked in [`super::compute`].
    pub capacity: Option<Spanned<String>>,
    /// `x86_64` or `arm64`; checked in [`super::compute`].
    pub architecture: Option<Spanned<String>>,
    /// With Spot: tasks on-demand before any on Spot; checked in [`super::compute`].
    pub on_demand_base: Option<Spanned<i64>>,
    /// With Spot: percentage of the tasks above the base on Spot; checked in [`super::compute`].
    pub spot_percent: Option<Spanned<i64>>,
}

/// A checked agent: typed values, environment overrides and sizing defaults applied; not yet named.
#[derive(Debug, Clone)]
pub struct CheckedAgent {
    pub name: AgentName,
    /// Where the name is written in agents.toml, for checks of the names derived from it.
    pub name_span: Range<usize>,
    pub renamed_from: Option<AgentName>,
    pub port: u16,
    pub paths: Vec<String>,
    pub health_check_path: String,
    pub size: FargateSize,
    pub desired_count: u32,
    pub max_count: u32,
    /// The agents it calls, checked: declared, not itself, each once, in the order written.
    pub calls: Vec<AgentName>,
    /// Derived from `[agent.database]`'s presence.
    pub uses_database: bool,
}

impl CheckedAgent {
    /// The name AWS resources are called by: the old one after a rename, so nothing is replaced.
    pub fn physical_name(&self) -> &AgentName {
        self.renamed_from.as_ref().unwrap_or(&self.name)
    }
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
    /// `cpu` and `memory`, serialized at the agent's level as the spec writes them.
    #[serde(flatten)]
    pub size: FargateSize,
    pub desired_count: u32,
    pub max_count: u32,
    /// ALB listener-rule priority, in declaration order.
    pub priority: u32,
    pub names: AgentNames,
    /// The agents this one calls (the agent graph's edges), in the order written.
    pub calls: Vec<AgentName>,
    /// One environment variable per callee: `ORDER_MANAGEMENT_URL` → `http://order-management:8001`, the
    /// callee's Service Connect client alias and port.
    pub callee_urls: BTreeMap<String, String>,
    /// The agent has `[agent.database]`: it reaches the database port and uses its own schema, role and
    /// secret (never the master secret).
    pub uses_database: bool,
    /// Fargate on-demand or Spot ([`super::compute`] sets it after resolve).
    pub capacity: Capacity,
    /// x86_64 or ARM64 ([`super::compute`] sets it after resolve).
    pub architecture: Architecture,
    /// The task definition's `cpu_architecture` (`X86_64`, `ARM64`), derived from `architecture`.
    pub cpu_architecture: &'static str,
    /// With Spot: tasks on-demand before any on Spot ([`super::compute`] sets it after resolve).
    pub on_demand_base: u32,
    /// With Spot: percentage of the tasks above the base on Spot.
    pub spot_percent: u32,
    /// The service's capacity provider strategy (empty: the FARGATE launch type).
    pub capacity_strategy: Vec<StrategyEntry>,
}

/// `order-management` → `ORDER_MANAGEMENT_URL`: the variable a caller reads a callee's URL from.
pub fn callee_url_variable(callee: &AgentName) -> String {
    crate::contract::url_var(callee.as_str())
}

impl Agent {
    /// Where its tasks run, as [`super::compute`] placed it.
    pub fn placement(&self) -> Placement {
        Placement {
            capacity: self.capacity,
            architecture: self.architecture,
            on_demand_base: self.on_demand_base,
            spot_percent: self.spot_percent,
        }
    }

    /// The checked agent with its derived names and its listener-rule priority.
    /// `ports` maps every agent's name to its port, for the callee URLs.
    pub fn resolve(agent: CheckedAgent, names: AgentNames, priority: u32, ports: &BTreeMap<AgentName, u16>) -> Self {
        let callee_urls = agent
            .calls
            .iter()
            .filter_map(|c| {
                ports
                    .get(c)
                    .map(|port| (callee_url_variable(c), crate::contract::url(c.as_str(), *port)))
            })
            .collect();
        Self {
            physical_name: agent.physical_name().clone(),
            name: agent.name,
            renamed_from: agent.renamed_from,
            port: agent.port,
            paths: agent.paths,
            health_check_path: agent.health_check_path,
            size: agent.size,
            desired_count: agent.desired_count,
            max_count: agent.max_count,
            priority,
            names,
            calls: agent.calls,
            callee_urls,
            uses_database: agent.uses_database,
            capacity: Capacity::default(),
            architecture: Architecture::default(),
            cpu_architecture: Architecture::default().ecs_name(),
            on_demand_base: 0,
            spot_percent: 100,
            capacity_strategy: vec![],
        }
    }
}

/// Checks every declared agent and the environment's overrides of them.
pub fn check(
    cx: &mut Checker,
    declared: &[AgentSpec],
    overrides: &BTreeMap<Spanned<String>, AgentOverride>,
    defaults: &Defaults,
) -> Vec<CheckedAgent> {
    if declared.is_empty() {
        let help = format!("declare at least one `[[agent]]` in {}", cx.agents_file_name());
        cx.push(Diagnostic::error(Rule::NoAgents, "no agents are declared", None).with_help(help));
    }
    let mut names: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
    let mut ports: BTreeMap<i64, &Spanned<i64>> = BTreeMap::new();
    let mut paths: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
    let mut out: Vec<(CheckedAgent, Option<&Spanned<String>>)> = Vec::new();
    let mut count = 0;
    // A pattern that matches every path, and the agents declared after it (their rules come later).
    let mut catch_all: Option<(&Spanned<String>, &str, Vec<&str>)> = None;
    let mut renames: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
    for agent in declared {
        let name = agent_name(cx, agent, &mut names);
        let port = agent_port(cx, agent, &mut ports);
        let agent_paths = agent_paths(cx, agent, &mut paths);
        if let Some((_, _, shadowed)) = &mut catch_all {
            shadowed.push(agent.name.get_ref());
        } else if let Some(p) = agent.paths.get_ref().iter().find(|p| is_catch_all(p.get_ref())) {
            catch_all = Some((p, agent.name.get_ref(), Vec::new()));
        }
        if let Some(r) = &agent.renamed_from {
            if let Some(first) = renames.get(r.get_ref()) {
                cx.duplicate(
                    Rule::RenamedFromDuplicate,
                    SpecFile::Agents,
                    r,
                    first,
                    format!("two agents are renamed from `{}`", r.get_ref()),
                    "first renamed here",
                    "an agent's state moves to one new name; remove one of the two",
                );
            } else {
                renames.insert(r.get_ref().clone(), r);
            }
        }
        count += 1;
        if count == limits::MAX_AGENTS + 1 {
            cx.error(
                Rule::TooManyAgents,
                SpecFile::Agents,
                &agent.name,
                format!(
                    "agent {count} is one too many: an environment has at most {}",
                    limits::MAX_AGENTS
                ),
                format!(
                    "each agent adds a rule to the tasks' and the load balancer's security groups ({} per direction) \
                     and a listener rule ({} per ALB); merge agents",
                    limits::SG_INBOUND_RULES,
                    limits::ALB_RULES_PER_LOAD_BALANCER
                ),
            );
        }
        let health = match &agent.health_check_path {
            None => DEFAULT_HEALTH_CHECK_PATH.to_string(),
            Some(p) => {
                if !limits::health_check_path(p.get_ref()) {
                    cx.error(
                        Rule::HealthCheckPath,
                        SpecFile::Agents,
                        p,
                        format!("health check path `{}` is not a plain URL path", p.get_ref()),
                        format!(
                            "start it with `/`, then up to {} letters, digits and {} (no query: the path is also \
                             the container health check's URL in a shell command), e.g. `/health`",
                            limits::ALB_HEALTH_CHECK_PATH_MAX - 1,
                            limits::HEALTH_CHECK_PATH_CHARS
                        ),
                    );
                }
                p.get_ref().clone()
            }
        };
        let renamed_from = agent
            .renamed_from
            .as_ref()
            .and_then(|r| match AgentName::new(r.get_ref()) {
                Ok(n) => Some(n),
                Err(why) => {
                    cx.error(
                        Rule::RenamedFromInvalid,
                        SpecFile::Agents,
                        r,
                        format!("renamed_from `{}` {why}", r.get_ref()),
                        "give the agent's previous name exactly as it was",
                    );
                    None
                }
            });
        let sized = overrides
            .iter()
            .find(|(k, _)| k.get_ref() == agent.name.get_ref())
            .map(|(_, v)| v);
        let sizing = agent_sizing(cx, sized, defaults);
        if let (Some(name), Some(port), Some((size, desired, max))) = (name, port, sizing) {
            let checked = CheckedAgent {
                name,
                name_span: agent.name.span(),
                renamed_from,
                port,
                paths: agent_paths,
                health_check_path: health,
                size,
                desired_count: desired,
                max_count: max,
                calls: Vec::new(),
                uses_database: agent.database.is_some(),
            };
            out.push((checked, agent.renamed_from.as_ref()));
        }
    }
    if let Some((at, owner, shadowed)) = catch_all.filter(|(_, _, s)| !s.is_empty()) {
        let list = shadowed.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        cx.error(
            Rule::PathCatchAll,
            SpecFile::Agents,
            at,
            format!(
                "`{}` sends every request to `{owner}`: the ALB tries rules in declaration order, so {list} declared \
                 after it would never receive one",
                at.get_ref()
            ),
            format!("give `{owner}` its own prefix (e.g. `/{owner}/*`), or declare it last as the fallback"),
        );
    }
    for key in overrides.keys() {
        if !names.contains_key(key.get_ref()) {
            let help = suggest(
                key.get_ref(),
                names.keys().map(String::as_str),
                "override only agents that agents.toml declares",
            );
            cx.error(
                Rule::UnknownOverride,
                SpecFile::Env,
                key,
                format!("`{}` is not a declared agent", key.get_ref()),
                help,
            );
        }
    }
    for (agent, renamed_at) in &out {
        if let (Some(old), Some(at)) = (&agent.renamed_from, renamed_at)
            && names.contains_key(old.as_str())
        {
            cx.error(
                Rule::RenamedStillExists,
                SpecFile::Agents,
                *at,
                format!("`{old}` is renamed, but an agent named `{old}` still exists"),
                "remove `renamed_from`, or remove the other agent",
            );
        }
    }
    let mut checked: Vec<CheckedAgent> = out.into_iter().map(|(agent, _)| agent).collect();
    for agent in declared {
        let calls = agent_calls(cx, agent, &names, declared);
        if let Some(c) = checked.iter_mut().find(|c| c.name.as_str() == agent.name.get_ref()) {
            c.calls = calls;
        }
    }
    checked
}

/// The agents `agent` calls: each must be declared, not `agent` itself, and listed once.
fn agent_calls(
    cx: &mut Checker,
    agent: &AgentSpec,
    names: &BTreeMap<String, &Spanned<String>>,
    declared: &[AgentSpec],
) -> Vec<AgentName> {
    let mut seen: BTreeMap<&str, &Spanned<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for callee in &agent.calls {
        let raw = callee.get_ref();
        if raw == agent.name.get_ref() {
            cx.error(
                Rule::SelfCall,
                SpecFile::Agents,
                callee,
                format!("agent `{raw}` calls itself"),
                "an agent calls its own code directly; list only other agents in `calls`",
            );
            continue;
        }
        if !names.contains_key(raw) {
            let renamed = declared
                .iter()
                .find(|a| a.renamed_from.as_ref().is_some_and(|r| r.get_ref() == raw));
            let help = match renamed {
                Some(a) => format!("`{raw}` was renamed to `{}`: call it by its new name", a.name.get_ref()),
                None => suggest(
                    raw,
                    names.keys().map(String::as_str),
                    "call only agents that agents.toml declares",
                ),
            };
            cx.error(
                Rule::UnknownCall,
                SpecFile::Agents,
                callee,
                format!("`{raw}` is not a declared agent"),
                help,
            );
            continue;
        }
        if let Some(first) = seen.get(raw.as_str()) {
            cx.duplicate(
                Rule::DuplicateCall,
                SpecFile::Agents,
                callee,
                first,
                format!("`{}` calls `{raw}` twice", agent.name.get_ref()),
                "first listed here",
                "list each callee once",
            );
            continue;
        }
        seen.insert(raw, callee);
        if let Ok(name) = AgentName::new(raw) {
            out.push(name);
        }
    }
    out
}

fn agent_name<'p>(
    cx: &mut Checker,
    agent: &'p AgentSpec,
    seen: &mut BTreeMap<String, &'p Spanned<String>>,
) -> Option<AgentName> {
    let raw = agent.name.get_ref();
    let name = match AgentName::new(raw) {
        Ok(n) => Some(n),
        Err(why) => {
            cx.error(
                Rule::AgentName,
                SpecFile::Agents,
                &agent.name,
                format!("agent name `{raw}` {why}"),
                "agent names become parts of AWS names: lowercase letters, digits and single hyphens",
            );
            None
        }
    };
    if let Some(first) = seen.get(raw) {
        let summary = format!("agent `{raw}` is declared twice");
        let help = "agent names must be unique; rename or remove one";
        cx.duplicate(
            Rule::AgentDuplicate,
            SpecFile::Agents,
            &agent.name,
            first,
            summary,
            "first declared here",
            help,
        );
        return None;
    }
    seen.insert(raw.clone(), &agent.name);
    name
}

fn agent_port<'p>(cx: &mut Checker, agent: &'p AgentSpec, seen: &mut BTreeMap<i64, &'p Spanned<i64>>) -> Option<u16> {
    let p = *agent.port.get_ref();
    let Ok(port) = u16::try_from(p) else {
        cx.error(
            Rule::PortRange,
            SpecFile::Agents,
            &agent.port,
            format!("port {p} is outside 1-65535"),
            "the plan's agents use 8000-8004",
        );
        return None;
    };
    let reserved = match port {
        0 => Some("use 1-65535".to_string()),
        5432 => Some("5432 is the database port".to_string()),
        crate::contract::TLS_PORT => Some(format!(
            "{} is the port every agent serves HTTPS on for the load balancer (`[security] in_transit_encryption`)",
            crate::contract::TLS_PORT
        )),
        _ => None,
    };
    if let Some(help) = reserved {
        cx.error(
            Rule::PortReserved,
            SpecFile::Agents,
            &agent.port,
            format!("port {p} cannot be an agent port"),
            help,
        );
        return None;
    }
    if let Some(first) = seen.get(&p) {
        let summary = format!("port {p} is used by two agents");
        cx.duplicate(
            Rule::PortDuplicate,
            SpecFile::Agents,
            &agent.port,
            first,
            summary,
            "first used here",
            "give each agent its own port",
        );
        return None;
    }
    seen.insert(p, &agent.port);
    Some(port)
}

/// A path pattern every request matches: `/` or nothing, then only `*` wildcards (`/*`, `*`, `/**`).
fn is_catch_all(pattern: &str) -> bool {
    let rest = pattern.strip_prefix('/').unwrap_or(pattern);
    !rest.is_empty() && rest.chars().all(|c| c == '*')
}

fn agent_paths<'p>(
    cx: &mut Checker,
    agent: &'p AgentSpec,
    seen: &mut BTreeMap<String, &'p Spanned<String>>,
) -> Vec<String> {
    let list = agent.paths.get_ref();
    if list.is_empty() {
        cx.error(
            Rule::NoPaths,
            SpecFile::Agents,
            &agent.paths,
            format!("agent `{}` has no paths", agent.name.get_ref()),
            "route at least one path pattern to it, e.g. `[\"/order/*\"]`",
        );
    }
    let texts: Vec<&str> = list.iter().map(|p| p.get_ref().as_str()).collect();
    let wildcards = limits::wildcards(&texts);
    if wildcards > limits::ALB_WILDCARDS_PER_RULE {
        cx.error(
            Rule::TooManyWildcards,
            SpecFile::Agents,
            &agent.paths,
            format!(
                "{wildcards} wildcards in one rule's path patterns; an ALB rule takes at most {}",
                limits::ALB_WILDCARDS_PER_RULE
            ),
            "count every `*` and `?` of the agent's paths together; merge patterns such as `/a/*` and `/b/*` into fewer",
        );
    }
    if list.len() > MAX_PATHS_PER_AGENT {
        cx.error(
            Rule::TooManyPaths,
            SpecFile::Agents,
            &agent.paths,
            format!(
                "{} path patterns in one rule; an ALB rule takes at most {MAX_PATHS_PER_AGENT}",
                list.len()
            ),
            "use wildcards to cover several paths with one pattern",
        );
    }
    let mut out = Vec::new();
    for p in list {
        let text = p.get_ref();
        if !limits::alb_path_pattern(text) {
            cx.error(
                Rule::PathPattern,
                SpecFile::Agents,
                p,
                format!("`{text}` is not a path pattern an ALB accepts"),
                format!(
                    "start with `/`, at most {} characters of letters, digits and {} (`*` and `?` are wildcards)",
                    limits::ALB_PATH_PATTERN_MAX,
                    limits::ALB_PATH_PATTERN_CHARS
                ),
            );
            continue;
        }
        if let Some(first) = seen.get(text) {
            let summary = format!("path pattern `{text}` is routed to two agents");
            cx.duplicate(
                Rule::PathDuplicate,
                SpecFile::Agents,
                p,
                first,
                summary,
                "first routed here",
                "each path pattern goes to one agent",
            );
            continue;
        }
        seen.insert(text.clone(), p);
        out.push(text.clone());
    }
    out
}

fn agent_sizing(cx: &mut Checker, o: Option<&AgentOverride>, defaults: &Defaults) -> Option<(FargateSize, u32, u32)> {
    let get = |v: Option<&Spanned<i64>>, d: i64| v.map_or(d, |v| *v.get_ref());
    let o = o.cloned().unwrap_or_default();
    let (cpu, memory) = (
        get(o.cpu.as_ref(), defaults.cpu),
        get(o.memory.as_ref(), defaults.memory),
    );
    let size = match FargateSize::new(cpu, memory) {
        Ok(s) => Some(s),
        Err(why) => {
            let cpu_is_wrong = FargateSize::new(cpu, 2 * cpu).is_err() && FargateSize::new(cpu, 2048).is_err();
            let at = if cpu_is_wrong {
                o.cpu.as_ref().or(o.memory.as_ref())
            } else {
                o.memory.as_ref().or(o.cpu.as_ref())
            };
            let d = Diagnostic::error(
                Rule::FargateSize,
                format!("invalid Fargate size: {why}"),
                at.map(|a| cx.at(SpecFile::Env, a)),
            )
            .with_help("see the Fargate task CPU and memory table; e.g. cpu = 1024 with memory = 2048");
            cx.push(d);
            None
        }
    };
    let desired = get(o.desired_count.as_ref(), defaults.desired_count);
    let max = get(o.max_count.as_ref(), defaults.max_count.max(desired));
    let problem = if desired < 0 {
        Some((
            Rule::DesiredCountNegative,
            o.desired_count.as_ref(),
            format!("desired_count {desired} is negative"),
            "use 0 to stop an agent, or a positive count",
        ))
    } else if desired > i64::from(TASKS) {
        Some((
            Rule::DesiredCountTooHigh,
            o.desired_count.as_ref(),
            format!("desired_count {desired} is above {TASKS}"),
            "ECS runs at most 5,000 tasks per service (a service quota)",
        ))
    } else if !(1..=i64::from(TASKS)).contains(&max) {
        Some((
            Rule::MaxCount,
            o.max_count.as_ref(),
            format!("max_count {max} is outside 1-{TASKS}"),
            "autoscaling needs a maximum between 1 and the 5,000 tasks ECS runs per service",
        ))
    } else if desired > max {
        Some((
            Rule::DesiredAboveMax,
            o.desired_count.as_ref().or(o.max_count.as_ref()),
            format!("desired_count {desired} is above max_count {max}"),
            "autoscaling runs between desired_count and max_count; raise max_count",
        ))
    } else {
        None
    };
    let ok = problem.is_none();
    if let Some((code, at, summary, help)) = problem {
        let location = at.map(|a| cx.at(SpecFile::Env, a));
        cx.push(Diagnostic::error(code, summary, location).with_help(help));
    }
    let (desired, max) = (u32::try_from(desired).ok()?, u32::try_from(max).ok()?);
    if ok { size.map(|s| (s, desired, max)) } else { None }
}
