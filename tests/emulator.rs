//! Deploys for real (issue 5): dev and prod go through a whole life cycle against an AWS emulator.
//!
//! For each environment: render in memory → `terraform init` (offline, through the provider mirror) → `plan`
//! → `apply` → `plan -detailed-exitcode` must find nothing to do → a spec change (a sixth agent, a raised
//! desired count) → `plan -out` + `show -json`: only the new agent's resources are added, the rest is
//! updated in place, nothing is deleted or replaced (least of all a stateful resource) → `apply` → plan is
//! clean again → `destroy` → the state is empty. The new agent calls another, and after each apply the
//! reachability graph computed from the applied state's security-group rules (`show -json`) must equal the
//! one the spec declares and the one `tfgen::reach` computes from the rendered tree.
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
/// The existing agent the new one calls.
const NEW_AGENT_CALLS: &str = "order-management";
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
    let edges = assert_applied_graph(&dir, &inputs, &aws, &moto);
    log.phase("reach", t, Some(format!("{edges} edges, as declared")));

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

    let t = Instant::now();
    let edges = assert_applied_graph(&dir, &changed, &aws, &moto);
    log.phase("reach", t, Some(format!("{edges} edges, as declared")));

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
        "{}\n[[agent]]\nname = \"{NEW_AGENT}\"\ndescription = \"Invoices and refunds (added by the emulator test)\"\nport = {NEW_PORT}\npaths = [\"/{NEW_AGENT}/*\"]\ncalls = [\"{NEW_AGENT_CALLS}\"]\n",
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
    /// The new agent's own resources, and the rules of its call (keyed `"<caller>/<callee>"`).
    fn is_new_agents(&self) -> bool {
        self.address.contains(&format!("[\"{NEW_AGENT}\"]"))
            || self.address.contains(&format!("[\"{NEW_PORT}\"]"))
            || self.address.contains(&format!("[\"{NEW_AGENT}/"))
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

/// The reachability graph of the applied state: its security-group rules, and the groups attached to the load
/// balancer, the database cluster and each agent's service, read from `terraform show -json`. It must equal
/// the declared graph and the one computed from the rendered tree. Returns the number of edges.
fn assert_applied_graph(dir: &Path, inputs: &Inputs, aws: &[(String, String)], moto: &Moto) -> usize {
    let json = run(dir, &["show", "-json"], aws, moto);
    let state: Value = serde_json::from_str(&json).expect("terraform show -json prints JSON");
    let mut owners = std::collections::BTreeMap::new();
    let mut rules = Vec::new();
    let mut modules = vec![(String::new(), &state["values"]["root_module"])];
    while let Some((module, m)) = modules.pop() {
        for child in m["child_modules"].as_array().into_iter().flatten() {
            let address = child["address"].as_str().unwrap_or_default().to_string();
            modules.push((address, child));
        }
        for r in m["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["mode"] == "managed")
        {
            let v = &r["values"];
            let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
            let mut attach = |ids: &Value, node: tfgen::reach::Node| {
                for id in ids.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    owners.insert(id.to_string(), node.clone());
                }
            };
            match r["type"].as_str().unwrap_or_default() {
                kind @ ("aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule") => {
                    let direction = if kind.contains("ingress") {
                        tfgen::reach::Direction::Ingress
                    } else {
                        tfgen::reach::Direction::Egress
                    };
                    let protocol = text("ip_protocol").expect("a rule has a protocol");
                    let port = |k: &str, d: u16| v[k].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(d);
                    let ports = if protocol == "-1" {
                        tfgen::reach::Ports(0, 65535)
                    } else {
                        tfgen::reach::Ports(port("from_port", 0), port("to_port", 65535))
                    };
                    let peer = match (
                        text("referenced_security_group_id"),
                        text("cidr_ipv4").or(text("cidr_ipv6")),
                    ) {
                        (Some(g), _) => tfgen::reach::Peer::Group(g),
                        (None, Some(c)) => tfgen::reach::Peer::Cidr(c),
                        (None, None) => panic!("a rule without a peer: {r}"),
                    };
                    let group = text("security_group_id").expect("a rule has a group");
                    rules.push(tfgen::reach::Rule {
                        group,
                        direction,
                        protocol,
                        ports,
                        peer,
                    });
                }
                "aws_lb" => attach(&v["security_groups"], tfgen::reach::Node::Alb),
                "aws_rds_cluster" => attach(&v["vpc_security_group_ids"], tfgen::reach::Node::Database),
                "aws_ecs_service" => {
                    let agent = module
                        .split("[\"")
                        .nth(1)
                        .and_then(|k| k.split('"').next())
                        .expect("an ECS service in a module instance keyed by agent");
                    let node = tfgen::reach::Node::Agent(agent.to_string());
                    attach(&v["network_configuration"][0]["security_groups"], node);
                }
                _ => {}
            }
        }
    }
    let applied = tfgen::reach::Graph::from_rules(&owners, &rules);
    let declared = tfgen::reach::declared(&compile_model(inputs));
    let differences = applied.differences(&declared);
    assert!(
        differences.is_empty(),
        "the applied security groups differ from the declared graph:\n  {}\n\napplied:\n{applied}",
        differences.join("\n  ")
    );
    let rendered = tfgen::reach::from_tree(&compile(inputs)).expect("the rendered tree's graph");
    assert_eq!(applied, rendered, "the applied graph differs from the rendered tree's");
    if inputs.agents.text.contains(&format!("name = \"{NEW_AGENT}\"")) {
        let call = (
            tfgen::reach::Node::Agent(NEW_AGENT.into()),
            tfgen::reach::Node::Agent(NEW_AGENT_CALLS.into()),
        );
        assert!(
            applied.edges.iter().any(|e| (e.from.clone(), e.to.clone()) == call),
            "the applied state lets {NEW_AGENT} not reach {NEW_AGENT_CALLS}:\n{applied}"
        );
    }
    applied.edges.len()
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
