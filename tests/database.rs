//! Per-agent data isolation, proven on a real PostgreSQL 15 (issue 11): the bootstrap SQL and the Lambda
//! handler exactly as rendered into generated/dev run against a fresh server, twice; then every agent's
//! role is tried against every schema. Also: the code zip holds exactly the rendered handler.
//!
//! The handler runs under python3 with `tests/database/boto3.py` standing in for boto3: its Data API runs
//! each statement with psql as the secret's user, the way the RDS Data API does. What this does not
//! prove: the IAM side (tests/inventory.rs and the rendered policies) and AWS's own Data API.

#[path = "database/postgres.rs"]
mod postgres;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use postgres::Postgres;
use tfgen::sections::agent_database::AgentDatabase;

const MASTER: &str = "multi_agent_admin";
const MASTER_PASSWORD: &str = "MasterPassword0123456789abcdefXYZ";
const DB: &str = "multi_agent";

/// The value of heredoc `<<MARK` in `text` (the lines between the marker lines, with the last newline).
fn heredoc<'a>(text: &'a str, mark: &str) -> &'a str {
    let open = format!("<<{mark}\n");
    let start = text.find(&open).unwrap_or_else(|| panic!("no <<{mark}")) + open.len();
    // The closing marker may be indented (HCL allows it; tfgen's formatter indents it).
    let mut end = start;
    for line in text[start..].split_inclusive('\n') {
        if line.trim() == mark {
            return &text[start..end];
        }
        end += line.len();
    }
    panic!("<<{mark} is not closed")
}

/// The `handler_zip_base64 = "..."` string of database.tf.
fn zip_base64(text: &str) -> &str {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("handler_zip_base64"))
        .unwrap();
    line.split('"').nth(1).unwrap()
}

struct Rendered {
    database_tf: String,
    agents: Vec<AgentDatabase>,
}

fn rendered() -> Rendered {
    let compiled = tfgen::compile(&support::inputs("dev")).unwrap();
    Rendered {
        database_tf: compiled.tree.files["database.tf"].clone(),
        agents: compiled.model.bootstrap.agents,
    }
}

fn python_output(script: &str, envs: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("python3")
}

fn python(script: &str, envs: &[(&str, &Path)]) -> String {
    let out = python_output(script, envs);
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_code_zip_holds_exactly_the_rendered_handler_sql_and_manifest() {
    let r = rendered();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("handler.py"), heredoc(&r.database_tf, "PYTHON")).unwrap();
    std::fs::write(dir.path().join("bootstrap.sql"), heredoc(&r.database_tf, "SQL")).unwrap();
    std::fs::write(dir.path().join("zip.b64"), zip_base64(&r.database_tf)).unwrap();
    let out = python(
        r"import base64, io, json, os, zipfile
d = os.environ['DIR']
z = zipfile.ZipFile(io.BytesIO(base64.b64decode(open(d + '/zip.b64').read(), validate=True)))
assert z.testzip() is None
infos = z.infolist()
assert [i.filename for i in infos] == ['bootstrap.py', 'bootstrap.sql', 'bootstrap.json'], infos
for info in infos:
    assert info.compress_type == zipfile.ZIP_STORED, info
    assert (info.external_attr >> 16) == 0o100644, oct(info.external_attr >> 16)
assert z.read('bootstrap.py') == open(d + '/handler.py', 'rb').read()
assert z.read('bootstrap.sql') == open(d + '/bootstrap.sql', 'rb').read()
compile(z.read('bootstrap.py'), 'bootstrap.py', 'exec')
print(json.dumps(json.loads(z.read('bootstrap.json'))))",
        &[("DIR", dir.path())],
    );
    let manifest: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // Each agent role with its own secret, named as the module names it.
    for a in &r.agents {
        assert_eq!(
            manifest["roles"][&a.role],
            format!("dev/multi-agent/database/{}", a.agent),
            "{manifest}"
        );
    }
    assert_eq!(manifest["roles"].as_object().unwrap().len(), r.agents.len());
    assert!(
        r.database_tf
            .contains("secret_name_prefix = \"dev/multi-agent/database/\"")
    );
}

fn password(seed: usize) -> String {
    // 40 letters and digits, like the ephemeral aws_secretsmanager_random_password the module generates.
    (0..40)
        .map(|i| {
            char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[(seed * 31 + i * 17 + i * i) % 56])
        })
        .collect()
}

/// A password for each agent role of `r`, as its secret would hold it.
fn passwords(r: &Rendered) -> BTreeMap<String, String> {
    r.agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.role.clone(), password(i)))
        .collect()
}

/// Runs the rendered handler with the stub boto3 against `pg`, as the bootstrap Lambda would.
fn run_bootstrap(pg: &Postgres, r: &Rendered, secrets: &BTreeMap<String, String>, work: &Path) -> String {
    let out = try_bootstrap(pg, r, secrets, work);
    assert!(
        out.status.success(),
        "the bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// [`run_bootstrap`], returning python's output whether the handler succeeded or raised.
fn try_bootstrap(pg: &Postgres, r: &Rendered, secrets: &BTreeMap<String, String>, work: &Path) -> std::process::Output {
    invoke(pg, r, secrets, work, &Invocation::default())
}

/// How a test departs from the invocation Terraform makes.
#[derive(Default)]
struct Invocation<'a> {
    /// Appended to the package's SQL (after the passwords line), as if tfgen had rendered it.
    extra_sql: Option<&'a str>,
    /// The event instead of Terraform's (`{"sql_sha256": …, "password_versions": …}`).
    event: Option<serde_json::Value>,
}

/// What the function's environment appends to each secret name (a key id in prod).
const SECRET_NAME_SUFFIX: &str = "-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

/// Unpacks the function's code package exactly as rendered into database.tf, and runs its handler with the
/// stub boto3, the environment Terraform sets and the event Terraform sends (or `how`'s).
fn invoke(
    pg: &Postgres,
    r: &Rendered,
    secrets: &BTreeMap<String, String>,
    work: &Path,
    how: &Invocation<'_>,
) -> std::process::Output {
    let master_arn = format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{MASTER}");
    let mut all = serde_json::Map::new();
    all.insert(
        master_arn.clone(),
        serde_json::json!({"username": MASTER, "password": MASTER_PASSWORD})
            .to_string()
            .into(),
    );
    let mut versions = serde_json::Map::new();
    for a in &r.agents {
        let value =
            serde_json::json!({"engine": "postgres", "username": a.role, "password": secrets[&a.role], "dbname": DB});
        // The handler reads each secret by the name its package's manifest gives, followed by the
        // suffix in its environment (prod's: the key id; dev's is empty, so a non-empty one is tried here).
        all.insert(
            format!("dev/multi-agent/database/{}{SECRET_NAME_SUFFIX}", a.agent),
            value.to_string().into(),
        );
        versions.insert(a.role.clone(), a.password_version.into());
    }
    std::fs::write(work.join("secrets.json"), serde_json::Value::Object(all).to_string()).unwrap();
    std::fs::write(work.join("zip.b64"), zip_base64(&r.database_tf)).unwrap();
    let code = work.join("code");
    let _ = std::fs::remove_dir_all(&code);
    python(
        "import base64, io, os, zipfile\n\
         w = os.environ['WORK']\n\
         zipfile.ZipFile(io.BytesIO(base64.b64decode(open(w + '/zip.b64').read()))).extractall(w + '/code')",
        &[("WORK", work)],
    );
    if let Some(extra) = how.extra_sql {
        let mut sql = std::fs::read_to_string(code.join("bootstrap.sql")).unwrap();
        sql.push_str(extra);
        std::fs::write(code.join("bootstrap.sql"), sql).unwrap();
    }
    std::fs::copy(support::root().join("tests/database/boto3.py"), code.join("boto3.py")).unwrap();
    let event = how
        .event
        .clone()
        .unwrap_or_else(|| serde_json::json!({"sql_sha256": "FROM-PACKAGE", "password_versions": versions}));
    std::fs::write(work.join("event.json"), event.to_string()).unwrap();
    let mut cmd = Command::new("python3");
    cmd.args([
        "-c",
        r"import hashlib, json, os, sys
w = os.environ['WORK']
sys.path.insert(0, w + '/code')
import bootstrap
event = json.load(open(w + '/event.json'))
if event.get('sql_sha256') == 'FROM-PACKAGE':
    event['sql_sha256'] = hashlib.sha256(open(w + '/code/bootstrap.sql', 'rb').read()).hexdigest()
print(json.dumps(bootstrap.handler(event, None)))",
    ])
    .env("WORK", work)
    .env("STUB_SECRETS", work.join("secrets.json"))
    .env("STUB_LOG", work.join("statements.log"))
    .env("STUB_PGHOST", pg.socket_dir())
    // What the function's `environment` block sets.
    .env(
        "CLUSTER_ARN",
        "arn:aws:rds:eu-west-1:123456789012:cluster:dev-multi-agent",
    )
    .env("MASTER_SECRET_ARN", &master_arn)
    .env("DATABASE", DB)
    .env("SECRET_NAME_SUFFIX", SECRET_NAME_SUFFIX);
    cmd.output().expect("python3")
}

/// The server as Aurora leaves it: a master with CREATEROLE and CREATEDB but no superuser, owning the
/// database, with objects of its own that no agent may touch.
fn aurora_like() -> Postgres {
    let pg = Postgres::start();
    pg.ok(
        "postgres",
        None,
        "postgres",
        &format!("CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD '{MASTER_PASSWORD}'"),
    );
    pg.ok(
        "postgres",
        None,
        "postgres",
        &format!("CREATE DATABASE {DB} OWNER {MASTER}"),
    );
    // As on a fresh cluster: PUBLIC may connect and use public until the bootstrap says otherwise.
    pg.ok(MASTER, Some(MASTER_PASSWORD), DB,
        "CREATE TABLE public.master_notes (id int PRIMARY KEY, body text); INSERT INTO public.master_notes VALUES (1, 'master'); \
         CREATE SCHEMA admin_only; CREATE TABLE admin_only.settings (k text PRIMARY KEY, v text);");
    pg
}

#[test]
fn bootstrap_isolates_every_agent_and_is_idempotent() {
    let started = std::time::Instant::now();
    let r = rendered();
    assert!(r.agents.len() >= 2, "dev declares database agents");
    let pg = aurora_like();
    let work = tempfile::tempdir().unwrap();
    let secrets = passwords(&r);

    let first = run_bootstrap(&pg, &r, &secrets, work.path());
    assert!(first.contains("\"passwords_set\""), "{first}");
    // Each agent logs in with the password from its own secret, and creates a table in its own schema
    // without naming it (its search_path), before the second run: the grants must cover existing tables.
    for a in &r.agents {
        let p = Some(secrets[&a.role].as_str());
        pg.ok(
            &a.role,
            p,
            DB,
            "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'ü→✓')",
        );
        let at = pg.ok(
            &a.role,
            p,
            DB,
            "SELECT schemaname FROM pg_tables WHERE tablename = 'notes' AND tableowner = current_user",
        );
        assert_eq!(at.trim(), a.schema);
    }
    let before = pg.catalog_dump(DB);
    let second = run_bootstrap(&pg, &r, &secrets, work.path());
    assert_eq!(first, second);
    assert_eq!(before, pg.catalog_dump(DB), "the second bootstrap changed the catalog");

    // No password reached the server in clear: only SCRAM verifiers (the cluster logs DDL).
    let log = std::fs::read_to_string(work.path().join("statements.log")).unwrap();
    for (role, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "{role}'s password was sent in clear");
    }
    assert!(log.contains("WITH PASSWORD 'SCRAM-SHA-256$4096:"));

    for a in &r.agents {
        let (role, p) = (a.role.as_str(), Some(secrets[&a.role].as_str()));
        let refused = |sql: &str| {
            let out = pg.psql(role, p, DB, sql);
            assert!(!out.status.success(), "{role} may run `{sql}`");
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                err.contains("permission denied") || err.contains("must be") || err.contains("not allowed"),
                "{role}: `{sql}`: {err}"
            );
        };
        // Its own schema: create, read, write.
        pg.ok(
            role,
            p,
            DB,
            &format!(
                "CREATE TABLE {0}.own (id int); INSERT INTO {0}.own VALUES (1); UPDATE {0}.own SET id = 2; \
             DELETE FROM {0}.own; CREATE INDEX ON {0}.notes (body); DROP TABLE {0}.own",
                a.schema
            ),
        );
        assert_eq!(pg.ok(role, p, DB, "SELECT body FROM notes").trim(), "ü→✓");
        // Every other agent's schema: read exactly when declared, never write.
        for other in r.agents.iter().filter(|o| o.role != a.role) {
            let s = &other.schema;
            if a.reads.contains(s) {
                assert_eq!(
                    pg.ok(role, p, DB, &format!("SELECT count(*) FROM {s}.notes")).trim(),
                    "1"
                );
            } else {
                refused(&format!("SELECT count(*) FROM {s}.notes"));
            }
            refused(&format!("INSERT INTO {s}.notes VALUES (2, 'x')"));
            refused(&format!("UPDATE {s}.notes SET body = 'x'"));
            refused(&format!("CREATE TABLE {s}.intruder (id int)"));
            refused(&format!("DROP TABLE {s}.notes"));
            refused(&format!("SET ROLE {}", other.role));
        }
        // Nothing else: roles, databases, schemas, the public schema, the master's objects.
        refused("CREATE ROLE intruder LOGIN");
        refused("CREATE DATABASE intruder");
        refused("CREATE SCHEMA intruder");
        refused("CREATE TABLE public.intruder (id int)");
        refused("SELECT * FROM public.master_notes");
        refused("SELECT * FROM admin_only.settings");
        refused(&format!("SET ROLE {MASTER}"));
        refused(&format!("ALTER ROLE {role} CREATEROLE"));
        // And only with its own password.
        assert!(
            !pg.psql(role, Some("wrong-password-0123456789abcdefghij"), DB, "SELECT 1")
                .status
                .success()
        );
    }
    // Agents without [agent.database] have no role at all.
    let agents_toml = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let roles = pg.ok(
        "postgres",
        None,
        DB,
        "SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolcanlogin",
    );
    assert!(
        agents_toml.contains("name = \"troubleshooting\"") && !roles.contains("troubleshooting"),
        "{roles}"
    );
    eprintln!("bootstrap isolation on PostgreSQL 15: {:.1?}", started.elapsed());
}

/// Runs never overlap and a failed run changes nothing (issue 22, item 2): the bootstrap is one Data API
/// transaction under an advisory lock, where it used to rely on a reserved concurrency of 1 that a fresh
/// account's Lambda quota cannot grant.
#[test]
fn bootstrap_runs_one_at_a_time_and_a_failed_run_changes_nothing() {
    use std::time::{Duration, Instant};
    let r = rendered();
    let key = heredoc(&r.database_tf, "PYTHON")
        .lines()
        .find_map(|l| l.strip_prefix("LOCK_KEY = \"")?.strip_suffix('"'))
        .expect("the handler names its advisory lock")
        .to_string();
    let pg = aurora_like();
    let secrets = passwords(&r);

    // A run that fails at its last step (a password the handler refuses) leaves the catalog as it found it.
    let fresh = pg.catalog_dump(DB);
    let mut refused = secrets.clone();
    let last = r.agents.last().unwrap().role.clone();
    refused.insert(last.clone(), "short".to_string());
    let work = tempfile::tempdir().unwrap();
    let out = try_bootstrap(&pg, &r, &refused, work.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(&format!("the password of role {last}")),
        "{err}"
    );
    assert_eq!(fresh, pg.catalog_dump(DB), "a failed bootstrap left changes behind");

    // While another session holds the lock, a bootstrap waits for it to go.
    let mut holder = Command::new("psql")
        .args(["-X", "-q", "-h"])
        .arg(pg.socket_dir())
        .args(["-p", "5432", "-U", "postgres", "-d", DB, "-c"])
        .arg(format!(
            "SELECT pg_advisory_lock(hashtext('{key}')); SELECT pg_sleep(4)"
        ))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pg
        .ok(
            "postgres",
            None,
            DB,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
        )
        .trim()
        != "1"
    {
        assert!(Instant::now() < deadline, "the holder never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    run_bootstrap(&pg, &r, &secrets, work.path());
    let waited = started.elapsed();
    assert!(holder.wait().unwrap().success());
    assert!(
        waited >= Duration::from_millis(2500),
        "the bootstrap ran in {waited:?} while another session held its lock"
    );

    // Two at once (a retry racing a parallel apply): both succeed and leave what one run leaves.
    let once = pg.catalog_dump(DB);
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (pg, r, secrets) = (&pg, &r, &secrets);
                s.spawn(move || {
                    let work = tempfile::tempdir().unwrap();
                    try_bootstrap(pg, r, secrets, work.path())
                })
            })
            .collect();
        for run in runs {
            let out = run.join().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    });
    assert_eq!(once, pg.catalog_dump(DB));
}

/// Whoever may invoke the function can only re-run what was rendered (issue 23, item 2): an event that
/// brings SQL, names other roles or secrets, or a digest that is not the package's own SQL is refused
/// before anything reaches the server.
#[test]
fn invoking_the_bootstrap_with_other_sql_changes_nothing() {
    let r = rendered();
    let pg = aurora_like();
    let secrets = passwords(&r);
    let work = tempfile::tempdir().unwrap();
    run_bootstrap(&pg, &r, &secrets, work.path());
    let before = pg.catalog_dump(DB);
    let (owner, reader) = (&r.agents[1].role, &r.agents[0].role);
    let attacks = [
        serde_json::json!({"sql_sha256": "FROM-PACKAGE", "sql": format!("GRANT {owner} TO {reader};")}),
        serde_json::json!({"sql_sha256": "FROM-PACKAGE", "agents": {MASTER: {"secret_arn": "x"}}}),
        serde_json::json!({"sql_sha256": "0".repeat(64)}),
        serde_json::json!({}),
    ];
    for event in attacks {
        let _ = std::fs::remove_file(work.path().join("statements.log"));
        let out = invoke(
            &pg,
            &r,
            &secrets,
            work.path(),
            &Invocation {
                event: Some(event.clone()),
                ..Invocation::default()
            },
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && (err.contains("the event may carry only") || err.contains("the event names SQL")),
            "{event}: {err}"
        );
        assert!(
            !work.path().join("statements.log").exists(),
            "{event}: statements reached the server"
        );
    }
    assert_eq!(before, pg.catalog_dump(DB));
}

/// Rotation with a failing statement (issue 23, item 3): Terraform has already written every new password
/// to the secrets when the bootstrap runs; a statement that fails after the passwords line must not leave
/// an agent whose role still has the old password.
#[test]
fn a_rotation_with_a_failing_statement_keeps_every_agent_able_to_log_in() {
    let r = rendered();
    let pg = aurora_like();
    let work = tempfile::tempdir().unwrap();
    run_bootstrap(&pg, &r, &passwords(&r), work.path());
    // Every agent's password_version bumped: new secrets.
    let rotated: BTreeMap<String, String> = r
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.role.clone(), password(i + 100)))
        .collect();
    let out = invoke(
        &pg,
        &r,
        &rotated,
        work.path(),
        &Invocation {
            extra_sql: Some("SELECT 1 / 0;\n"),
            ..Invocation::default()
        },
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("division by zero"), "{err}");
    for a in &r.agents {
        let login = pg.psql(&a.role, Some(&rotated[&a.role]), DB, "SELECT 1");
        assert!(
            login.status.success(),
            "{} cannot log in with the password its secret holds: {}",
            a.role,
            String::from_utf8_lossy(&login.stderr)
        );
    }
}

/// An agent removed from agents.toml (or its `[agent.database]`) keeps its schema and data, but its role
/// can no longer log in or read anything, and no remaining agent reads its schema (issue 23, item 4);
/// adding it back restores it.
#[test]
fn a_removed_agents_role_cannot_log_in_or_read() {
    let r = rendered();
    let pg = aurora_like();
    let secrets = passwords(&r);
    let work = tempfile::tempdir().unwrap();
    run_bootstrap(&pg, &r, &secrets, work.path());
    // The removed agent: one that reads another's schema, so that it has grants to lose.
    let gone = r
        .agents
        .iter()
        .find(|a| !a.reads.is_empty())
        .expect("an agent with reads")
        .clone();
    let (role, p) = (gone.role.as_str(), Some(secrets[&gone.role].as_str()));
    pg.ok(role, p, DB, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)");
    let read = &gone.reads[0];
    let owner = r.agents.iter().find(|a| &a.schema == read).unwrap();
    let owner_p = Some(secrets[&owner.role].as_str());
    pg.ok(&owner.role, owner_p, DB, "CREATE TABLE shared (id int)");
    assert_eq!(
        pg.ok(role, p, DB, &format!("SELECT count(*) FROM {read}.shared"))
            .trim(),
        "0"
    );

    // The tree without it: its agent entry, and every reference to it, gone.
    let without = Rendered {
        database_tf: r.database_tf.clone(),
        agents: r.agents.iter().filter(|a| a.role != gone.role).cloned().collect(),
    };
    let sql = tfgen::bootstrap::sql(DB, &without.agents);
    let package_sql = heredoc(&r.database_tf, "SQL");
    assert_ne!(sql, package_sql);
    let without = rendered_with_sql(&without, &sql);
    let after = passwords(&r);
    run_bootstrap(&pg, &without, &after, work.path());

    assert!(
        !pg.psql(role, p, DB, "SELECT 1").status.success(),
        "{role} still logs in"
    );
    let privileges = pg.ok(
        "postgres",
        None,
        DB,
        &format!(
            "SELECT r.rolcanlogin, r.rolpassword IS NULL, has_database_privilege('{role}', '{DB}', 'CONNECT'), \
             has_schema_privilege('{role}', '{read}', 'USAGE'), has_table_privilege('{role}', '{read}.shared', 'SELECT'), \
             (SELECT count(*) FROM pg_auth_members WHERE member = r.oid) FROM pg_authid r WHERE rolname = '{role}'"
        ),
    );
    // has_database_privilege stays true through PUBLIC only if PUBLIC kept CONNECT; the bootstrap revoked it.
    assert_eq!(
        privileges.trim(),
        "f|t|f|f|f|0",
        "{role}: login, no password, connect, usage, select, memberships"
    );
    // Its data stays, owned by its inert role.
    assert_eq!(
        pg.ok("postgres", None, DB, &format!("SELECT id FROM {}.kept", gone.schema))
            .trim(),
        "7"
    );
    // The remaining agents are untouched.
    for a in r.agents.iter().filter(|a| a.role != gone.role) {
        pg.ok(&a.role, Some(&after[&a.role]), DB, "SELECT 1");
    }
    // Added back, it logs in and reads again.
    run_bootstrap(&pg, &r, &secrets, work.path());
    assert_eq!(
        pg.ok(role, p, DB, &format!("SELECT count(*) FROM {read}.shared"))
            .trim(),
        "0"
    );

    // With no database agent left, the same statement retires every one (it is valid SQL for an empty list).
    let none = rendered_with_sql(
        &Rendered {
            database_tf: r.database_tf.clone(),
            agents: Vec::new(),
        },
        &tfgen::bootstrap::sql(DB, &[]),
    );
    run_bootstrap(&pg, &none, &BTreeMap::new(), work.path());
    for a in &r.agents {
        assert!(
            !pg.psql(&a.role, Some(&secrets[&a.role]), DB, "SELECT 1")
                .status
                .success(),
            "{} still logs in",
            a.role
        );
    }
}

/// `r` with its code package rebuilt around `sql` (and `r.agents`' manifest), as tfgen would render it.
fn rendered_with_sql(r: &Rendered, sql: &str) -> Rendered {
    let b = tfgen::bootstrap::Bootstrap::new(DB, "dev/multi-agent/database/", r.agents.clone());
    assert_eq!(b.sql, sql);
    let old = zip_base64(&r.database_tf).to_string();
    Rendered {
        database_tf: r.database_tf.replace(&old, &b.handler_zip_base64),
        agents: r.agents.clone(),
    }
}

/// `pgloader_arguments` of the rendered migration module, as the task definition passes them to pgloader.
fn pgloader_arguments(database_tf: &str) -> Vec<String> {
    let body: hcl::Body = hcl::from_str(database_tf).unwrap();
    let module = body
        .blocks()
        .find(|b| {
            b.identifier() == "module"
                && b.labels()
                    .first()
                    .is_some_and(|l| l.as_str() == "database_migration_order_management")
        })
        .expect("order-management's migration module is rendered");
    let attr = module
        .body()
        .attributes()
        .find(|a| a.key() == "pgloader_arguments")
        .unwrap();
    let hcl::Expression::Array(items) = attr.expr() else {
        panic!("not a list")
    };
    items
        .iter()
        .map(|e| match e {
            hcl::Expression::String(s) => s.clone(),
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

/// Per table: row count and an MD5 over every row in primary-key order, each value in one canonical text
/// form (NULL as `\N`, numbers to 2 decimals where money, timestamps as `YYYY-MM-DD HH:MM:SS` in UTC).
const CHECKSUM: &str = r#"
import hashlib, json, os, sqlite3, subprocess, sys
TABLES = {
    "customers": ["id", "email", "full_name", "phone", "loyalty_points", "created_at"],
    "orders": ["id", "customer_id", "status", "total", "notes", "placed_at", "cancelled_at"],
    "order_items": ["id", "order_id", "sku", "description", "quantity", "unit_price"],
    "shipments": ["id", "order_id", "carrier", "tracking_number", "shipped_at", "delivered_at"],
}
MONEY = {"total", "unit_price"}
TIMES = {"created_at", "placed_at", "cancelled_at", "shipped_at", "delivered_at"}
def canon(col, v):
    if v is None: return "\\N"
    if col in MONEY: return "%.2f" % float(v)
    return str(v)
def digest(rows):
    h = hashlib.md5()
    for row in rows: h.update(("\t".join(row) + "\n").encode())
    return len(rows), h.hexdigest()
out = {}
lite = sqlite3.connect(os.environ["SQLITE"])
for t, cols in TABLES.items():
    rows = [[canon(c, v) for c, v in zip(cols, r)] for r in lite.execute("SELECT %s FROM %s ORDER BY id" % (", ".join(cols), t))]
    sel = ", ".join("to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')" % c if c in TIMES else ("to_char(%s, 'FM999999990.00')" % c if c in MONEY else c + "::text") for c in cols)
    sql = "COPY (SELECT %s FROM order_management.%s AS t ORDER BY t.id) TO STDOUT" % (sel, t)
    pg = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", os.environ["PGHOST"], "-p", "5432", "-U", os.environ["PGUSER"], "-d", os.environ["PGDATABASE"], "-c", sql], capture_output=True, text=True, check=True)
    pg_rows = [line.split("\t") for line in pg.stdout.splitlines()]
    out[t] = {"sqlite": digest(rows), "postgres": digest(pg_rows)}
    diff = [(a, b) for a, b in zip(rows, pg_rows) if a != b]
    if diff: out[t]["first_difference"] = diff[0]
print(json.dumps(out))
"#;

#[test]
fn sqlite_order_management_db_migrates_with_pgloader() {
    postgres::ensure_debian_packages(&[("/usr/bin/pgloader", "pgloader")]);
    let started = std::time::Instant::now();
    let r = rendered();
    let pg = aurora_like();
    let work = tempfile::tempdir().unwrap();
    let secrets = passwords(&r);
    run_bootstrap(&pg, &r, &secrets, work.path());
    let om = secrets["order_management"].as_str();

    let db_file = work.path().join("order_management.db");
    let build = support::root().join("tests/database/build_order_management.py");
    let out = Command::new("python3").arg(&build).arg(&db_file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // As the ECS task runs it: the rendered options, then the source and the agent's own login.
    let target = format!(
        "postgresql://order_management@unix:{}:5432/{DB}",
        pg.socket_dir().display()
    );
    let load = Command::new("pgloader")
        .args(pgloader_arguments(&r.database_tf))
        .arg(format!("sqlite://{}", db_file.display()))
        .arg(&target)
        .env("PGPASSWORD", om)
        .current_dir(work.path())
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&load.stdout),
        String::from_utf8_lossy(&load.stderr)
    );
    assert!(load.status.success(), "pgloader failed:\n{report}");

    // Types mapped, keys and indexes created, all owned by the agent, in its schema.
    let columns = pg.ok(
        "postgres",
        None,
        DB,
        "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns \
        WHERE table_schema = 'order_management' AND table_name <> 'notes' ORDER BY 1",
    );
    for expected in [
        "orders.id bigint",
        "orders.customer_id bigint",
        "orders.total numeric",
        "orders.placed_at timestamp with time zone",
        "orders.cancelled_at timestamp with time zone",
        "customers.full_name text",
        "shipments.delivered_at timestamp with time zone",
    ] {
        assert!(columns.lines().any(|l| l == expected), "no `{expected}` in:\n{columns}");
    }
    let owners = pg.ok("postgres", None, DB, "SELECT DISTINCT schemaname || ' ' || tableowner FROM pg_tables WHERE tablename IN ('customers', 'orders', 'order_items', 'shipments')");
    assert_eq!(owners.trim(), "order_management order_management");
    let constraints = pg.ok(
        "postgres",
        None,
        DB,
        "SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || conname FROM pg_constraint \
        WHERE connamespace = 'order_management'::regnamespace ORDER BY 1",
    );
    let count = |kind: &str| {
        constraints
            .lines()
            .filter(|l| !l.contains("notes") && l.split(' ').nth(1) == Some(kind))
            .count()
    };
    assert_eq!(
        (count("p"), count("f")),
        (4, 3),
        "primary and foreign keys:\n{constraints}\n{report}\n{}",
        pg.ok(
            "postgres",
            None,
            DB,
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'order_management'"
        )
    );
    let indexes = pg.ok(
        "postgres",
        None,
        DB,
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'order_management' ORDER BY 1",
    );
    for i in [
        "orders_customer_id",
        "orders_status_placed_at",
        "order_items_order_id",
        "shipments_order_id",
    ] {
        assert!(indexes.lines().any(|l| l.contains(i)), "no index {i}: {indexes}");
    }
    // The foreign keys hold: an orphan order is refused.
    assert!(
        !pg.psql(
            "order_management",
            Some(om),
            DB,
            "INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (999999, 999999, 'paid', 1, now())"
        )
        .status
        .success()
    );

    // Row counts and content checksums, table by table.
    let sums = python(
        CHECKSUM,
        &[
            ("SQLITE", &db_file),
            ("PGHOST", pg.socket_dir()),
            ("PGUSER", Path::new("postgres")),
            ("PGDATABASE", Path::new(DB)),
        ],
    );
    let parsed: serde_json::Value = serde_json::from_str(&sums).unwrap();
    let mut total = 0;
    for (table, v) in parsed.as_object().unwrap() {
        assert_eq!(v["sqlite"], v["postgres"], "{table} differs after the migration: {v}");
        total += v["sqlite"][0].as_u64().unwrap();
    }
    assert!(total > 10_000, "{total} rows");
    // The supervisor reads the migrated orders (declared); troubleshooting has no role at all.
    let supervisor = secrets["supervisor"].as_str();
    assert_eq!(
        pg.ok(
            "supervisor",
            Some(supervisor),
            DB,
            "SELECT count(*) FROM order_management.orders"
        )
        .trim(),
        "3500"
    );
    eprintln!(
        "pgloader migration of {total} rows on PostgreSQL 15: {:.1?}",
        started.elapsed()
    );
}

/// From the rendered tree (dev and prod): the master secret's ARN reaches only the bootstrap module, whose
/// only policy naming it belongs to the bootstrap function's role (trusted by Lambda alone). The IAM and
/// ECS modules, and what the root passes them, never name it. Each agent's policy is attached to its own task
/// role, and the migration task runs in its agent's security group. The emulator checks the applied policies.
#[test]
fn no_agent_role_can_read_the_master_secret() {
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        let body: hcl::Body = hcl::from_str(&tree.files["main.tf"]).unwrap();
        for block in body.blocks().filter(|b| b.identifier() == "module") {
            let name = block.labels()[0].as_str();
            let text = hcl::to_string(block.body()).unwrap();
            assert!(
                !text.contains("master_user_secret"),
                "{env}: module {name} is given the master secret"
            );
        }
        // Each database agent's policy goes to that agent's own task role, and to no shared one.
        let database: hcl::Body = hcl::from_str(&tree.files["database.tf"]).unwrap();
        let call = database
            .blocks()
            .find(|b| b.identifier() == "module" && b.labels()[0].as_str() == "database_bootstrap")
            .unwrap();
        let roles = call
            .body()
            .attributes()
            .find(|a| a.key() == "agent_role_names")
            .map(|a| hcl::format::to_string(a.expr()).unwrap())
            .unwrap();
        let agents = call.body().attributes().find(|a| a.key() == "agents").unwrap();
        let hcl::Expression::Object(agents) = agents.expr() else {
            panic!("{env}: agents is not an object")
        };
        assert!(!agents.is_empty(), "{env}");
        assert_eq!(roles.matches("task_role_name").count(), agents.len(), "{env}: {roles}");
        for key in agents.keys() {
            let agent = hcl::format::to_string(key).unwrap();
            let agent = agent.trim_matches('"');
            assert!(
                roles.contains(&format!("\"{agent}\" = module.iam[\"{agent}\"].task_role_name")),
                "{env}: {agent}'s policy is not on its own task role: {roles}"
            );
        }
        // The migration task runs in its agent's own security group, the one that reaches the database port.
        assert!(
            tree.files["outputs.tf"]
                .contains("security_group      = module.networking.agent_security_group_ids[\"order-management\"]"),
            "{env}: the migration task is not in order-management's security group"
        );
        for (path, text) in &tree.files {
            if path.starts_with("modules/iam/") || path.starts_with("modules/ecs/") {
                assert!(!text.contains("master"), "{env}: {path} mentions the master secret");
            }
        }
        let iam = &tree.files["modules/database_bootstrap/iam.tf"];
        let body: hcl::Body = hcl::from_str(iam).unwrap();
        let naming: Vec<String> = body
            .blocks()
            .filter(|b| hcl::to_string(b.body()).unwrap().contains("master_secret_arn"))
            .map(|b| {
                b.labels()
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect();
        assert_eq!(naming, ["aws_iam_policy_document.bootstrap"], "{env}");
        let role_policy = body
            .blocks()
            .find(|b| {
                b.labels().iter().any(|l| l.as_str() == "bootstrap")
                    && b.identifier() == "resource"
                    && b.labels()[0].as_str() == "aws_iam_role_policy"
            })
            .unwrap();
        assert!(
            hcl::to_string(role_policy.body())
                .unwrap()
                .contains("aws_iam_role.bootstrap")
        );
        let assume = body
            .blocks()
            .find(|b| b.labels().iter().any(|l| l.as_str() == "bootstrap_assume"))
            .unwrap();
        let trust = hcl::to_string(assume.body()).unwrap();
        assert!(
            trust.contains("lambda.amazonaws.com") && !trust.contains("ecs-tasks"),
            "{env}: {trust}"
        );
        // Each agent's policy names its own secret only.
        let agent = body
            .blocks()
            .find(|b| b.labels().iter().any(|l| l.as_str() == "agent_database") && b.identifier() == "data")
            .unwrap();
        let text = hcl::to_string(agent.body()).unwrap();
        assert!(text.contains("each.key") && !text.contains("master"), "{env}");
    }
}

/// The agent names tfgen refuses as SQL key words are exactly the ones PostgreSQL 15 refuses as a role or
/// schema name (its reserved and type-or-function-name key words), plus `system_user`, reserved from 16.
#[test]
fn refused_key_words_are_postgresqls() {
    let pg = Postgres::start();
    let listed = pg.ok(
        "postgres",
        None,
        "postgres",
        "SELECT string_agg(word, ',' ORDER BY word) FROM pg_get_keywords() WHERE catcode IN ('R', 'T')",
    );
    let server: std::collections::BTreeSet<&str> = listed.trim().split(',').collect();
    let ours: std::collections::BTreeSet<&str> = tfgen::sections::agent_database::KEYWORDS.iter().copied().collect();
    let missing: Vec<_> = server.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&server).collect();
    assert!(
        missing.is_empty(),
        "PostgreSQL refuses these, tfgen does not: {missing:?}"
    );
    assert_eq!(extra, [&"system_user"], "tfgen refuses these, PostgreSQL 15 does not");
    // And the server does refuse one, unquoted, as the bootstrap writes it.
    let out = pg.psql("postgres", None, "postgres", "CREATE ROLE order LOGIN");
    assert!(!out.status.success());
}
