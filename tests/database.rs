//! Per-agent data isolation, proven on a real PostgreSQL 15 (issue 11): the bootstrap SQL and the Lambda
//! handler exactly as rendered into generated/dev run against a fresh server, twice; then every agent's
//! role is tried against every schema. Also: the code zip holds exactly the rendered handler.
//!
//! The handler runs under python3 with `tests/database/boto3.py` standing in for boto3: its Data API runs
//! each statement with psql as the secret's user, the way the RDS Data API does. What this does not
//! prove: the IAM side (tests/inventory.rs and the rendered policies) and AWS's own Data API.

mod support;
#[path = "database/postgres.rs"]
mod postgres;

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
    let line = text.lines().find(|l| l.trim_start().starts_with("handler_zip_base64")).unwrap();
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

fn python(script: &str, envs: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3");
    assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_code_zip_holds_exactly_the_rendered_handler() {
    let r = rendered();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("handler.py"), heredoc(&r.database_tf, "PYTHON")).unwrap();
    std::fs::write(dir.path().join("zip.b64"), zip_base64(&r.database_tf)).unwrap();
    let out = python(
        "import base64, io, os, zipfile\n\
         d = os.environ['DIR']\n\
         z = zipfile.ZipFile(io.BytesIO(base64.b64decode(open(d + '/zip.b64').read(), validate=True)))\n\
         assert z.testzip() is None\n\
         [info] = z.infolist()\n\
         assert info.filename == 'bootstrap.py' and info.compress_type == zipfile.ZIP_STORED, info\n\
         assert (info.external_attr >> 16) == 0o100644, oct(info.external_attr >> 16)\n\
         assert z.read(info) == open(d + '/handler.py', 'rb').read()\n\
         compile(z.read(info), 'bootstrap.py', 'exec')\n\
         print('ok')",
        &[("DIR", dir.path())],
    );
    assert_eq!(out.trim(), "ok");
}

fn password(seed: usize) -> String {
    // 40 letters and digits, like the ephemeral aws_secretsmanager_random_password the module generates.
    (0..40).map(|i| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[(seed * 31 + i * 17 + i * i) % 56])).collect()
}

/// Runs the rendered handler with the stub boto3 against `pg`, as the bootstrap Lambda would.
fn run_bootstrap(pg: &Postgres, r: &Rendered, secrets: &BTreeMap<String, String>, work: &Path) -> String {
    let arn = |name: &str| format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}");
    let mut all = serde_json::Map::new();
    all.insert(arn(MASTER), serde_json::json!({"username": MASTER, "password": MASTER_PASSWORD}).to_string().into());
    let mut agents = serde_json::Map::new();
    for a in &r.agents {
        let value = serde_json::json!({"engine": "postgres", "username": a.role, "password": secrets[&a.role], "dbname": DB});
        all.insert(arn(&a.role), value.to_string().into());
        agents.insert(a.role.clone(), serde_json::json!({"secret_arn": arn(&a.role), "password_version": a.password_version}));
    }
    let event = serde_json::json!({
        "cluster_arn": "arn:aws:rds:eu-west-1:123456789012:cluster:dev-multi-agent",
        "master_secret_arn": arn(MASTER),
        "database": DB,
        "sql": heredoc(&r.database_tf, "SQL"),
        "agents": agents,
    });
    std::fs::write(work.join("secrets.json"), serde_json::Value::Object(all).to_string()).unwrap();
    std::fs::write(work.join("event.json"), event.to_string()).unwrap();
    std::fs::create_dir_all(work.join("code")).unwrap();
    std::fs::write(work.join("code/bootstrap.py"), heredoc(&r.database_tf, "PYTHON")).unwrap();
    std::fs::copy(support::root().join("tests/database/boto3.py"), work.join("code/boto3.py")).unwrap();
    python(
        "import json, os, sys\n\
         sys.path.insert(0, os.environ['WORK'] + '/code')\n\
         import bootstrap\n\
         print(json.dumps(bootstrap.handler(json.load(open(os.environ['WORK'] + '/event.json')), None)))",
        &[
            ("WORK", work),
            ("STUB_SECRETS", &work.join("secrets.json")),
            ("STUB_LOG", &work.join("statements.log")),
            ("STUB_PGHOST", pg.socket_dir()),
        ],
    )
}

/// The server as Aurora leaves it: a master with CREATEROLE and CREATEDB but no superuser, owning the
/// database, with objects of its own that no agent may touch.
fn aurora_like() -> Postgres {
    let pg = Postgres::start();
    pg.ok("postgres", None, "postgres", &format!(
        "CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD '{MASTER_PASSWORD}'"
    ));
    pg.ok("postgres", None, "postgres", &format!("CREATE DATABASE {DB} OWNER {MASTER}"));
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
    let secrets: BTreeMap<String, String> = r.agents.iter().enumerate().map(|(i, a)| (a.role.clone(), password(i))).collect();

    let first = run_bootstrap(&pg, &r, &secrets, work.path());
    assert!(first.contains("\"passwords_set\""), "{first}");
    // Each agent logs in with the password from its own secret, and creates a table in its own schema
    // without naming it (its search_path), before the second run: the grants must cover existing tables.
    for a in &r.agents {
        let p = Some(secrets[&a.role].as_str());
        pg.ok(&a.role, p, DB, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'ü→✓')");
        let at = pg.ok(&a.role, p, DB, "SELECT schemaname FROM pg_tables WHERE tablename = 'notes' AND tableowner = current_user");
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
            assert!(err.contains("permission denied") || err.contains("must be") || err.contains("not allowed"), "{role}: `{sql}`: {err}");
        };
        // Its own schema: create, read, write.
        pg.ok(role, p, DB, &format!(
            "CREATE TABLE {0}.own (id int); INSERT INTO {0}.own VALUES (1); UPDATE {0}.own SET id = 2; \
             DELETE FROM {0}.own; CREATE INDEX ON {0}.notes (body); DROP TABLE {0}.own", a.schema
        ));
        assert_eq!(pg.ok(role, p, DB, "SELECT body FROM notes").trim(), "ü→✓");
        // Every other agent's schema: read exactly when declared, never write.
        for other in r.agents.iter().filter(|o| o.role != a.role) {
            let s = &other.schema;
            if a.reads.contains(s) {
                assert_eq!(pg.ok(role, p, DB, &format!("SELECT count(*) FROM {s}.notes")).trim(), "1");
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
        assert!(!pg.psql(role, Some("wrong-password-0123456789abcdefghij"), DB, "SELECT 1").status.success());
    }
    // Agents without [agent.database] have no role at all.
    let agents_toml = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let roles = pg.ok("postgres", None, DB, "SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolcanlogin");
    assert!(agents_toml.contains("name = \"troubleshooting\"") && !roles.contains("troubleshooting"), "{roles}");
    eprintln!("bootstrap isolation on PostgreSQL 15: {:.1?}", started.elapsed());
}
