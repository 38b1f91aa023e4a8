//! Validate stage, agents: names, ports, ALB path patterns, per-environment sizing overrides, and every
//! derived AWS name against its length limit. It does not assign priorities; [`crate::resolve`] does.

use std::collections::BTreeMap;

use super::{
    Checker, DEFAULT_HEALTH_CHECK_PATH, Defaults, File, MAX_LISTENER_RULES, MAX_PATHS_PER_AGENT, ValidAgent, suggest,
};
use crate::diag::Diagnostic;
use crate::fargate::FargateSize;
use crate::names::{AgentName, AgentNames, EnvName, EnvNames};
use crate::spec::{AgentSpec, ParsedSpec, Spanned};

impl Checker {
    pub(super) fn agents(&mut self, parsed: &ParsedSpec, defaults: &Defaults) -> Vec<ValidAgent> {
        if parsed.agents.agents.is_empty() {
            self.diags.push(
                Diagnostic::error("no agents are declared", None)
                    .with_help(format!("declare at least one `[[agent]]` in {}", self.agents_file.name)),
            );
        }
        let mut names: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        let mut ports: BTreeMap<i64, &Spanned<i64>> = BTreeMap::new();
        let mut paths: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        let mut out = Vec::new();
        let mut rules = 0;
        for agent in &parsed.agents.agents {
            let name = self.agent_name(agent, &mut names);
            let port = self.agent_port(agent, &mut ports);
            let agent_paths = self.agent_paths(agent, &mut paths);
            rules += usize::from(!agent_paths.is_empty());
            if rules == MAX_LISTENER_RULES + 1 {
                self.error(
                    File::Agents,
                    &agent.paths,
                    format!("this agent's path rule is the {}st on one listener; an ALB allows {MAX_LISTENER_RULES} by default", MAX_LISTENER_RULES + 1),
                    "merge agents' paths, or ask AWS for a quota increase and split the agents over two load balancers",
                );
            }
            let health = match &agent.health_check_path {
                None => DEFAULT_HEALTH_CHECK_PATH.to_string(),
                Some(p) => {
                    if !p.get_ref().starts_with('/')
                        || p.get_ref().len() > 1024
                        || p.get_ref().contains(char::is_whitespace)
                    {
                        self.error(
                            File::Agents,
                            p,
                            format!("health check path `{}` is not a URL path", p.get_ref()),
                            "start it with `/`, e.g. `/health`",
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
                        self.error(
                            File::Agents,
                            r,
                            format!("renamed_from `{}` {why}", r.get_ref()),
                            "give the agent's previous name exactly as it was",
                        );
                        None
                    }
                });
            let overrides = parsed
                .env
                .agents
                .iter()
                .find(|(k, _)| k.get_ref() == agent.name.get_ref())
                .map(|(_, v)| v);
            let sizing = self.agent_sizing(overrides, defaults);
            if let (Some(name), Some(port), Some((size, desired, max))) = (name, port, sizing) {
                out.push(ValidAgent {
                    name,
                    renamed_from,
                    port,
                    paths: agent_paths,
                    health_check_path: health,
                    size,
                    desired_count: desired,
                    max_count: max,
                });
            }
        }
        for key in parsed.env.agents.keys() {
            if !names.contains_key(key.get_ref()) {
                let help = suggest(
                    key.get_ref(),
                    names.keys().map(String::as_str),
                    "override only agents that agents.toml declares",
                );
                self.error(
                    File::Env,
                    key,
                    format!("`{}` is not a declared agent", key.get_ref()),
                    help,
                );
            }
        }
        for agent in &out {
            if let Some(old) = &agent.renamed_from
                && names.contains_key(old.as_str())
            {
                let at = parsed
                    .agents
                    .agents
                    .iter()
                    .find(|a| a.name.get_ref() == agent.name.as_str())
                    .and_then(|a| a.renamed_from.as_ref());
                if let Some(at) = at {
                    self.error(
                        File::Agents,
                        at,
                        format!("`{old}` is renamed, but an agent named `{old}` still exists"),
                        "remove `renamed_from`, or remove the other agent",
                    );
                }
            }
        }
        out
    }

    pub(super) fn agent_name<'p>(
        &mut self,
        agent: &'p AgentSpec,
        seen: &mut BTreeMap<String, &'p Spanned<String>>,
    ) -> Option<AgentName> {
        let raw = agent.name.get_ref();
        let name = match AgentName::new(raw) {
            Ok(n) => Some(n),
            Err(why) => {
                self.error(
                    File::Agents,
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
            self.duplicate(File::Agents, &agent.name, first, summary, "first declared here", help);
            return None;
        }
        seen.insert(raw.clone(), &agent.name);
        name
    }

    pub(super) fn agent_port<'p>(
        &mut self,
        agent: &'p AgentSpec,
        seen: &mut BTreeMap<i64, &'p Spanned<i64>>,
    ) -> Option<u16> {
        let p = *agent.port.get_ref();
        let Ok(port) = u16::try_from(p) else {
            self.error(
                File::Agents,
                &agent.port,
                format!("port {p} is outside 1-65535"),
                "the plan's agents use 8000-8004",
            );
            return None;
        };
        if port == 0 || port == 5432 {
            self.error(
                File::Agents,
                &agent.port,
                format!("port {p} cannot be an agent port"),
                if port == 0 {
                    "use 1-65535"
                } else {
                    "5432 is the database port"
                },
            );
            return None;
        }
        if let Some(first) = seen.get(&p) {
            let summary = format!("port {p} is used by two agents");
            self.duplicate(
                File::Agents,
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

    pub(super) fn agent_paths<'p>(
        &mut self,
        agent: &'p AgentSpec,
        seen: &mut BTreeMap<String, &'p Spanned<String>>,
    ) -> Vec<String> {
        let list = agent.paths.get_ref();
        if list.is_empty() {
            self.error(
                File::Agents,
                &agent.paths,
                format!("agent `{}` has no paths", agent.name.get_ref()),
                "route at least one path pattern to it, e.g. `[\"/order/*\"]`",
            );
        }
        if list.len() > MAX_PATHS_PER_AGENT {
            self.error(
                File::Agents,
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
            let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(c);
            if !text.starts_with('/') || text.len() > 128 || !text.chars().all(allowed) {
                self.error(File::Agents, p, format!("`{text}` is not a path pattern an ALB accepts"), "start with `/`, at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * and ?");
                continue;
            }
            if let Some(first) = seen.get(text) {
                let summary = format!("path pattern `{text}` is routed to two agents");
                self.duplicate(
                    File::Agents,
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

    pub(super) fn agent_sizing(
        &mut self,
        o: Option<&crate::spec::AgentOverride>,
        defaults: &Defaults,
    ) -> Option<(FargateSize, u32, u32)> {
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
                    format!("invalid Fargate size: {why}"),
                    at.and_then(|a| self.at(File::Env, a)),
                )
                .with_help("see the Fargate task CPU and memory table; e.g. cpu = 1024 with memory = 2048");
                self.diags.push(d);
                None
            }
        };
        let desired = get(o.desired_count.as_ref(), defaults.desired_count);
        let max = get(o.max_count.as_ref(), defaults.max_count.max(desired));
        let problem = if desired < 0 {
            Some((
                o.desired_count.as_ref(),
                format!("desired_count {desired} is negative"),
                "use 0 to stop an agent, or a positive count",
            ))
        } else if desired > 1000 {
            Some((
                o.desired_count.as_ref(),
                format!("desired_count {desired} is above 1000"),
                "ECS runs at most 1000 tasks per service by default",
            ))
        } else if !(1..=1000).contains(&max) {
            Some((
                o.max_count.as_ref(),
                format!("max_count {max} is outside 1-1000"),
                "autoscaling needs a maximum between 1 and 1000",
            ))
        } else if desired > max {
            Some((
                o.desired_count.as_ref().or(o.max_count.as_ref()),
                format!("desired_count {desired} is above max_count {max}"),
                "autoscaling runs between desired_count and max_count; raise max_count",
            ))
        } else {
            None
        };
        let ok = problem.is_none();
        if let Some((at, summary, help)) = problem {
            let location = at.and_then(|a| self.at(File::Env, a));
            self.diags.push(Diagnostic::error(summary, location).with_help(help));
        }
        let (desired, max) = (u32::try_from(desired).ok()?, u32::try_from(max).ok()?);
        if ok { size.map(|s| (s, desired, max)) } else { None }
    }

    pub(super) fn derived_names(&mut self, env: &EnvName, agents: &[ValidAgent], parsed: &ParsedSpec) {
        for (kind, name) in EnvNames::derive(env).all() {
            if name.len() > kind.limit() {
                self.diags.push(
                    Diagnostic::error(
                        format!(
                            "derived {} `{name}` is {} characters; AWS allows {}",
                            kind.describe(),
                            name.len(),
                            kind.limit()
                        ),
                        None,
                    )
                    .with_help("use a shorter environment name"),
                );
            }
        }
        for agent in agents {
            let physical = agent.renamed_from.as_ref().unwrap_or(&agent.name);
            for (kind, name) in AgentNames::derive(env, physical.as_str()).all() {
                if name.len() > kind.limit() {
                    let at = parsed
                        .agents
                        .agents
                        .iter()
                        .find(|a| a.name.get_ref() == agent.name.as_str())
                        .map(|a| &a.name);
                    let d = Diagnostic::error(
                        format!(
                            "derived {} `{name}` is {} characters; AWS allows {}",
                            kind.describe(),
                            name.len(),
                            kind.limit()
                        ),
                        at.and_then(|a| self.at(File::Agents, a)),
                    )
                    .with_help(format!(
                        "shorten the agent name by {} characters",
                        name.len() - kind.limit()
                    ));
                    self.diags.push(d);
                }
            }
        }
    }
}
