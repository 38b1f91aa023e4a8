//! The `tfgen` binary end to end, in throwaway project copies: exit codes, colour, safe writes,
//! `diff`, `check`, the destroy guard and renames. Temporary paths are filtered out of snapshots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A copy of the repository's `environments/`, with nothing generated yet.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments");
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        for entry in std::fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join("environments").join(entry.file_name())).unwrap();
        }
        Self { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tfgen"))
            .arg("--root")
            .arg(self.dir.path())
            .args(args)
            .env_remove("BEDROCK_MODEL_ID")
            .env_remove("NO_COLOR")
            .output()
            .unwrap()
    }

    fn run_env(&self, args: &[&str], key: &str, value: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tfgen"))
            .arg("--root")
            .arg(self.dir.path())
            .args(args)
            .env(key, value)
            .output()
            .unwrap()
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.path(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} has no `{from}`");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    /// Every file under `rel` with its bytes, for before/after comparisons.
    fn snapshot(&self, rel: &str) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path(rel), &mut out);
        out
    }

    /// Output with the temporary directory replaced by `[ROOT]`.
    fn text(&self, bytes: &[u8]) -> String {
        let root = self.dir.path().to_string_lossy().into_owned();
        String::from_utf8_lossy(bytes).replace(&root, "[ROOT]")
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn render_writes_the_tree_and_is_idempotent() {
    let p = Project::new();
    let first = p.run(&["render", "dev"]);
    assert_eq!(code(&first), 0, "{}", p.text(&first.stderr));
    assert!(p.path("generated/dev/main.tf").is_file());
    assert!(p.path("generated/dev/modules/ecs/main.tf").is_file());
    let before = p.snapshot("generated/dev");
    let second = p.run(&["render", "dev"]);
    assert_eq!(code(&second), 0);
    let out = p.text(&second.stdout);
    assert!(
        out.starts_with("rendered dev into [ROOT]/generated/dev: 0 files written, ")
            && out.ends_with(" unchanged, 0 removed\n"),
        "{out}"
    );
    assert_eq!(before, p.snapshot("generated/dev"), "a second render changed bytes");
}

#[test]
fn render_to_another_directory() {
    let p = Project::new();
    let out = p.path("elsewhere/prod");
    let o = p.run(&["render", "prod", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    assert!(out.join("main.tf").is_file());
    assert!(!p.path("generated").exists());
}

#[test]
fn a_failed_render_exits_2_and_leaves_the_output_untouched() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let before = p.snapshot("generated/dev");
    p.edit(
        "environments/dev.toml",
        "region = \"eu-west-1\"",
        "region = \"eu-west-9\"",
    );
    p.edit("environments/dev.toml", "min_acu = 0.5", "min_acu = 0.7");
    let o = p.run(&["render", "dev"]);
    assert_eq!(code(&o), 2);
    let err = p.text(&o.stderr);
    assert!(
        err.contains("unknown AWS region `eu-west-9`") && err.contains("min_acu 0.7"),
        "{err}"
    );
    assert!(err.contains("environments/dev.toml:3:10"), "{err}");
    assert_eq!(
        before,
        p.snapshot("generated/dev"),
        "a failed render touched the output"
    );
}

#[test]
fn validate_exit_codes_and_all() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["validate", "dev"])), 0);
    let all = p.run(&["validate", "--all"]);
    assert_eq!(code(&all), 0);
    insta::assert_snapshot!(p.text(&all.stdout), @r"
    dev: ok
    prod: ok
    ");
    p.edit("environments/prod.toml", "instances = 2", "instances = 1");
    let o = p.run(&["validate", "--all"]);
    assert_eq!(code(&o), 2);
    assert!(p.text(&o.stdout).contains("dev: ok"));
    insta::assert_snapshot!(p.text(&o.stderr), @r"
    error: prod needs a writer and a reader in two AZs
      --> environments/prod.toml:16:13
       |
    16 | instances = 1
       |             ^
       = help: set `instances = 2` or more (the plan's Multi-AZ)

    error: 1 error; nothing was written
    ");
    assert!(!p.path("generated").exists(), "validate wrote files");
}

#[test]
fn unknown_environment_is_an_error_naming_the_known_ones() {
    let p = Project::new();
    let o = p.run(&["render", "staging"]);
    assert_eq!(code(&o), 2);
    assert!(
        p.text(&o.stderr).contains("known environments: dev, prod"),
        "{}",
        p.text(&o.stderr)
    );
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let p = Project::new();
    p.edit("environments/dev.toml", "sizing = \"dev\"", "sizing = \"prd\"");
    let always = p.run(&["--color", "always", "validate", "dev"]);
    assert!(p.text(&always.stderr).contains('\x1b'), "--color always has no colour");
    let auto = p.run_env(&["validate", "dev"], "NO_COLOR", "1");
    assert_eq!(code(&auto), 2);
    assert!(!p.text(&auto.stderr).contains('\x1b'), "NO_COLOR still coloured");
    let never = p.run(&["--color", "never", "validate", "dev"]);
    assert!(!p.text(&never.stderr).contains('\x1b'));
    assert!(p.text(&never.stderr).contains("did you mean `prod`?"));
}

#[test]
fn hand_written_files_survive_and_stale_generated_files_go() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let keep = [
        ".terraform/providers/marker",
        ".terraform.lock.hcl",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        "team.auto.tfvars",
        "backend_override.tf",
        "README.md",
    ];
    for rel in keep {
        let path = p.path(&format!("generated/dev/{rel}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("hand-written {rel}\n")).unwrap();
    }
    let stale = p.path("generated/dev/modules/legacy/main.tf");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(
        &stale,
        "# Generated by tfgen from environments/dev.toml. DO NOT EDIT.\n",
    )
    .unwrap();

    let o = p.run(&["render", "dev"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    assert!(p.text(&o.stdout).contains("1 removed"), "{}", p.text(&o.stdout));
    for rel in keep {
        let text = std::fs::read_to_string(p.path(&format!("generated/dev/{rel}"))).unwrap();
        assert_eq!(text, format!("hand-written {rel}\n"), "{rel} was touched");
    }
    assert!(
        !stale.exists() && !stale.parent().unwrap().exists(),
        "stale generated file kept"
    );
}

#[test]
fn a_hand_written_file_in_a_generated_place_is_never_overwritten() {
    let p = Project::new();
    std::fs::create_dir_all(p.path("generated/dev")).unwrap();
    std::fs::write(p.path("generated/dev/main.tf"), "# mine\n").unwrap();
    let o = p.run(&["render", "dev"]);
    assert_eq!(code(&o), 2);
    assert!(
        p.text(&o.stderr).contains("was not written by tfgen"),
        "{}",
        p.text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(p.path("generated/dev/main.tf")).unwrap(),
        "# mine\n"
    );
    assert!(
        !p.path("generated/dev/versions.tf").exists(),
        "render wrote part of the tree"
    );
}

#[test]
fn diff_reports_changes_with_exit_codes() {
    let p = Project::new();
    let fresh = p.run(&["diff", "dev", "--stat"]);
    assert_eq!(code(&fresh), 1, "an empty directory differs");
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let same = p.run(&["diff", "dev"]);
    assert_eq!(code(&same), 0);
    assert!(p.text(&same.stdout).ends_with("no changes\n"));

    p.edit("environments/dev.toml", "max_acu = 4", "max_acu = 8");
    let d = p.run(&["--color", "never", "diff", "dev"]);
    assert_eq!(code(&d), 1);
    let out = p.text(&d.stdout);
    assert!(
        out.contains("-  max_capacity          = 4\n+  max_capacity          = 8"),
        "{out}"
    );
    assert!(out.contains("--- a/[ROOT]/generated/dev/main.tf"), "{out}");
    assert!(out.contains("resources: +0 ~1 -/+0 -0"), "{out}");
    let stat = p.run(&["diff", "dev", "--stat"]);
    insta::assert_snapshot!(p.text(&stat.stdout), @r"
     main.tf | modified +1 -1
     1 file changed, +1 -1
    resources: +0 ~1 -/+0 -0
      ~ module.aurora.aws_rds_cluster.this
    ");
}

#[test]
fn check_fails_on_a_stale_tree_and_passes_after_render() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    assert_eq!(code(&p.run(&["check"])), 0);
    p.edit("environments/prod.toml", "max_count = 6", "max_count = 8");
    let o = p.run(&["check"]);
    assert_eq!(code(&o), 1);
    assert!(
        p.text(&o.stderr)
            .contains("generated/prod is stale: run `tfgen render prod`"),
        "{}",
        p.text(&o.stderr)
    );
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    assert_eq!(code(&p.run(&["check"])), 0);
}

#[test]
fn removing_an_agent_is_flagged_as_destroying_state() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    let agents = std::fs::read_to_string(p.path("environments/agents.toml")).unwrap();
    let cut = agents.find("[[agent]]\nname = \"troubleshooting\"").unwrap();
    std::fs::write(p.path("environments/agents.toml"), &agents[..cut]).unwrap();
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    assert!(
        out.contains("WARNING: this change destroys or replaces stateful resources"),
        "{out}"
    );
    assert!(
        out.contains("!! module.ecr.aws_ecr_repository.this[\"troubleshooting\"]"),
        "{out}"
    );
    assert!(
        out.contains("!! module.ecs[\"troubleshooting\"].aws_cloudwatch_log_group.this"),
        "{out}"
    );

    // In CI: the committed tree is re-rendered, and compared with the PR's base revision.
    git(&p, &["init", "-q"]);
    git(&p, &["add", "-A"]);
    git(
        &p,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "base",
            "--allow-empty",
        ],
    );
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    let guarded = p.run(&["check", "--base", "HEAD"]);
    assert_eq!(code(&guarded), 1, "{}", p.text(&guarded.stderr));
    assert!(p.text(&guarded.stderr).contains("re-run with --allow-destroy"));
    assert_eq!(code(&p.run(&["check", "--base", "HEAD", "--allow-destroy"])), 0);
}

#[test]
fn renaming_an_agent_moves_state_instead_of_destroying_it() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit(
        "environments/agents.toml",
        "name = \"troubleshooting\"",
        "name = \"tech-support\"\nrenamed_from = \"troubleshooting\"",
    );
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    // Every per-agent instance keeps its state; only what embeds the agent's key changes: the task
    // definition (container name, AGENT_NAME) and the alarms' names are replaced, none of them stateful.
    assert!(out.contains("resources: +0 ~2 -/+4 -0 (moved 15)"), "{out}");
    assert!(
        out.contains(
            "  -/+ module.ecs[\"tech-support\"].aws_ecs_task_definition.this (moved from module.ecs[\"troubleshooting\"].aws_ecs_task_definition.this) (forces replacement: container_definitions)"
        ),
        "{out}"
    );
    assert!(
        out.contains("  > module.ecr.aws_ecr_repository.this[\"tech-support\"] (moved from module.ecr.aws_ecr_repository.this[\"troubleshooting\"])"),
        "{out}"
    );
    assert!(!out.contains("WARNING"), "{out}");
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let main = std::fs::read_to_string(p.path("generated/dev/main.tf")).unwrap();
    assert!(
        main.contains("moved {\n  from = module.ecs[\"troubleshooting\"]\n  to   = module.ecs[\"tech-support\"]\n}"),
        "{main}"
    );
    // The AWS names stay, so nothing is replaced.
    assert!(main.contains("\"dev-troubleshooting-cluster\""));
}

/// Commits everything in the project (the PR's base, in these tests).
fn commit_all(p: &Project) {
    git(p, &["init", "-q"]);
    git(p, &["add", "-A"]);
    git(
        p,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "base",
            "--allow-empty",
        ],
    );
}

#[test]
fn a_new_database_name_replaces_the_cluster_and_check_guards_it() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    commit_all(&p);
    p.edit(
        "environments/dev.toml",
        "deletion_protection = false",
        "deletion_protection = false\ndatabase_name = \"agents\"",
    );
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    assert!(
        out.contains("  -/+ module.aurora.aws_rds_cluster.this (forces replacement: database_name)\n"),
        "{out}"
    );
    // The cascade: the instance's cluster_identifier reads the new cluster's id, unknown until apply.
    assert!(
        out.contains("  -/+ module.aurora.aws_rds_cluster_instance.this[0] (forces replacement: cluster_identifier)\n"),
        "{out}"
    );
    assert!(out.contains("!! module.aurora.aws_rds_cluster.this\n"), "{out}");

    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let guarded = p.run(&["check", "--base", "HEAD"]);
    assert_eq!(code(&guarded), 1, "{}", p.text(&guarded.stderr));
    let err = p.text(&guarded.stderr);
    assert!(
        err.contains("generated/dev destroys or replaces stateful resources: module.aurora.aws_rds_cluster.this"),
        "{err}"
    );
    assert_eq!(code(&p.run(&["check", "--base", "HEAD", "--allow-destroy"])), 0);
}

#[test]
fn dropping_renamed_from_after_a_rename_replaces_what_is_named_after_the_agent() {
    let p = Project::new();
    p.edit(
        "environments/agents.toml",
        "name = \"troubleshooting\"",
        "name = \"tech-support\"\nrenamed_from = \"troubleshooting\"",
    );
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit("environments/agents.toml", "renamed_from = \"troubleshooting\"\n", "");
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    for replaced in [
        "module.ecr.aws_ecr_repository.this[\"tech-support\"] (forces replacement: name)",
        "module.ecs[\"tech-support\"].aws_cloudwatch_log_group.this (forces replacement: name)",
        "module.ecs[\"tech-support\"].aws_ecs_cluster.this (forces replacement: name)",
    ] {
        assert!(out.contains(&format!("  -/+ {replaced}\n")), "{replaced}\n{out}");
    }
    assert!(
        out.contains("WARNING: this change destroys or replaces stateful resources"),
        "{out}"
    );
    assert!(!out.contains("(moved"), "{out}");
}

#[test]
fn diff_json_lists_files_and_predicted_actions() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    let d = p.run(&["diff", "dev", "--json"]);
    assert_eq!(code(&d), 1);
    let json: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert_eq!(json["files"][0]["path"], "main.tf");
    assert_eq!(json["files"][0]["status"], "modified");
    assert_eq!(json["files"][0]["insertions"], 1);
    assert_eq!(json["files"][0]["deletions"], 1);
    let r = &json["resources"];
    assert_eq!(
        (
            r["create"].as_u64(),
            r["update"].as_u64(),
            r["replace"].as_u64(),
            r["delete"].as_u64()
        ),
        (Some(0), Some(5), Some(5), Some(0))
    );
    let changes = r["changes"].as_array().unwrap();
    let task = changes
        .iter()
        .find(|c| c["address"] == "module.ecs[\"supervisor\"].aws_ecs_task_definition.this")
        .unwrap();
    assert_eq!(task["action"], "replace");
    assert_eq!(task["stateful"], false);
    assert_eq!(task["moved_from"], serde_json::Value::Null);
    assert_eq!(task["forces_replacement"], serde_json::json!(["container_definitions"]));
    assert_eq!(task["changed_attributes"], serde_json::json!(["container_definitions"]));
    assert_eq!(r["moved"], 0);
    assert_eq!(r["destroyed_stateful"], serde_json::json!([]));
    assert_eq!(json["directory"], format!("{}/generated/dev", p.dir.path().display()));
    let service = changes
        .iter()
        .find(|c| c["address"] == "module.ecs[\"supervisor\"].aws_ecs_service.this")
        .unwrap();
    assert_eq!(service["action"], "update");
    assert_eq!(service["changed_attributes"], serde_json::json!(["task_definition"]));

    assert_eq!(r["provider_changed"], false);

    // A region change is not modelled; the summary says so instead of guessing.
    p.edit(
        "environments/dev.toml",
        "region = \"eu-west-1\"",
        "region = \"eu-central-1\"",
    );
    let moved = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    assert!(
        p.text(&moved.stdout).contains(
            "note: providers.tf changed (region or default tags); this summary does not model provider changes"
        ),
        "{}",
        p.text(&moved.stdout)
    );
    p.edit(
        "environments/dev.toml",
        "region = \"eu-central-1\"",
        "region = \"eu-west-1\"",
    );

    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let same = p.run(&["diff", "dev", "--json"]);
    assert_eq!(code(&same), 0);
    let json: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(json["files"], serde_json::json!([]));
    assert_eq!(json["resources"]["changes"], serde_json::json!([]));
}

#[test]
fn check_json_reports_each_environment_and_skips_binary_files_at_the_base() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    // A saved plan is binary; one committed by mistake must not break reading the base.
    std::fs::write(p.path("generated/dev/plan.tfplan"), b"PK\x03\x04\xff\xfe\x00binary").unwrap();
    commit_all(&p);
    std::fs::remove_file(p.path("generated/dev/plan.tfplan")).unwrap();
    let agents = std::fs::read_to_string(p.path("environments/agents.toml")).unwrap();
    let cut = agents.find("[[agent]]\nname = \"troubleshooting\"").unwrap();
    std::fs::write(p.path("environments/agents.toml"), &agents[..cut]).unwrap();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);

    let o = p.run(&["check", "--base", "HEAD", "--json"]);
    assert_eq!(code(&o), 1, "{}", p.text(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["base"], "HEAD");
    let envs = json["environments"].as_array().unwrap();
    let dev = envs.iter().find(|e| e["environment"] == "dev").unwrap();
    let prod = envs.iter().find(|e| e["environment"] == "prod").unwrap();
    assert_eq!(dev["stale"], false);
    assert_eq!(prod["stale"], true, "prod was not re-rendered");
    assert_eq!(dev["destroy_blocked"], true);
    let destroyed = dev["destroyed_stateful"].as_array().unwrap();
    assert!(
        destroyed.contains(&serde_json::json!(
            "module.ecr.aws_ecr_repository.this[\"troubleshooting\"]"
        )),
        "{destroyed:?}"
    );
    let since = &dev["since_base"];
    let repo = since["resources"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "module.ecr.aws_ecr_repository.this[\"troubleshooting\"]")
        .unwrap();
    assert_eq!(repo["action"], "delete");
    assert_eq!(repo["stateful"], true);

    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    let allowed = p.run(&["check", "--base", "HEAD", "--json", "--allow-destroy"]);
    assert_eq!(code(&allowed), 0, "{}", p.text(&allowed.stderr));
    let json: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(json["passed"], true);
}

fn git(p: &Project, args: &[&str]) {
    let o = Command::new("git")
        .arg("-C")
        .arg(p.dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
