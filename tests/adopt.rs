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
        // Out of the box, the warnings are: the Fargate vCPU a fresh account's default quota does not cover
        // (both), and prod's placeholder certificate (account 000000000000), which the spec marks "REPLACE
        // ME" and the tree refuses at plan.
        let warnings = as_scaffolded.warnings.render(tfgen::diag::Style::Plain);
        let expected = if env == "prod" { 2 } else { 1 };
        assert_eq!(
            as_scaffolded.warnings.len(),
            expected,
            "{env}: warnings out of the box:\n{warnings}"
        );
        assert!(
            warnings.contains("of \"Fargate On-Demand vCPU resource count\"")
                && warnings.contains("--quota-code L-3032A538"),
            "{warnings}"
        );
        if env == "prod" {
            assert!(
                warnings.contains("the certificate is in account 000000000000"),
                "{warnings}"
            );
        }
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
    use tfgen::sections::agents::AgentOverride;
    use tfgen::sections::alarms::AlarmsSpec;
    use tfgen::sections::alb::AlbSpec;
    use tfgen::sections::backend::S3BackendSpec;
    use tfgen::sections::bedrock::BedrockSpec;
    use tfgen::sections::compute::ComputeSpec;
    use tfgen::sections::cost::CostSpec;
    use tfgen::sections::database::DatabaseSpec;
    use tfgen::sections::deployment::DeploymentSpec;
    use tfgen::sections::ecr::EcrSpec;
    use tfgen::sections::network::NetworkSpec;
    use tfgen::sections::security::SecuritySpec;
    use tfgen::spec::EnvSpec;
    let sections: [(&str, &[&str]); 18] = [
        ("network", fields_of::<NetworkSpec>()),
        ("database", fields_of::<DatabaseSpec>()),
        ("bedrock", fields_of::<BedrockSpec>()),
        ("alb", fields_of::<AlbSpec>()),
        ("alarms", fields_of::<AlarmsSpec>()),
        ("ecr", fields_of::<EcrSpec>()),
        ("deployment", fields_of::<DeploymentSpec>()),
        ("security", fields_of::<SecuritySpec>()),
        ("compute", fields_of::<ComputeSpec>()),
        ("cost", fields_of::<CostSpec>()),
        ("budget", fields_of::<tfgen::sections::budget::BudgetSpec>()),
        ("account", fields_of::<tfgen::sections::account::AccountSpec>()),
        ("account.quotas", fields_of::<tfgen::sections::account::QuotasSpec>()),
        ("agents.supervisor", fields_of::<AgentOverride>()),
        ("dr", fields_of::<tfgen::sections::dr::DrSpec>()),
        ("backend", fields_of::<tfgen::sections::backend::BackendSpec>()),
        ("backend.s3", fields_of::<S3BackendSpec>()),
        ("pipeline", fields_of::<tfgen::sections::pipeline::PipelineSpec>()),
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
                if sections.iter().any(|(s, _)| *s == format!("{section}.{key}")) {
                    continue; // a table of its own, checked as a section
                }
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

/// The shell block of the README's "Adopt tfgen" section, as lines.
fn readme_adoption_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## Adopt tfgen\n")
        .nth(1)
        .expect("README has an Adopt tfgen section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("a sh block")
        .split("```")
        .next()
        .unwrap();
    block.lines().map(String::from).collect()
}

/// The README's adoption steps, in an empty directory with the built binary (all but installing tfgen,
/// whose pinned version is checked): `init`, `render --all`, commit. Then commands from subdirectories,
/// and every step of the scaffolded CI workflow except installing tfgen and the runner setup (checkout,
/// cache, Terraform), with the real AWS provider, as on a push and as on a pull request.
#[test]
fn the_readme_adoption_steps_then_the_ci_workflow_pass() {
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tfgen")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let bash = |cwd: &Path, script: &str, base_ref: Option<&str>| -> Output {
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", script])
            .current_dir(cwd)
            .env("PATH", &path)
            .env_remove("BEDROCK_MODEL_ID")
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        match base_ref {
            Some(base) => cmd.env("GITHUB_BASE_REF", base),
            None => cmd.env_remove("GITHUB_BASE_REF"),
        };
        if let Some(rc) = support::cli_config() {
            cmd.env("TF_CLI_CONFIG_FILE", rc);
        }
        cmd.output().unwrap()
    };

    let commands = readme_adoption_commands();
    let (install, rest) = commands.split_first().unwrap();
    assert_eq!(
        install,
        &format!(
            "cargo install --locked --git \"$TFGEN_REPOSITORY\" --tag v{} tfgen",
            env!("CARGO_PKG_VERSION")
        ),
        "the README installs this version"
    );
    let o = bash(dir.path(), &rest.join("\n"), None);
    assert!(o.status.success(), "the README's commands failed:\n{}", text(&o));
    let repo = dir.path().join("infrastructure");
    for (path, content) in scaffold::files() {
        assert_eq!(std::fs::read_to_string(repo.join(&path)).unwrap(), content, "{path}");
    }
    assert!(
        text(&o).contains("rendered prod into ./generated/prod: 83 files written"),
        "{}",
        text(&o)
    );
    let o = bash(&repo, "git status --porcelain", None);
    assert_eq!(
        text(&o),
        "",
        "the commit left files out (or .gitignore lets Terraform files in)"
    );

    // From a subdirectory.
    let o = tfgen(&repo.join("environments"), &["diff", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "../generated/dev: no changes\n../generated/prod: no changes\n"
    );
    let o = tfgen(&repo.join("generated/prod/modules"), &["render", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("rendered dev into ../../../generated/dev: 0 files written"));

    let workflow = std::fs::read_to_string(repo.join(scaffold::WORKFLOW_PATH)).unwrap();
    let (doc, steps) = workflow_steps(&workflow);
    assert_eq!(
        doc["env"]["TFGEN_VERSION"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "CI installs the version that wrote it"
    );
    assert_eq!(doc["on"]["push"]["branches"][0].as_str(), Some("main"));
    assert!(!doc["on"]["pull_request"].is_badvalue());
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
            "Cache tfgen",
            "Install tfgen",
            "hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd",
            "The specs are valid",
            "The committed Terraform is up to date and destroys nothing stateful",
            "terraform fmt and validate"
        ]
    );
    for (name, run) in &steps[4..] {
        support::terraform();
        let o = bash(&repo, run.as_deref().unwrap(), None);
        assert!(o.status.success(), "workflow step `{name}` failed:\n{}", text(&o));
    }
    let install = steps[2].1.as_deref().unwrap();
    assert_eq!(
        install,
        "cargo install --locked --git \"$TFGEN_REPOSITORY\" --tag \"v$TFGEN_VERSION\" tfgen"
    );
    // Both trees were validated: `terraform init` left its lock file in each.
    for env in ["dev", "prod"] {
        assert!(
            repo.join(format!("generated/{env}/.terraform.lock.hcl")).is_file(),
            "{env}"
        );
    }
    // `.gitignore` keeps Terraform's local files out of git (the lock file is meant to be committed).
    for junk in [
        "generated/dev/terraform.tfstate",
        "generated/dev/terraform.tfstate.backup",
        "generated/dev/prod.tfplan",
        "generated/dev/crash.log",
    ] {
        std::fs::write(repo.join(junk), "x").unwrap();
    }
    let o = bash(&repo, "git status --porcelain --untracked-files=all", None);
    let untracked: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(
        untracked,
        [
            "?? generated/dev/.terraform.lock.hcl",
            "?? generated/prod/.terraform.lock.hcl"
        ]
    );
    // As on a pull request: compares with the base branch too.
    let o = bash(&repo, "git update-ref refs/remotes/origin/main HEAD", None);
    assert!(o.status.success(), "{}", text(&o));
    let o = bash(&repo, steps[5].1.as_deref().unwrap(), Some("main"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("generated/prod since origin/main"), "{}", text(&o));

    // Least privilege, and every action pinned by a full commit (a tag can be moved).
    assert_eq!(doc["permissions"]["contents"].as_str(), Some("read"));
    assert_eq!(doc["permissions"].as_hash().map(yaml_rust2::yaml::Hash::len), Some(1));
    let pinned = |uses: &str| {
        uses.split_once('@')
            .is_some_and(|(_, rev)| rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    for line in workflow.lines().filter(|l| l.contains("uses:")) {
        let uses = line.split("uses:").nth(1).unwrap().split('#').next().unwrap().trim();
        assert!(pinned(uses), "{uses} is not pinned by commit");
    }

    // As on a push to main: a commit that replaces the database is gated against the previous commit.
    let before = text(&bash(&repo, "git rev-parse HEAD", None)).trim().to_string();
    let o = bash(
        &repo,
        "printf '\\n[database]\\ndatabase_name = \"support\"\\n' >> environments/dev.toml && tfgen render dev && \
         git add -A && \
         git commit -qm 'rename the database'",
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let gate = format!("BEFORE={before}\n{}", steps[5].1.as_deref().unwrap());
    let o = bash(&repo, &gate, None);
    assert!(
        !o.status.success(),
        "a push that replaces the database passed:\n{}",
        text(&o)
    );
    assert!(
        text(&o).contains("generated/dev destroys or replaces stateful resources: module.aurora.aws_rds_cluster.this"),
        "{}",
        text(&o)
    );
}

/// The README's "add a sixth agent" example, pasted at the end of `agents.toml`, renders every environment.
#[test]
fn the_readmes_sixth_agent_pastes_cleanly() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let example = readme
        .split("sixth agent, add one `[[agent]]` entry:")
        .nth(1)
        .expect("the README's sixth-agent example")
        .split("```toml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let agents = format!("{}\n{example}", scaffold_file("environments/agents.toml"));
    for env in ["dev", "prod"] {
        let inputs = Inputs::from_text(
            env,
            &scaffold_file(&format!("environments/{env}.toml")),
            &agents,
            Overrides::default(),
        );
        let compiled = tfgen::compile(&inputs).unwrap_or_else(|e| match e {
            tfgen::CompileError::Spec(d) => panic!("{env}:\n{}", d.render(tfgen::diag::Style::Plain)),
            tfgen::CompileError::Internal(e) => panic!("{e:#}"),
        });
        assert_eq!(compiled.model.agents.len(), 6);
    }
}
