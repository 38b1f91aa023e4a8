//! Deploys for real (issue 5): dev and prod go through a whole life cycle against an AWS emulator.
//!
//! For each environment: render in memory → `terraform init` (offline, through the provider mirror) → `plan`
//! → `apply` → `plan -detailed-exitcode` must find nothing to do → a spec change (a sixth agent, a raised
//! desired count) → `plan -out` + `show -json`: only the new agent's resources are added, the rest is
//! updated in place, nothing is deleted or replaced (least of all a stateful resource) → `apply` → plan is
//! clean again → the reachability graph computed from the applied state's security-group rules (`show -json`)
//! must equal the one the spec declares and the one `tfgen::reach` computes from the rendered tree (the new
//! agent calls another) → (dev only) the plan-agreement corpus: [`corpus`]'s changes are planned against the
//! applied state and must match `tfgen::predict` address by address → `destroy` → the state is empty.
//! Prod's spec also gets the `[pipeline]` section of `tests/fixtures/valid/live.toml`, so its cycle deploys,
//! re-plans, grows (a build project for the new agent) and destroys the release pipeline with the rest.
//!
//! The emulator is moto in server mode (pinned in [`MOTO`], installed by [`support::python_tool`]), started
//! through `tests/emulator/moto_shim.py`, which fills the few API gaps between moto and the AWS provider,
//! and answers a retry of a call moto already answered with that answer (a third, quick test holds this).
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

/// A whole cycle takes a few minutes (dev's, with the plan-agreement corpus, about 13 on a lightly loaded
/// 2-core machine, and 27 under a load average of 30); past this the emulator is stopped so that
/// terraform fails fast.
const DEADLINE: Duration = Duration::from_secs(40 * 60);

/// The agent the spec change adds, and the port it listens on (free in `environments/agents.toml`).
const NEW_AGENT: &str = "billing";
const NEW_PORT: u16 = 8005;
/// The existing agent the new one calls.
const NEW_AGENT_CALLS: &str = "order-management";
/// The existing agent whose desired count the spec change raises.
const SCALED_AGENT: &str = "order-management";
/// The image tag the plan-agreement corpus moves dev to; its images are pushed before the corpus plans.
const NEXT_IMAGE_TAG: &str = "0.2.0";
const NEXT_IMAGE_TAG_LINE: &str = "image_tag = \"0.2.0\"";
/// The environment whose cycle also deploys the release pipeline: its spec gets the `[pipeline]` section of
/// [`PIPELINE_FIXTURE`] (stages dev, staging and prod).
const PIPELINE_HOST: &str = "prod";
const PIPELINE_FIXTURE: &str = "tests/fixtures/valid/live.toml";

#[test]
fn dev_deploys_for_real() {
    deploy_for_real("dev");
}

#[test]
fn prod_deploys_for_real() {
    deploy_for_real("prod");
}

/// The shim answers a retry of a call moto already carried out with the first answer (matched by the
/// SDK's invocation id), and carries out every other call, retry or not, as moto does.
#[test]
fn the_emulator_replays_a_retried_call() {
    let moto = Moto::start("retries");
    let create = |invocation: &str, attempt: u8, name: &str| {
        let body = format!("{{\"repositoryName\": \"{name}\"}}");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
             X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/ecr/aws4_request, \
             SignedHeaders=host, Signature=0\r\n\
             amz-sdk-invocation-id: {invocation}\r\namz-sdk-request: attempt={attempt}; max=3\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len(),
            port = moto.port,
        );
        let mut stream = TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let status = |answer: &str| answer.split(' ').nth(1).unwrap_or_default().to_string();

    let first = create("one", 1, "replayed");
    assert_eq!(status(&first), "200", "{first}");
    let retry = create("one", 2, "replayed");
    assert_eq!(
        status(&retry),
        "200",
        "the retry was not answered as the first attempt was:\n{retry}"
    );
    assert!(retry.contains("repository/replayed"), "{retry}");
    // A new call for the same name is not a retry: moto's own answer.
    let again = create("two", 1, "replayed");
    assert_eq!(status(&again), "400", "{again}");
    assert!(again.contains("RepositoryAlreadyExistsException"), "{again}");
    // A retry whose first attempt moto never answered with a 2xx is carried out.
    let fresh = create("three", 2, "fresh");
    assert_eq!(status(&fresh), "200", "{fresh}");
    let notes = moto.shim_notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("(one): replaying the first answer"), "{notes:?}");
    assert!(notes[1].contains("(three): no earlier 2xx answer"), "{notes:?}");
    // What a failed apply prints: the shim's notes and the 400, none of the 200s.
    let shown = moto.log_tail();
    assert!(shown.contains("tfgen-shim:") && shown.contains("\" 400 "), "{shown}");
    assert!(!shown.contains("\" 200 "), "{shown}");
}

fn deploy_for_real(env: &str) {
    let moto = Moto::start(env);
    let work = tempfile::tempdir().expect("create work directory");
    let dir = work.path().join(env);
    let aws = moto.aws_env(work.path());
    let mut log = PhaseLog::new(env);

    // Render in memory. A certificate in the spec must exist in the (empty) emulated account. Prod also hosts
    // the release pipeline, so that the same apply, re-plan, spec change and destroy cover it.
    let committed = support::inputs(env);
    let mut env_text = with_emulator_certificate(&committed.env.text, &moto);
    if env == PIPELINE_HOST {
        env_text = with_pipeline(&env_text);
    }
    let inputs = Inputs::from_text(env, &env_text, &committed.agents.text, Overrides::default());
    render_into(&inputs, &dir);

    let t = Instant::now();
    let state = init(&dir, &inputs, &aws, &moto);
    log.phase("init", t, Some(state));

    // The README's "First deploy in a fresh account", step by step: the repositories first, then the
    // images pushed into them, then everything else.
    let t = Instant::now();
    apply_repositories(&dir, &aws, &moto);
    let repositories = managed_resources(&dir, &aws, &moto);
    let pushed = push_images(&dir, &[compile_model(&inputs).image_tag], &aws, &moto);
    log.phase(
        "repositories and images",
        t,
        Some(format!("{repositories} resources, {pushed} images pushed")),
    );

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
    assert_eq!(
        deployed,
        repositories + to_add,
        "the state does not hold what the two applies created"
    );
    log.phase("apply", t, Some(format!("{deployed} resources in state")));

    let t = Instant::now();
    assert_converged(&dir, &aws, &moto, "right after the first apply");
    log.phase("re-plan", t, Some("no changes".into()));

    // Step 4: the operator puts the real API keys; Terraform, which wrote `{}` first, shows no change.
    let t = Instant::now();
    put_api_keys(&dir, &aws, &moto);
    assert_converged(&dir, &aws, &moto, "after the API keys were put outside Terraform");
    log.phase("api keys", t, Some("put; no changes".into()));

    let t = Instant::now();
    let edges = assert_applied_graph(&dir, &inputs, &aws, &moto);
    log.phase("reach", t, Some(format!("{edges} edges, as declared")));

    let t = Instant::now();
    let summary = check_data_isolation(&dir, &aws, &moto, env);
    log.phase("data isolation", t, Some(summary));

    let t = Instant::now();
    let summary = check_budget_and_capacity(&dir, &inputs, &aws, &moto);
    log.phase("budget and capacity", t, Some(summary));

    if env == PIPELINE_HOST {
        let t = Instant::now();
        let summary = check_pipeline(&dir, &inputs, &aws, &moto);
        log.phase("pipeline", t, Some(summary));
    }

    // The spec change: a sixth agent, and one more task for an existing one.
    let changed = spec_change(&inputs);
    clear_rendered(&dir);
    render_into(&changed, &dir);
    let t = Instant::now();
    init(&dir, &changed, &aws, &moto);
    // As for a first deploy (and as the pipeline does): the new agent's repository, then its image.
    apply_repositories(&dir, &aws, &moto);
    assert!(
        state_list(&dir, &aws, &moto)
            .iter()
            .any(|a| a.starts_with("module.ecr.aws_ecr_repository.") && a.contains(NEW_AGENT)),
        "the targeted apply created no repository for {NEW_AGENT}"
    );
    push_images(&dir, &[compile_model(&changed).image_tag], &aws, &moto);
    run(
        &dir,
        &["plan", "-input=false", "-no-color", "-out=change.tfplan"],
        &aws,
        &moto,
    );
    let changes = plan_actions(&dir, "change.tfplan", &aws, &moto);
    let summary = check_spec_change(&changes);
    if env == PIPELINE_HOST {
        check_pipeline_change(&changes);
    }
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
    // tfgen's plan prediction against the real plans, from dev's applied (changed) state. It runs last
    // before teardown because one of its cases applies a rename in its own copy, which changes the
    // emulator's resources under the main state. Prod's plans would take twice as long and prove the
    // same code.
    if env == "dev" {
        let t = Instant::now();
        let agreed = plan_agreement(&dir, &changed, &aws, &moto);
        log.phase("plan agreement", t, Some(agreed));
    }

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
    for line in moto.shim_notes() {
        println!("emulator[{env}] {line}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Rendering and the spec change
// ---------------------------------------------------------------------------------------------------------

/// Runs `script` with the emulator's Python and boto3, with `args`, as the operator's AWS CLI would run.
fn python_aws(script: &str, args: &[String], aws: &[(String, String)], moto: &Moto) -> String {
    let mut cmd = Command::new(moto.bin.join("python"));
    cmd.arg("-c").arg(script).args(args);
    for (key, value) in aws {
        // As for terraform: an empty value means "removed".
        if value.is_empty() {
            cmd.env_remove(key);
        } else {
            cmd.env(key, value);
        }
    }
    let out = cmd.output().expect("run the emulator's python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `terraform init`, offline through the provider mirror. With `[backend.s3]` (prod), step 0 of the first
/// deploy comes first: the state bucket, versioned, in the emulator; the backend then keeps the state and
/// its lock file there (path-style addressing, as the emulator's endpoint has no bucket subdomains).
/// Returns where the state is.
fn init(dir: &Path, inputs: &Inputs, aws: &[(String, String)], moto: &Moto) -> String {
    match compile_model(inputs).backend {
        tfgen::sections::backend::Backend::S3 { bucket, key, region } => {
            python_aws(
                r"import boto3, sys
bucket, region = sys.argv[1], sys.argv[2]
s3 = boto3.client('s3', region_name=region)
if bucket not in [b['Name'] for b in s3.list_buckets()['Buckets']]:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': region})
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})",
                &[bucket.clone(), region.clone()],
                aws,
                moto,
            );
            run(
                dir,
                &[
                    "init",
                    "-input=false",
                    "-no-color",
                    "-backend-config=use_path_style=true",
                ],
                aws,
                moto,
            );
            format!("state in s3://{bucket}/{key} ({region})")
        }
        tfgen::sections::backend::Backend::Local => {
            run(dir, &["init", "-input=false", "-no-color"], aws, moto);
            "local state".to_string()
        }
    }
}

/// Step 1 of the first deploy (and of adding an agent, as the pipeline does it): the repositories alone.
fn apply_repositories(dir: &Path, aws: &[(String, String)], moto: &Moto) {
    run(
        dir,
        &[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-target=module.ecr",
        ],
        aws,
        moto,
    );
}

/// Step 2 of the first deploy: an image tagged with each of `tags` in every repository the environment has
/// (moto keeps the manifest; it runs no container), skipping tags already there (ECR's tags are immutable).
/// Returns how many were pushed.
fn push_images(dir: &Path, tags: &[String], aws: &[(String, String)], moto: &Moto) -> usize {
    let urls: Value = serde_json::from_str(&run(dir, &["output", "-json", "ecr_repository_urls"], aws, moto))
        .expect("ecr_repository_urls is JSON");
    let repositories: Vec<String> = urls
        .as_object()
        .expect("a map of repository URLs")
        .values()
        .filter_map(|u| u.as_str())
        .map(|u| u.split_once('/').map_or(u, |(_, name)| name).to_string())
        .collect();
    assert!(repositories.len() >= 2, "no repositories to push to: {urls}");
    let region = urls
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|u| u.as_str())
        .and_then(|u| u.split('.').nth(3))
        .expect("a registry host names its Region")
        .to_string();
    let mut args = vec![region, tags.join(",")];
    args.extend(repositories);
    let script = r#"
import boto3, json, sys
c = boto3.client("ecr", region_name=sys.argv[1])
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:" + "0" * 64},
    "layers": [],
})
pushed = 0
for repo in sys.argv[3:]:
    for tag in sys.argv[2].split(","):
        try:
            c.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)
            pushed += 1
        except c.exceptions.ImageAlreadyExistsException:
            pass
print(pushed)
"#;
    python_aws(script, &args, aws, moto).trim().parse().expect("a count")
}

/// Step 4 of the first deploy: the API keys, put outside Terraform.
fn put_api_keys(dir: &Path, aws: &[(String, String)], moto: &Moto) {
    let arn = run(dir, &["output", "-raw", "api_keys_secret_arn"], aws, moto);
    let region = arn.split(':').nth(3).expect("a secret ARN").to_string();
    let script = r#"
import boto3, sys
c = boto3.client("secretsmanager", region_name=sys.argv[1])
assert c.get_secret_value(SecretId=sys.argv[2])["SecretString"] == "{}"
c.put_secret_value(SecretId=sys.argv[2], SecretString='{"SUPPORT_DESK_TOKEN": "emulated"}')
"#;
    python_aws(script, &[region, arn.trim().to_string()], aws, moto);
}

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

/// The spec with the `[pipeline]` section (and its stages) of [`PIPELINE_FIXTURE`] appended, and what
/// follows it there: the base-plus-Spot ARM64 agent.
fn with_pipeline(env_text: &str) -> String {
    let fixture = std::fs::read_to_string(support::root().join(PIPELINE_FIXTURE)).expect("read the pipeline fixture");
    let start = fixture
        .find("\n[pipeline]")
        .unwrap_or_else(|| panic!("{PIPELINE_FIXTURE} has no [pipeline] section"));
    assert!(
        !env_text.contains("[pipeline]"),
        "the spec already has a [pipeline] section"
    );
    format!("{}\n{}", env_text.trim_end(), &fixture[start..])
}

/// From the applied state: the environment's cost budget (the model's limit, scoped to its tag, alerting
/// the alarm topic at the forecast and the actual spend), and each agent's capacity provider strategy as the
/// model placed it (prod's base-plus-Spot agent from [`PIPELINE_FIXTURE`] included). Returns a summary.
fn check_budget_and_capacity(dir: &Path, inputs: &Inputs, aws: &[(String, String)], moto: &Moto) -> String {
    let model = compile_model(inputs);
    let resources = state_resources(dir, aws, moto);
    let budgets: Vec<&Value> = resources
        .iter()
        .filter(|(t, _)| t == "aws_budgets_budget")
        .map(|(_, v)| v)
        .collect();
    let budget = model.budget.as_ref().expect("the shipped regions are priced: a budget");
    assert_eq!(budgets.len(), 1, "one budget in the state");
    let b = budgets[0];
    assert_eq!(
        b["limit_amount"].as_str().map(|a| a.parse::<f64>().unwrap()),
        Some(f64::from(budget.monthly_usd)),
        "{b}"
    );
    assert_eq!(
        b["cost_filter"][0]["values"][0].as_str(),
        Some(budget.tag_filter.as_str()),
        "{b}"
    );
    let kinds: Vec<&str> = b["notification"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["subscriber_sns_topic_arns"].as_array().is_some_and(|a| a.len() == 1))
        .filter_map(|n| n["notification_type"].as_str())
        .collect();
    assert!(kinds.contains(&"FORECASTED") && kinds.contains(&"ACTUAL"), "{b}");

    let mut mixed = 0;
    for agent in &model.agents {
        let Some((_, service)) = resources
            .iter()
            .find(|(t, v)| t == "aws_ecs_service" && v["name"] == agent.names.service.as_str())
        else {
            panic!("no service {}", agent.names.service)
        };
        let mut applied: Vec<(String, u64, u64)> = service["capacity_provider_strategy"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["capacity_provider"].as_str().unwrap_or_default().to_string(),
                    s["base"].as_u64().unwrap_or_default(),
                    s["weight"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        applied.sort();
        let mut expected: Vec<(String, u64, u64)> = agent
            .capacity_strategy
            .iter()
            .map(|s| (s.capacity_provider.to_string(), u64::from(s.base), u64::from(s.weight)))
            .collect();
        expected.sort();
        assert_eq!(applied, expected, "{}'s capacity provider strategy", agent.name);
        mixed += usize::from(expected.len() > 1);
    }
    format!(
        "budget ${} on {}; {mixed} agent(s) with an on-demand base or share under Spot",
        budget.monthly_usd, budget.tag_filter
    )
}

/// From the applied state: the pipeline, its source connection (`PENDING`: nothing completes the handshake
/// here), a build project per agent and a deploy project per stage. Returns a summary.
fn check_pipeline(dir: &Path, inputs: &Inputs, aws: &[(String, String)], moto: &Moto) -> String {
    let resources = state_resources(dir, aws, moto);
    let of = |kind: &str| {
        resources
            .iter()
            .filter(|(t, _)| t == kind)
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    let pipelines = of("aws_codepipeline");
    assert_eq!(pipelines.len(), 1, "one pipeline in the state");
    let stages: Vec<&str> = pipelines[0]["stage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        stages,
        ["Source", "Build", "Deploy-dev", "Deploy-staging", "Deploy-prod"],
        "the applied pipeline's stages"
    );
    let connections = of("aws_codestarconnections_connection");
    assert_eq!(connections.len(), 1, "one source connection in the state");
    assert_eq!(
        connections[0]["connection_status"], "PENDING",
        "a new connection waits for its handshake"
    );
    let projects = of("aws_codebuild_project");
    let builds = projects
        .iter()
        .filter(|p| p["name"].as_str().is_some_and(|n| n.contains("-build-")))
        .count();
    assert_eq!(builds, compile_model(inputs).agents.len(), "a build project per agent");
    let deploys = projects.len() - builds;
    assert_eq!(deploys, stages.len() - 2, "a deploy project per stage");
    format!(
        "{} stages, {builds} build and {deploys} deploy projects, connection PENDING",
        stages.len()
    )
}

/// The spec change reaches the pipeline: the new agent gets a release repository and a build project, and
/// the deploy projects (their agent list) and the pipeline (its build actions) are updated in place.
fn check_pipeline_change(changes: &[Change]) {
    let has = |actions: &str, prefix: &str| {
        changes
            .iter()
            .any(|c| c.actions == [actions] && c.address.starts_with(prefix))
    };
    for (actions, prefix) in [
        (
            "create",
            format!("module.pipeline.aws_ecr_repository.release[\"{NEW_AGENT}\"]"),
        ),
        (
            "create",
            format!("module.pipeline.aws_codebuild_project.build[\"{NEW_AGENT}\"]"),
        ),
        ("update", "module.pipeline.aws_codepipeline.release".to_string()),
        ("update", "module.pipeline.aws_codebuild_project.deploy[".to_string()),
    ] {
        assert!(
            has(actions, &prefix),
            "the spec change does not {actions} {prefix}: {changes:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Plan agreement: tfgen::predict against `terraform plan -json`
// ---------------------------------------------------------------------------------------------------------

/// One edit of a corpus change: to the environment spec, the agents file, or a file of the rendered tree.
enum Edit {
    Env(&'static str, &'static str),
    /// Removes the `[[agent]]` table of this agent.
    AgentsRemove(&'static str),
    EnvAppend(String),
    Agents(&'static str, &'static str),
    AgentsAppend(&'static str),
    Tree(&'static str, &'static str, &'static str),
}

/// A realistic change to dev, and (for changes that start from another applied tree) the edits that reach
/// the tree it starts from.
struct Case {
    name: &'static str,
    base: Vec<Edit>,
    edits: Vec<Edit>,
}

fn case(name: &'static str, edits: Vec<Edit>) -> Case {
    Case {
        name,
        base: Vec::new(),
        edits,
    }
}

/// The corpus: spec fields of every section, agents added, removed and renamed, `renamed_from` dropped,
/// and edits of the rendered child modules.
fn corpus(moto: &Moto) -> Vec<Case> {
    use Edit::{Agents, AgentsAppend, AgentsRemove, Env, EnvAppend, Tree};
    let certificate = moto.request_certificate("eu-west-1", "corpus.example.com");
    let rename = || {
        Agents(
            "name = \"troubleshooting\"",
            "name = \"tech-support\"\nrenamed_from = \"troubleshooting\"",
        )
    };
    // The supervisor calls the agent by name, so a rename renames the call too.
    let rename_call = || Agents("\"troubleshooting\"]", "\"tech-support\"]");
    vec![
        case(
            "[network] vpc_cidr",
            vec![Env("vpc_cidr = \"10.0.0.0/16\"", "vpc_cidr = \"10.1.0.0/16\"")],
        ),
        case(
            "[network] nat = per-az (from the NAT instance)",
            vec![Env("nat = \"instance\"", "nat = \"per-az\"")],
        ),
        case("[network] az_count = 3", vec![Env("az_count = 2", "az_count = 3")]),
        case(
            "[database] database_name",
            vec![Env(
                "deletion_protection = false",
                "deletion_protection = false\ndatabase_name = \"agents\"",
            )],
        ),
        case(
            "[database] engine_version (major upgrade)",
            vec![Env("engine_version = \"15.10\"", "engine_version = \"16.6\"")],
        ),
        case("[database] max_acu", vec![Env("max_acu = 4", "max_acu = 8")]),
        case(
            "[database] min_acu (scale to zero off)",
            vec![Env("min_acu = 0\nauto_pause_seconds = 900", "min_acu = 0.5")],
        ),
        case("[database] instances", vec![Env("instances = 1", "instances = 2")]),
        case(
            "[database] backup_retention_days",
            vec![Env("backup_retention_days = 7", "backup_retention_days = 14")],
        ),
        case(
            "[database] deletion_protection",
            vec![Env("deletion_protection = false", "deletion_protection = true")],
        ),
        case(
            "[bedrock] model",
            vec![EnvAppend(
                "[bedrock]\nmodel = \"anthropic.claude-sonnet-4-20250514-v1:0\"\n".into(),
            )],
        ),
        case(
            "[alb] certificate_arn",
            vec![EnvAppend(format!("[alb]\ncertificate_arn = \"{certificate}\"\n"))],
        ),
        case(
            "[alb] deletion_protection",
            vec![EnvAppend("[alb]\ndeletion_protection = true\n".into())],
        ),
        case(
            "[alarms] email",
            vec![EnvAppend("[alarms]\nemail = \"oncall@example.com\"\n".into())],
        ),
        case(
            "[ecr] replication_regions",
            vec![EnvAppend("[ecr]\nreplication_regions = [\"eu-central-1\"]\n".into())],
        ),
        case(
            "[deployment] cpu_target_percent, log_retention_days",
            vec![EnvAppend(
                "[deployment]\ncpu_target_percent = 60\nlog_retention_days = 90\n".into(),
            )],
        ),
        case("[security] waf = true", vec![Env("\nwaf = false\n", "\nwaf = true\n")]),
        case(
            "[security] log_retention_days",
            vec![Env("\nwaf = false\n", "\nwaf = false\nlog_retention_days = 731\n")],
        ),
        case(
            "[alarms] container_insights",
            vec![EnvAppend("[alarms]\ncontainer_insights = true\n".into())],
        ),
        case(
            "[agents.supervisor] cpu, memory",
            vec![EnvAppend("[agents.supervisor]\ncpu = 1024\nmemory = 2048\n".into())],
        ),
        case(
            "[agents.product-recommendation] desired_count, max_count",
            vec![EnvAppend(
                "[agents.product-recommendation]\ndesired_count = 2\nmax_count = 4\n".into(),
            )],
        ),
        case("image_tag", vec![Env("image_tag = \"0.1.0\"", NEXT_IMAGE_TAG_LINE)]),
        case(
            "agent added",
            vec![AgentsAppend(
                "\n[[agent]]\nname = \"returns\"\ndescription = \"Returns\"\nport = 8006\npaths = [\"/returns/*\"]\n",
            )],
        ),
        case("agent removed", vec![AgentsRemove("troubleshooting")]),
        // Other agents' policy documents refer to the agents' secrets (one resource, an instance per
        // agent): a secret created or deleted defers every agent's document to apply, and Terraform
        // reports their policies as updates.
        case(
            "agent with a database added",
            vec![AgentsAppend(
                "\n[[agent]]\nname = \"returns\"\ndescription = \"Returns\"\nport = 8006\npaths = [\"/returns/*\"]\n\n[agent.database]\n",
            )],
        ),
        case(
            "agent with a database removed",
            vec![AgentsRemove("product-recommendation")],
        ),
        case("agent renamed (renamed_from)", vec![rename(), rename_call()]),
        Case {
            name: "renamed_from dropped after the rename",
            base: vec![rename(), rename_call()],
            edits: vec![
                rename(),
                rename_call(),
                Agents("renamed_from = \"troubleshooting\"\n", ""),
            ],
        },
        case(
            "template: modules/ecr/main.tf scan_on_push",
            vec![Tree(
                "modules/ecr/main.tf",
                "scan_on_push = var.scan_on_push",
                "scan_on_push = false",
            )],
        ),
        case(
            "template: modules/ecs/main.tf container insights",
            vec![Tree(
                "modules/ecs/main.tf",
                "value = var.container_insights ? \"enabled\" : \"disabled\"",
                "value = \"enabled\"",
            )],
        ),
    ]
}

/// Applies a case's edits: the inputs, then the rendered tree.
fn edited(base: &Inputs, edits: &[Edit]) -> tfgen::vfs::Tree {
    let (mut env, mut agents) = (base.env.text.clone(), base.agents.text.clone());
    let replace = |text: &mut String, from: &str, to: &str| {
        assert!(text.contains(from), "the corpus edit expects `{from}` in:\n{text}");
        *text = text.replacen(from, to, 1);
    };
    for edit in edits {
        match edit {
            Edit::Env(from, to) => replace(&mut env, from, to),
            Edit::EnvAppend(text) => env = format!("{}\n\n{text}", env.trim_end()),
            Edit::Agents(from, to) => replace(&mut agents, from, to),
            Edit::AgentsAppend(text) => agents.push_str(text),
            Edit::AgentsRemove(name) => {
                let start = agents
                    .find(&format!("[[agent]]\nname = \"{name}\""))
                    .unwrap_or_else(|| panic!("no agent {name}"));
                let end = agents[start + 1..]
                    .find("[[agent]]")
                    .map_or(agents.len(), |i| start + 1 + i);
                agents.replace_range(start..end, "");
                // Nobody calls a removed agent any more.
                agents = agents.replace(&format!(", \"{name}\""), "");
            }
            Edit::Tree(..) => {}
        }
    }
    let inputs = Inputs::from_text(&base.env_name, &env, &agents, base.overrides.clone());
    let mut tree = compile(&inputs);
    for edit in edits {
        if let Edit::Tree(path, from, to) = edit {
            let text = tree
                .files
                .get_mut(*path)
                .unwrap_or_else(|| panic!("the tree has no {path}"));
            assert!(text.contains(from), "{path} has no `{from}`");
            *text = text.replacen(from, to, 1);
        }
    }
    tree
}

/// What happens to one address: (action, previous address).
type Actions = std::collections::BTreeMap<String, (String, Option<String>)>;

/// For every corpus change, tfgen's prediction (`tfgen::predict::predict`) and `terraform plan -json` against
/// dev's applied state (`-refresh=false`, two plans at a time) must agree exactly, address by address.
fn plan_agreement(dir: &Path, base: &Inputs, aws: &[(String, String)], moto: &Moto) -> String {
    let cases = corpus(moto);
    assert!(cases.len() >= 20, "the corpus has {} changes", cases.len());
    let readme = ["README.md", "CONTRIBUTING.md"]
        .map(|f| std::fs::read_to_string(support::root().join(f)).expect(f))
        .concat();
    for said in [
        format!("plans {} realistic changes", cases.len()),
        format!("the plan-agreement corpus: {} changes", cases.len()),
    ] {
        assert!(
            readme.contains(&said),
            "neither README.md nor CONTRIBUTING.md says `{said}`"
        );
    }
    assert!(NEXT_IMAGE_TAG_LINE.contains(NEXT_IMAGE_TAG));
    push_images(dir, &[NEXT_IMAGE_TAG.to_string()], aws, moto);
    let base_tree = compile(base);
    let work = dir.parent().expect("work directory").join("corpus");
    let results: Vec<(usize, Actions, Actions, Duration)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<(usize, &Case)>> = (0..2)
            .map(|lane| cases.iter().enumerate().filter(|(i, _)| i % 2 == lane).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|lane| {
                let (work, base_tree) = (&work, &base_tree);
                scope.spawn(move || {
                    lane.into_iter()
                        .map(|(i, c)| {
                            let t = Instant::now();
                            let copy = work.join(i.to_string());
                            let (before, after) = (
                                if c.base.is_empty() {
                                    base_tree.clone()
                                } else {
                                    edited(base, &c.base)
                                },
                                edited(base, &c.edits),
                            );
                            prepare_copy(dir, &copy);
                            if !c.base.is_empty() {
                                write_tree(&before, &copy);
                                write_overrides(&copy);
                                run(
                                    &copy,
                                    &["apply", "-input=false", "-no-color", "-auto-approve"],
                                    aws,
                                    moto,
                                );
                                clear_rendered(&copy);
                            }
                            write_tree(&after, &copy);
                            write_overrides(&copy);
                            // A change that adds a module call (a replication region's template) needs
                            // `init` to install it, in the copy's own module directory.
                            if module_calls(&after).difference(&module_calls(&before)).next().is_some() {
                                run(&copy, &["init", "-input=false", "-no-color"], aws, moto);
                            }
                            let predicted: Actions = tfgen::predict::predict(&before, &after)
                                .unwrap_or_else(|e| panic!("{}: {e:#}", c.name))
                                .into_iter()
                                .map(|r| {
                                    let action = serde_json::to_value(r.action).unwrap();
                                    (r.address, (action.as_str().unwrap().to_string(), r.moved_from))
                                })
                                .collect();
                            run(
                                &copy,
                                &[
                                    "plan",
                                    "-refresh=false",
                                    "-lock=false",
                                    "-input=false",
                                    "-no-color",
                                    "-out=c.tfplan",
                                ],
                                aws,
                                moto,
                            );
                            let planned: Actions = plan_actions(&copy, "c.tfplan", aws, moto)
                                .into_iter()
                                .filter(|c| !c.is_noop() || c.previous_address.is_some())
                                .map(|c| {
                                    let action = if c.is_replace() {
                                        "replace".to_string()
                                    } else {
                                        c.actions.join(",")
                                    };
                                    (c.address, (action, c.previous_address))
                                })
                                .collect();
                            let took = t.elapsed();
                            // As each change finishes, so that a run stopped half-way still shows them.
                            let (block, _) = agreement_block(c.name, &predicted, &planned, took);
                            eprint!("{block}");
                            (i, predicted, planned, took)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("corpus lane"))
            .collect();
        all.sort_by_key(|r| r.0);
        all
    });

    let mut table = String::from("\nplan agreement (tfgen diff vs terraform plan -json, dev):\n");
    let mut disagreements = 0;
    let mut addresses = 0;
    for (i, predicted, planned, took) in &results {
        let (block, differ) = agreement_block(cases[*i].name, predicted, planned, *took);
        table.push_str(&block);
        disagreements += differ;
        addresses += planned.len();
    }
    eprint!("{table}");
    assert_eq!(
        disagreements, 0,
        "tfgen's prediction and terraform's plan disagree on the addresses marked `!` above"
    );
    format!("{} changes, {addresses} planned addresses, all agree", results.len())
}

/// One change's rows of the agreement table: every address with its action, `!` where tfgen and terraform
/// differ. Returns the text and the number of differing addresses.
fn agreement_block(name: &str, predicted: &Actions, planned: &Actions, took: Duration) -> (String, usize) {
    let mut out = String::new();
    let mut differ = 0;
    let _ = writeln!(
        out,
        "{} {name} ({} addresses, {:.1}s)",
        if predicted == planned { "AGREE   " } else { "DISAGREE" },
        planned.len(),
        took.as_secs_f64()
    );
    let keys: std::collections::BTreeSet<&String> = predicted.keys().chain(planned.keys()).collect();
    let show = |a: Option<&(String, Option<String>)>| match a {
        None => "-".to_string(),
        Some((action, None)) => action.clone(),
        Some((action, Some(from))) => format!("{action} (from {from})"),
    };
    for key in keys {
        let (p, t) = (predicted.get(key), planned.get(key));
        if p == t {
            let _ = writeln!(out, "    {key}: {}", show(t));
        } else {
            differ += 1;
            let _ = writeln!(out, "  ! {key}: tfgen {} / terraform {}", show(p), show(t));
        }
    }
    (out, differ)
}

/// A working copy of the applied directory: its own state file, the same providers (linked).
fn prepare_copy(dir: &Path, copy: &Path) {
    // The providers are shared (read-only); the module directory is the copy's own, so that a change adding
    // a module call can `init` it without touching the other lanes'.
    let dot = copy.join(".terraform");
    std::fs::create_dir_all(dot.join("modules")).expect("create corpus directory");
    std::os::unix::fs::symlink(dir.join(".terraform/providers"), dot.join("providers")).expect("link providers");
    for file in ["modules/modules.json", "terraform.tfstate"] {
        let from = dir.join(".terraform").join(file);
        if from.exists() {
            std::fs::copy(&from, dot.join(file)).unwrap_or_else(|e| panic!("copy .terraform/{file}: {e}"));
        }
    }
    for file in [".terraform.lock.hcl", "terraform.tfstate"] {
        std::fs::copy(dir.join(file), copy.join(file)).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

/// The module calls of a tree's root (`module "ecr"` → `ecr`).
fn module_calls(tree: &tfgen::vfs::Tree) -> std::collections::BTreeSet<String> {
    tree.files
        .iter()
        .filter(|(path, _)| !path.contains('/') && path.ends_with(".tf"))
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| l.strip_prefix("module \"")?.split('"').next().map(str::to_string))
        .collect()
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
        // The first deploy pushed images, and prod's repositories refuse to be deleted while they hold any.
        ("ecr", "force_delete = true"),
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
    /// The address a `moved` block carried it from.
    previous_address: Option<String>,
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
                    previous_address: c["previous_address"].as_str().map(str::to_string),
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
    // (Its repository came first, from the targeted apply that precedes this plan.)
    for kind in [
        "aws_ecs_service",
        "aws_ecs_task_definition",
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
                "aws_instance" => attach(&v["vpc_security_group_ids"], tfgen::reach::Node::NatInstance),
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
    // Which edges the tree encrypts is read from resources the applied rules do not carry: compare the edges.
    assert_eq!(
        (&applied.edges, &applied.half_open),
        (&rendered.edges, &rendered.half_open),
        "the applied graph differs from the rendered tree's"
    );
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
        "terraform {} failed in {} ({}):\n{}\n{}\n--- emulator log (tail, without 2xx and 3xx requests) ---\n{}",
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

    /// The shim's notes so far (`tfgen-shim:` lines: retried calls, 5xx answers), for the CI log.
    fn shim_notes(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|line| line.starts_with("tfgen-shim:"))
            .map(str::to_string)
            .collect()
    }

    /// The end of the emulator's log without its successful requests: errors, tracebacks and the shim's
    /// `tfgen-shim:` lines (retries, 5xx answers), which a tail of every request would push out.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let answered = |line: &str| {
            line.split("\" ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('2') || rest.starts_with('3'))
        };
        let kept = text
            .lines()
            .filter(|line| !answered(line))
            .collect::<Vec<_>>()
            .join("\n");
        tail(&kept, 8_000).to_string()
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
