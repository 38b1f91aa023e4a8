//! The database bootstrap: the SQL that creates each agent's schema, login role and grants (from the
//! resolved [`AgentDatabase`]s), and the Lambda function that runs it through the RDS Data API, packed as
//! a deterministic zip for `aws_s3_object.content_base64` (only the hashicorp/aws provider is available,
//! so Terraform cannot build the zip itself).
//!
//! Pure functions; the SQL and the handler's source are rendered into the environment's Terraform so
//! reviewers read them in PRs, and packed into the function's code with the role → secret name manifest,
//! so that an invocation can run only what was reviewed. It does not set passwords: the handler reads each
//! agent's secret at run time ([`HANDLER_SOURCE`]).

mod zip;

use std::fmt::Write as _;

use serde::Serialize;

use crate::sections::agent_database::AgentDatabase;

/// The Terraform versions the bootstrap module needs (`modules/database_bootstrap/versions.tf`): its
/// agent passwords are ephemeral values (1.10) written through write-only arguments (1.11).
pub const REQUIRED_TERRAFORM: &str = ">= 1.11";

/// The Lambda handler, rendered into the tree and zipped as [`HANDLER_FILE`].
pub const HANDLER_SOURCE: &str = include_str!("handler.py");
/// The file name inside the zip; the function's handler is `bootstrap.handler`.
pub const HANDLER_FILE: &str = "bootstrap.py";
/// The SQL inside the zip: the only statements the handler runs.
pub const SQL_FILE: &str = "bootstrap.sql";
/// The manifest inside the zip: `{"roles": {role: secret name}}`, the only roles whose password it sets.
pub const MANIFEST_FILE: &str = "bootstrap.json";
/// The comment line of the SQL after which the handler sets the passwords and commits its first transaction.
pub const PASSWORDS_MARKER: &str = "-- tfgen-bootstrap: passwords";
/// The comment every agent role carries, so that a later bootstrap finds the roles of removed agents.
pub const ROLE_COMMENT: &str = "tfgen agent role";

/// The bootstrap as the templates need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub agents: Vec<AgentDatabase>,
    /// One statement per line, with `--` comments; what the handler runs.
    pub sql: String,
    pub handler_source: String,
    /// Each agent role → the name of its secret, as JSON (what [`MANIFEST_FILE`] holds).
    pub manifest: String,
    /// What each agent's secret name starts with (the agent's name follows).
    pub secret_prefix: String,
    /// A stored (uncompressed) zip holding exactly [`HANDLER_SOURCE`], the SQL and the manifest, base64-encoded.
    pub handler_zip_base64: String,
    /// pgloader's options for an agent's SQLite migration (before the source and target URLs).
    pub pgloader_arguments: Vec<String>,
}

/// How pgloader loads a SQLite file into an agent's schema: tables, primary, unique and foreign keys,
/// (no `include drop`: existing tables make it fail instead of being replaced; and not `include no drop`,
/// with which pgloader 3.6 creates no indexes, primary or foreign keys: tests/database.rs saw it)
/// indexes and sequences created; stop at the first error; timestamps read as UTC and
/// kept as `timestamptz`.
pub const PGLOADER_ARGUMENTS: &[&str] = &[
    "--on-error-stop",
    "--with",
    "create tables",
    "--with",
    "create indexes",
    "--with",
    "foreign keys",
    "--with",
    "reset sequences",
    "--set",
    "timezone='UTC'",
    // SQLite keeps naive UTC text; timestamptz keeps the instant unambiguous for the agents.
    "--cast",
    "type timestamp to timestamptz",
];

impl Bootstrap {
    /// The bootstrap of `agents` in `database`; each agent's secret is named `<secret_prefix><agent>`.
    pub fn new(database: &str, secret_prefix: &str, agents: Vec<AgentDatabase>) -> Self {
        let sql = sql(database, &agents);
        let roles: std::collections::BTreeMap<&str, String> = agents
            .iter()
            .map(|a| (a.role.as_str(), format!("{secret_prefix}{}", a.agent)))
            .collect();
        let manifest = format!("{}\n", serde_json::json!({ "roles": roles }));
        let zip = zip::stored(&[
            (HANDLER_FILE, HANDLER_SOURCE.as_bytes()),
            (SQL_FILE, sql.as_bytes()),
            (MANIFEST_FILE, manifest.as_bytes()),
        ]);
        Self {
            sql,
            agents,
            handler_source: HANDLER_SOURCE.to_string(),
            manifest,
            secret_prefix: secret_prefix.to_string(),
            handler_zip_base64: zip::base64(&zip),
            pgloader_arguments: PGLOADER_ARGUMENTS.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The bootstrap SQL for `database`: idempotent, one statement per line, safe to run on every apply.
///
/// Roles first (grants name them), then the [`PASSWORDS_MARKER`] (the handler sets the passwords and commits
/// there), then each agent's schema, then every pair of agents: the declared reads are granted, every other
/// read revoked, so removing a read from agents.toml takes it away. Last, every role marked
/// [`ROLE_COMMENT`] whose agent is gone (removed, or without `[agent.database]`) loses LOGIN, its password,
/// every grant and its sessions, and no current agent keeps access to its schema; its schema and data stay,
/// owned by the inert role, until an operator drops them on purpose (a deploy never drops data).
pub fn sql(database: &str, agents: &[AgentDatabase]) -> String {
    let mut out = String::new();
    let db = quote(database);
    let line = |out: &mut String, s: &str| {
        debug_assert!(!s.contains('\n') && !s.contains("${") && !s.contains("%{"));
        out.push_str(s);
        out.push('\n');
    };
    line(
        &mut out,
        "-- The database: only the agents' roles (and the master) may connect; nobody creates objects in public.",
    );
    line(&mut out, &format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC;"));
    line(&mut out, "REVOKE CREATE ON SCHEMA public FROM PUBLIC;");
    for a in agents {
        let role = &a.role;
        let _ = writeln!(out, "-- Agent `{}`: login role {role}, no other rights.", a.agent);
        line(
            &mut out,
            &format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$;"
            ),
        );
        line(
            &mut out,
            &format!("ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE;"),
        );
        // The master must be a member to create the schema for the role (PostgreSQL 15; 16 grants it itself).
        line(&mut out, &format!("GRANT {role} TO CURRENT_USER;"));
        // TEMPORARY: session-private tables (pgloader needs them); they are visible to no other session.
        line(
            &mut out,
            &format!("GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role};"),
        );
        line(&mut out, &format!("ALTER ROLE {role} SET search_path = {};", a.schema));
        line(&mut out, &format!("COMMENT ON ROLE {role} IS '{ROLE_COMMENT}';"));
    }
    line(
        &mut out,
        &format!(
            "{PASSWORDS_MARKER} are set here, and committed with the roles; the rest runs in a second transaction."
        ),
    );
    for a in agents {
        let (role, schema) = (&a.role, &a.schema);
        let _ = writeln!(out, "-- Agent `{}`: schema {schema}, owned by {role}.", a.agent);
        line(
            &mut out,
            &format!("CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role};"),
        );
        line(&mut out, &format!("ALTER SCHEMA {schema} OWNER TO {role};"));
        line(&mut out, &format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;"));
    }
    for owner in agents {
        for reader in agents.iter().filter(|r| r.role != owner.role) {
            let (schema, role, r) = (&owner.schema, &owner.role, &reader.role);
            if reader.reads.contains(schema) {
                let _ = writeln!(
                    out,
                    "-- `{}` reads `{}` (declared in agents.toml): SELECT only.",
                    reader.agent, owner.agent
                );
                line(&mut out, &format!("GRANT USAGE ON SCHEMA {schema} TO {r};"));
                line(
                    &mut out,
                    &format!("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {r};"),
                );
                line(
                    &mut out,
                    &format!(
                        "ALTER DEFAULT PRIVILEGES FOR ROLE {role} IN SCHEMA {schema} GRANT SELECT ON TABLES TO {r};"
                    ),
                );
            } else {
                let _ = writeln!(out, "-- `{}` does not read `{}`.", reader.agent, owner.agent);
                line(&mut out, &format!("REVOKE ALL ON SCHEMA {schema} FROM {r};"));
                line(
                    &mut out,
                    &format!("REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {r};"),
                );
                line(
                    &mut out,
                    &format!(
                        "ALTER DEFAULT PRIVILEGES FOR ROLE {role} IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {r};"
                    ),
                );
            }
            // Membership in another agent's role would carry all of its rights.
            line(&mut out, &format!("REVOKE {role} FROM {r};"));
        }
    }
    line(
        &mut out,
        "-- Roles of agents no longer here: no login, no password, no grant, no session; their data stays.",
    );
    line(&mut out, &retire_removed_roles(agents));
    out
}

/// The one statement that disables every [`ROLE_COMMENT`] role not among `agents` (see [`sql`]).
fn retire_removed_roles(agents: &[AgentDatabase]) -> String {
    // Typed: `ARRAY[]` alone has no type, and an empty list retires every commented role.
    let current = agents
        .iter()
        .map(|a| format!("'{}'", a.role))
        .collect::<Vec<_>>()
        .join(", ")
        + "]::text[";
    let current_roles = agents.iter().map(|a| a.role.as_str()).collect::<Vec<_>>().join(", ");
    let revoke_current = if agents.is_empty() {
        String::new()
    } else {
        format!(
            "FOR g IN SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspowner = r.oid LOOP \
             EXECUTE format('REVOKE ALL ON SCHEMA %I FROM {current_roles}', g.nspname); \
             EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {current_roles}', g.nspname); \
             EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM {current_roles}', r.rolname, g.nspname); \
             END LOOP;"
        )
    };
    [
        "DO $$ DECLARE r record; g record; BEGIN".to_string(),
        format!(
            "FOR r IN SELECT a.oid, a.rolname FROM pg_catalog.pg_roles a JOIN pg_catalog.pg_shdescription d \
             ON d.objoid = a.oid AND d.classoid = 'pg_catalog.pg_authid'::regclass \
             WHERE d.description = '{ROLE_COMMENT}' AND a.rolname <> ALL (ARRAY[{current}]) LOOP"
        ),
        "EXECUTE format('ALTER ROLE %I NOLOGIN PASSWORD NULL', r.rolname);".to_string(),
        "EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), r.rolname);".to_string(),
        // What it was granted on the current agents' schemas.
        format!(
            "FOR g IN SELECT n.nspname, o.rolname AS owner FROM pg_catalog.pg_namespace n \
             JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner WHERE o.rolname = ANY (ARRAY[{current}]) LOOP"
        ),
        "EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', g.nspname, r.rolname);".to_string(),
        "EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', g.nspname, r.rolname);".to_string(),
        "EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM %I', g.owner, g.nspname, r.rolname);".to_string(),
        "END LOOP;".to_string(),
        // What the current agents were granted on its schemas.
        revoke_current,
        // Memberships it holds, then its open sessions.
        "FOR g IN SELECT m.roleid::regrole::text AS granted FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid LOOP \
         EXECUTE format('REVOKE %s FROM %I', g.granted, r.rolname); END LOOP;"
            .to_string(),
        "PERFORM pg_catalog.pg_terminate_backend(s.pid) FROM pg_catalog.pg_stat_activity s WHERE s.usename = r.rolname;"
            .to_string(),
        "END LOOP; END $$;".to_string(),
    ]
    .join(" ")
}

/// A PostgreSQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_requires_the_terraform_the_root_declares() {
        let versions = include_str!("../../modules/database_bootstrap/versions.tf");
        assert!(
            versions.contains(&format!("required_version = \"{REQUIRED_TERRAFORM}\"")),
            "{versions}"
        );
    }

    fn agent(name: &str, reads: &[&str]) -> AgentDatabase {
        AgentDatabase {
            agent: name.to_string(),
            role: name.replace('-', "_"),
            schema: name.replace('-', "_"),
            reads: reads.iter().map(ToString::to_string).collect(),
            password_version: 1,
            sqlite_migration: false,
        }
    }

    #[test]
    fn adding_an_agent_leaves_every_other_agents_lines_as_they_were() {
        let two = sql("db", &[agent("a", &[]), agent("b", &["a"])]);
        let three = sql("db", &[agent("a", &[]), agent("b", &["a"]), agent("c", &[])]);
        // The statement retiring removed agents' roles lists the current ones; every other line stays.
        let retire = |l: &&str| l.starts_with("DO $$ DECLARE r record;");
        for l in two.lines().filter(|l| !retire(l)) {
            assert!(three.lines().any(|t| t == l), "{l} disappeared");
        }
        assert_eq!(two.lines().filter(retire).count(), 1);
        assert!(three.contains("CREATE SCHEMA IF NOT EXISTS c AUTHORIZATION c;"));
    }

    #[test]
    fn statements_are_single_lines_without_template_sequences() {
        let text = sql(
            "db",
            &[
                agent("order-management", &[]),
                agent("supervisor", &["order_management"]),
            ],
        );
        assert!(!text.contains("${") && !text.contains("%{"));
        assert!(text.lines().all(|l| l.starts_with("--") || l.ends_with(';')));
        assert!(!HANDLER_SOURCE.contains("${") && !HANDLER_SOURCE.contains("%{"));
    }
}
