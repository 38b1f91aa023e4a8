//! Resolve stage: the work that crosses sections. Derives every AWS name once (from the environment's name
//! and each agent's) and checks it against AWS's length limit, numbers the listener rules, and writes the
//! state moves of renamed agents.
//!
//! Sections check and resolve their own values ([`crate::sections`]); this module judges nothing else.

use crate::addresses::AGENT_KEYED;
use crate::diag::{Diagnostic, rules};
use crate::model::Move;
use crate::names::{AgentNames, EnvName, EnvNames};
use crate::sections::agents::{Agent, CheckedAgent};
use crate::sections::context::{Checker, SpecFile};

rules! {
    /// The diagnostics this module reports (names derived from several sections).
    pub enum Rule {
        DerivedNameTooLong,
    }
}

/// The environment's names, its agents with their names and priorities, and the moves of renamed agents.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub names: EnvNames,
    pub agents: Vec<Agent>,
    pub moves: Vec<Move>,
}

/// Listener-rule priorities go up in tens, in declaration order, leaving room to insert rules by hand.
const PRIORITY_STEP: u32 = 10;

/// Names every agent (reporting any name AWS would reject as too long), numbers their rules, and moves
/// the state of renamed ones.
pub fn resolve(cx: &mut Checker, env: &EnvName, checked: Vec<CheckedAgent>) -> Resolved {
    // The environment's own names are fitted to AWS's limits (`names::fit`); agents' names are checked.
    let names = EnvNames::derive(env);
    let ports = checked.iter().map(|a| (a.name.clone(), a.port)).collect();
    let agents: Vec<Agent> = checked
        .into_iter()
        .zip(1u32..)
        .map(|(agent, i)| {
            let agent_names = AgentNames::derive(env, agent.physical_name().as_str());
            check_lengths(cx, &agent, &agent_names);
            Agent::resolve(agent, agent_names, i * PRIORITY_STEP, &ports)
        })
        .collect();
    Resolved {
        names,
        moves: moves(&agents),
        agents,
    }
}

fn check_lengths(cx: &mut Checker, agent: &CheckedAgent, names: &AgentNames) {
    for (kind, name) in names.all() {
        if name.len() > kind.limit() {
            let at = cx.at_span(SpecFile::Agents, agent.name_span.clone());
            cx.push(
                Diagnostic::error(
                    Rule::DerivedNameTooLong,
                    format!(
                        "derived {} `{name}` is {} characters; AWS allows {}",
                        kind.describe(),
                        name.len(),
                        kind.limit()
                    ),
                    Some(at),
                )
                .with_help(format!(
                    "shorten the agent name by {} characters",
                    name.len() - kind.limit()
                )),
            );
        }
    }
}

/// For every renamed agent, a `moved` block per agent-keyed address (see [`AGENT_KEYED`]).
fn moves(agents: &[Agent]) -> Vec<Move> {
    let mut out = Vec::new();
    for agent in agents {
        let Some(old) = &agent.renamed_from else {
            continue;
        };
        for base in AGENT_KEYED {
            out.push(Move {
                agent: agent.name.to_string(),
                from: format!("{base}[\"{old}\"]"),
                to: format!("{base}[\"{}\"]", agent.name),
            });
        }
    }
    out
}
