//! Security scan: the rendered dev and prod trees, and a prod-sized tree hosting the release pipeline
//! (`tests/fixtures/valid/live.toml`), pass checkov with no failed check, and every check
//! that is skipped is skipped inline, with a reason, and for a reason listed in [`SKIPS`].
//!
//! checkov is installed, pinned, into a virtual environment under the target directory on first use
//! (see `support::python_tool`); the test needs Python 3.9+ and the package index (or `PIP_INDEX_URL`).

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use support::{PIPELINE_FIXTURE, compile, inputs, valid_fixture, write_tree};
use tfgen::load::Inputs;

/// The checkov release the generated Terraform is held to. Bumping it may bring new checks.
const CHECKOV: &str = "checkov==3.3.30";

/// Every check the generated Terraform skips, and why. This is the README's security table: a skip that
/// is not listed here, or an entry that no longer skips anything, fails the test.
const SKIPS: &[(&str, &str)] = &[
    (
        "CKV_AWS_2",
        "HTTP:80 listener. With a certificate (prod) it only answers with a 301 redirect to HTTPS, written as a dynamic block checkov does not evaluate; without one (dev) it serves the agents over HTTP by design.",
    ),
    (
        "CKV_AWS_260",
        "Port 80 open to the internet on the ALB security group: needed for the HTTP-to-HTTPS redirect (prod) and for dev's HTTP-only load balancer.",
    ),
    (
        "CKV_AWS_378",
        "Dev only (`[security] in_transit_encryption = false`, dev's default: its private CA would cost $50 a month): target groups use HTTP, TLS ends at the ALB, and the targets are Fargate tasks in private subnets reachable only from the ALB's security group. Prod refuses this setting.",
    ),
    (
        "CKV_AWS_338",
        "Agent log groups keep logs `[deployment] log_retention_days` (30 days by default), not a year: agent logs can hold customer conversations (data minimisation). Flow, WAF and PostgreSQL logs keep `[security] log_retention_days` (365).",
    ),
    (
        "CKV2_AWS_57",
        "The API-keys secret has no automatic rotation: its values are third-party keys no rotation Lambda can mint; they are rotated at the issuer. The RDS-managed master secret rotates itself. The agents' database secrets rotate by `password_version` (a new ephemeral password, then the bootstrap sets it), not by a rotation Lambda, which would need a network path into the VPC.",
    ),
    (
        "CKV2_AWS_5",
        "False positive: the security groups are attached in other modules (ALB, ECS services, Aurora) through module outputs, which checkov does not follow.",
    ),
    (
        "CKV_AWS_394",
        "Availability zones are not pinned by name: only the first az_count zones are used and new zones sort after them; pinning names would tie the spec to one region and account.",
    ),
    (
        "CKV_AWS_145",
        "ALB access-log bucket uses SSE-S3, not KMS: Elastic Load Balancing can only deliver access logs to SSE-S3 buckets.",
    ),
    (
        "CKV_AWS_18",
        "The ALB access-log bucket has no server access logging: it is itself the log sink, written only by the load balancer. The database bootstrap's code bucket and the migration's upload bucket each hold one object and need none. The pipeline's artifact bucket has none either: only the pipeline's roles use it, and CloudTrail records their calls.",
    ),
    (
        "CKV_AWS_144",
        "The ALB access-log bucket is not replicated to another region: access logs expire after a fixed period and are not worth a second copy. Nor are the bootstrap's code (rebuilt on every apply), the migration's one-off upload and the pipeline's artifacts (recreated by re-running the pipeline).",
    ),
    (
        "CKV_AWS_226",
        "No automatic minor upgrades of the database: the spec pins the engine's minor version, and an upgrade AWS makes on its own would make the next plan try a downgrade. Upgrades are spec edits.",
    ),
    (
        "CKV2_AWS_62",
        "The ALB access-log bucket, the bootstrap's code bucket, the migration's upload bucket and the pipeline's artifact bucket send no event notifications: nothing consumes them.",
    ),
    (
        "CKV_AWS_150",
        "Dev only (`[alb] deletion_protection = false`): the ALB may be deleted so dev can be torn down. Prod refuses this setting.",
    ),
    (
        "CKV_AWS_139",
        "Dev only (`[database] deletion_protection = false`): the Aurora cluster may be deleted so dev can be torn down. Prod refuses this setting.",
    ),
    (
        "CKV_AWS_316",
        "Pipeline only: the build and deploy CodeBuild projects run in privileged mode, which the Docker daemon needs to build an image (builds) or to copy one by digest (deploys); they run only the buildspec tfgen writes, under roles scoped to the release repositories.",
    ),
    (
        "CKV_AWS_111",
        "Pipeline only, on its KMS key policy: a key policy's resource `*` means the key it is attached to and nothing else; its principals are the account (administration only) and the pipeline's own roles.",
    ),
    (
        "CKV_AWS_356",
        "Pipeline only, on its KMS key policy: a key policy's resource `*` means the key it is attached to and nothing else.",
    ),
    (
        "CKV_AWS_109",
        "Pipeline only, on its KMS key policy: a key policy's resource `*` means the key it is attached to; only the account's IAM administrators can change it.",
    ),
    (
        "CKV2_AWS_61",
        "The database bootstrap's code bucket has no lifecycle rule: it keeps one small object and its versions, and is deleted with the environment.",
    ),
    (
        "CKV_AWS_117",
        "The database bootstrap function is not in the VPC: it reaches the database only through the RDS Data API, an AWS API over HTTPS.",
    ),
    (
        "CKV_AWS_116",
        "The database bootstrap function has no dead-letter queue: Terraform invokes it synchronously and fails the apply when it fails.",
    ),
    (
        "CKV_AWS_115",
        "The database bootstrap function reserves no concurrency: its runs are serialised by an advisory lock in the database, and a reservation fails in a fresh account whose Lambda concurrency quota is 10.",
    ),
    (
        "CKV_AWS_272",
        "The database bootstrap function's code is not signed: tfgen builds it from source committed in the same tree.",
    ),
    (
        "CKV_AWS_173",
        "The database bootstrap function has no environment variables to encrypt.",
    ),
    (
        "CKV_AWS_65",
        "Container Insights is the spec's choice (`[alarms] container_insights`, off by default: about $5 per agent a month); without it every alarm reads the free `AWS/ECS` and load balancer metrics.",
    ),
    (
        "CKV_AWS_88",
        "The NAT instance (dev only: `[network] nat = \"instance\"`) needs a public IP to reach the internet; its security group admits only HTTPS from inside the VPC.",
    ),
    (
        "CKV_AWS_126",
        "The NAT instance (dev only): detailed monitoring would cost about half as much as the instance; EC2 automatic recovery acts on the basic status checks.",
    ),
    (
        "CKV2_AWS_41",
        "The NAT instance (dev only): it calls no AWS API, so it has no role and no credentials to leak.",
    ),
];

/// Skips that may only appear in dev: prod must pass these checks outright.
/// (The NAT instance's skips are not here: checkov reads the networking module as written, so it reports
/// them on the instance that prod's `count = 0` never creates; the diagnostic `ProdNatInstance` is what
/// keeps the instance out of prod.)
const DEV_ONLY: &[&str] = &["CKV_AWS_150", "CKV_AWS_139", "CKV_AWS_378"];

fn checkov() -> &'static PathBuf {
    // One install for every test in this file, even when they run in parallel.
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| support::python_tool("checkov", &[CHECKOV]).join("checkov"))
}

/// A finding of one check on one resource.
struct Finding {
    id: String,
    resource: String,
    reason: Option<String>,
}

struct Scan {
    failed: Vec<Finding>,
    skipped: Vec<Finding>,
    passed: u64,
}

fn findings(results: &Value, key: &str) -> Vec<Finding> {
    results[key]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| Finding {
                    id: c["check_id"].as_str().unwrap_or_default().to_string(),
                    resource: c["resource"].as_str().unwrap_or_default().to_string(),
                    reason: c["check_result"]["suppress_comment"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn scan(inputs: &Inputs) -> Scan {
    let env = inputs.env_name.as_str();
    let tree = compile(inputs);
    let dir = tempfile::tempdir().unwrap();
    write_tree(&tree, dir.path());
    let out = Command::new(checkov())
        .args(["--directory"])
        .arg(dir.path())
        .args([
            "--framework",
            "terraform",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    // checkov exits 1 when a check fails; the JSON is what counts.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}); exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // One framework gives one object; several give a list of them.
    let report = match &json {
        Value::Array(reports) => reports
            .iter()
            .find(|r| r["check_type"] == "terraform")
            .expect("a terraform report")
            .clone(),
        other => other.clone(),
    };
    assert_eq!(
        report["summary"]["parsing_errors"], 0,
        "checkov could not parse generated/{env}: {report:#}"
    );
    let results = &report["results"];
    Scan {
        failed: findings(results, "failed_checks"),
        skipped: findings(results, "skipped_checks"),
        passed: report["summary"]["passed"].as_u64().unwrap_or(0),
    }
}

fn check(inputs: &Inputs) -> Scan {
    let env = inputs.env_name.as_str();
    let scan = scan(inputs);
    assert!(scan.passed > 0, "checkov ran no check on {env}");
    let failed: Vec<String> = scan
        .failed
        .iter()
        .map(|f| format!("{} on {}", f.id, f.resource))
        .collect();
    assert!(
        failed.is_empty(),
        "checkov fails {} check(s) on {env}:\n  {}",
        failed.len(),
        failed.join("\n  ")
    );

    for s in &scan.skipped {
        let reason = s.reason.as_deref().unwrap_or_default().trim();
        assert!(
            !reason.is_empty() && reason != "No comment provided",
            "{env}: {} is skipped on {} without a reason; write `#checkov:skip={}:<why>`",
            s.id,
            s.resource,
            s.id
        );
        assert!(
            SKIPS.iter().any(|(id, _)| *id == s.id),
            "{env}: {} is skipped on {} ({reason}) but is not in tests/checkov.rs SKIPS (the README's table)",
            s.id,
            s.resource
        );
    }
    scan
}

#[test]
fn prod_passes_checkov() {
    let scan = check(&inputs("prod"));
    for s in &scan.skipped {
        assert!(
            !DEV_ONLY.contains(&s.id.as_str()),
            "prod skips {} on {}, which only dev may skip",
            s.id,
            s.resource
        );
    }
}

#[test]
fn dev_passes_checkov() {
    check(&inputs("dev"));
}

/// A prod-sized tree with `[pipeline]` passes too, with the same rules as prod.
#[test]
fn the_release_pipeline_passes_checkov() {
    let scan = check(&valid_fixture(PIPELINE_FIXTURE));
    assert!(
        scan.skipped.iter().any(|s| s.resource.contains("module.pipeline")),
        "checkov did not reach the pipeline module"
    );
    for s in &scan.skipped {
        assert!(!DEV_ONLY.contains(&s.id.as_str()), "{} on {}", s.id, s.resource);
    }
}

/// Spot, ARM64 on one agent and the VPC endpoints, all on at once.
#[test]
fn cost_options_pass_checkov() {
    check(&valid_fixture("spot"));
}

/// The table holds nothing stale: every listed check is skipped somewhere, and listed once.
#[test]
fn every_listed_skip_is_used() {
    let mut used = BTreeSet::new();
    for inputs in [inputs("dev"), inputs("prod"), valid_fixture(PIPELINE_FIXTURE)] {
        used.extend(scan(&inputs).skipped.into_iter().map(|s| s.id));
    }
    let listed: BTreeSet<&str> = SKIPS.iter().map(|(id, _)| *id).collect();
    assert_eq!(listed.len(), SKIPS.len(), "SKIPS lists a check twice");
    let stale: Vec<&&str> = listed.iter().filter(|id| !used.contains(**id)).collect();
    assert!(
        stale.is_empty(),
        "SKIPS lists checks that nothing skips any more: {stale:?}"
    );
}
