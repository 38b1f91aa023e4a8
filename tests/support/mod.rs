//! Shared test harness: renders environments into temporary directories and runs Terraform on them.
//!
//! Terraform is required. Tests that need it fail (never skip) with instructions when it is missing.
//! The AWS provider comes from a local filesystem mirror when one is available, so `terraform init` works
//! offline: `TFGEN_PROVIDER_MIRROR` names it; otherwise the usual plugin directories and then the
//! filesystem are searched for a `registry.terraform.io` mirror; with none, `init` goes online.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod specs;

use tfgen::load::{self, Inputs, Overrides};
use tfgen::vfs::Tree;

/// The repository root (where `environments/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads a committed environment with no render-time overrides.
pub fn inputs(env: &str) -> Inputs {
    load::load(&root(), env, Overrides::default()).expect("load environment")
}

/// Compiles inputs, panicking with the rendered diagnostics on failure.
pub fn compile(inputs: &Inputs) -> Tree {
    match tfgen::compile(inputs) {
        Ok(c) => c.tree,
        Err(tfgen::CompileError::Spec(d)) => panic!("{}", d.render(tfgen::diag::Style::Plain)),
        Err(tfgen::CompileError::Internal(e)) => panic!("{e:#}"),
    }
}

/// Writes a tree into a fresh directory.
pub fn write_tree(tree: &Tree, dir: &Path) {
    for (rel, text) in &tree.files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A valid fixture (`tests/fixtures/valid/<name>.toml`), as the environment `<name>`, with the shared agents.
pub fn valid_fixture(name: &str) -> Inputs {
    let text = std::fs::read_to_string(root().join("tests/fixtures/valid").join(format!("{name}.toml"))).unwrap();
    let agents = std::fs::read_to_string(root().join("environments/agents.toml")).unwrap();
    Inputs::from_text(name, &text, &agents, Overrides::default())
}

/// The fixture that hosts the release pipeline (`[pipeline]`, stages dev → staging → prod).
pub const PIPELINE_FIXTURE: &str = "live";

/// The prod spec moved to another region (the issue's "us-east-1 variant").
pub fn us_east_1_variant() -> Inputs {
    let mut inputs = inputs("prod");
    let text = inputs
        .env
        .text
        .replace("region = \"eu-west-1\"", "region = \"us-east-1\"")
        .replace("arn:aws:acm:eu-west-1:", "arn:aws:acm:us-east-1:")
        .replace(
            "replication_regions = [\"eu-central-1\"]",
            "replication_regions = [\"us-west-2\"]",
        );
    assert!(
        text.contains("us-east-1"),
        "prod.toml changed shape; update us_east_1_variant"
    );
    inputs = Inputs::from_text("prod", &text, &inputs.agents.text, Overrides::default());
    inputs
}

/// Where `terraform` is, or a panic that says how to get it.
pub fn terraform() -> &'static str {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| match Command::new("terraform").arg("version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
        Err(e) => Err(e.to_string()),
    });
    if let Err(why) = found {
        panic!(
            "these tests need Terraform >= 1.5 on PATH (`terraform version` failed: {why}).\n\
             Install it from https://developer.hashicorp.com/terraform/install, or a distribution package, then re-run."
        );
    }
    "terraform"
}

/// A directory holding `registry.terraform.io/hashicorp/aws/...`, if one can be found.
pub fn provider_mirror() -> Option<PathBuf> {
    static MIRROR: OnceLock<Option<PathBuf>> = OnceLock::new();
    MIRROR
        .get_or_init(|| {
            if let Some(dir) = std::env::var_os("TFGEN_PROVIDER_MIRROR").filter(|v| !v.is_empty()) {
                let dir = PathBuf::from(dir);
                assert!(
                    dir.join("registry.terraform.io/hashicorp/aws").is_dir(),
                    "TFGEN_PROVIDER_MIRROR={} holds no registry.terraform.io/hashicorp/aws",
                    dir.display()
                );
                return Some(dir);
            }
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            let usual = [
                home.join(".terraform.d/plugins"),
                home.join(".local/share/terraform/plugins"),
                PathBuf::from("/usr/local/share/terraform/plugins"),
                PathBuf::from("/usr/share/terraform/plugins"),
            ];
            usual
                .into_iter()
                .find(|d| is_mirror(d))
                .or_else(|| search_mirror(Path::new("/"), 3))
        })
        .clone()
}

fn is_mirror(dir: &Path) -> bool {
    dir.join("registry.terraform.io/hashicorp/aws").is_dir()
}

/// Breadth-first search for a mirror directory, a few levels deep, skipping virtual filesystems.
fn search_mirror(start: &Path, depth: usize) -> Option<PathBuf> {
    let mut level = vec![start.to_path_buf()];
    for _ in 0..=depth {
        let mut next = Vec::new();
        for dir in level {
            if is_mirror(&dir) {
                return Some(dir);
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let skip = ["/proc", "/sys", "/dev", "/run"].iter().any(|s| p == Path::new(s));
                if !skip && e.file_type().is_ok_and(|t| t.is_dir()) {
                    next.push(p);
                }
            }
        }
        next.sort();
        level = next;
    }
    None
}

/// A Terraform CLI config that installs the AWS provider from the mirror (one file for the whole run).
pub fn cli_config() -> Option<&'static Path> {
    static RC: OnceLock<Option<tempfile::NamedTempFile>> = OnceLock::new();
    RC.get_or_init(|| {
        let mirror = provider_mirror()?;
        let text = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            mirror.display()
        );
        let file = tempfile::Builder::new().suffix(".tfrc").tempfile().expect("create CLI config");
        std::fs::write(file.path(), text).expect("write CLI config");
        Some(file)
    })
    .as_ref()
    .map(tempfile::NamedTempFile::path)
}

/// Runs terraform in `dir` with the mirror configured; returns the output (never panics on exit code).
pub fn tf(dir: &Path, args: &[&str]) -> Output {
    tf_env(dir, args, &[])
}

/// Runs terraform and panics with its output when it fails.
pub fn tf_ok(dir: &Path, args: &[&str]) -> String {
    let out = tf(dir, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "terraform {} failed in {}:\n{text}",
        args.join(" "),
        dir.display()
    );
    text
}

/// A Python virtual environment under `target/tfgen-tools/<name>` with exactly `requirements` installed
/// (pinned `pkg==version` lines). Created on first use; reused while the pins and its own path are unchanged. Returns its
/// `bin` directory. Panics with the fix when Python or the package index is unavailable.
pub fn python_tool(name: &str, requirements: &[&str]) -> PathBuf {
    // Tests of one binary run in parallel and may ask for the same tool at once: one installs it while the
    // others wait, then find the stamp (otherwise one test removes the venv another is installing).
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let dir = target.join("tfgen-tools").join(name);
    let bin = dir.join("bin");
    let stamp = dir.join("tfgen-requirements.txt");
    // A virtual environment is not relocatable: its scripts and paths name the directory it was made in.
    // The stamp records that directory too, so a target directory that was copied or moved gets a new one.
    let wanted = format!("{}\n# venv: {}", requirements.join("\n"), dir.display());
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return bin;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let python = std::env::var("TFGEN_PYTHON").unwrap_or_else(|_| "python3".into());
    let venv = Command::new(&python).args(["-m", "venv"]).arg(&dir).output();
    match venv {
        Ok(o) if o.status.success() => {}
        other => panic!(
            "creating a Python virtual environment for {name} failed ({other:?}).\n\
             These tests need Python >= 3.9 with the venv module (Debian: apt-get install python3-venv); \
             set TFGEN_PYTHON to choose the interpreter."
        ),
    }
    let out = Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(requirements)
        .output()
        .expect("run pip");
    assert!(
        out.status.success(),
        "pip install {} failed; these tests need the Python package index (or a mirror via PIP_INDEX_URL):\n{}",
        requirements.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&stamp, wanted).expect("write stamp");
    bin
}

/// Like [`tf`], with extra environment variables for terraform and its providers (an emulator's endpoint and
/// credentials, say). A variable given with an empty value is removed from terraform's environment instead,
/// so that a developer's own `AWS_PROFILE` or session token cannot leak into a run.
pub fn tf_env(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(terraform());
    cmd.args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1");
    if let Some(rc) = cli_config() {
        cmd.env("TF_CLI_CONFIG_FILE", rc);
    }
    for (key, value) in envs {
        if value.is_empty() {
            cmd.env_remove(key);
        } else {
            cmd.env(key, value);
        }
    }
    cmd.output().expect("run terraform")
}

/// The buildspecs the module embeds (heredocs), as CodeBuild reads them: HCL's `$${` escape undone.
pub fn buildspecs(module: &str) -> Vec<(String, yaml_rust2::Yaml)> {
    let mut out = Vec::new();
    let mut rest = module;
    while let Some(start) = rest.find("<<-YAML\n") {
        let body = &rest[start + "<<-YAML\n".len()..];
        let end = body.find("\n    YAML\n").expect("heredoc end");
        let text = body[..end].replace("$${", "${");
        let project = rest[..start]
            .rfind("resource \"aws_codebuild_project\" \"")
            .map(|i| rest[i..].split('"').nth(3).unwrap_or_default().to_string())
            .unwrap_or_default();
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("the {project} buildspec is not YAML: {e}\n{text}"));
        out.push((project, docs.into_iter().next().expect("one document")));
        rest = &body[end..];
    }
    out
}

/// Each buildspec's commands, phase after phase, as one bash script.
pub fn script(spec: &yaml_rust2::Yaml) -> String {
    let mut script = String::from("#!/usr/bin/env bash\n");
    for phase in ["install", "pre_build", "build", "post_build"] {
        if let Some(commands) = spec["phases"][phase]["commands"].as_vec() {
            for c in commands {
                script.push_str(c.as_str().expect("a command is a string"));
                script.push('\n');
            }
        }
    }
    script
}

/// The JSON a generated `smoke.py` embeds (its `AGENTS`, between `json.loads(r"""` and `""")`): the
/// environment's agents as the smoke check and the load test read them.
pub fn smoke_agents(smoke: &str) -> &str {
    let start = smoke.find("json.loads(r\"\"\"").expect("smoke.py embeds its agents") + "json.loads(r\"\"\"".len();
    let end = start + smoke[start..].find("\"\"\")").expect("the end of the agents");
    &smoke[start..end]
}
