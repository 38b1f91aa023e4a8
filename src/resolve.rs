//! Resolve stage: the work that crosses sections. Derives every AWS name once (from the environment's name
//! and each agent's) and checks it against AWS's length limit, numbers the listener rules, and writes the
//! state moves of renamed agents.
//!
//! Sections check and resolve their own values ([`crate::sections`]); this module judges nothing else.

use crate::addresses::AGENT_KEYED;
use crate::aws::limits;
use crate::diag::{Diagnostic, rules};
use crate::model::Move;
use crate::names::{AgentNames, EnvName, EnvNames};
use crate::sections::agents::{Agent, CheckedAgent};
use crate::sections::context::{Checker, SpecFile};

rules! {
    /// The diagnostics this module reports (names derived from several sections).
    pub enum Rule {
        DerivedNameTooLong,
        IamPolicyTooLarge,
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
pub fn resolve(cx: &mut Checker, env: &EnvName, region: Option<&str>, checked: Vec<CheckedAgent>) -> Resolved {
    // The environment's own names are fitted to AWS's limits (`names::fit`); agents' names are checked.
    let names = EnvNames::derive(env);
    let last_span = checked.last().map(|a| a.name_span.clone());
    let agents: Vec<Agent> = checked
        .into_iter()
        .zip(1u32..)
        .map(|(agent, i)| {
            let agent_names = AgentNames::derive(env, agent.physical_name().as_str());
            check_lengths(cx, &agent, &agent_names);
            Agent::resolve(agent, agent_names, i * PRIORITY_STEP)
        })
        .collect();
    if let (Some(region), Some(at)) = (region, last_span) {
        check_policy_size(cx, region, &agents, at);
    }
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

/// The execution role's inline policy lists every agent's repository and log group; IAM refuses it
/// above 10,240 characters, which long agent names reach before the agent cap does.
fn check_policy_size(cx: &mut Checker, region: &str, agents: &[Agent], last: std::ops::Range<usize>) {
    let repositories: Vec<&str> = agents.iter().map(|a| a.names.repository.as_str()).collect();
    let log_groups: Vec<&str> = agents.iter().map(|a| a.names.log_group.as_str()).collect();
    let size = limits::execution_policy_chars(region, &repositories, &log_groups);
    let max = limits::IAM_INLINE_POLICIES_PER_ROLE_CHARS;
    if size > max {
        let at = cx.at_span(SpecFile::Agents, last);
        cx.push(
            Diagnostic::error(
                Rule::IamPolicyTooLarge,
                format!(
                    "the task execution role's policy would be about {size} characters with {} agents; IAM allows {max} per role",
                    agents.len()
                ),
                Some(at),
            )
            .with_help("it lists each agent's repository and log group: use fewer agents or shorter agent names"),
        );
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
