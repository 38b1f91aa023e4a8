//! Nothing tfgen accepts may be rejected by Terraform: random specs that pass `tfgen::check` are
//! rendered and checked by the real Terraform with the real AWS provider, two ways:
//! - `terraform validate` (200 specs by default, `ACCEPTED_SPECS`): every rendered file, the provider's
//!   schema checks, and the child modules' validations whose inputs are known to `validate`;
//! - `terraform test` running `plan` against a mocked AWS provider (20 by default,
//!   `ACCEPTED_SPECS_PLAN`): also the validations and preconditions inside `for_each` modules (the ECS
//!   service per agent), which `validate` skips because their keys are unknown to it.
//!
//! Measured on 2026-11-25 on a shared, heavily loaded 2-core machine (load average 15-30): validate, 200
//! specs, 13m40s wall and 7m48s CPU (user + sys, Terraform and provider processes included); the plan,
//! 20 specs in batches of 10, 4m56s wall and 1m52s CPU. Again at load 8-10: validate 6m51s wall, 6m54s
//! CPU; the plan 2m25s (beside validate). On a quiet 2-core machine the CPU time bounds
//! the wall time at roughly half: about 4 and 1 minutes, the two tests running side by side.
//!
//! Batched so hundreds fit in CI: each batch is one wrapper root calling N rendered environments as
//! N child modules (`module "s7" { source = "./s7" }`), so one `terraform init` (providers linked from
//! a plugin cache under `target/`) and one run cover N specs. Calling a root module as a child is
//! allowed; its `backend` block only draws a warning. Batches run on two threads.
//! `ACCEPTED_SPECS_BATCH` (default 25) sets the validate batch size and `ACCEPTED_SPECS_PLAN_BATCH`
//! (default 10) the plan's (a mocked plan of 25 environments at once was far slower per spec); `ACCEPTED_SPECS_SEED` varies the (otherwise
//! deterministic) sample; `ACCEPTED_SPECS_REPORT=<path>` also writes the failures to `<path>.validate`
//! and `<path>.plan`.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use support::specs::{agents_file, env_spec};
use tfgen::load::{Inputs, Overrides};

fn env_number(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An accepted spec: its two texts.
struct Spec {
    env: String,
    agents: String,
}

/// Draws generated specs until `wanted` distinct ones pass `tfgen::check`.
fn accepted_specs(wanted: usize, seed_offset: u64) -> Vec<Spec> {
    let shared = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let seed = env_number("ACCEPTED_SPECS_SEED", 0);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&(seed as u64).to_le_bytes());
    bytes[8..16].copy_from_slice(&seed_offset.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let strategy = (env_spec(), proptest::option::weighted(0.3, agents_file()));
    let mut seen = BTreeSet::new();
    let mut specs = Vec::new();
    let mut drawn = 0usize;
    while specs.len() < wanted {
        drawn += 1;
        assert!(
            drawn < wanted * 1000,
            "only {} of {drawn} generated specs were accepted",
            specs.len()
        );
        let (env, agents) = strategy.new_tree(&mut runner).unwrap().current();
        let agents = agents.unwrap_or_else(|| shared.clone());
        let inputs = Inputs::from_text("dev", &env, &agents, Overrides::default());
        if tfgen::validate_spec(&inputs).is_ok() && seen.insert((env.clone(), agents.clone())) {
            specs.push(Spec { env, agents });
        }
    }
    eprintln!("{wanted} accepted specs from {drawn} generated");
    specs
}

/// One `terraform init` at a time in this process (see [`check_batch`]).
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A plugin cache shared by every batch (and every run) so `init` links the provider instead of copying it.
fn plugin_cache() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| support::root().join("target"), PathBuf::from);
    let dir = target.join("tfgen-tools").join("plugin-cache");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a batch is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `terraform validate`: every rendered file, the provider's schema checks, and the child modules'
    /// validations whose values are known without `for_each` keys.
    Validate,
    /// `terraform test` running `plan` against a mocked AWS provider (no credentials, no network):
    /// adds the validations and preconditions `validate` cannot evaluate (inside `for_each` modules).
    /// Provider blocks move to the wrapper root, because mocks replace only the root's provider.
    MockedPlan,
}

/// Mocked data sources return plausible values (mock defaults would be invalid JSON and empty lists).
const MOCKED_PLAN: &str = r#"mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_availability_zones" {
    # As many as the Region with the most (us-east-1: 6), so no az_count is refused by the mock alone.
    defaults = {
      names    = ["xx-test-1a", "xx-test-1b", "xx-test-1c", "xx-test-1d", "xx-test-1e", "xx-test-1f"]
      zone_ids = ["xxt1-az1", "xxt1-az2", "xxt1-az3", "xxt1-az4", "xxt1-az5", "xxt1-az6"]
    }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

run "plan" {
  command = plan
}
"#;

/// Terraform 1.11's mock providers refuse ephemeral resources ("The provider mocking mechanism does not
/// yet support ephemeral resource types"), so for the mocked plan only, each `ephemeral "T" "N"` block is
/// removed and each `ephemeral.T.N[...].attr` reference becomes the string `"mock-attr"`. Only the
/// ephemeral values are lost: what consumes them (a write-only argument) is still planned. `validate` and
/// the emulator's apply see the tree unchanged. Fails when a reference is left, so a new ephemeral
/// construct cannot slip past the plan unnoticed.
fn without_ephemeral_resources(text: &str) -> String {
    let mut kept = String::new();
    let mut names = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("ephemeral \"") {
            let mut parts = rest.split('"');
            let kind = parts.next().unwrap_or_default();
            let name = parts.nth(1).unwrap_or_default();
            names.push(format!("ephemeral.{kind}.{name}"));
            for inner in lines.by_ref() {
                if inner == "}" {
                    break;
                }
            }
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    for name in &names {
        while let Some(start) = kept.find(name.as_str()) {
            let tail = &kept[start + name.len()..];
            let index_len = if tail.starts_with('[') {
                tail.find(']').expect("closing bracket") + 1
            } else {
                0
            };
            let attr_tail = tail[index_len..]
                .strip_prefix('.')
                .expect("an attribute of the ephemeral value");
            let attr_len = attr_tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(attr_tail.len());
            let end = start + name.len() + index_len + 1 + attr_len;
            let replacement = format!("\"mock-{}\"", &attr_tail[..attr_len]);
            kept.replace_range(start..end, &replacement);
        }
    }
    assert!(
        !kept
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .any(|l| l.contains("ephemeral.") || l.trim_start().starts_with("ephemeral \"")),
        "an ephemeral construct the mocked plan cannot stand in for:\n{kept}"
    );
    kept
}

/// Error diagnostics from `validate -json` (one object) or `test -json` (one object per line).
fn error_diagnostics(stdout: &[u8]) -> Vec<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    let mut found = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(all) = v["diagnostics"].as_array() {
            found.extend(all.iter().cloned());
        }
        if v["diagnostic"].is_object() {
            found.push(v["diagnostic"].clone());
        }
    }
    if found.is_empty()
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(all) = v["diagnostics"].as_array()
    {
        found.extend(all.iter().cloned());
    }
    found.retain(|d| d["severity"] == "error");
    found
}

/// Renders a batch as child modules of one wrapper root in `dir` and checks it; returns failures as
/// (spec index, messages). An error Terraform cannot place in one spec's files is charged to `usize::MAX`.
fn check_batch(dir: &Path, batch: &[(usize, &Spec)], mode: Mode) -> Vec<(usize, Vec<String>)> {
    let mut main = String::new();
    for (i, (_, spec)) in batch.iter().enumerate() {
        let inputs = Inputs::from_text("dev", &spec.env, &spec.agents, Overrides::default());
        let tree = support::compile(&inputs);
        let child = dir.join(format!("s{i}"));
        support::write_tree(&tree, &child);
        if mode == Mode::MockedPlan {
            std::fs::remove_file(child.join("providers.tf")).unwrap();
            for (path, text) in &tree.files {
                if path.ends_with(".tf") && text.contains("ephemeral") && path != "providers.tf" {
                    std::fs::write(child.join(path), without_ephemeral_resources(text)).unwrap();
                }
            }
        }
        let _ = writeln!(main, "module \"s{i}\" {{\n  source = \"./s{i}\"\n}}\n");
    }
    if mode == Mode::MockedPlan {
        main.push_str("provider \"aws\" {\n  region = \"eu-west-1\"\n}\n");
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        std::fs::write(dir.join("tests/plan.tftest.hcl"), MOCKED_PLAN).unwrap();
    }
    std::fs::write(dir.join("main.tf"), main).unwrap();
    let cache = plugin_cache();
    let env = [("TF_PLUGIN_CACHE_DIR", cache.to_str().unwrap())];
    // Terraform's plugin cache is not safe for concurrent `init`s: two at once can leave the provider half
    // installed ("still not detected in .terraform/providers"). Batches take turns to `init` (a second or
    // two each) and run their slow validate or plan side by side.
    let init = {
        let _turn = INIT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        support::tf_env(dir, &["init", "-backend=false", "-input=false", "-no-color"], &env)
    };
    assert!(
        init.status.success(),
        "terraform init failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&init.stderr)
    );
    let args: &[&str] = match mode {
        Mode::Validate => &["validate", "-json", "-no-color"],
        Mode::MockedPlan => &["test", "-json", "-no-color"],
    };
    let out = support::tf_env(dir, args, &env);
    let mut failures: Vec<(usize, Vec<String>)> = Vec::new();
    for d in error_diagnostics(&out.stdout) {
        let file = d["range"]["filename"].as_str().unwrap_or("");
        let index = file
            .strip_prefix('s')
            .and_then(|rest| rest.split('/').next())
            .and_then(|n| n.parse::<usize>().ok());
        let message = format!(
            "{}: {} ({file}:{})",
            d["summary"].as_str().unwrap_or(""),
            d["detail"].as_str().unwrap_or("").replace('\n', " "),
            d["range"]["start"]["line"]
        );
        let who = index.and_then(|i| batch.get(i)).map_or(usize::MAX, |(n, _)| *n);
        match failures.iter_mut().find(|(w, _)| *w == who) {
            Some((_, messages)) => messages.push(message),
            None => failures.push((who, vec![message])),
        }
    }
    assert!(
        out.status.success() || !failures.is_empty(),
        "terraform {} failed in {} without an error diagnostic:\n{}{}",
        args[0],
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    failures
}

/// Checks a batch, then re-checks it without the specs that failed until the rest passes: Terraform
/// stops a plan at the first module input that fails its validation, which would hide the other
/// specs' problems in the same batch. A passing batch (the normal case) costs one run.
fn check_until_clean(dir: &Path, first: usize, batch: &[Spec], mode: Mode) -> Vec<(usize, Vec<String>)> {
    let mut left: Vec<(usize, &Spec)> = batch.iter().enumerate().map(|(i, s)| (first + i, s)).collect();
    let mut failures = Vec::new();
    for attempt in 0.. {
        if left.is_empty() {
            break;
        }
        let found = check_batch(&dir.join(format!("attempt{attempt}")), &left, mode);
        let unplaced = found.iter().any(|(who, _)| *who == usize::MAX);
        left.retain(|(n, _)| found.iter().all(|(who, _)| who != n));
        let done = found.is_empty() || unplaced;
        failures.extend(found);
        if done {
            break;
        }
    }
    failures
}

/// Samples `wanted` accepted specs, checks them in batches on two threads, and fails listing every
/// spec Terraform rejects.
fn run(mode: Mode, wanted: usize, seed_offset: u64) {
    let batch_size = match mode {
        Mode::Validate => env_number("ACCEPTED_SPECS_BATCH", 25),
        Mode::MockedPlan => env_number("ACCEPTED_SPECS_PLAN_BATCH", 10),
    }
    .max(1);
    let started = std::time::Instant::now();
    let specs = accepted_specs(wanted, seed_offset);
    let generated = started.elapsed();
    let checking = std::time::Instant::now();
    let root = tempfile::tempdir().unwrap();
    let batches: Vec<(usize, &[Spec])> = specs
        .chunks(batch_size)
        .enumerate()
        .map(|(i, b)| (i * batch_size, b))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((first, batch)) = batches.get(i) else { break };
                    let found = check_until_clean(&root.path().join(format!("batch{i}")), *first, batch, mode);
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let what = match mode {
        Mode::Validate => "terraform validate",
        Mode::MockedPlan => "a mocked terraform plan",
    };
    eprintln!(
        "{what}: {} specs in {} batches: generated in {:.1?}, checked in {:.1?}; {} failed",
        specs.len(),
        batches.len(),
        generated,
        checking.elapsed(),
        failures.len()
    );
    let mut report = String::new();
    for (who, messages) in &failures {
        let _ = writeln!(report, "=== spec {who}");
        if let Some(spec) = specs.get(*who) {
            let _ = writeln!(report, "--- env\n{}", spec.env);
            if !spec.agents.contains("Entry point: triages") {
                let _ = writeln!(report, "--- agents\n{}", spec.agents);
            }
        }
        for m in messages {
            let _ = writeln!(report, "  {m}");
        }
    }
    if let Ok(path) = std::env::var("ACCEPTED_SPECS_REPORT") {
        let suffix = if mode == Mode::Validate { "validate" } else { "plan" };
        std::fs::write(format!("{path}.{suffix}"), &report).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {} specs tfgen accepts fail {what}:\n{report}",
        failures.len(),
        specs.len()
    );
}

#[test]
fn specs_tfgen_accepts_pass_terraform_validate() {
    run(Mode::Validate, env_number("ACCEPTED_SPECS", 200), 0);
}

#[test]
fn specs_tfgen_accepts_pass_a_mocked_terraform_plan() {
    run(Mode::MockedPlan, env_number("ACCEPTED_SPECS_PLAN", 20), 1);
}
