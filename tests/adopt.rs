//! Adopting tfgen in a new repository: what `tfgen init` writes, and the README's "Adopt tfgen" steps run
//! for real with the built binary: init in an empty directory, `render --all` from a subdirectory, then
//! the scaffolded CI workflow's own steps (tfgen, `terraform fmt`, `init -backend=false`, `validate`).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use tfgen::keys::fields_of;
use tfgen::load::{Inputs, Overrides};
use tfgen::scaffold;
use yaml_rust2::{Yaml, YamlLoader};

fn scaffold_file(path: &str) -> String {
    scaffold::files()
        .into_iter()
        .find(|(p, _)| *p == path)
        .unwrap_or_else(|| panic!("the scaffold has no {path}"))
        .1
}

/// The setting a `# key = value` or `# [table]` line shows, or `None` for prose and `# e.g.` examples.
fn commented_default(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let is_table = rest.starts_with('[')
        && rest.ends_with(']')
        && rest[1..rest.len() - 1]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
    let is_key = rest
        .split_once(" = ")
        .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    (is_table || is_key).then_some(rest)
}

/// The spec with every commented default uncommented; also returns how many lines that was.
fn uncommented(text: &str) -> (String, usize) {
    let mut count = 0;
    let out = text
        .lines()
        .map(|line| match commented_default(line) {
            Some(setting) => {
                count += 1;
                setting
            }
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    (out, count)
}

fn compile(env: &str, env_text: &str) -> tfgen::Compiled {
    let inputs = Inputs::from_text(
        env,
        env_text,
        &scaffold_file("environments/agents.toml"),
        Overrides::default(),
    );
    match tfgen::compile(&inputs) {
        Ok(c) => c,
        Err(tfgen::CompileError::Spec(d)) => panic!("{env}:\n{}", d.render(tfgen::diag::Style::Plain)),
        Err(tfgen::CompileError::Internal(e)) => panic!("{e:#}"),
    }
}

/// Lines that differ between two renders, as `file: before | after`.
fn differences(a: &tfgen::vfs::Tree, b: &tfgen::vfs::Tree) -> Vec<String> {
    assert_eq!(
        a.files.keys().collect::<Vec<_>>(),
        b.files.keys().collect::<Vec<_>>(),
        "different files"
    );
    let mut out = Vec::new();
    for (path, text) in &a.files {
        let other = &b.files[path];
        if text.lines().count() != other.lines().count() {
            out.push(format!("{path}: different line counts"));
        }
        for (x, y) in text.lines().zip(other.lines()) {
            if x != y {
                out.push(format!("{path}: {x} | {y}"));
            }
        }
    }
    out
}

#[test]
fn every_commented_default_is_the_value_tfgen_uses() {
    for env in ["dev", "prod"] {
        let text = scaffold_file(&format!("environments/{env}.toml"));
        let as_scaffolded = compile(env, &text);
        assert!(as_scaffolded.warnings.is_empty(), "{env}: warnings out of the box");
        let (explicit, count) = uncommented(&text);
        assert!(
            count >= 40,
            "{env}: only {count} commented defaults found; did the format change?"
        );
        let with_defaults_written = compile(env, &explicit);
        // Writing the default model down makes the spec, not the default, its source: that one line
        // may differ, nothing else.
        let unexpected: Vec<String> = differences(&as_scaffolded.tree, &with_defaults_written.tree)
            .into_iter()
            .filter(|d| !(d.contains("bedrock_model_source") && d.contains("\"default\"") && d.contains("\"spec\"")))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{env}: a commented default is not what tfgen uses:\n{}",
            unexpected.join("\n")
        );
        // The comparison notices a wrong default (so it cannot pass vacuously).
        let wrong = explicit.replacen("cpu_target_percent = 70", "cpu_target_percent = 60", 1);
        assert!(!differences(&as_scaffolded.tree, &compile(env, &wrong).tree).is_empty());
    }
}

#[test]
fn the_scaffold_shows_every_optional_key() {
    use tfgen::security::SecuritySpec;
    use tfgen::spec::{
        AgentOverride, AlarmsSpec, AlbSpec, BedrockSpec, DatabaseSpec, DeploymentSpec, EcrSpec, EnvSpec, NetworkSpec,
        S3BackendSpec,
    };
    let sections: [(&str, &[&str]); 10] = [
        ("network", fields_of::<NetworkSpec>()),
        ("database", fields_of::<DatabaseSpec>()),
        ("bedrock", fields_of::<BedrockSpec>()),
        ("alb", fields_of::<AlbSpec>()),
        ("alarms", fields_of::<AlarmsSpec>()),
        ("ecr", fields_of::<EcrSpec>()),
        ("deployment", fields_of::<DeploymentSpec>()),
        ("security", fields_of::<SecuritySpec>()),
        ("agents.supervisor", fields_of::<AgentOverride>()),
        ("backend.s3", fields_of::<S3BackendSpec>()),
    ];
    for env in ["dev", "prod"] {
        let text = scaffold_file(&format!("environments/{env}.toml"));
        // Each table's keys, as shown (commented, uncommented or as an `e.g.` example) under its header.
        let mut shown: Vec<(String, String)> = Vec::new();
        let mut table = String::new();
        for line in text.lines() {
            let line = line
                .trim_start_matches('#')
                .trim_start()
                .trim_start_matches("e.g.")
                .trim_start();
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = header.to_string();
            } else if let Some((key, _)) = line.split_once(" = ") {
                shown.push((table.clone(), key.to_string()));
            }
        }
        for key in fields_of::<EnvSpec>() {
            let is_table = sections.iter().any(|(s, _)| s.split('.').next() == Some(*key));
            assert!(
                is_table || shown.contains(&(String::new(), (*key).to_string())),
                "{env}.toml does not show `{key}`"
            );
        }
        for (section, keys) in sections {
            for key in keys {
                assert!(
                    shown.contains(&(section.to_string(), (*key).to_string())),
                    "{env}.toml does not show `{key}` in [{section}]"
                );
            }
        }
    }
}

#[test]
fn the_scaffold_declares_the_plans_five_agents() {
    let agents: toml::Table = toml::from_str(&scaffold_file("environments/agents.toml")).unwrap();
    let names: Vec<&str> = agents["agent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "supervisor",
            "order-management",
            "product-recommendation",
            "personalization",
            "troubleshooting"
        ]
    );
}

fn tfgen(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .current_dir(cwd)
        .args(args)
        .env_remove("BEDROCK_MODEL_ID")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The scaffolded workflow's steps, as (name or action, `run` script or None).
fn workflow_steps(workflow: &str) -> (Yaml, Vec<(String, Option<String>)>) {
    let doc = YamlLoader::load_from_str(workflow)
        .expect("the workflow is valid YAML")
        .remove(0);
    let jobs = doc["jobs"].as_hash().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job");
    let steps = jobs.values().next().unwrap()["steps"].as_vec().expect("steps").clone();
    let steps = steps
        .iter()
        .map(|s| {
            let name = s["name"]
                .as_str()
                .or(s["uses"].as_str())
                .expect("a name or uses")
                .to_string();
            (name, s["run"].as_str().map(String::from))
        })
        .collect();
    (doc, steps)
}

/// The README's adoption steps, in an empty directory with the built binary: `init`, then `render --all`
/// from a subdirectory, then every step of the scaffolded CI workflow except installing tfgen and the
/// runner setup (checkout, cache, Terraform), with the real AWS provider.
#[test]
fn init_then_render_all_from_a_subdirectory_then_the_ci_workflow_passes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("infrastructure");

    let o = tfgen(dir.path(), &["init", "infrastructure"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for (path, content) in scaffold::files() {
        assert_eq!(std::fs::read_to_string(repo.join(path)).unwrap(), content, "{path}");
    }

    let o = tfgen(&repo.join("environments"), &["render", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "rendered dev into ../generated/dev: 56 files written, 0 unchanged, 0 removed\n\
         rendered prod into ../generated/prod: 56 files written, 0 unchanged, 0 removed\n"
    );

    let workflow = std::fs::read_to_string(repo.join(scaffold::WORKFLOW_PATH)).unwrap();
    let (doc, steps) = workflow_steps(&workflow);
    assert_eq!(
        doc["env"]["TFGEN_VERSION"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "CI installs the version that wrote it"
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tfgen")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut ran = Vec::new();
    for (name, run) in &steps {
        let Some(script) = run else {
            continue;
        };
        if name == "Install tfgen" {
            assert!(
                script.contains("cargo install --locked --git \"$TFGEN_REPOSITORY\" --tag \"v$TFGEN_VERSION\" tfgen"),
                "{script}"
            );
            continue;
        }
        support::terraform();
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", script])
            .current_dir(&repo)
            .env("PATH", &path)
            .env_remove("GITHUB_BASE_REF")
            .env_remove("BEDROCK_MODEL_ID")
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        if let Some(rc) = support::cli_config() {
            cmd.env("TF_CLI_CONFIG_FILE", rc);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "workflow step `{name}` failed:\n{}", text(&o));
        ran.push(name.clone());
    }
    assert_eq!(
        ran,
        [
            "The specs are valid",
            "The committed Terraform is up to date and destroys nothing stateful",
            "terraform fmt and validate"
        ]
    );
    // Both trees were validated: `init` left its lock file in each.
    for env in ["dev", "prod"] {
        assert!(
            repo.join(format!("generated/{env}/.terraform.lock.hcl")).is_file(),
            "{env}"
        );
    }
}
