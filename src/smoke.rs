//! The environment's smoke check, as data: the path the load balancer routes to each agent's smoke check,
//! what each must report (its database, the agents it calls, the one model call), for the generated
//! `smoke.py` (`modules/root/smoke.py.j2`), and each agent's `max_count`, which the scaffolded load test
//! (`init/load_test/`) reads from it to size its ramp. It neither renders the script nor runs it.

use serde::Serialize;

use crate::model::Model;

/// One agent, as the smoke check asks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmokeAgent {
    pub name: String,
    /// Where the ALB routes its smoke check ([`crate::contract::smoke_path`]); `None`: nowhere.
    pub path: Option<String>,
    /// It has `[agent.database]`: it must report a round trip in its own schema.
    pub database: bool,
    /// The agents it calls: it must report each one's smoke check.
    pub calls: Vec<String>,
    /// It makes the check's one model call: the entry agent (routed at `/` or `/*`), else the first agent
    /// with a smoke path.
    pub model: bool,
    /// The most tasks autoscaling may run: the load test ramps to the entry agent's.
    pub max_count: u32,
}

/// Every agent of the environment, in declaration order.
pub fn agents(model: &Model) -> Vec<SmokeAgent> {
    let mut agents: Vec<SmokeAgent> = model
        .agents
        .iter()
        .map(|a| SmokeAgent {
            name: a.name.to_string(),
            path: crate::contract::smoke_path(&a.paths),
            database: a.uses_database,
            calls: a.calls.iter().map(ToString::to_string).collect(),
            model: false,
            max_count: a.max_count,
        })
        .collect();
    let entry = model
        .agents
        .iter()
        .zip(&agents)
        .position(|(a, s)| s.path.is_some() && a.paths.iter().any(|p| p == "/" || p == "/*"))
        .or_else(|| agents.iter().position(|s| s.path.is_some()));
    if let Some(i) = entry {
        agents[i].model = true;
    }
    agents
}

/// [`agents`] as the script embeds it: JSON, one agent per line.
pub fn agents_json(model: &Model) -> String {
    let lines: Vec<String> = agents(model)
        .iter()
        .map(|a| serde_json::to_string(a).expect("plain data serializes"))
        .collect();
    format!("[\n  {}\n]", lines.join(",\n  "))
}
