//! Deploys for real (issue 5): dev and prod go through a whole life cycle against an AWS emulator.
//!
//! For each environment: render in memory → `terraform init` (offline, through the provider mirror) → `plan`
//! → `apply` → `plan -detailed-exitcode` must find nothing to do → a spec change (a sixth agent, a raised
//! desired count) → `plan -out` + `show -json`: only the new agent's resources are added, the rest is
//! updated in place, nothing is deleted or replaced (least of all a stateful resource) → `apply` → plan is
//! clean again → `destroy` → the state is empty.
//!
//! The emulator is moto in server mode (pinned in [`MOTO`], installed by [`support::python_tool`]), started
//! through `tests/emulator/moto_shim.py`, which fills the few API gaps between moto and the AWS provider.
//! The generated Terraform is not changed for the emulator: the test reaches moto only through environment
//! variables and `*_override.tf` files in its own copy of the tree (see [`write_overrides`]).
//!
//! Like the other Terraform tests these fail, never skip, when Terraform, Python or the package index is
//! missing. Each environment has its own moto on a free loopback port and a watchdog that stops it after
//! [`DEADLINE`], so a provider stuck in retries fails the test instead of hanging CI.

mod support;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{compile, tf_env, write_tree};
use tfgen::load::{Inputs, Overrides};

/// The emulator, pinned with the packages it talks through, so that a new release cannot change a CI run.
const MOTO: &[&str] = &[
    "moto[server]==5.2.5",
    "boto3==1.44.8",
    "botocore==1.44.8",
    "Flask==3.1.3",
    "flask-cors==6.0.5",
    "Werkzeug==3.1.9",
];

/// A whole cycle takes a few minutes; past this the emulator is stopped so that terraform fails fast.
const DEADLINE: Duration = Duration::from_secs(25 * 60);

/// The agent the spec change adds, and the port it listens on (free in `environments/agents.toml`).
const NEW_AGENT: &str = "billing";
const NEW_PORT: u16 = 8005;
/// The existing agent whose desired count the spec change raises.
const SCALED_AGENT: &str = "order-management";

#[test]
fn dev_deploys_for_real() {
    deploy_for_real("dev");
}

#[test]
fn prod_deploys_for_real() {
    deploy_for_real("prod");
}

fn deploy_for_real(env: &str) {
    let moto = Moto::start(env);
    let work = tempfile::tempdir().expect("create work directory");
    let dir = work.path().join(env);
    let aws = moto.aws_env(work.path());
    let mut log = PhaseLog::new(env);

    // Render in memory. A certificate in the spec must exist in the (empty) emulated account.
    let committed = support::inputs(env);
    let env_text = with_emulator_certificate(&committed.env.text, &moto);
    let inputs = Inputs::from_text(env, &env_text, &committed.agents.text, Overrides::default());
    render_into(&inputs, &dir);

    let t = Instant::now();
    run(&dir, &["init", "-input=false", "-no-color"], &aws, &moto);
    log.phase("init", t, None);

    let t = Instant::now();
    run(
        &dir,
        &["plan", "-input=false", "-no-color", "-out=initial.tfplan"],
        &aws,
        &moto,
    );
    let planned = plan_actions(&dir, "initial.tfplan", &aws, &moto);
    let to_add = planned.iter().filter(|c| c.actions == ["create"]).count();
    assert_eq!(
        to_add,
        planned.iter().filter(|c| !c.is_noop()).count(),
        "a first plan may only create: {planned:#?}"
    );
    log.phase("plan", t, Some(format!("{to_add} to add")));

    let t = Instant::now();
    run(
        &dir,
        &["apply", "-input=false", "-no-color", "initial.tfplan"],
        &aws,
        &moto,
    );
    let deployed = managed_resources(&dir, &aws, &moto);
    assert_eq!(deployed, to_add, "the state does not hold what the plan created");
    log.phase("apply", t, Some(format!("{deployed} resources in state")));

    let t = Instant::now();
    assert_converged(&dir, &aws, &moto, "right after the first apply");
    log.phase("re-plan", t, Some("no changes".into()));

    let t = Instant::now();
    let summary = check_data_isolation(&dir, &aws, &moto, env);
    log.phase("data isolation", t, Some(summary));

    // The spec change: a sixth agent, and one more task for an existing one.
    let changed = spec_change(&inputs);
    clear_rendered(&dir);
    render_into(&changed, &dir);
    let t = Instant::now();
    run(&dir, &["init", "-input=false", "-no-color"], &aws, &moto);
    run(
        &dir,
        &["plan", "-input=false", "-no-color", "-out=change.tfplan"],
        &aws,
        &moto,
    );
    let changes = plan_actions(&dir, "change.tfplan", &aws, &moto);
    let summary = check_spec_change(&changes);
    log.phase("change plan", t, Some(summary));

    let t = Instant::now();
    run(
        &dir,
        &["apply", "-input=false", "-no-color", "change.tfplan"],
        &aws,
        &moto,
    );
    let grown = managed_resources(&dir, &aws, &moto);
    log.phase("change apply", t, Some(format!("{grown} resources in state")));

    let t = Instant::now();
    assert_converged(&dir, &aws, &moto, "after applying the spec change");
    log.phase("re-plan", t, Some("no changes".into()));

    // Teardown. prod's spec may not turn deletion protection off, so the test copy does, as an operator would.
    let t = Instant::now();
    if write_teardown_override(&dir) {
        run(
            &dir,
            &["apply", "-input=false", "-no-color", "-auto-approve"],
            &aws,
            &moto,
        );
        log.phase("unprotect", t, Some("deletion protection off".into()));
    }

    let t = Instant::now();
    run(
        &dir,
        &["destroy", "-input=false", "-no-color", "-auto-approve"],
        &aws,
        &moto,
    );
    let left = state_list(&dir, &aws, &moto);
    assert!(
        left.is_empty(),
        "destroy left resources in the state:\n{}",
        left.join("\n")
    );
    log.phase("destroy", t, Some("state empty".into()));

    log.finish(deployed, grown);
}

// ---------------------------------------------------------------------------------------------------------
// Rendering and the spec change
// ---------------------------------------------------------------------------------------------------------

fn render_into(inputs: &Inputs, dir: &Path) {
    write_tree(&compile(inputs), dir);
    write_overrides(dir);
}

/// Removes the rendered files (not terraform's working files, state or the test's overrides) before a
/// re-render, so that a file the new spec no longer renders does not linger.
fn clear_rendered(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join("modules"));
    for entry in std::fs::read_dir(dir).expect("read work directory").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tf") && !name.ends_with("_override.tf") {
            std::fs::remove_file(entry.path()).expect("remove rendered file");
        }
    }
}

/// The spec change of the issue: a sixth agent in the agents file, and a higher desired count for
/// [`SCALED_AGENT`] in the environment file.
fn spec_change(inputs: &Inputs) -> Inputs {
    let agents = format!(
        "{}\n[[agent]]\nname = \"{NEW_AGENT}\"\ndescription = \"Invoices and refunds (added by the emulator test)\"\nport = {NEW_PORT}\npaths = [\"/{NEW_AGENT}/*\"]\n",
        inputs.agents.text
    );
    assert!(
        !inputs.agents.text.contains(&format!("\"{NEW_AGENT}\"")),
        "agents.toml already has {NEW_AGENT}"
    );
    assert!(
        !inputs.agents.text.contains(&format!("port = {NEW_PORT}")),
        "agents.toml already uses port {NEW_PORT}"
    );

    let model = compile_model(inputs);
    let current = model
        .agents
        .iter()
        .find(|a| a.name.as_str() == SCALED_AGENT)
        .unwrap_or_else(|| panic!("no agent {SCALED_AGENT} to scale"))
        .desired_count;
    let raised = format!("desired_count = {}", current + 1);
    let header = format!("[agents.{SCALED_AGENT}]");
    let env_text = if inputs.env.text.contains(&header) {
        inputs.env.text.replacen(&header, &format!("{header}\n{raised}"), 1)
    } else {
        format!("{}\n{header}\n{raised}\n", inputs.env.text.trim_end())
    };
    let changed = Inputs::from_text(&inputs.env_name, &env_text, &agents, inputs.overrides.clone());
    let after = compile_model(&changed);
    assert_eq!(
        after.agents.len(),
        model.agents.len() + 1,
        "the spec change did not add an agent"
    );
    assert!(
        after
            .agents
            .iter()
            .any(|a| a.name.as_str() == SCALED_AGENT && a.desired_count == current + 1),
        "the spec change did not raise {SCALED_AGENT}'s desired count"
    );
    changed
}

fn compile_model(inputs: &Inputs) -> tfgen::model::Model {
    match tfgen::compile(inputs) {
        Ok(c) => c.model,
        Err(tfgen::CompileError::Spec(d)) => panic!("{}", d.render(tfgen::diag::Style::Plain)),
        Err(tfgen::CompileError::Internal(e)) => panic!("{e:#}"),
    }
}

/// The spec with its `[alb] certificate_arn` pointing at a certificate requested from the emulator.
fn with_emulator_certificate(env_text: &str, moto: &Moto) -> String {
    if !env_text.lines().any(|l| l.trim_start().starts_with("certificate_arn")) {
        return env_text.to_string();
    }
    let spec: toml::Value = toml::from_str(env_text).expect("environment spec is TOML");
    let region = spec
        .get("region")
        .and_then(toml::Value::as_str)
        .expect("spec has a region");
    let arn = moto.request_certificate(region, "agents.example.com");
    let mut out = String::new();
    for line in env_text.lines() {
        if line.trim_start().starts_with("certificate_arn") {
            writeln!(out, "certificate_arn = \"{arn}\"").unwrap();
        } else {
            writeln!(out, "{line}").unwrap();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Test-only overrides (the rendered files stay as they are)
// ---------------------------------------------------------------------------------------------------------

/// Writes the overrides that point the AWS provider at the emulator: every `provider "aws"` block of the root
/// module (the default one and any alias) skips the checks that need real AWS and uses path-style S3 URLs
/// (`bucket.127.0.0.1` does not resolve). The endpoint and credentials come from the environment.
fn write_overrides(dir: &Path) {
    let mut aliases: Vec<Option<String>> = vec![None];
    for entry in std::fs::read_dir(dir).expect("read work directory").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".tf") || name.ends_with("_override.tf") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read rendered file");
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("alias")
                && let Some(value) = rest.trim_start().strip_prefix('=')
            {
                let alias = value.trim().trim_matches('"').to_string();
                if !aliases.contains(&Some(alias.clone())) {
                    aliases.push(Some(alias));
                }
            }
        }
    }
    let mut text = String::from(
        "# Written by tests/emulator.rs into its own copy of the tree: points the AWS provider at the emulator.\n",
    );
    for alias in &aliases {
        text.push_str("\nprovider \"aws\" {\n");
        if let Some(alias) = alias {
            writeln!(text, "  alias = \"{alias}\"").unwrap();
        }
        text.push_str(
            "  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n  skip_requesting_account_id  = false\n  s3_use_path_style           = true\n}\n",
        );
    }
    std::fs::write(dir.join("emulator_override.tf"), text).expect("write emulator override");
}

/// Before teardown: turns deletion protection off (and lets the access-log bucket go with its objects) in the
/// test copy, as an operator tearing down prod would. Returns false when nothing needed it.
fn write_teardown_override(dir: &Path) -> bool {
    let main = std::fs::read_to_string(dir.join("main.tf")).expect("read main.tf");
    let has = |module: &str| main.contains(&format!("module \"{module}\" {{"));
    let protected = main.lines().any(|l| {
        let l = l.trim();
        (l.starts_with("deletion_protection") && l.ends_with("true"))
            || (l.starts_with("force_destroy") && l.ends_with("false"))
    });
    if !protected {
        return false;
    }
    let mut text = String::from("# Written by tests/emulator.rs before destroy: lets prod be torn down.\n");
    for (module, body) in [
        ("aurora", "deletion_protection = false"),
        ("alb", "deletion_protection = false"),
        ("access_logs", "force_destroy = true"),
    ] {
        if has(module) {
            writeln!(text, "\nmodule \"{module}\" {{\n  {body}\n}}").unwrap();
        }
    }
    std::fs::write(dir.join("teardown_override.tf"), text).expect("write teardown override");
    true
}

// ---------------------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Change {
    address: String,
    kind: String,
    actions: Vec<String>,
}

impl Change {
    fn is_noop(&self) -> bool {
        self.actions == ["no-op"] || self.actions == ["read"]
    }
    fn is_replace(&self) -> bool {
        self.actions.iter().any(|a| a == "create") && self.actions.iter().any(|a| a == "delete")
    }
    fn is_delete(&self) -> bool {
        self.actions.iter().any(|a| a == "delete")
    }
    /// Whether the resource belongs to the new agent (keyed by its name, or by its port for per-port rules).
    fn is_new_agents(&self) -> bool {
        self.address.contains(&format!("[\"{NEW_AGENT}\"]")) || self.address.contains(&format!("[\"{NEW_PORT}\"]"))
    }
}

/// The resource changes of a saved plan, from `terraform show -json`.
fn plan_actions(dir: &Path, plan: &str, aws: &[(String, String)], moto: &Moto) -> Vec<Change> {
    let json = run(dir, &["show", "-json", plan], aws, moto);
    let plan: Value = serde_json::from_str(&json).expect("terraform show -json prints JSON");
    plan["resource_changes"]
        .as_array()
        .map(|changes| {
            changes
                .iter()
                .filter(|c| c["mode"] == "managed")
                .map(|c| Change {
                    address: c["address"].as_str().unwrap_or_default().to_string(),
                    kind: c["type"].as_str().unwrap_or_default().to_string(),
                    actions: c["change"]["actions"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The spec change may only add the new agent's resources and update others in place. Returns a summary.
fn check_spec_change(changes: &[Change]) -> String {
    let mut problems = Vec::new();
    for c in changes.iter().filter(|c| !c.is_noop()) {
        if tfgen::addresses::STATEFUL_TYPES.contains(&c.kind.as_str()) && (c.is_delete() || c.is_replace()) {
            problems.push(format!("stateful resource would be {:?}: {}", c.actions, c.address));
        } else if c.is_delete() || c.is_replace() {
            problems.push(format!("would be {:?}: {}", c.actions, c.address));
        } else if c.actions == ["create"] && !c.is_new_agents() {
            problems.push(format!("unexpected addition (not the new agent's): {}", c.address));
        } else if c.actions != ["create"] && c.actions != ["update"] {
            problems.push(format!("unexpected actions {:?}: {}", c.actions, c.address));
        }
    }
    let created: Vec<&Change> = changes.iter().filter(|c| c.actions == ["create"]).collect();
    for kind in [
        "aws_ecs_service",
        "aws_ecs_task_definition",
        "aws_ecr_repository",
        "aws_cloudwatch_log_group",
        "aws_lb_target_group",
        "aws_lb_listener_rule",
    ] {
        if !created.iter().any(|c| c.kind == kind && c.address.contains(NEW_AGENT)) {
            problems.push(format!("the new agent gets no {kind}"));
        }
    }
    let updated: Vec<&Change> = changes.iter().filter(|c| c.actions == ["update"]).collect();
    let scaled = format!("module.ecs[\"{SCALED_AGENT}\"].aws_appautoscaling_target.");
    if !updated.iter().any(|c| c.address.starts_with(&scaled)) {
        problems.push(format!("the raised desired count does not update {scaled}*"));
    }
    assert!(
        problems.is_empty(),
        "the spec change plans more than additions and in-place updates:\n  {}\n\nall changes:\n{}",
        problems.join("\n  "),
        changes
            .iter()
            .filter(|c| !c.is_noop())
            .map(|c| format!("  {:?} {}", c.actions, c.address))
            .collect::<Vec<_>>()
            .join("\n")
    );
    format!("{} to add, {} to change, 0 to destroy", created.len(), updated.len())
}

/// `plan -detailed-exitcode` must exit 0: the emulator reads back exactly what was applied.
fn assert_converged(dir: &Path, aws: &[(String, String)], moto: &Moto, when: &str) {
    let out = tf(dir, &["plan", "-input=false", "-no-color", "-detailed-exitcode"], aws);
    match out.status.code() {
        Some(0) => {}
        Some(2) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let changed: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("# ")).collect();
            panic!(
                "plan is not empty {when}; these would change:\n{}\n\n{}",
                changed.join("\n"),
                tail(&text, 12_000)
            );
        }
        _ => fail(dir, &["plan", "-detailed-exitcode"], &out, moto),
    }
}

fn state_list(dir: &Path, aws: &[(String, String)], moto: &Moto) -> Vec<String> {
    run(dir, &["state", "list"], aws, moto)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Managed resources in the state (data sources left out).
fn managed_resources(dir: &Path, aws: &[(String, String)], moto: &Moto) -> usize {
    state_list(dir, aws, moto)
        .iter()
        .filter(|a| !a.starts_with("data.") && !a.contains(".data."))
        .count()
}

// ---------------------------------------------------------------------------------------------------------
// Running terraform
// ---------------------------------------------------------------------------------------------------------

fn tf(dir: &Path, args: &[&str], aws: &[(String, String)]) -> Output {
    let envs: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    tf_env(dir, args, &envs)
}

/// Runs terraform against the emulator and returns its standard output; panics with both outputs and the
/// emulator's log when it fails.
fn run(dir: &Path, args: &[&str], aws: &[(String, String)], moto: &Moto) -> String {
    let out = tf(dir, args, aws);
    if !out.status.success() {
        fail(dir, args, &out, moto);
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fail(dir: &Path, args: &[&str], out: &Output, moto: &Moto) -> ! {
    panic!(
        "terraform {} failed in {} ({}):\n{}\n{}\n--- emulator log (tail) ---\n{}",
        args.join(" "),
        dir.display(),
        out.status,
        tail(&String::from_utf8_lossy(&out.stdout), 12_000),
        tail(&String::from_utf8_lossy(&out.stderr), 8_000),
        moto.log_tail()
    )
}

fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Phase times for the CI log, printed as they happen and as a summary at the end.
struct PhaseLog {
    env: String,
    started: Instant,
    lines: Vec<String>,
}

impl PhaseLog {
    fn new(env: &str) -> Self {
        Self {
            env: env.to_string(),
            started: Instant::now(),
            lines: Vec::new(),
        }
    }

    fn phase(&mut self, name: &str, since: Instant, note: Option<String>) {
        let line = format!(
            "{name:<13} {:>6.1}s{}",
            since.elapsed().as_secs_f64(),
            note.map(|n| format!("  ({n})")).unwrap_or_default()
        );
        println!("emulator[{}] {line}", self.env);
        self.lines.push(line);
    }

    fn finish(&self, deployed: usize, grown: usize) {
        let mut text = format!(
            "emulator[{}] whole cycle {:.1}s: {deployed} resources deployed, {grown} after the spec change, 0 left\n",
            self.env,
            self.started.elapsed().as_secs_f64()
        );
        for line in &self.lines {
            writeln!(text, "emulator[{}]   {line}", self.env).unwrap();
        }
        print!("{text}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------------------

/// A moto server on a free loopback port, stopped (by its process id) when dropped, also on a panic, or by
/// its watchdog after [`DEADLINE`].
struct Moto {
    child: Arc<Mutex<Child>>,
    port: u16,
    bin: PathBuf,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
    stop: Option<Sender<()>>,
    watchdog: Option<JoinHandle<()>>,
}

impl Moto {
    fn start(env: &str) -> Self {
        let bin = moto_venv();
        let port = free_port();
        let log_dir = tempfile::tempdir().expect("create log directory");
        let log = log_dir.path().join("moto.log");
        let log_file = std::fs::File::create(&log).expect("create emulator log");
        let shim = support::root().join("tests/emulator/moto_shim.py");
        let child = Command::new(bin.join("python"))
            .arg(&shim)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start the moto server");
        let child = Arc::new(Mutex::new(child));

        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        let name = env.to_string();
        let watchdog = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(DEADLINE) {
                eprintln!("emulator[{name}] still running after {DEADLINE:?}: stopping moto so that terraform fails");
                let _ = watched.lock().unwrap_or_else(PoisonError::into_inner).kill();
            }
        });
        let moto = Self {
            child,
            port,
            bin,
            log,
            _log_dir: log_dir,
            stop: Some(stop),
            watchdog: Some(watchdog),
        };
        moto.wait_until_ready(env);
        moto
    }

    fn wait_until_ready(&self, env: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Ok(Some(status)) = self.child.lock().unwrap_or_else(PoisonError::into_inner).try_wait() {
                panic!("the moto server exited at start-up ({status}):\n{}", self.log_tail());
            }
            if self.answers() {
                println!(
                    "emulator[{env}] moto up on 127.0.0.1:{} after {:.1}s",
                    self.port,
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the moto server did not answer on 127.0.0.1:{} within 90 s:\n{}",
            self.port,
            self.log_tail()
        );
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment terraform (and the helper scripts) run with: the emulator's endpoint and dummy
    /// credentials, few retries, and nothing of the developer's own AWS configuration.
    fn aws_env(&self, work: &Path) -> Vec<(String, String)> {
        let nowhere = work.join("no-aws-config").display().to_string();
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_MAX_ATTEMPTS", "3".into()),
            ("AWS_RETRY_MODE", "standard".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", nowhere.clone()),
            ("AWS_SHARED_CREDENTIALS_FILE", nowhere),
            // Removed (empty value): a developer's profile or session must not reach the emulator.
            ("AWS_PROFILE", String::new()),
            ("AWS_DEFAULT_PROFILE", String::new()),
            ("AWS_SESSION_TOKEN", String::new()),
            ("AWS_REGION", String::new()),
            ("AWS_DEFAULT_REGION", String::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Asks the emulator's ACM for a certificate and returns its ARN.
    fn request_certificate(&self, region: &str, domain: &str) -> String {
        let script = support::root().join("tests/emulator/acm_certificate.py");
        let out = Command::new(self.bin.join("python"))
            .arg(script)
            .args([region, domain])
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .expect("run acm_certificate.py");
        assert!(
            out.status.success(),
            "requesting a certificate failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let arn = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(arn.starts_with("arn:aws:acm:"), "not a certificate ARN: {arn}");
        arn
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        tail(&text, 6_000).to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(watchdog) = self.watchdog.take() {
            let _ = watchdog.join();
        }
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The moto virtual environment, created once per test binary (the tests run in parallel).
fn moto_venv() -> PathBuf {
    static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut venv = VENV.lock().unwrap_or_else(PoisonError::into_inner);
    venv.get_or_insert_with(|| support::python_tool("moto", MOTO)).clone()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------------------------
// Per-agent data isolation (issue 11), read back from the applied state
// ---------------------------------------------------------------------------------------------------------

/// Every managed resource of the state, from `terraform show -json`: (type, values).
fn state_resources(dir: &Path, aws: &[(String, String)], moto: &Moto) -> Vec<(String, Value)> {
    fn walk(module: &Value, out: &mut Vec<(String, Value)>) {
        for r in module["resources"].as_array().into_iter().flatten() {
            if r["mode"] == "managed" {
                out.push((r["type"].as_str().unwrap_or_default().to_string(), r["values"].clone()));
            }
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let json: Value = serde_json::from_str(&run(dir, &["show", "-json"], aws, moto)).expect("state as JSON");
    let mut out = Vec::new();
    walk(&json["values"]["root_module"], &mut out);
    out
}

/// From the applied IAM: no role an ECS task can act as (directly, or by assuming another role) has any
/// policy naming the master secret; the bootstrap function's role does. The bootstrap ran (with the real
/// handler, see moto_shim.py) and set every database agent's password. No agent password is in the state.
fn check_data_isolation(dir: &Path, aws: &[(String, String)], moto: &Moto, env: &str) -> String {
    let resources = state_resources(dir, aws, moto);
    let of = |kind: &'static str| resources.iter().filter(move |(t, _)| t == kind).map(|(_, v)| v);
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
    let master = of("aws_rds_cluster").next().expect("a cluster")["master_user_secret"][0]["secret_arn"]
        .as_str()
        .expect("the master secret's ARN")
        .to_string();
    // Role name -> the texts of every policy it holds.
    let mut policies: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for p in of("aws_iam_role_policy") {
        policies.entry(text(p, "role")).or_default().push(text(p, "policy"));
    }
    for a in of("aws_iam_role_policy_attachment") {
        let arn = text(a, "policy_arn");
        let doc = of("aws_iam_policy")
            .find(|p| text(p, "arn") == arn)
            .map_or_else(|| format!("managed policy {arn}"), |p| text(p, "policy"));
        policies.entry(text(a, "role")).or_default().push(doc);
    }
    let roles: Vec<(String, String, String)> = of("aws_iam_role")
        .map(|r| (text(r, "name"), text(r, "arn"), text(r, "assume_role_policy")))
        .collect();
    let mut task_roles: Vec<&(String, String, String)> = roles
        .iter()
        .filter(|(_, _, trust)| trust.contains("ecs-tasks.amazonaws.com"))
        .collect();
    // Roles those roles may assume (the RDS access role trusts the task role) count as theirs.
    let assumable: Vec<&(String, String, String)> = roles
        .iter()
        .filter(|(_, _, trust)| task_roles.iter().any(|(_, arn, _)| trust.contains(arn.as_str())))
        .collect();
    task_roles.extend(assumable);
    assert!(task_roles.len() >= 2, "no ECS task roles in the state");
    for (name, _, _) in &task_roles {
        for doc in policies.get(name).into_iter().flatten() {
            assert!(
                !doc.contains(&master),
                "{env}: role {name} (usable by ECS tasks) may read the master secret:\n{doc}"
            );
        }
    }
    let bootstrap = roles
        .iter()
        .find(|(_, _, trust)| trust.contains("lambda.amazonaws.com"))
        .expect("the bootstrap function's role");
    assert!(
        policies[&bootstrap.0].iter().any(|d| d.contains(&master)),
        "the bootstrap role cannot read the master secret"
    );

    let invocation = of("aws_lambda_invocation").next().expect("the bootstrap ran");
    let result: Value = serde_json::from_str(&text(invocation, "result")).expect("the bootstrap's result is JSON");
    let set = result["passwords_set"].as_array().expect("passwords_set").len();
    let agent_secrets: Vec<String> = of("aws_secretsmanager_secret")
        .map(|s| text(s, "arn"))
        .filter(|a| a.contains("/multi-agent/database/"))
        .collect();
    assert!(
        set >= 2 && set == agent_secrets.len(),
        "{env}: the bootstrap set {set} passwords for {} agent secrets: {result}",
        agent_secrets.len()
    );

    // The passwords exist (the handler checked each) but appear nowhere in the state.
    let state = run(dir, &["state", "pull"], aws, moto);
    let script = "import boto3, sys\nc = boto3.client('secretsmanager', region_name=sys.argv[1])\nfor arn in sys.argv[2:]:\n    print(c.get_secret_value(SecretId=arn)['SecretString'])";
    let region = agent_secrets[0].split(':').nth(3).unwrap().to_string();
    let mut read = Command::new(moto.bin.join("python"));
    read.args(["-c", script, &region]).args(&agent_secrets);
    for (key, value) in aws {
        // As for terraform: an empty value means "removed".
        if value.is_empty() {
            read.env_remove(key);
        } else {
            read.env(key, value);
        }
    }
    let out = read.output().expect("read the agent secrets");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let values = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in values.lines() {
        let secret: Value = serde_json::from_str(line).expect("an agent secret is JSON");
        let password = secret["password"].as_str().expect("a password");
        assert!(
            password.len() >= 32 && !state.contains(password),
            "{env}: an agent password is in the state"
        );
    }
    format!(
        "{} task roles without the master secret, {set} agent passwords set, none in state",
        task_roles.len()
    )
}
