//! The image contract, proven against the rendered tree: the README's contract names exactly the variables
//! and secrets the rendered task definitions set, and the scaffolded reference agents, run as local
//! processes with the environment those task definitions give them, answer `/health`, log JSON lines, log
//! `db_connection_failed` when the database settings are unusable, and carry a request through the
//! supervisor to a specialist. The environment's generated `smoke.py` runs against them, with a local stand-in
//! for the RDS Data API and Bedrock (`tests/contract/fake_aws.py`, which re-computes every request's
//! signature with botocore, pinned in a venv): it passes, makes one model call, fails naming an agent that is
//! down, and waits with `--retry-for` for one that comes back.
//!
//! The environment is read from the rendered `generated/dev` tree (the `module "ecs"` call's `environment`
//! and `secrets`, with its `local.database_agents` conditions and `<CALLEE>_URL` maps, and the
//! `local.agents` ports), not from tfgen's model. There is no Service Connect locally, so each rendered callee URL
//! `http://<agent>:<port>` is mapped to 127.0.0.1 and a free local port of that agent's process. Needs `python3` (3.9+); every process is killed when the test ends, and every wait is bounded.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hcl::{Block, Body, Expression, ObjectKey};
use support::{compile, inputs};
use tfgen::contract;

/// The rendered tree's view of one agent's container.
#[derive(Debug)]
struct Container {
    port: u16,
    health_path: String,
    /// Variable → value; references the test cannot resolve locally keep their expression text.
    environment: BTreeMap<String, String>,
    secrets: Vec<String>,
    /// Whether the agent is a key of `local.database_agents` (it has `[agent.database]`).
    uses_database: bool,
}

fn block<'a>(body: &'a Body, ident: &str, label: Option<&str>) -> &'a Block {
    body.blocks()
        .find(|b| b.identifier() == ident && label.is_none_or(|l| b.labels().first().is_some_and(|x| x.as_str() == l)))
        .unwrap_or_else(|| panic!("no {ident} {label:?} block in the rendered main.tf"))
}

fn attr<'a>(body: &'a Body, key: &str) -> &'a Expression {
    body.attributes()
        .find(|a| a.key() == key)
        .map_or_else(|| panic!("no `{key}` attribute"), hcl::Attribute::expr)
}

fn object(expr: &Expression) -> Vec<(String, &Expression)> {
    let Expression::Object(map) = expr else {
        panic!("expected an object, found {expr:?}")
    };
    map.iter()
        .map(|(k, v)| {
            let key = match k {
                ObjectKey::Identifier(i) => i.to_string(),
                ObjectKey::Expression(Expression::String(s)) => s.clone(),
                other => panic!("unexpected key {other:?}"),
            };
            (key, v)
        })
        .collect()
}

fn text(expr: &Expression) -> String {
    match expr {
        Expression::String(s) => s.clone(),
        Expression::Number(n) => n.to_string(),
        other => hcl::format::to_string(other).unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// The `environment` map one agent's container gets: an object, or `merge()` of objects, of the agent's own
/// entry in `local.agents` (`each.value.X`), or of a per-agent local map (`local.X[each.key]`). Values the
/// test cannot resolve locally (module outputs) keep their expression text.
fn environment_of<'a>(
    expr: &'a Expression,
    agent: &str,
    agent_entry: &'a Expression,
    locals: &'a Body,
) -> Vec<(String, &'a Expression)> {
    if let Expression::FuncCall(call) = expr
        && call.name.name.as_str() == "tomap"
        && call.args.len() == 1
    {
        return environment_of(&call.args[0], agent, agent_entry, locals);
    }
    if let Expression::Conditional(c) = expr {
        let on = condition(&text(&c.cond_expr), agent, agent_entry, locals);
        return environment_of(
            if on { &c.true_expr } else { &c.false_expr },
            agent,
            agent_entry,
            locals,
        );
    }
    if let Expression::FuncCall(call) = expr
        && call.name.name.as_str() == "merge"
    {
        return call
            .args
            .iter()
            .flat_map(|arg| environment_of(arg, agent, agent_entry, locals))
            .collect();
    }
    if let Expression::Object(_) = expr {
        return object(expr);
    }
    let reference = text(expr);
    if let Some(field) = reference.strip_prefix("each.value.") {
        let (_, value) = object(agent_entry)
            .into_iter()
            .find(|(k, _)| k == field)
            .unwrap_or_else(|| panic!("local.agents.{agent} has no `{field}`"));
        return object(value);
    }
    if let Some(name) = reference
        .strip_prefix("local.")
        .and_then(|r| r.strip_suffix("[each.key]"))
    {
        let (_, value) = object(attr(locals, name))
            .into_iter()
            .find(|(k, _)| k == agent)
            .unwrap_or_else(|| panic!("local.{name} has no entry for {agent}"));
        return object(value);
    }
    panic!("the contract test cannot read the ecs module's environment `{reference}`; teach environment_of")
}

/// The conditions the ecs module's environment may use: `contains(keys(local.X), each.key)` (the agent is
/// a key of a local map) or `each.value.X` (a bool of the agent's entry in `local.agents`).
fn condition(cond: &str, agent: &str, agent_entry: &Expression, locals: &Body) -> bool {
    if let Some(name) = cond
        .strip_prefix("contains(keys(local.")
        .and_then(|r| r.strip_suffix("), each.key)"))
    {
        return object(attr(locals, name)).iter().any(|(k, _)| k == agent);
    }
    let field = cond
        .strip_prefix("each.value.")
        .unwrap_or_else(|| panic!("the contract test cannot read the condition `{cond}`; teach condition()"));
    let (_, value) = object(agent_entry)
        .into_iter()
        .find(|(k, _)| k == field)
        .unwrap_or_else(|| panic!("local.agents.{agent} has no `{field}`"));
    let Expression::Bool(on) = value else {
        panic!("local.agents.{agent}.{field} is not a bool: {value:?}")
    };
    *on
}

/// The value of a per-agent reference the test can resolve: `local.X[each.key]` where `local.X` maps
/// agent names to strings.
fn per_agent_value(reference: &str, agent: &str, locals: &Body) -> Option<String> {
    let name = reference.strip_prefix("local.")?.strip_suffix("[each.key]")?;
    let map = locals.attributes().find(|a| a.key() == name)?;
    object(map.expr())
        .into_iter()
        .find(|(k, _)| k == agent)
        .and_then(|(_, v)| match v {
            Expression::String(s) => Some(s.clone()),
            _ => None,
        })
}

/// Reads every agent's container from the rendered root module.
fn containers(main_tf: &str) -> BTreeMap<String, Container> {
    let body: Body = hcl::parse(main_tf).expect("parse main.tf");
    let locals = &block(&body, "locals", None).body;
    let ecs = &block(&body, "module", Some("ecs")).body;
    object(attr(locals, "agents"))
        .into_iter()
        .map(|(name, agent)| {
            let fields: BTreeMap<String, String> = object(agent).into_iter().map(|(k, v)| (k, text(v))).collect();
            let env = environment_of(attr(ecs, "environment"), &name, agent, locals)
                .into_iter()
                .map(|(k, v)| {
                    // A local that is a string (`local.region`, `local.bedrock_model_id`) is read as one.
                    let literal = |reference: &str| {
                        let local = reference.strip_prefix("local.")?;
                        let attribute = locals.attributes().find(|a| a.key() == local)?;
                        matches!(attribute.expr(), Expression::String(_)).then(|| text(attribute.expr()))
                    };
                    let value = match text(v).as_str() {
                        "each.key" => name.clone(),
                        other => literal(other)
                            .or_else(|| per_agent_value(other, &name, locals))
                            .unwrap_or_else(|| other.to_string()),
                    };
                    (k, value)
                })
                .collect();
            let secrets = environment_of(attr(ecs, "secrets"), &name, agent, locals)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let container = Container {
                port: fields["port"].parse().expect("port"),
                health_path: fields["health_check_path"].clone(),
                environment: env,
                secrets,
                uses_database: locals
                    .attributes()
                    .find(|a| a.key() == "database_agents")
                    .is_some_and(|a| object(a.expr()).iter().any(|(k, _)| *k == name)),
            };
            (name, container)
        })
        .collect()
}

#[test]
fn the_contract_names_what_the_task_definitions_set() {
    let tree = compile(&inputs("dev"));
    let containers = containers(tree.get("main.tf").unwrap());
    let names = |list: &[(&str, &str)]| -> Vec<String> { list.iter().map(|(k, _)| (*k).to_string()).collect() };
    assert!(
        containers.values().any(|c| c.uses_database) && containers.values().any(|c| !c.uses_database),
        "dev should have agents with and without the database: {containers:?}"
    );
    let mut any_url = false;
    for (name, c) in &containers {
        let mut want = names(contract::ENVIRONMENT);
        let mut want_secrets = names(contract::SECRETS);
        if c.uses_database {
            want.extend(names(contract::DATABASE_ENVIRONMENT));
        }
        want.sort_unstable();
        want_secrets.sort_unstable();
        let mut set: Vec<String> = c.environment.keys().filter(|k| !k.ends_with("_URL")).cloned().collect();
        set.sort_unstable();
        assert_eq!(
            set, want,
            "{name}: the task definition's variables differ from the contract's"
        );
        let mut secrets = c.secrets.clone();
        secrets.sort_unstable();
        assert_eq!(secrets, want_secrets, "{name}: secrets differ from the contract's");
        // Every rendered callee URL follows the contract's convention, to the callee's rendered port.
        for (var, url) in c.environment.iter().filter(|(k, _)| k.ends_with("_URL")) {
            any_url = true;
            let (callee, callee_c) = containers
                .iter()
                .find(|(n, _)| contract::url_var(n) == *var)
                .unwrap_or_else(|| panic!("{name}: {var} names no agent"));
            assert_eq!(*url, contract::url(callee, callee_c.port), "{name}: {var}");
        }
        assert_eq!(c.environment["LOG_FORMAT"], "json");
        assert_eq!(c.health_path, contract::HEALTH_PATH);
    }
    assert!(any_url, "the rendered dev tree gives no agent a callee URL");
    let ecs = tree.get("modules/ecs/main.tf").unwrap();
    assert!(ecs.contains("readonlyRootFilesystem = var.read_only_root_filesystem"));
    assert!(ecs.contains(&format!("containerPath = \"{}\"", contract::WRITABLE_DIR)));
    assert!(
        ecs.contains("containerPort"),
        "the task definition maps the agent's port"
    );
    let probe = contract::health_probe("${var.container_port}", "${var.health_check_path}");
    assert!(
        ecs.contains(&format!("command     = [\"CMD\", \"python3\", \"-c\", \"{probe}\"]")),
        "the task definition's health check is not contract::health_probe"
    );
    let alarms = tree.get("modules/monitoring/database_alarms.tf").unwrap();
    assert!(alarms.contains(&format!("$.event = \\\"{}\\\"", contract::DB_FAILURE_EVENT)));
}

/// Reference agents running as local processes; killed (and reaped) on drop.
struct Running {
    children: Vec<(String, Child)>,
    logs: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.0 exchange; returns (status, body). Bounded by socket timeouts.
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    Ok((status, body))
}

/// The callee URLs the rendered tree gives an agent: the `*_URL` variables of its container.
fn callee_urls(c: &Container) -> BTreeMap<String, String> {
    c.environment
        .iter()
        .filter(|(k, v)| k.ends_with("_URL") && v.starts_with("http://"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `http://order-management:8001` → `http://127.0.0.1:<local port of order-management>`.
fn localise(url: &str, all: &BTreeMap<String, Container>, local: &BTreeMap<String, u16>) -> String {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, port) = rest.split_once(':').expect("host:port");
    let port: u16 = port.trim_end_matches('/').parse().expect("port");
    let callee = all.get(host).unwrap_or_else(|| panic!("{url} names no agent"));
    assert_eq!(callee.port, port, "{url}: {host} listens on {}", callee.port);
    format!("http://127.0.0.1:{}", local[host])
}

/// The stand-in ARN an agent's `DB_SECRET_ARN` gets when the tree's value is a module output.
fn stand_in_secret(agent: &str) -> String {
    format!("arn:aws:secretsmanager:eu-west-1:000000000000:secret:{agent}-local-test")
}

/// How the agents are started: where their files are, the rendered containers, their local ports, the agent
/// given an unusable database secret (if any), and variables added to every agent's environment.
struct Launch<'a> {
    dir: &'a Path,
    all: &'a BTreeMap<String, Container>,
    local: BTreeMap<String, u16>,
    broken_db: &'a str,
    extra: &'a [(String, String)],
}

impl Launch<'_> {
    /// Starts one agent, its stdout's JSON lines collected into `logs`.
    fn spawn(&self, name: &str, logs: &Arc<Mutex<BTreeMap<String, Vec<String>>>>) -> Child {
        let c = &self.all[name];
        let mut cmd = Command::new(std::env::var("TFGEN_PYTHON").unwrap_or_else(|_| "python3".into()));
        cmd.arg("app.py")
            .current_dir(self.dir.join("agents").join(name))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // What the Dockerfile's ENV sets; the port is moved to a free local one.
            .env(contract::PORT_VAR, self.local[name].to_string())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .envs(c.environment.iter().filter(|(k, _)| !k.ends_with("_URL")))
            .envs(self.extra.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (var, url) in callee_urls(c) {
            cmd.env(var, localise(&url, self.all, &self.local));
        }
        for secret in &c.secrets {
            cmd.env(secret, "{}");
        }
        // The database settings that are module outputs (ARNs known after apply) get stand-in ARNs of the
        // right service; the agent meant to fail gets a secret ARN that is not one.
        for (var, service, kind) in [
            ("DB_CLUSTER_ARN", "rds", "cluster"),
            ("DB_SECRET_ARN", "secretsmanager", "secret"),
        ] {
            if c.environment.get(var).is_some_and(|v| v.starts_with("module.")) {
                let value = if name == self.broken_db && var == "DB_SECRET_ARN" {
                    "not-an-arn".to_string()
                } else if var == "DB_SECRET_ARN" {
                    stand_in_secret(name)
                } else {
                    format!("arn:aws:{service}:eu-west-1:000000000000:{kind}:{name}-local-test")
                };
                cmd.env(var, value);
            }
        }
        let mut child = cmd.spawn().expect("run python3 (the contract test needs Python 3.9+)");
        let stdout = child.stdout.take().unwrap();
        let logs = Arc::clone(logs);
        let agent = name.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                logs.lock().unwrap().entry(agent.clone()).or_default().push(line);
            }
        });
        child
    }
}

/// Writes every agent's scaffolded files and starts them all; `extra` is added to each one's environment
/// (the AWS endpoints of a smoke check).
fn start<'a>(
    dir: &'a Path,
    all: &'a BTreeMap<String, Container>,
    broken_db: &'a str,
    extra: &'a [(String, String)],
) -> (Running, Launch<'a>) {
    let launch = Launch {
        dir,
        all,
        local: all.keys().map(|n| (n.clone(), free_port())).collect(),
        broken_db,
        extra,
    };
    let mut running = Running {
        children: Vec::new(),
        logs: Arc::new(Mutex::new(BTreeMap::new())),
    };
    for (name, c) in all {
        let agent = tfgen::scaffold::DeclaredAgent {
            name: name.clone(),
            port: c.port,
            health_check_path: c.health_path.clone(),
        };
        for (file, text) in tfgen::scaffold::agent_files(&agent) {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let child = launch.spawn(name, &running.logs);
        running.children.push((name.clone(), child));
    }
    (running, launch)
}

/// Health: every agent answers its rendered health check path within 20 s.
fn wait_healthy(running: &mut Running, all: &BTreeMap<String, Container>, local: &BTreeMap<String, u16>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for (name, c) in all {
        loop {
            if let Ok((200, body)) = http(local[name], "GET", &c.health_path, "") {
                assert!(body.contains("\"ok\""), "{name}: {body}");
                break;
            }
            for (n, child) in &mut running.children {
                assert!(child.try_wait().unwrap().is_none(), "{n} exited early");
            }
            assert!(Instant::now() < deadline, "{name} never answered {}", c.health_path);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn reference_agents_honour_the_contract_with_the_rendered_environment() {
    let tree = compile(&inputs("dev"));
    let all = containers(tree.get("main.tf").unwrap());
    assert!(all.contains_key("supervisor") && all.len() >= 2, "{all:?}");
    let dir = tempfile::tempdir().unwrap();
    // An agent with the database gets an unusable secret ARN; the others must log no failure.
    let broken_db = all
        .iter()
        .find(|(_, c)| c.uses_database)
        .map(|(n, _)| n.clone())
        .expect("an agent with [agent.database]");
    let broken_db = broken_db.as_str();
    let (mut running, launch) = start(dir.path(), &all, broken_db, &[]);
    let local = &launch.local;

    wait_healthy(&mut running, &all, local);

    // A request through the supervisor reaches a specialist, by the URL its environment gives it.
    let supervisor_calls = callee_urls(&all["supervisor"]);
    let specialist = all
        .keys()
        .find(|n| supervisor_calls.contains_key(&contract::url_var(n)))
        .expect("the rendered supervisor calls a specialist");
    let (status, body) = http(
        local["supervisor"],
        "POST",
        "/",
        &format!(r#"{{"agent": "{specialist}", "message": "where is order 42?"}}"#),
    )
    .expect("call the supervisor");
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("JSON reply");
    assert_eq!(reply["agent"], "supervisor", "{reply}");
    assert_eq!(reply["reply"]["agent"], specialist.as_str(), "{reply}");

    // Logs: every line every agent wrote is one JSON object; the calls and the DB failure are among them.
    std::thread::sleep(Duration::from_millis(300));
    let logs = running.logs.lock().unwrap().clone();
    for (name, lines) in &logs {
        for line in lines {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name} logged a non-JSON line ({e}): {line}"));
            assert_eq!(v["agent"], name.as_str(), "{line}");
        }
    }
    let events = |name: &str| -> Vec<String> {
        logs.get(name)
            .map(|l| {
                l.iter()
                    .filter_map(|x| serde_json::from_str::<serde_json::Value>(x).ok())
                    .map(|v| v["event"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(events("supervisor").contains(&"call".to_string()), "{logs:?}");
    assert!(events(specialist).contains(&"request".to_string()), "{logs:?}");
    assert!(
        events(broken_db).contains(&contract::DB_FAILURE_EVENT.to_string()),
        "{broken_db} was given an unusable DB_SECRET_ARN but logged no {}: {logs:?}",
        contract::DB_FAILURE_EVENT
    );
    for name in all.keys().filter(|n| n.as_str() != broken_db) {
        assert!(
            !events(name).contains(&contract::DB_FAILURE_EVENT.to_string()),
            "{name} has a usable database environment but logged a failure: {logs:?}"
        );
    }
}

/// What a Fargate task's scratch volume is when the reference agent starts: a root-owned directory with
/// Fargate's mode 0755, unless the image declares `VOLUME ["/tmp"]`, in which case ECS copies the image's
/// `/tmp` into it, mode included (AWS, "Use bind mounts with Amazon ECS"). The mode is read from the
/// scaffolded Dockerfile, so a Dockerfile that drops either line makes the volume 0755 again.
fn fargate_scratch_mode(dockerfile: &str) -> u32 {
    let declared = dockerfile.lines().any(|l| l.trim() == "VOLUME [\"/tmp\"]");
    let image_mode = dockerfile.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("RUN install -d -m ")?;
        let (mode, path) = rest.split_once(' ')?;
        (path.trim() == "/tmp").then(|| u32::from_str_radix(mode, 8).ok())?
    });
    match (declared, image_mode) {
        (true, Some(mode)) => mode,
        _ => 0o755,
    }
}

/// Runs the scaffolded agent as Fargate would (issue 22, item 8): user 10001, the root file system
/// read-only, and `/tmp` a root-owned directory of `mode` bind-mounted over it, in a private mount
/// namespace (`unshare`, as root). The code is read from standard input, opened relative to the working
/// directory, which outlives the mount when the checkout itself is under `/tmp` (python3 would open a
/// script named on its command line by its absolute path). Returns whether it started, and its log.
fn run_as_fargate(code: &Path, mode: u32) -> (bool, String) {
    run_as_fargate_with(code, mode, None)
}

/// [`run_as_fargate`], with `TLS_PORT` set when `tls` is given; once the agent answers on its HTTP port, a
/// real TLS client (Python's `ssl`, a fresh context that trusts the agent's own certificate only once it
/// has read it) asks `GET /health` on the TLS port. Returns whether both answered, and the log with the
/// client's report (`tls: <version> <subject> <status> <body>`).
fn run_as_fargate_with(code: &Path, mode: u32, tls: Option<u16>) -> (bool, String) {
    use std::os::unix::fs::PermissionsExt;
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    let port = free_port();
    let script = format!(
        "mount --bind '{}' /tmp && mount -o remount,bind,ro / && exec setpriv --reuid={uid} --regid={uid} \
         --clear-groups /usr/bin/python3 - < app.py",
        scratch.path().display(),
        uid = contract::USER_ID
    );
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .current_dir(code)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env(contract::PORT_VAR, port.to_string())
        .envs(tls.map(|p| (contract::TLS_PORT_VAR, p.to_string())))
        .env("AGENT_NAME", "troubleshooting")
        .env("TMPDIR", contract::WRITABLE_DIR)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux)");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut started = loop {
        if http(port, "GET", contract::HEALTH_PATH, "").is_ok_and(|(status, _)| status == 200) {
            break true;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut client = String::new();
    if let (true, Some(tls_port)) = (started, tls) {
        let (ok, report) = tls_get(tls_port, contract::HEALTH_PATH);
        started = ok;
        client = report;
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}{client}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (started, log)
}

/// `GET path` over TLS on a local port, as a load balancer would: TLS 1.2 or later, the server's
/// certificate read but not trusted. Returns whether it answered 200, and `tls: <version> <subject>
/// <status> <body>`.
fn tls_get(port: u16, path: &str) -> (bool, String) {
    let client = format!(
        "import http.client, ssl, subprocess\n\
         ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n\
         ctx.minimum_version = ssl.TLSVersion.TLSv1_2\n\
         ctx.check_hostname = False\n\
         ctx.verify_mode = ssl.CERT_NONE\n\
         c = http.client.HTTPSConnection('127.0.0.1', {port}, context=ctx, timeout=10)\n\
         c.connect()\n\
         der, version = c.sock.getpeercert(binary_form=True), c.sock.version()\n\
         c.request('GET', '{path}')\n\
         r = c.getresponse()\n\
         subject = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-noout', '-subject'], input=der,\n\
                                  capture_output=True, check=True).stdout.decode().strip()\n\
         print('tls:', version, subject, r.status, r.read().decode())\n"
    );
    let out = Command::new("python3").args(["-c", &client]).output().expect("python3");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = out.status.success() && report.contains(" 200 ");
    (ok, report)
}

#[test]
fn the_reference_agent_writes_temporary_files_under_fargates_runtime() {
    use std::os::unix::fs::PermissionsExt;
    // The mount namespace needs root, as CI runs the suite.
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "this test runs as root (unshare, mount)"
    );
    let code = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(code.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut dockerfile = String::new();
    let agent = tfgen::scaffold::DeclaredAgent {
        name: "troubleshooting".into(),
        port: 8004,
        health_check_path: tfgen::contract::HEALTH_PATH.into(),
    };
    for (file, text) in tfgen::scaffold::agent_files(&agent) {
        let name = Path::new(&file).file_name().unwrap().to_owned();
        if name == "Dockerfile" {
            dockerfile = text.clone();
        }
        std::fs::write(code.path().join(name), text).unwrap();
    }
    let mode = fargate_scratch_mode(&dockerfile);
    assert_eq!(
        mode, 0o1777,
        "the scaffolded Dockerfile gives /tmp no writable mode:\n{dockerfile}"
    );
    let (started, log) = run_as_fargate(code.path(), mode);
    assert!(started, "the agent did not start under Fargate's conditions:\n{log}");
    assert!(!log.contains("scratch_unwritable"), "{log}");

    // The same image without the VOLUME line gets Fargate's default, and the agent says so and stops.
    let (started, log) = run_as_fargate(code.path(), 0o755);
    assert!(!started && log.contains("\"event\": \"scratch_unwritable\""), "{log}");

    // In-transit encryption: with TLS_PORT set, the same agent, under the same conditions (read-only root,
    // user 10001, /tmp the only writable place), creates its certificate at start and answers a real TLS
    // client on that port: TLS 1.2 or later, a certificate naming the agent, its health check.
    let (started, log) = run_as_fargate_with(code.path(), mode, Some(free_port()));
    assert!(
        started,
        "the agent did not serve HTTPS under Fargate's conditions:\n{log}"
    );
    let report = log.lines().find(|l| l.starts_with("tls: ")).unwrap_or_default();
    assert!(
        report.starts_with("tls: TLSv1.3 ") || report.starts_with("tls: TLSv1.2 "),
        "{log}"
    );
    assert!(
        report.contains("CN = troubleshooting") || report.contains("CN=troubleshooting"),
        "{log}"
    );
    assert!(report.contains("\"status\": \"ok\""), "{log}");
}

/// The rendered prod tree (in-transit encryption on by default) gives every agent the contract's TLS port:
/// `TLS_PORT` in its environment, its target group on that port over HTTPS, the task definition mapping it.
#[test]
fn prod_tasks_get_the_contracts_tls_port() {
    let tree = compile(&inputs("prod"));
    let main = tree.get("main.tf").unwrap();
    assert!(
        main.contains(&format!("tls_port = {}", contract::TLS_PORT)),
        "prod's root sets no local.tls_port = {}",
        contract::TLS_PORT
    );
    for (name, c) in containers(main) {
        assert_eq!(
            c.environment.get(contract::TLS_PORT_VAR).map(String::as_str),
            Some("tostring(local.tls_port)"),
            "{name}: {:?}",
            c.environment
        );
    }
    assert!(
        main.contains("target_protocol     = \"HTTPS\""),
        "prod's target groups are not HTTPS"
    );
    let ecs = tree.get("modules/ecs/main.tf").unwrap();
    assert!(
        ecs.contains("containerPort = var.tls.port"),
        "the task definition does not map the TLS port"
    );
    // The README: switching replaces the target groups under another name, the new ones created first.
    let alb = tree.get("modules/alb/main.tf").unwrap();
    let group = &alb[alb.find("resource \"aws_lb_target_group\" \"this\"").unwrap()..];
    let group = &group[..group.find("\n}\n").unwrap()];
    assert!(group.contains("create_before_destroy = true"), "{group}");
    assert!(main.contains("target_group_name = \"prod-supervisor-tls\""));
    // dev, off by default, sets none of it.
    let dev = compile(&inputs("dev"));
    let dev_main = dev.get("main.tf").unwrap();
    assert!(!dev_main.contains(contract::TLS_PORT_VAR));
    assert!(dev_main.contains("target_group_name = \"dev-supervisor-tg\""));
}

/// botocore, pinned as the emulator's is: the fake AWS endpoint checks the agents' signatures with it.
const BOTOCORE: &str = "botocore==1.44.8";

/// A process killed (and reaped) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the tree's `smoke.py` against the local agents (every agent at its own local port); returns its
/// exit code and output. Bounded by its own per-request timeout.
fn run_smoke(script: &Path, local: &BTreeMap<String, u16>, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(std::env::var("TFGEN_PYTHON").unwrap_or_else(|_| "python3".into()));
    cmd.arg(script).args(["--timeout", "10"]).args(args);
    for (name, port) in local {
        cmd.arg("--agent-url").arg(format!("{name}=http://127.0.0.1:{port}"));
    }
    outcome(&cmd.output().expect("run smoke.py"))
}

/// A finished command's exit code (-1: killed by a signal) and its output, stdout then stderr.
fn outcome(out: &std::process::Output) -> (i32, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Issue 28, item 2: the environment's generated smoke check, run against the scaffolded reference agents
/// (with the rendered dev environment) and a local stand-in for the two AWS APIs they call, whose every
/// signature botocore re-computes. It passes when everything answers, makes exactly one model call, and
/// fails, naming the agent, when a specialist is down.
#[test]
fn the_smoke_check_passes_through_every_agent_and_fails_when_one_is_down() {
    let tree = compile(&inputs("dev"));
    let all = containers(tree.get("main.tf").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("smoke.py");
    std::fs::write(&script, tree.get("smoke.py").expect("the tree has smoke.py")).unwrap();

    // The AWS stand-in: each database agent's stand-in secret maps to its schema.
    let region = all["supervisor"].environment["AWS_DEFAULT_REGION"].clone();
    let model = &all["supervisor"].environment["BEDROCK_MODEL_ID"];
    assert!(
        region.starts_with("eu-") && model.contains(':'),
        "{region} {model}: read from the tree's locals"
    );
    let schemas: BTreeMap<String, String> = all
        .iter()
        .filter(|(_, c)| c.uses_database)
        .map(|(n, c)| (stand_in_secret(n), c.environment["DB_SCHEMA"].clone()))
        .collect();
    let token = "container-token-for-the-smoke-test";
    let config = serde_json::json!({ "token": token, "region": region, "schemas": schemas });
    let aws_port = free_port();
    let python = support::python_tool("botocore", &[BOTOCORE]).join("python");
    let fake = Command::new(python)
        .arg(support::root().join("tests/contract/fake_aws.py"))
        .arg(aws_port.to_string())
        .arg(config.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the fake AWS endpoint");
    let mut fake = Killed(fake);
    let aws_log = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    {
        let aws_log = Arc::clone(&aws_log);
        let stdout = fake.0.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                aws_log
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).expect("the fake logs JSON"));
            }
        });
    }
    let endpoint = format!("http://127.0.0.1:{aws_port}");
    let extra = [
        ("AWS_ENDPOINT_URL_RDS_DATA", endpoint.clone()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.clone()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{endpoint}/creds")),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let (mut running, launch) = start(dir.path(), &all, "", &extra);
    let local = &launch.local;
    wait_healthy(&mut running, &all, local);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", aws_port)).is_err() {
        assert!(Instant::now() < deadline, "the fake AWS endpoint never listened");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Everything up: every contract check of every agent passes, through the script's own rules.
    let (code, out) = run_smoke(&script, local, &[]);
    assert_eq!(code, 0, "{out}\nAWS: {:?}", aws_log.lock().unwrap());
    let supervisor_calls: Vec<&str> = all
        .keys()
        .filter(|n| callee_urls(&all["supervisor"]).contains_key(&contract::url_var(n)))
        .map(String::as_str)
        .collect();
    assert!(!supervisor_calls.is_empty());
    for callee in &supervisor_calls {
        assert!(out.contains(&format!("call:{callee}")), "{out}");
    }
    for (name, c) in &all {
        if c.uses_database {
            let line = out
                .lines()
                .find(|l| l.starts_with("ok") && l.contains(name.as_str()) && l.contains("database"))
                .unwrap_or_else(|| panic!("no database check of {name}:\n{out}"));
            assert!(line.contains(&c.environment["DB_SCHEMA"]), "{line}");
        }
    }
    assert!(out.contains(", 0 failed, 0 agent(s) not reached"), "{out}");
    let calls = aws_log.lock().unwrap().clone();
    let models: Vec<&serde_json::Value> = calls.iter().filter(|c| c["api"] == "bedrock").collect();
    assert_eq!(models.len(), 1, "one model call per smoke check: {calls:?}");
    assert_eq!(
        models[0]["model"],
        all["supervisor"].environment["BEDROCK_MODEL_ID"].as_str()
    );
    assert!(
        calls.iter().all(|c| c["problem"].is_null() && c["refused"].is_null()),
        "every request carries the container's credentials and a signature botocore agrees with: {calls:?}"
    );
    let secrets: std::collections::BTreeSet<&str> = calls
        .iter()
        .filter(|c| c["api"] == "rds-data")
        .filter_map(|c| c["secret"].as_str())
        .collect();
    assert_eq!(
        secrets,
        schemas.keys().map(String::as_str).collect(),
        "each database agent used its own secret"
    );

    // A specialist down: its own check and its caller's both fail, by name, and the script exits 1.
    let down = supervisor_calls[0].to_string();
    let (_, child) = running.children.iter_mut().find(|(n, _)| *n == down).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, out) = run_smoke(&script, local, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("FAIL  supervisor: call:{down} failed")), "{out}");
    assert!(out.contains(&format!("FAIL  {down}: GET http://127.0.0.1:")), "{out}");

    // `--retry-for`: the agent comes back (as a replaced task would) while the check waits, and it passes.
    let restart = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| run_smoke(&script, local, &["--retry-for", "25"]));
        std::thread::sleep(Duration::from_secs(2));
        let child = launch.spawn(&down, &running.logs);
        (waiting.join().unwrap(), child)
    });
    let ((code, out), child) = restart;
    running.children.push((down.clone(), child));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("check(s) failed; again in 10 s"), "{out}");
}

/// The smoke check's TLS: every certificate is verified; against the load balancer's own name (which the
/// certificate does not carry) the chain is, but not the name.
#[test]
fn the_smoke_check_verifies_certificates() {
    let tree = compile(&inputs("prod"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smoke.py"), tree.get("smoke.py").unwrap()).unwrap();
    let probe = "import ssl, smoke\n\
                 for url in ['https://multi-agent-prod-123.eu-west-1.elb.amazonaws.com', 'https://api.example.com']:\n\
                 \x20   c = smoke.tls_context(url)\n\
                 \x20   print(url, c.check_hostname, c.verify_mode == ssl.CERT_REQUIRED)";
    let out = Command::new(std::env::var("TFGEN_PYTHON").unwrap_or_else(|_| "python3".into()))
        .args(["-c", probe])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("elb.amazonaws.com False True"), "{text}");
    assert!(text.contains("https://api.example.com True True"), "{text}");
}

/// A fake `terraform` (the tree's cluster and service names) and `aws` (an ECS desired count that rises
/// for the supervisor from its third read on), for the load test's autoscaling watch.
fn fake_ecs(bin: &Path, agents: &[&String]) {
    let names = |prefix: &str| {
        let entries: Vec<String> = agents.iter().map(|a| format!("\"{a}\":\"{prefix}-{a}\"")).collect();
        format!("{{{}}}", entries.join(","))
    };
    let terraform = format!(
        "#!/usr/bin/env bash\ncase \"$*\" in\n  \"output -json cluster_names\") echo '{}' ;;\n  \"output -json service_names\") echo '{}' ;;\n  *) exit 1 ;;\nesac\n",
        names("cluster"),
        names("service")
    );
    let aws = "#!/usr/bin/env bash\n\
               test \"$1 $2 $7\" = \"ecs describe-services --services\" || exit 1\n\
               n=$(( $(cat \"$(dirname \"$0\")/reads-$8\" 2>/dev/null || echo 0) + 1 ))\n\
               echo $n > \"$(dirname \"$0\")/reads-$8\"\n\
               if [ \"$8\" = service-supervisor ] && [ $n -gt 2 ]; then echo 2; else echo 1; fi\n";
    std::fs::create_dir_all(bin).unwrap();
    for (name, text) in [("terraform", terraform.as_str()), ("aws", aws)] {
        std::fs::write(bin.join(name), text).unwrap();
        std::fs::set_permissions(bin.join(name), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
}

/// Runs the scaffolded load test (Locust, headless) against the local agents; its exit code and output.
fn run_load_test(locust: &Path, repo: &Path, local: &BTreeMap<String, u16>, args: &[&str]) -> (i32, String) {
    let urls: Vec<String> = local.iter().map(|(n, p)| format!("{n}=http://127.0.0.1:{p}")).collect();
    let path = format!(
        "{}:{}",
        repo.join("fake-bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(locust)
        .arg("-f")
        .arg(repo.join("load_test/locustfile.py"))
        .args(["--headless", "--only-summary", "--env", "dev", "--watch-seconds", "1"])
        .arg("--host")
        .arg(format!("http://127.0.0.1:{}", local["supervisor"]))
        .arg("--agent-urls")
        .arg(urls.join(","))
        .args(args)
        .env("PATH", path)
        .output()
        .expect("run locust");
    outcome(&out)
}

/// Issue 28, item 3: the scaffolded load test (Locust, pinned by its own requirements file) against the
/// reference agents on loopback, bounded in time: it ramps to the entry agent's max_count, reports the
/// error rate, p50/p95/p99 and when autoscaling raised a desired count, and fails when an agent is down.
#[test]
fn the_load_test_ramps_reports_and_fails_when_an_agent_is_down() {
    let tree = compile(&inputs("dev"));
    let all = containers(tree.get("main.tf").unwrap());
    let dir = tempfile::tempdir().unwrap();
    // The repository as `tfgen init` and `tfgen render dev` leave it: the load test and the dev tree.
    for (path, text) in tfgen::scaffold::load_test_files() {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("generated/dev")).unwrap();
    std::fs::write(dir.path().join("generated/dev/smoke.py"), tree.get("smoke.py").unwrap()).unwrap();
    fake_ecs(&dir.path().join("fake-bin"), &all.keys().collect::<Vec<_>>());
    let requirements = std::fs::read_to_string(dir.path().join("load_test/requirements.txt")).unwrap();
    let pins: Vec<&str> = requirements
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let locust = support::python_tool("locust", &pins).join("locust");

    let agents_dir = tempfile::tempdir().unwrap();
    let (mut running, launch) = start(agents_dir.path(), &all, "", &[]);
    let local = &launch.local;
    wait_healthy(&mut running, &all, local);

    let started = Instant::now();
    let (code, out) = run_load_test(
        &locust,
        dir.path(),
        local,
        &["--users-per-task", "3", "--ramp-seconds", "4", "--hold-seconds", "3"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(started.elapsed() < Duration::from_secs(60), "the run is bounded: {out}");
    // The peak: the entry agent's max_count, as the tree's smoke check gives it, times 3 users per task.
    let smoke = tree.get("smoke.py").unwrap();
    let agents: Vec<serde_json::Value> = serde_json::from_str(support::smoke_agents(smoke)).unwrap();
    let entry = agents.iter().find(|a| a["model"] == true).unwrap();
    let max_count = entry["max_count"].as_u64().unwrap();
    let peak = format!(
        "peak: {} users ({}'s max_count {max_count} x 3 per task)",
        3 * max_count,
        entry["name"].as_str().unwrap()
    );
    for wanted in [
        "load test of dev: ",
        ", 0.0% failed (0)",
        "latency: p50 ",
        peak.as_str(),
        "autoscaling: supervisor 1 -> 2 tasks at ",
    ] {
        assert!(out.contains(wanted), "no `{wanted}` in:\n{out}");
    }
    let requests: u64 = out
        .split("load test of dev: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(requests > 0, "{out}");

    // --max-requests bounds it too: a long run stops at 5 requests. And without the tree's outputs
    // (no state here) the report says why autoscaling was not observed.
    std::fs::write(
        dir.path().join("fake-bin/terraform"),
        "#!/usr/bin/env bash\necho 'Error: No outputs found' >&2\nexit 1\n",
    )
    .unwrap();
    let (_, out) = run_load_test(
        &locust,
        dir.path(),
        local,
        &[
            "--users-per-task",
            "3",
            "--ramp-seconds",
            "60",
            "--hold-seconds",
            "60",
            "--max-requests",
            "5",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "--max-requests did not stop it: {out}"
    );
    assert!(out.contains("load test of dev: "), "{out}");
    assert!(
        out.contains("autoscaling: no desired count rose (not observed: `terraform output -json` failed"),
        "{out}"
    );

    // A specialist down: requests to it fail, the report says so, and Locust exits 1.
    let down = "troubleshooting";
    let (_, child) = running.children.iter_mut().find(|(n, _)| n == down).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, out) = run_load_test(
        &locust,
        dir.path(),
        local,
        &["--users-per-task", "10", "--ramp-seconds", "2", "--hold-seconds", "4"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains(", 0.0% failed (0)"), "{out}");
}
