//! Resolve stage: the work that crosses sections. Derives every AWS name once (from the environment's name
//! and each agent's), fitted to AWS's length limits with a warning naming each shortened one, numbers the listener rules, and writes the
//! state moves of renamed agents.
//!
//! Sections check and resolve their own values ([`crate::sections`]); this module judges nothing else.

use crate::addresses::AGENT_KEYED;
use crate::diag::{Diagnostic, Location, rules};
use crate::model::Move;
use crate::names::{AgentNames, EnvName, EnvNames, NameKind};
use crate::sections::agents::{Agent, CheckedAgent};
use crate::sections::context::{Checker, SpecFile};

rules! {
    /// The diagnostics this module reports (names derived from several sections).
    pub enum Rule {
        DerivedNameShortened,
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

/// Names every agent (warning of every name shortened to fit AWS's limit), numbers their rules, and moves
/// the state of renamed ones.
/// `tls`: the environment encrypts in transit (its target groups are named for HTTPS).
pub fn resolve(cx: &mut Checker, env: &EnvName, checked: Vec<CheckedAgent>, tls: bool) -> Resolved {
    let names = EnvNames::derive(env);
    let full = EnvNames::full(env);
    for ((kind, short), (_, full)) in names.all().into_iter().zip(full.all()) {
        report_shortened(cx, kind, full, short, None);
    }
    let ports = checked.iter().map(|a| (a.name.clone(), a.port)).collect();
    let agents: Vec<Agent> = checked
        .into_iter()
        .zip(1u32..)
        .map(|(agent, i)| {
            let agent_names = AgentNames::derive(env, agent.physical_name().as_str(), tls);
            let full = AgentNames::full(env, agent.physical_name().as_str(), tls);
            let at = cx.at_span(SpecFile::Agents, agent.name_span.clone());
            for ((kind, short), (_, full)) in agent_names.all().into_iter().zip(full.all()) {
                report_shortened(cx, kind, full, short, Some(at.clone()));
            }
            Agent::resolve(agent, agent_names, i * PRIORITY_STEP, &ports)
        })
        .collect();
    Resolved {
        names,
        moves: moves(&agents),
        agents,
    }
}

/// A warning naming the full and the short name, when [`crate::names::fit`] shortened a derived name.
fn report_shortened(cx: &mut Checker, kind: NameKind, full: &str, short: &str, at: Option<Location>) {
    if full == short {
        return;
    }
    cx.push(
        Diagnostic::warning(
            Rule::DerivedNameShortened,
            format!(
                "derived {} `{full}` is {} characters; AWS allows {}: shortened to `{short}`",
                kind.describe(),
                full.len(),
                kind.limit()
            ),
            at,
        )
        .with_help("the short name is stable (a hash of the full name); a shorter environment or agent name keeps the full one"),
    );
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
