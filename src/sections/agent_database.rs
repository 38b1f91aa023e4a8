//! `[agent.database]` in agents.toml: which agents own a schema and a login role in the shared Aurora
//! database, which other agents' schemas each may read, and the version of its password. Raw form,
//! checks, resolved [`AgentDatabase`].
//!
//! Agents without the table get no database access at all. The SQL that creates the schemas, roles and
//! grants is [`crate::bootstrap`]'s; this module only decides names and grants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::agents::{AgentSpec, CheckedAgent};
use super::context::{Checker, SpecFile, suggest};
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[agent.database]`).
    pub enum Rule {
        ReadsUnknownAgent,
        ReadsItself,
        ReadsAgentWithoutDatabase,
        RoleIsReserved,
        RoleIsKeyword,
        PasswordVersion,
    }
}

/// Role and schema names PostgreSQL or Aurora reserve, or that the master user already holds (and every
/// `pg_*` and `rds_*` name: `rds_iam` granted to a role would end its password logins, and with them the
/// Data API's).
const RESERVED: &[&str] = &[
    "public",
    "none",
    "postgres",
    "information_schema",
    "rdsadmin",
    "rds_superuser",
];

/// The key words PostgreSQL refuses as a role or schema name: its reserved ones and those that may be only a
/// type or function name (`pg_get_keywords()` categories R and T; PostgreSQL 15, plus 16's `system_user`;
/// tests/database.rs compares them with a real server). The bootstrap SQL names roles and schemas unquoted,
/// so an agent named after one (`order`, `user`, `left`) would render SQL that fails at apply.
pub const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// `[agent.database]`, as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDatabaseSpec {
    /// Other agents whose schemas this agent may read (SELECT only), e.g. `["order-management"]`.
    #[serde(default)]
    pub reads: Vec<Spanned<String>>,
    /// Bump to rotate the agent's password: a new ephemeral password is written to its secret and the
    /// bootstrap sets it on the role. Default 1.
    pub password_version: Option<Spanned<i64>>,
    /// Render a one-off pgloader task that loads a SQLite file into this agent's schema (the plan's
    /// `order_management.db`). Default false.
    #[serde(default)]
    pub sqlite_migration: bool,
}

/// One agent's place in the database, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentDatabase {
    /// The agent's name (the key of its Terraform resources).
    pub agent: String,
    /// Its login role and its schema share one name (`order-management` → `order_management`), so the
    /// role's default `search_path` (`"$user", public`) finds its own tables first.
    pub role: String,
    pub schema: String,
    /// Schemas this role may read, sorted.
    pub reads: Vec<String>,
    pub password_version: u32,
    /// Whether a SQLite migration task is rendered for this agent.
    pub sqlite_migration: bool,
}

/// The PostgreSQL identifier of an agent: hyphens become underscores (always a plain lowercase identifier).
pub fn identifier(agent: &str) -> String {
    agent.replace('-', "_")
}

/// Checks every agent's `[agent.database]` against the checked agents, `master` being the master user.
pub fn check(cx: &mut Checker, declared: &[AgentSpec], checked: &[CheckedAgent], master: &str) -> Vec<AgentDatabase> {
    // Checked agents by written name; the role is named after the physical name, so a rename keeps the data.
    let physical: BTreeMap<&str, String> = checked
        .iter()
        .map(|a| (a.name.as_str(), identifier(a.physical_name().as_str())))
        .collect();
    let with_db: BTreeMap<&str, &AgentDatabaseSpec> = declared
        .iter()
        .filter_map(|a| a.database.as_ref().map(|d| (a.name.get_ref().as_str(), d)))
        .collect();
    let mut out = Vec::new();
    for agent in declared {
        let Some(spec) = &agent.database else { continue };
        let name = agent.name.get_ref().as_str();
        let role = physical.get(name).cloned();
        if let Some(role) = &role
            && KEYWORDS.contains(&role.as_str())
        {
            cx.error(
                Rule::RoleIsKeyword,
                SpecFile::Agents,
                &agent.name,
                format!("agent `{name}` would own the database role and schema `{role}`, an SQL key word"),
                format!("rename the agent (e.g. `{name}-agent`): PostgreSQL reserves `{role}`"),
            );
        } else if let Some(role) = &role
            && (RESERVED.contains(&role.as_str())
                || role == master
                || role.starts_with("pg_")
                || role.starts_with("rds_"))
        {
            cx.error(
                Rule::RoleIsReserved,
                SpecFile::Agents,
                &agent.name,
                format!("agent `{name}` would own the database role and schema `{role}`, a reserved name"),
                format!("rename the agent: `{role}` is PostgreSQL's, Aurora's or the master user's"),
            );
        }
        let mut reads = Vec::new();
        for read in &spec.reads {
            let other = read.get_ref().as_str();
            if other == name {
                cx.error(
                    Rule::ReadsItself,
                    SpecFile::Agents,
                    read,
                    format!("agent `{name}` lists itself in `reads`"),
                    "an agent owns its own schema already; remove it from `reads`",
                );
            } else if !physical.contains_key(other) && !declared.iter().any(|a| a.name.get_ref() == other) {
                let help = suggest(
                    other,
                    declared.iter().map(|a| a.name.get_ref().as_str()),
                    "list agents that agents.toml declares",
                );
                cx.error(
                    Rule::ReadsUnknownAgent,
                    SpecFile::Agents,
                    read,
                    format!("`{other}` is not a declared agent"),
                    help,
                );
            } else if !with_db.contains_key(other) {
                cx.error(
                    Rule::ReadsAgentWithoutDatabase,
                    SpecFile::Agents,
                    read,
                    format!("agent `{other}` has no schema to read"),
                    format!("give `{other}` an `[agent.database]` table, or remove it from `reads`"),
                );
            } else if let Some(schema) = physical.get(other) {
                reads.push(schema.clone());
            }
        }
        reads.sort();
        reads.dedup();
        let version = match &spec.password_version {
            None => Some(1),
            Some(v) => {
                let ok = u32::try_from(*v.get_ref()).ok().filter(|&n| n >= 1);
                if ok.is_none() {
                    cx.error(
                        Rule::PasswordVersion,
                        SpecFile::Agents,
                        v,
                        format!("password_version {} is not a positive whole number", v.get_ref()),
                        "start at 1 and add 1 to rotate the agent's password",
                    );
                }
                ok
            }
        };
        if let (Some(role), Some(password_version)) = (role, version) {
            out.push(AgentDatabase {
                agent: name.to_string(),
                schema: role.clone(),
                role,
                reads,
                password_version,
                sqlite_migration: spec.sqlite_migration,
            });
        }
    }
    out
}
