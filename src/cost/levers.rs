//! `tfgen cost ENV --levers`: every setting that changes this environment's monthly cost, each with the
//! dollar change and what it costs in availability, protection or operations.
//!
//! A lever is an edit of the spec (a key and its new value), checked by the same sections as any spec and
//! priced by the same [`super::estimate`]: a lever the sizing refuses (prod turning off the WAF) is listed
//! with the refusal, never priced from a model tfgen would not render. This module reads no file and
//! prints nothing.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Estimate, money};
use crate::load::Inputs;
use crate::model::Model;
use crate::sections::compute::{Architecture, Capacity};
use crate::sections::network::Nat;

/// One lever, priced against the environment as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lever {
    /// The spec edit, as TOML (`[compute] capacity = "spot"`).
    pub setting: String,
    /// USD a month the edit adds (negative: saves); `None` when the sizing refuses it.
    pub monthly_change: Option<f64>,
    /// What it does to availability, protection or operations, in one line.
    pub effect: &'static str,
    /// Why the spec's sizing refuses it (the checks' message), if it does.
    pub refused: Option<String>,
}

/// A spec edit: `table.key = value` for each entry (`table` may be dotted: `agents.supervisor`). A
/// `[compute]` key also leaves every `[agents.<name>]` table without it: the lever is for every agent.
struct Edit {
    keys: Vec<(String, String, toml::Value)>,
    effect: &'static str,
}

fn edit(table: &str, key: &str, value: impl Into<toml::Value>, effect: &'static str) -> Edit {
    Edit {
        keys: vec![(table.to_string(), key.to_string(), value.into())],
        effect,
    }
}

/// A control turned on or off, with what each direction means.
fn toggle(table: &str, key: &str, now: bool, off: &'static str, on: &'static str) -> Edit {
    edit(table, key, !now, if now { off } else { on })
}

/// The edits that move this environment's cost, given what it runs now.
fn edits(model: &Model) -> Vec<Edit> {
    let mut out = Vec::new();
    let all_on_demand = model.agents.iter().all(|a| a.capacity == Capacity::OnDemand);
    if all_on_demand {
        out.push(Edit {
            keys: vec![
                ("compute".into(), "capacity".into(), "spot".into()),
                ("compute".into(), "on_demand_base".into(), 1.into()),
            ],
            effect: "tasks above each agent's first run on Spot: an interruption (two minutes' notice) takes those \
                     until ECS replaces them; the on-demand task keeps serving",
        });
    }
    if model
        .agents
        .iter()
        .any(|a| a.capacity == Capacity::OnDemand || a.on_demand_base > 0 || a.spot_percent < 100)
    {
        out.push(Edit {
            keys: vec![
                ("compute".into(), "capacity".into(), "spot".into()),
                ("compute".into(), "on_demand_base".into(), 0.into()),
                ("compute".into(), "spot_percent".into(), 100.into()),
            ],
            effect: "every task on Spot: one capacity shortage can stop all of an agent's tasks at once, until \
                     Fargate Spot has capacity again",
        });
    }
    if model.agents.iter().any(|a| a.architecture == Architecture::X86_64) {
        out.push(edit(
            "compute",
            "architecture",
            "arm64",
            "Graviton: the same service, if every image has a linux/arm64 variant (the release pipeline builds both)",
        ));
    }
    match model.network.nat {
        Nat::PerAz => out.push(edit(
            "network",
            "nat",
            "single",
            "one NAT gateway: an outage of its AZ cuts every agent off from Bedrock and AWS APIs",
        )),
        Nat::Single => {
            out.push(edit(
                "network",
                "nat",
                "per-az",
                "a NAT gateway per AZ: an AZ outage no longer cuts the other AZs' agents off",
            ));
            out.push(edit(
                "network",
                "nat",
                "instance",
                "a t4g.nano NAT instance: one instance in one AZ, recovered by EC2; 32 Mbit/s baseline",
            ));
        }
        Nat::Instance => out.push(edit(
            "network",
            "nat",
            "single",
            "a managed NAT gateway: no instance to patch, bandwidth to 100 Gbit/s",
        )),
    }
    out.push(edit(
        "network",
        "vpc_endpoints",
        !model.network.vpc_endpoints,
        if model.network.vpc_endpoints {
            "no VPC endpoints: AWS API and Bedrock traffic goes through the NAT, at its per-GB price"
        } else {
            "VPC endpoints: AWS API and Bedrock traffic stays off the NAT and the internet path"
        },
    ));
    out.push(edit(
        "alarms",
        "container_insights",
        !model.alarms.container_insights,
        if model.alarms.container_insights {
            "no Container Insights: the alarms read free metrics; no per-task dashboards"
        } else {
            "Container Insights: per-task metrics, and the running-tasks alarm follows the live desired count"
        },
    ));
    out.push(toggle(
        "security",
        "performance_insights",
        model.security.performance_insights,
        "no Performance Insights: no query-level load history; the database may idle at min_acu",
        "Performance Insights: query-level load history; AWS recommends 2 ACU or more with it",
    ));
    out.push(toggle(
        "security",
        "waf",
        model.security.waf,
        "no WAF: no managed rules or per-IP rate limit in front of the load balancer",
        "a WAF: managed rules and a per-IP rate limit in front of the load balancer",
    ));
    out.push(toggle(
        "security",
        "in_transit_encryption",
        model.security.in_transit_encryption,
        "plain HTTP inside the VPC: load balancer to tasks and agent to agent readable by anyone who can capture VPC traffic",
        "HTTPS from the load balancer to each task and Service Connect TLS between agents, from a private CA of the environment's own",
    ));
    out.push(toggle(
        "security",
        "flow_logs",
        model.security.flow_logs,
        "no VPC flow logs: no record of who talked to whom for an investigation",
        "VPC flow logs: a record of who talked to whom, for an investigation",
    ));
    if model.deployment.log_retention_days > 7 {
        out.push(edit(
            "deployment",
            "log_retention_days",
            7,
            "agent logs kept 7 days: less history to debug a slow-burning problem",
        ));
    }
    if model.database.min_acu > 0.0 {
        let mut e = edit(
            "database",
            "min_acu",
            0.0,
            "the database pauses when idle: the first query after a pause waits about 15 seconds",
        );
        e.keys
            .push(("database".into(), "allow_scale_to_zero".into(), true.into()));
        out.push(e);
    }
    // Every agent one Fargate size down (half the CPU and memory), where Fargate offers that size.
    let mut smaller = Edit {
        keys: Vec::new(),
        effect: "half the CPU and memory per task: more tasks under the same load, and less headroom for a slow model call",
    };
    for a in &model.agents {
        let (cpu, memory) = (a.size.cpu / 2, a.size.memory / 2);
        if crate::aws::fargate::valid(cpu, memory) {
            let table = format!("agents.{}", a.name);
            smaller.keys.push((table.clone(), "cpu".into(), i64::from(cpu).into()));
            smaller.keys.push((table, "memory".into(), i64::from(memory).into()));
        }
    }
    if !smaller.keys.is_empty() {
        out.push(smaller);
    }
    out
}

/// The spec text with `edit` applied, or `None` if the spec is not a TOML table.
fn apply(text: &str, edit: &Edit) -> Option<String> {
    let mut spec: toml::Table = text.parse().ok()?;
    for (table, key, value) in &edit.keys {
        let mut t = &mut spec;
        for part in table.split('.') {
            t = t
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()?;
        }
        t.insert(key.clone(), value.clone());
        // A `[compute]` lever means every agent: an agent's own value of the key (even one restating the
        // default) would keep that agent out of it.
        if table == "compute"
            && let Some(agents) = spec.get_mut("agents").and_then(toml::Value::as_table_mut)
        {
            for (_, agent) in agents.iter_mut() {
                let Some(agent) = agent.as_table_mut() else { continue };
                agent.remove(key);
            }
        }
    }
    toml::to_string(&spec).ok()
}

/// `[compute] capacity = "spot", on_demand_base = 1`, or "every agent: cpu and memory halved" for a
/// per-agent edit.
fn describe(edit: &Edit) -> String {
    if edit.keys.iter().any(|(t, _, _)| t.starts_with("agents.")) {
        let agents = edit.keys.len() / 2;
        return format!("[agents.<name>] cpu and memory halved ({agents} agents)");
    }
    let mut out = String::new();
    let mut current = "";
    for (table, key, value) in &edit.keys {
        if table == current {
            out.push_str(", ");
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "[{table}] ");
            current = table;
        }
        let _ = write!(out, "{key} = {value}");
    }
    out
}

/// Every lever of the environment `inputs` describes, priced against `current` (its estimate), the
/// biggest saving first and refused ones last.
pub fn levers(inputs: &Inputs, model: &Model, current: &Estimate) -> Vec<Lever> {
    let prices = super::prices::for_region(&current.region);
    let mut out: Vec<Lever> = edits(model)
        .into_iter()
        .filter_map(|e| {
            let text = apply(&inputs.env.text, &e)?;
            let edited = Inputs {
                env: std::sync::Arc::new(crate::diag::SourceFile {
                    name: inputs.env.name.clone(),
                    text,
                }),
                ..inputs.clone()
            };
            let (monthly_change, refused) = match crate::validate_spec(&edited) {
                Ok((m, _)) => {
                    let after = prices.map_or_else(|| super::estimate(&m).ok(), |p| Some(super::estimate_with(&m, p)));
                    (after.map(|a| a.total - current.total), None)
                }
                Err(d) => (None, d.iter().find(|d| d.is_error()).map(|d| d.summary.clone())),
            };
            Some(Lever {
                setting: describe(&e),
                monthly_change,
                effect: e.effect,
                refused,
            })
        })
        .filter(|l| l.refused.is_some() || l.monthly_change.is_some_and(|c| c.abs() >= 0.005))
        .collect();
    out.sort_by(|a, b| {
        let key = |l: &Lever| l.monthly_change.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    });
    out
}

/// The levers for a terminal: one block per lever.
pub fn render_text(levers: &[Lever]) -> String {
    let mut out = String::from("Levers (each alone, against the estimate above):\n");
    for l in levers {
        let change = match (l.monthly_change, &l.refused) {
            (Some(c), _) if c < 0.0 => format!("-{} a month", money(-c)),
            (Some(c), _) => format!("+{} a month", money(c)),
            (None, Some(why)) => format!("refused here: {why}"),
            (None, None) => "not priced".to_string(),
        };
        let _ = write!(out, "  {}  ({change})\n      {}\n", l.setting, l.effect);
    }
    out
}
