//! The `tfgen` binary end to end, in throwaway project copies: exit codes, colour, safe writes,
//! `diff`, `check`, the destroy guard and renames. Temporary paths are filtered out of snapshots.

use std::collections::BTreeMap;
use std::fmt::Write as _;
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

    /// Like [`Project::run`], but fails the test instead of hanging when tfgen runs for 30 seconds.
    fn run_with_timeout(&self, args: &[&str]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tfgen"))
            .arg("--root")
            .arg(self.dir.path())
            .args(args)
            .env_remove("BEDROCK_MODEL_ID")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("tfgen {args:?} hung");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait_with_output().unwrap()
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

    /// Every entry under `rel` by name and kind, without opening anything (FIFOs, symlinks included).
    fn snapshot_names(&self, rel: &str) -> BTreeMap<PathBuf, String> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let ty = std::fs::symlink_metadata(&p).unwrap().file_type();
                if ty.is_dir() {
                    walk(&p, out);
                }
                out.insert(p, format!("{ty:?}"));
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path(rel), &mut out);
        out
    }

    /// Every entry under `rel`: regular files with their bytes, anything else by kind; symlinks not followed.
    fn snapshot_files(&self, rel: &str) -> BTreeMap<PathBuf, Vec<u8>> {
        self.snapshot_names(rel)
            .into_iter()
            .map(|(p, kind)| {
                let meta = std::fs::symlink_metadata(&p).unwrap();
                let bytes = if meta.file_type().is_file() {
                    std::fs::read(&p).unwrap()
                } else {
                    kind.into_bytes()
                };
                (p, bytes)
            })
            .collect()
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
    p.edit("environments/dev.toml", "min_acu = 0\n", "min_acu = 0.7\n");
    let o = p.run(&["render", "dev"]);
    assert_eq!(code(&o), 2);
    let err = p.text(&o.stderr);
    assert!(
        err.contains("unknown AWS region `eu-west-9`") && err.contains("min_acu 0.7"),
        "{err}"
    );
    assert!(err.contains("environments/dev.toml:4:10"), "{err}");
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
    insta::assert_snapshot!(p.text(&o.stderr), @r#"
    warning: this environment needs up to 10 of "Fargate Spot vCPU resource count" (2.5 vCPU at rest, 10 with every agent at its max_count while a deployment runs 200% of its tasks); AWS's default quota is 6, and new accounts may start lower
     --> environments/dev.toml:5:10
      |
    5 | sizing = "dev"
      |          ^^^^^
      = help: raise it before the first apply: `aws service-quotas request-service-quota-increase --service-code fargate --quota-code L-36FBB829 --desired-value 10 --region eu-west-1`, then write the granted value as `fargate_spot_vcpu = 10` under `[account.quotas]`

    error: prod needs a writer and a reader in two AZs
      --> environments/prod.toml:17:13
       |
    17 | instances = 1
       |             ^
       = help: set `instances = 2` or more (the plan's Multi-AZ)

    warning: the certificate is in account 123456789012, which AWS's documentation uses in examples: the HTTPS listener would fail at apply
      --> environments/prod.toml:32:19
       |
    32 | certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d"
       |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: name a certificate of the account you deploy to (the generated tree also refuses one from another account at plan)

    warning: `example.com` is reserved for examples: alarms sent to `platform-oncall@example.com` reach no one
      --> environments/prod.toml:35:9
       |
    35 | email = "platform-oncall@example.com"
       |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: use the address of the team that answers the alarms

    error: 1 error, 2 warnings; nothing was written
    "#);
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
        "NOTES.md",
        "docs/README.md",
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
    [ROOT]/generated/dev:
     README.md | modified +1 -1
     main.tf   | modified +1 -1
     2 files changed, +2 -2
    resources: +0 ~1 -/+0 -0
      ~ module.aurora.aws_rds_cluster.this
    monthly cost: $96.49 (no change)
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
        p.text(&o.stdout)
            .contains("generated/prod is stale: run `tfgen render prod`"),
        "{}",
        p.text(&o.stdout)
    );
    // The report is on stdout; stderr holds only the specs' diagnostics (warnings here).
    assert!(!p.text(&o.stderr).contains("stale"), "{}", p.text(&o.stderr));
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    assert_eq!(code(&p.run(&["check"])), 0);
}

/// An agent renamed without `renamed_from`: its state is destroyed under the old key and created under the
/// new one, the one case the rename hint is for.
#[test]
fn a_rename_without_renamed_from_suggests_it() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit(
        "environments/agents.toml",
        "name = \"troubleshooting\"",
        "name = \"tech-support\"",
    );
    p.edit("environments/agents.toml", "\"troubleshooting\"]", "\"tech-support\"]");
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    assert!(
        out.contains("!! module.ecr.aws_ecr_repository.this[\"troubleshooting\"]")
            && out.contains("If this is a rename, declare `renamed_from` on the agent"),
        "{out}"
    );
}

#[test]
fn removing_an_agent_is_flagged_as_destroying_state() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    let agents = std::fs::read_to_string(p.path("environments/agents.toml")).unwrap();
    let cut = agents.find("[[agent]]\nname = \"troubleshooting\"").unwrap();
    // The supervisor stops calling it too.
    let agents = agents[..cut].replace(", \"troubleshooting\"]", "]");
    std::fs::write(p.path("environments/agents.toml"), agents).unwrap();
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
    // Nothing was created in its place: no rename hint.
    assert!(!out.contains("renamed_from"), "{out}");

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
    assert!(p.text(&guarded.stdout).contains("re-run with --allow-destroy"));
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
    p.edit("environments/agents.toml", "\"troubleshooting\"]", "\"tech-support\"]");
    let d = p.run(&["--color", "never", "diff", "dev", "--stat"]);
    let out = p.text(&d.stdout);
    // Every per-agent instance keeps its state; only what embeds the agent's key changes: the task
    // definitions (container name, AGENT_NAME, the caller's TECH_SUPPORT_URL), the alarms' names and the
    // dashboard are replaced, the call's security-group rules are keyed by the new name; none is stateful.
    assert!(out.contains("resources: +2 ~9 -/+5 -2 (moved 24)"), "{out}");
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
    // A database name is no agent's: the rename hint would be wrong here.
    assert!(!out.contains("renamed_from"), "{out}");
    // render prints the same prediction before it writes.
    let r = p.run(&["--color", "never", "render", "dev"]);
    let rendered = p.text(&r.stdout);
    assert!(
        rendered.contains("  -/+ module.aurora.aws_rds_cluster.this (forces replacement: database_name)\n")
            && rendered.contains("WARNING: this change destroys or replaces stateful resources")
            && rendered.contains("!! module.aurora.aws_rds_cluster.this\n"),
        "{rendered}"
    );

    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let guarded = p.run(&["check", "--base", "HEAD"]);
    assert_eq!(code(&guarded), 1, "{}", p.text(&guarded.stderr));
    let err = p.text(&guarded.stdout);
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
    p.edit("environments/agents.toml", "\"troubleshooting\"]", "\"tech-support\"]");
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
    let agents = agents[..cut].replace(", \"troubleshooting\"]", "]");
    std::fs::write(p.path("environments/agents.toml"), agents).unwrap();
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

/// `cargo fast` (the README's edit-test loop, an alias in `.cargo/config.toml`) runs the unit tests and
/// every test suite except the slow ones, so a new suite is either in the loop or named slow here; it
/// runs them all even when one fails.
#[test]
fn the_fast_loop_runs_every_quick_suite() {
    const SLOW: [&str; 10] = [
        "access_mutations",
        "accepted_specs",
        "adopt",
        "interrupt",
        "properties",
        "terraform",
        "checkov",
        "hadolint",
        "database",
        "emulator",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config: toml::Table = std::fs::read_to_string(root.join(".cargo/config.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let args: Vec<&str> = config["alias"]["fast"]
        .as_array()
        .expect("`fast` is a list of arguments")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[..3], ["test", "--no-fail-fast", "--lib"], "{args:?}");
    let mut fast: Vec<&str> = args[3..]
        .chunks(2)
        .map(|pair| {
            assert_eq!(pair[0], "--test", "{args:?}");
            pair[1]
        })
        .collect();
    fast.sort_unstable();
    let mut quick: Vec<String> = std::fs::read_dir(root.join("tests"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".rs").map(str::to_string)
        })
        .filter(|name| !SLOW.contains(&name.as_str()))
        .collect();
    quick.sort_unstable();
    assert_eq!(fast, quick, "update the `fast` alias in .cargo/config.toml");
}

/// Runs the binary in `cwd` (a path relative to the project), without `--root`.
fn run_in(p: &Project, cwd: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .current_dir(p.path(cwd))
        .args(args)
        .env_remove("BEDROCK_MODEL_ID")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn every_command_finds_the_root_from_a_subdirectory() {
    let p = Project::new();
    let o = run_in(&p, "environments", &["render", "--all"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    assert!(
        p.text(&o.stdout)
            .starts_with("rendered dev into ../generated/dev: 75 files written")
    );
    let deep = "generated/dev/modules/ecs";
    for (args, expected) in [
        (&["validate", "dev"][..], "dev: ok\n"),
        (&["diff", "dev"], "../../../../generated/dev: no changes\n"),
        (
            &["render", "dev"],
            "rendered dev into ../../../../generated/dev: 0 files written",
        ),
        (&["check"], "generated/dev: up to date\n"),
    ] {
        let o = run_in(&p, deep, args);
        assert_eq!(code(&o), 0, "{args:?}: {}", p.text(&o.stderr));
        assert!(
            p.text(&o.stdout).starts_with(expected),
            "{args:?}: {}",
            p.text(&o.stdout)
        );
    }
}

#[test]
fn outside_a_repository_the_error_says_so_and_suggests_init() {
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .current_dir(empty.path())
        .args(["render", "dev"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr).replace(&*empty.path().to_string_lossy(), "[DIR]");
    insta::assert_snapshot!(err, @r"
    error: no `environments/` directory in [DIR] or any directory above it, so this is not a tfgen repository
    help: run `tfgen init` to start one here, or pass `--root DIR`
    ");
    let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .args(["--root"])
        .arg(empty.path())
        .args(["validate", "--all"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr).replace(&*empty.path().to_string_lossy(), "[DIR]");
    insta::assert_snapshot!(err, @r"
    error: [DIR] holds no `environments/` directory
    help: run `tfgen init [DIR]` to start a tfgen repository there
    ");
}

#[test]
fn init_refuses_to_overwrite_and_then_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("environments")).unwrap();
    std::fs::write(dir.path().join("environments/dev.toml"), "mine").unwrap();
    std::fs::write(dir.path().join(".gitignore"), "mine too").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .arg("init")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr).replace(&*dir.path().to_string_lossy(), "[DIR]");
    insta::assert_snapshot!(err, @r"
    error: [DIR] already has files tfgen init would write:
      environments/dev.toml
      .gitignore
    nothing was written; move them away, or run `tfgen init` in another directory
    ");
    let mut left: Vec<String> = std::fs::read_dir(dir.path().join("environments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["dev.toml"]);
    assert!(!dir.path().join(".github").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
        "mine too"
    );
}

#[test]
fn render_and_diff_all_cover_every_environment_with_the_highest_exit_code() {
    let p = Project::new();
    let o = p.run(&["render", "--all"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    assert!(p.path("generated/dev/main.tf").is_file() && p.path("generated/prod/main.tf").is_file());
    let o = p.run(&["diff", "--all"]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!(p.text(&o.stdout), @r"
    [ROOT]/generated/dev: no changes
    [ROOT]/generated/prod: no changes
    ");
    p.edit("environments/dev.toml", "max_acu = 4", "max_acu = 8");
    let o = p.run(&["diff", "--all", "--stat"]);
    assert_eq!(code(&o), 1, "{}", p.text(&o.stderr));
    let out = p.text(&o.stdout);
    assert!(
        out.starts_with("[ROOT]/generated/dev:\n README.md | modified +1 -1\n main.tf   | modified +1 -1\n")
            && out.ends_with("[ROOT]/generated/prod: no changes\n"),
        "{out}"
    );
    p.edit("environments/prod.toml", "instances = 2", "instances = 1");
    assert_eq!(code(&p.run(&["diff", "--all"])), 2, "an error outranks a difference");
    let o = p.run(&["render", "--all"]);
    assert_eq!(code(&o), 2);
    assert!(
        p.text(&o.stdout)
            .starts_with("rendered dev into [ROOT]/generated/dev: 2 files written")
    );
    // Naming an environment and --all together, or neither, is a usage error.
    assert_eq!(code(&p.run(&["render"])), 2);
    assert_eq!(code(&p.run(&["render", "dev", "--all"])), 2);
    assert_eq!(code(&p.run(&["diff", "--all", "--out", "x"])), 2);
}

#[test]
fn validate_all_reports_a_problem_in_agents_toml_once() {
    let p = Project::new();
    p.edit("environments/agents.toml", "port = 8004", "port = 5432");
    let o = p.run(&["validate", "--all"]);
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!(p.text(&o.stderr), @r#"
    error: port 5432 cannot be an agent port
      --> environments/agents.toml:63:8
       |
    63 | port = 5432
       |        ^^^^
       = help: 5432 is the database port

    error: 1 error; nothing was written
    warning: the certificate is in account 123456789012, which AWS's documentation uses in examples: the HTTPS listener would fail at apply
      --> environments/prod.toml:32:19
       |
    32 | certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d"
       |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: name a certificate of the account you deploy to (the generated tree also refuses one from another account at plan)

    warning: `example.com` is reserved for examples: alarms sent to `platform-oncall@example.com` reach no one
      --> environments/prod.toml:35:9
       |
    35 | email = "platform-oncall@example.com"
       |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: use the address of the team that answers the alarms

    prod: fails with the agents.toml problems shown above
    "#);
    // An environment's own problems are still shown, after the shared one.
    p.edit("environments/prod.toml", "instances = 2", "instances = 1");
    let o = p.run(&["validate", "--all"]);
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!(p.text(&o.stderr), @r#"
    error: port 5432 cannot be an agent port
      --> environments/agents.toml:63:8
       |
    63 | port = 5432
       |        ^^^^
       = help: 5432 is the database port

    error: 1 error; nothing was written
    error: prod needs a writer and a reader in two AZs
      --> environments/prod.toml:17:13
       |
    17 | instances = 1
       |             ^
       = help: set `instances = 2` or more (the plan's Multi-AZ)

    warning: the certificate is in account 123456789012, which AWS's documentation uses in examples: the HTTPS listener would fail at apply
      --> environments/prod.toml:32:19
       |
    32 | certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d"
       |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: name a certificate of the account you deploy to (the generated tree also refuses one from another account at plan)

    warning: `example.com` is reserved for examples: alarms sent to `platform-oncall@example.com` reach no one
      --> environments/prod.toml:35:9
       |
    35 | email = "platform-oncall@example.com"
       |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       = help: use the address of the team that answers the alarms

    error: 1 error, 2 warnings; nothing was written
    "#);
}

#[test]
fn completions_and_man_page_come_from_the_command_line_definition() {
    let p = Project::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = p.run(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for word in ["render", "init", "completions", "all", "root"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let bash = p.run(&["completions", "bash"]).stdout;
    std::fs::write(p.path("tfgen.bash"), &bash).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(p.path("tfgen.bash"))
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));

    let o = p.run(&["man"]);
    assert_eq!(code(&o), 0);
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(page.contains("\n.TH tfgen 1 "), "{page}");
    for word in ["tfgen\\-render", "tfgen\\-init", "\\-\\-root"] {
        assert!(page.contains(word), "the man page lacks {word}");
    }
    // Works outside any project.
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .current_dir(empty.path())
        .arg("man")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
}

/// `terraform plan -out plan.tfplan` leaves a binary file in the output directory (the README's deploy steps).
#[test]
fn render_and_diff_work_beside_a_binary_plan_file() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let plan: Vec<u8> = (0..4096u32).map(|i| u8::try_from(i * 7 % 256).unwrap()).collect();
    assert!(String::from_utf8(plan.clone()).is_err());
    std::fs::write(p.path("generated/dev/plan.tfplan"), &plan).unwrap();
    let diff = p.run(&["diff", "dev"]);
    assert_eq!(code(&diff), 0, "{}", p.text(&diff.stderr));
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    let diff = p.run(&["diff", "dev"]);
    assert_eq!(code(&diff), 1, "{}", p.text(&diff.stderr));
    let render = p.run(&["render", "dev"]);
    assert_eq!(code(&render), 0, "{}", p.text(&render.stderr));
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    let check = p.run(&["check"]);
    assert_eq!(code(&check), 0, "{}", p.text(&check.stdout));
    assert_eq!(std::fs::read(p.path("generated/dev/plan.tfplan")).unwrap(), plan);
}

/// Terraform merges every `.tf`, `.tf.json` and auto-loaded `.tfvars` file of a directory: one that tfgen
/// did not write changes what is deployed while the tree tfgen wrote is unchanged.
#[test]
fn a_hand_added_file_in_a_generated_tree_fails_check_and_shows_in_diff() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    // What Terraform itself leaves in the directory is not foreign.
    for working in [
        ".terraform.lock.hcl",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        "crash.log",
    ] {
        std::fs::write(p.path(&format!("generated/prod/{working}")), "{}").unwrap();
    }
    std::fs::create_dir_all(p.path("generated/prod/.terraform/modules")).unwrap();
    std::fs::write(p.path("generated/prod/.terraform/modules/modules.json"), "{}").unwrap();
    assert_eq!(code(&p.run(&["check"])), 0);

    let grant = "resource \"aws_iam_role_policy\" \"all\" {\n  role   = aws_iam_role.task[\"supervisor\"].name\n  policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = \"*\", Resource = \"*\" }] })\n}\n";
    std::fs::write(p.path("generated/prod/modules/iam/task_role_override.tf"), grant).unwrap();
    std::fs::write(p.path("generated/prod/extra.tf.json"), "{}").unwrap();
    // Named like state, loaded as configuration.
    std::fs::write(p.path("generated/prod/grant.tfstate.tf"), grant).unwrap();
    std::fs::write(p.path("generated/prod/terraform.tfvars"), "x = 1\n").unwrap();
    std::fs::write(p.path("generated/prod/notes.txt"), "hello\n").unwrap();
    // A copy of a generated file without its header is not tfgen's either.
    std::fs::write(p.path("generated/prod/copy.tf"), "locals {}\n").unwrap();
    std::os::unix::fs::symlink("main.tf", p.path("generated/prod/link.tf")).unwrap();

    let check = p.run(&["check"]);
    assert_eq!(code(&check), 1, "{}", p.text(&check.stdout));
    insta::assert_snapshot!(p.text(&check.stdout), @r"
    generated/dev: up to date
    generated/prod/copy.tf: a file tfgen did not write (Terraform loads it with the tree)
    generated/prod/extra.tf.json: a file tfgen did not write (Terraform loads it with the tree)
    generated/prod/grant.tfstate.tf: a file tfgen did not write (Terraform loads it with the tree)
    generated/prod/link.tf: a symlink tfgen did not write (Terraform loads it with the tree)
    generated/prod/modules/iam/task_role_override.tf: a file tfgen did not write (Terraform loads it with the tree)
    generated/prod/notes.txt: a file tfgen did not write
    generated/prod/terraform.tfvars: a file tfgen did not write (Terraform loads it with the tree)
    generated/prod must hold only what tfgen renders: move each change into the spec (or a module outside the generated tree) and delete the files; tfgen never deletes them
    ");
    let json: serde_json::Value = serde_json::from_slice(&p.run(&["check", "--json"]).stdout).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(
        json["environments"][1]["foreign"][4],
        "modules/iam/task_role_override.tf"
    );

    let diff = p.run(&["diff", "prod"]);
    assert_eq!(code(&diff), 1);
    assert!(
        p.text(&diff.stdout).contains(
            "[ROOT]/generated/prod/modules/iam/task_role_override.tf: a file tfgen did not write (Terraform loads it with the tree)"
        ),
        "{}",
        p.text(&diff.stdout)
    );
    let diff = p.run(&["diff", "prod", "--json"]);
    assert_eq!(code(&diff), 1);
    let json: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(json["foreign"].as_array().unwrap().len(), 7, "{json}");
    assert_eq!(json["foreign"][6]["loaded_by_terraform"], true);

    // render leaves them, and says so.
    let render = p.run(&["render", "prod"]);
    assert_eq!(code(&render), 0);
    let err = p.text(&render.stderr);
    assert!(
        err.contains("warning: [ROOT]/generated/prod/modules/iam/task_role_override.tf: a file tfgen did not write (Terraform loads it with the tree); left in place"),
        "{err}"
    );
    assert!(p.path("generated/prod/modules/iam/task_role_override.tf").is_file());

    for f in [
        "modules/iam/task_role_override.tf",
        "extra.tf.json",
        "grant.tfstate.tf",
        "terraform.tfvars",
        "notes.txt",
        "copy.tf",
        "link.tf",
    ] {
        std::fs::remove_file(p.path(&format!("generated/prod/{f}"))).unwrap();
    }
    assert_eq!(code(&p.run(&["check"])), 0);
}

/// A generated tree whose spec was deleted still describes deployed resources: check reports it.
#[test]
fn a_generated_tree_without_its_spec_fails_check_with_what_to_do() {
    let p = Project::new();
    std::fs::copy(p.path("environments/dev.toml"), p.path("environments/staging.toml")).unwrap();
    assert_eq!(code(&p.run(&["render", "--all"])), 0);
    assert_eq!(code(&p.run(&["check"])), 0);
    std::fs::remove_file(p.path("environments/staging.toml")).unwrap();
    let check = p.run(&["check"]);
    assert_eq!(code(&check), 1);
    let out = p.text(&check.stdout);
    assert!(
        out.ends_with(
            "generated/staging: no spec renders it (environments/staging.toml is missing). If that environment was \
             applied, its resources still exist: run `terraform destroy` in generated/staging first, then delete the \
             directory; or restore the spec\n"
        ),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_slice(&p.run(&["check", "--json"]).stdout).unwrap();
    assert_eq!(json["orphaned"], serde_json::json!(["generated/staging"]));
    assert_eq!(json["passed"], false);
    std::fs::remove_dir_all(p.path("generated/staging")).unwrap();
    assert_eq!(code(&p.run(&["check"])), 0);
}

fn mkfifo(path: &Path) {
    let o = Command::new("mkfifo").arg(path).output().unwrap();
    assert!(o.status.success(), "mkfifo: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_fifo_named_like_a_generated_file_is_an_error_not_a_hang() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    std::fs::remove_file(p.path("generated/dev/versions.tf")).unwrap();
    mkfifo(&p.path("generated/dev/versions.tf"));
    mkfifo(&p.path("generated/dev/other-pipe"));
    let before_files = p.snapshot_files("generated/dev");

    let render = p.run_with_timeout(&["render", "dev"]);
    assert_eq!(code(&render), 2);
    let err = p.text(&render.stderr);
    assert!(
        err.contains("[ROOT]/generated/dev/versions.tf is a FIFO, not a file tfgen wrote"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        before_files,
        p.snapshot_files("generated/dev"),
        "a refused render changed files"
    );
    // Reading skips the FIFO without opening it.
    assert_eq!(code(&p.run_with_timeout(&["diff", "dev", "--stat"])), 1);

    // A FIFO with a name tfgen never writes is left alone (and named: `check` fails until it goes).
    std::fs::remove_file(p.path("generated/dev/versions.tf")).unwrap();
    let render = p.run_with_timeout(&["render", "dev"]);
    assert_eq!(code(&render), 0, "{}", p.text(&render.stderr));
    assert!(p.path("generated/dev/versions.tf").is_file());
    assert!(
        p.text(&render.stderr)
            .contains("generated/dev/other-pipe: a FIFO tfgen did not write; left in place"),
        "{}",
        p.text(&render.stderr)
    );
    let pipe = std::fs::symlink_metadata(p.path("generated/dev/other-pipe")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&pipe.file_type()));
}

#[test]
fn a_symlinked_modules_directory_receives_nothing() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let elsewhere = p.path("elsewhere");
    std::fs::rename(p.path("generated/dev/modules"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, p.path("generated/dev/modules")).unwrap();
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    let outside = p.snapshot("elsewhere");
    let inside = p.snapshot_files("generated/dev");

    let render = p.run(&["render", "dev"]);
    assert_eq!(code(&render), 2);
    let err = p.text(&render.stderr);
    assert!(
        err.contains("[ROOT]/generated/dev/modules is a symlink, not a directory"),
        "{err}"
    );
    assert_eq!(outside, p.snapshot("elsewhere"), "render wrote through the symlink");
    assert_eq!(
        inside,
        p.snapshot_files("generated/dev"),
        "a refused render changed files"
    );
    // Reading does not follow it either: the modules are missing from what `diff` sees.
    let diff = p.run(&["diff", "dev", "--stat"]);
    assert_eq!(code(&diff), 1);
    assert!(
        p.text(&diff.stdout).contains("modules/ecs/main.tf"),
        "{}",
        p.text(&diff.stdout)
    );
    // Without its modules the tree on disk cannot be evaluated, and the summary says so instead of guessing.
    assert!(
        p.text(&diff.stdout).contains("note: no resource actions predicted"),
        "{}",
        p.text(&diff.stdout)
    );
}

#[test]
fn a_symlinked_file_is_never_written_through() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let target = p.path("mine.tf");
    std::fs::copy(p.path("generated/dev/main.tf"), &target).unwrap();
    std::fs::remove_file(p.path("generated/dev/main.tf")).unwrap();
    std::os::unix::fs::symlink(&target, p.path("generated/dev/main.tf")).unwrap();
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    let outside = std::fs::read(&target).unwrap();
    let inside = p.snapshot_files("generated/dev");

    let render = p.run(&["render", "dev"]);
    assert_eq!(code(&render), 2);
    let err = p.text(&render.stderr);
    assert!(
        err.contains("[ROOT]/generated/dev/main.tf is a symlink, not a file tfgen wrote"),
        "{err}"
    );
    assert_eq!(outside, std::fs::read(&target).unwrap());
    assert_eq!(inside, p.snapshot_files("generated/dev"));
}

#[test]
fn foreign_files_where_tfgen_writes_stop_the_render_before_anything_changes() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit(
        "environments/dev.toml",
        "image_tag = \"0.1.0\"",
        "image_tag = \"0.2.0\"",
    );
    p.edit(
        "environments/dev.toml",
        "region = \"eu-west-1\"",
        "region = \"us-east-1\"",
    );
    std::fs::write(p.path("generated/dev/providers.tf"), "# mine\n").unwrap();
    std::fs::remove_file(p.path("generated/dev/outputs.tf")).unwrap();
    std::fs::create_dir(p.path("generated/dev/outputs.tf")).unwrap();
    let before = p.snapshot_files("generated/dev");

    let render = p.run(&["render", "dev"]);
    assert_eq!(code(&render), 2);
    let err = p.text(&render.stderr);
    assert!(
        err.contains("[ROOT]/generated/dev/providers.tf exists and was not written by tfgen"),
        "{err}"
    );
    assert!(err.contains("[ROOT]/generated/dev/outputs.tf is a directory"), "{err}");
    assert_eq!(
        before,
        p.snapshot_files("generated/dev"),
        "main.tf or another file was replaced"
    );
    assert!(!p.path("generated/dev/.tfgen").exists());
}

#[test]
fn staging_folders_of_older_versions_are_removed() {
    let p = Project::new();
    let old = p.path("generated/.tfgen-stage-AbC123/modules/ecs");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("main.tf"), "# Generated by tfgen\n").unwrap();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    assert!(!p.path("generated/.tfgen-stage-AbC123").exists());
    assert!(!p.path("generated/dev/.tfgen").exists());
}

/// `tfgen show`: every resolved value with its origin, as aligned text and as JSON; each value is the
/// model's, and the origins are those the spec, the sizing, the defaults and BEDROCK_MODEL_ID give.
#[test]
fn show_prints_every_resolved_value_with_its_origin() {
    let p = Project::new();
    let o = p.run(&["show", "dev"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    let text = p.text(&o.stdout);
    let origin_of = |key: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"));
        line.rsplit_once("  # ").unwrap().1.to_string()
    };
    assert_eq!(origin_of("sizing"), "spec");
    assert_eq!(origin_of("database.instances"), "spec"); // written in dev.toml
    assert_eq!(origin_of("alb.deletion_protection"), "sizing"); // dev: off, prod: on
    assert_eq!(origin_of("agents.supervisor.cpu"), "sizing");
    assert_eq!(origin_of("alb.idle_timeout_seconds"), "default");
    assert_eq!(origin_of("agents.supervisor.port"), "spec"); // agents.toml
    assert_eq!(origin_of("names.alb"), "derived");
    assert_eq!(origin_of("bedrock.model_id"), "derived");
    assert!(text.contains("alb.idle_timeout_seconds = 300"), "{text}");
    // The bootstrap's SQL is summarised, so no line is padded to its length.
    assert!(text.contains("bootstrap.sql = <"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() < 250), "{text}");

    // An override in the environment's spec, and the environment variable.
    p.edit(
        "environments/dev.toml",
        "deletion_protection = false",
        "deletion_protection = false\n\n[agents.supervisor]\ncpu = 1024\nmemory = 2048",
    );
    let model = "anthropic.claude-sonnet-4-20250514-v1:0";
    let o = p.run_env(&["show", "dev", "--json"], "BEDROCK_MODEL_ID", model);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["environment"], "dev");
    let entry = |key: &str| -> serde_json::Value {
        json["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("no `{key}`"))
            .clone()
    };
    assert_eq!(entry("bedrock.model_id")["value"], model);
    assert_eq!(entry("bedrock.model_id")["origin"], "environment");
    assert_eq!(entry("agents.supervisor.cpu")["value"], 1024);
    assert_eq!(entry("agents.supervisor.cpu")["origin"], "spec");
    assert_eq!(entry("agents.order-management.cpu")["origin"], "sizing");
    assert_eq!(entry("network.vpc_cidr")["value"], "10.0.0.0/16");

    // A broken spec: every problem, exit 2.
    p.edit("environments/dev.toml", "cpu = 1024", "cpu = \"big\"");
    let o = p.run(&["show", "dev"]);
    assert_eq!(code(&o), 2);
    assert!(
        p.text(&o.stderr).contains("wrong type for `cpu`"),
        "{}",
        p.text(&o.stderr)
    );
}

/// `tfgen schema` prints the committed schemas.
#[test]
fn schema_prints_the_committed_schemas() {
    let p = Project::new();
    for (file, committed) in [
        ("env", "schema/env.schema.json"),
        ("agents", "schema/agents.schema.json"),
    ] {
        let o = p.run(&["schema", file]);
        assert_eq!(code(&o), 0);
        let committed = std::fs::read_to_string(env!("CARGO_MANIFEST_DIR").to_string() + "/" + committed).unwrap();
        assert_eq!(String::from_utf8(o.stdout).unwrap(), committed, "{file}");
    }
}

/// `tfgen scaffold agent NAME` writes the agent's image files once, keeps any that exist, and refuses an
/// agent that `agents.toml` does not declare.
#[test]
fn scaffold_agent_writes_once_and_never_overwrites() {
    let p = Project::new();
    let o = p.run(&["scaffold", "agent", "order-management"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let dockerfile = std::fs::read_to_string(p.path("agents/order-management/Dockerfile")).unwrap();
    assert!(dockerfile.contains("EXPOSE 8001"), "{dockerfile}");
    std::fs::write(p.path("agents/order-management/app.py"), "# mine").unwrap();
    std::fs::remove_file(p.path("agents/order-management/Dockerfile")).unwrap();
    let o = p.run(&["scaffold", "agent", "order-management"]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("kept    agents/order-management/app.py"), "{out}");
    assert!(out.contains("created agents/order-management/Dockerfile"), "{out}");
    assert_eq!(
        std::fs::read_to_string(p.path("agents/order-management/app.py")).unwrap(),
        "# mine"
    );
    let o = p.run(&["scaffold", "agent", "refunds"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("`refunds` is not an agent of"));
    assert!(!p.path("agents/refunds").exists());
}

/// `tfgen scaffold load-test` writes the load test once and keeps a file that exists.
#[test]
fn scaffold_load_test_writes_once_and_never_overwrites() {
    let p = Project::new();
    let o = p.run(&["scaffold", "load-test"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("created load_test/locustfile.py") && out.contains("created load_test/requirements.txt"),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(p.path("load_test/requirements.txt"))
            .unwrap()
            .contains("locust==")
    );
    std::fs::write(p.path("load_test/locustfile.py"), "# mine").unwrap();
    let o = p.run(&["scaffold", "load-test"]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("kept    load_test/locustfile.py"));
    assert_eq!(
        std::fs::read_to_string(p.path("load_test/locustfile.py")).unwrap(),
        "# mine"
    );
}

/// The scaffolded image answers, and its `HEALTHCHECK` probes, the path the ALB and the task definition
/// probe: the agent's own `health_check_path`, not always `/health`.
#[test]
fn scaffold_agent_follows_the_agents_health_check_path() {
    let p = Project::new();
    p.edit(
        "environments/agents.toml",
        "name = \"troubleshooting\"",
        "name = \"troubleshooting\"\nhealth_check_path = \"/ready\"",
    );
    let o = p.run(&["scaffold", "agent", "troubleshooting"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    let dockerfile = std::fs::read_to_string(p.path("agents/troubleshooting/Dockerfile")).unwrap();
    let app = std::fs::read_to_string(p.path("agents/troubleshooting/app.py")).unwrap();
    assert!(
        dockerfile.contains("urlopen('http://localhost:8004/ready'"),
        "{dockerfile}"
    );
    assert!(!dockerfile.contains("/health"), "{dockerfile}");
    assert!(app.contains("HEALTH_PATH = \"/ready\""), "{app}");
    // And the tree probes the same path.
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let main = std::fs::read_to_string(p.path("generated/dev/main.tf")).unwrap();
    assert!(main.contains("health_check_path = \"/ready\""), "{main}");
}

#[test]
fn a_hand_written_readme_is_refused_not_overwritten() {
    let p = Project::new();
    let readme = p.path("generated/dev/README.md");
    std::fs::create_dir_all(readme.parent().unwrap()).unwrap();
    std::fs::write(&readme, "# Our dev environment\n").unwrap();
    let o = p.run(&["render", "dev"]);
    assert_eq!(code(&o), 2, "{}", p.text(&o.stdout));
    assert!(
        p.text(&o.stderr)
            .contains("README.md exists and was not written by tfgen"),
        "{}",
        p.text(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), "# Our dev environment\n");
    assert!(
        !p.path("generated/dev/main.tf").exists(),
        "nothing is written when a file is refused"
    );
    // Once it is moved away, render writes tfgen's README, and a later render may replace and remove it.
    std::fs::remove_file(&readme).unwrap();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    let text = std::fs::read_to_string(&readme).unwrap();
    assert!(
        text.starts_with("<!-- Generated by tfgen from environments/dev.toml. DO NOT EDIT"),
        "{text}"
    );
    assert!(
        text.contains("```mermaid\nflowchart LR\n") && text.contains("| **Total** |"),
        "{text}"
    );
}

#[test]
fn cost_prints_itemised_totals_as_text_and_json() {
    let p = Project::new();
    for env in ["dev", "prod"] {
        let o = p.run(&["cost", env]);
        assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
        let out = p.text(&o.stdout);
        for part in [
            "Compute (ECS Fargate)",
            "public IPv4",
            "Total: $",
            "Usage assumptions",
            "hours_per_month = 730",
            "https://aws.amazon.com/fargate/pricing/",
        ] {
            assert!(out.contains(part), "{env}: no {part:?} in\n{out}");
        }
        let o = p.run(&["cost", env, "--json"]);
        assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let lines = json["lines"].as_array().unwrap();
        let sum: f64 = lines.iter().map(|l| l["monthly"].as_f64().unwrap()).sum();
        assert!((sum - json["total"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(json["region"], "eu-west-1");
    }
    // dev runs on Spot, as its spec says.
    assert!(p.text(&p.run(&["cost", "dev"]).stdout).contains("Spot x86_64"));
    // An assumption written in [cost] changes the estimate.
    let before = p.text(&p.run(&["cost", "dev"]).stdout);
    std::fs::write(
        p.path("environments/dev.toml"),
        std::fs::read_to_string(p.path("environments/dev.toml")).unwrap() + "\n[cost]\nlog_gb = 1000\n",
    )
    .unwrap();
    let after = p.text(&p.run(&["cost", "dev"]).stdout);
    assert!(
        after.contains("1000 GB × $0.57") && !before.contains("1000 GB"),
        "{after}"
    );
}

#[test]
fn cost_names_the_priced_regions_for_a_region_without_prices() {
    let p = Project::new();
    p.edit(
        "environments/dev.toml",
        "region = \"eu-west-1\"",
        "region = \"eu-central-1\"",
    );
    let o = p.run(&["cost", "dev"]);
    assert_eq!(code(&o), 2);
    let err = p.text(&o.stderr);
    assert!(
        err.contains("no price table for eu-central-1") && err.contains("us-east-1, us-east-2, eu-west-1"),
        "{err}"
    );
}

#[test]
fn diff_shows_the_monthly_cost_change() {
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "dev"])), 0);
    p.edit("environments/dev.toml", "instances = 1", "instances = 2");
    let o = p.run(&["diff", "dev", "--stat"]);
    assert_eq!(code(&o), 1, "{}", p.text(&o.stderr));
    let out = p.text(&o.stdout);
    // One more instance of dev's scale-to-zero cluster: 0.5 ACU for its 200 active hours at eu-west-1's
    // $0.13 per ACU-hour: 0.5 × 200 × 0.13 = $13.00.
    let line = out
        .lines()
        .find(|l| l.starts_with("monthly cost: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.ends_with("(+$13.00)"), "{line}");
}

/// `text` with the lines between `<!-- cost:NAME -->` and `<!-- /cost:NAME -->` replaced by `block`.
fn splice_cost(text: &str, name: &str, block: &str) -> String {
    let (open, close) = (format!("<!-- cost:{name} -->\n"), format!("<!-- /cost:{name} -->"));
    let start = text.find(&open).unwrap_or_else(|| panic!("README lacks {open}")) + open.len();
    let end = start
        + text[start..]
            .find(&close)
            .unwrap_or_else(|| panic!("README lacks {close}"));
    format!("{}{block}{}", &text[..start], &text[end..])
}

/// The README's cost figures are tfgen's: the table of what the repository's specs and `tfgen init`'s
/// cost in their own regions with their budgets, prod's levers, what in-transit encryption adds to prod, and
/// the diff's cost line for a third Aurora instance. `TFGEN_BLESS_README=1` rewrites the generated blocks.
#[test]
fn the_readmes_cost_figures_are_tfgens() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let p = Project::new();
    let cost = |dir: &Path, env: &str| -> serde_json::Value {
        let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
            .args(["cost", env, "--json", "--levers"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let fresh = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .arg("init")
        .arg(fresh.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    let mut specs = String::from("| spec | region | monthly estimate | budget |\n| --- | --- | ---: | ---: |\n");
    let mut levers = String::new();
    let mut transit = String::new();
    for (label, dir, env) in [
        ("this repository's `environments/dev.toml`", p.path(""), "dev"),
        ("this repository's `environments/prod.toml`", p.path(""), "prod"),
        (
            "`tfgen init`'s `environments/dev.toml`",
            fresh.path().to_path_buf(),
            "dev",
        ),
        (
            "`tfgen init`'s `environments/prod.toml`",
            fresh.path().to_path_buf(),
            "prod",
        ),
    ] {
        let json = cost(&dir, env);
        let budget = json["budget_usd"]
            .as_u64()
            .map_or("none".to_string(), |b| format!("${b}"));
        let _ = writeln!(
            specs,
            "| {label} | {} | ${:.2} | {budget} |",
            json["region"].as_str().unwrap(),
            json["total"].as_f64().unwrap()
        );
        if label.starts_with("this") && env == "dev" {
            // The README: in dev, in-transit encryption "would add more than half of the bill".
            let lever = json["levers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["setting"].as_str().unwrap() == "[security] in_transit_encryption = true")
                .expect("dev has the in-transit encryption lever");
            assert!(
                lever["monthly_change"].as_f64().unwrap() > json["total"].as_f64().unwrap() / 2.0,
                "{lever}"
            );
        }
        if label.starts_with("this") && env == "prod" {
            // What in-transit encryption adds: the CA, its certificates and the secrets of their keys.
            let added: f64 = json["lines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| {
                    let item = l["item"].as_str().unwrap();
                    item.starts_with("private CA")
                        || item.starts_with("Service Connect certificates")
                        || item.starts_with("Service Connect private keys")
                })
                .map(|l| l["monthly"].as_f64().unwrap())
                .sum();
            assert!(added > 50.0, "prod prices no in-transit encryption: {}", json["lines"]);
            let share = (added / json["total"].as_f64().unwrap() * 100.0).round();
            let _ = writeln!(transit, "${added:.2} a month, {share}% of its total,");
            for l in json["levers"].as_array().unwrap() {
                let change = match (l["monthly_change"].as_f64(), l["refused"].as_str()) {
                    (Some(c), _) if c < 0.0 => format!("-${:.2} a month", -c),
                    (Some(c), _) => format!("+${c:.2} a month"),
                    (None, Some(why)) => format!("refused: {why}"),
                    (None, None) => panic!("a lever with neither a price nor a refusal: {l}"),
                };
                let _ = writeln!(
                    levers,
                    "- `{}`: {change}; {}",
                    l["setting"].as_str().unwrap(),
                    l["effect"].as_str().unwrap()
                );
            }
        }
    }
    let expected = splice_cost(
        &splice_cost(&splice_cost(&readme, "specs", &specs), "levers", &levers),
        "transit",
        &transit,
    );
    if std::env::var_os("TFGEN_BLESS_README").is_some() {
        std::fs::write(&path, &expected).unwrap();
    } else {
        assert!(
            readme == expected,
            "the README's cost blocks differ from tfgen's figures; run `TFGEN_BLESS_README=1 cargo test --test cli the_readmes_cost`"
        );
    }

    assert_eq!(code(&p.run(&["render", "prod"])), 0);
    p.edit("environments/prod.toml", "instances = 2", "instances = 3");
    let out = p.text(&p.run(&["diff", "prod", "--stat"]).stdout);
    let line = out.lines().find(|l| l.starts_with("monthly cost: ")).unwrap();
    assert!(
        readme.contains(&format!("`{line}` for a third Aurora instance")),
        "{line}"
    );
}

/// The README's example of `tfgen reach dev` is what the command prints for the shipped specs.
#[test]
fn the_readmes_reach_example_is_tfgens() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let p = Project::new();
    let o = p.run(&["reach", "dev"]);
    assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
    let out = p.text(&o.stdout);
    assert!(
        readme.contains(&format!("```text\n{out}```")),
        "the README's reach example is not\n{out}"
    );
}

/// `tfgen check --json | head -1`, `tfgen diff dev --json | head -3`, `tfgen scaffold agent x | head -1`: a
/// reader that stops early ends tfgen as it ends `cat` (SIGPIPE), never with a panic (exit 101).
#[test]
fn a_closed_pipe_ends_tfgen_quietly() {
    use std::io::Read as _;
    use std::os::unix::process::ExitStatusExt as _;
    let p = Project::new();
    assert_eq!(code(&p.run(&["render", "--all"])), 0);
    // `access --json` writes about 300 KB, more than a pipe holds, so its later writes meet the closed pipe.
    for args in [
        vec!["access", "prod", "--json"],
        vec!["check", "--json"],
        vec!["diff", "dev", "--json"],
        vec!["show", "prod"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tfgen"))
            .arg("--root")
            .arg(p.dir.path())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe, as `head -c1` would.
        let mut out = child.stdout.take().unwrap();
        let mut byte = [0u8; 1];
        out.read_exact(&mut byte).unwrap();
        drop(out);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !stderr.contains("panicked") && o.status.code() != Some(101),
            "{args:?}: {:?} {stderr}",
            o.status
        );
        assert!(
            o.status.success() || o.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {stderr}",
            o.status
        );
    }
}

/// Every default and sizing value `show` prints, pasted back into the spec under the key it prints
/// (an agent's in `[agents.<name>]` when the environment may override it, else in its `[[agent]]`), resolves
/// to the same environment: `show` speaks the spec's language (`"on-demand"`, `"arm64"`, `cpu`), not the
/// model's or AWS's.
#[test]
fn show_prints_values_the_spec_takes_back() {
    let p = Project::new();
    let show = |p: &Project| -> Vec<(String, serde_json::Value, String)> {
        let o = p.run(&["show", "prod", "--json"]);
        assert_eq!(code(&o), 0, "{}", p.text(&o.stderr));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        json["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["key"].as_str().unwrap().to_string(),
                    e["value"].clone(),
                    e["origin"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let schema: serde_json::Value = serde_json::from_slice(&p.run(&["schema", "env"]).stdout).unwrap();
    let overridable = schema["definitions"]["AgentOverride"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    let before = show(&p);
    let read = |rel: &str| -> toml::Table { std::fs::read_to_string(p.path(rel)).unwrap().parse().unwrap() };
    let (mut env, mut agents) = (read("environments/prod.toml"), read("environments/agents.toml"));
    let mut pasted = Vec::new();
    for (key, value, origin) in &before {
        if !matches!(origin.as_str(), "default" | "sizing") || value.is_null() {
            continue;
        }
        let value = toml::Value::try_from(value).unwrap();
        let parts: Vec<&str> = key.split('.').collect();
        let table = match parts.as_slice() {
            [_] => &mut env,
            ["agents", name, k] if overridable.contains_key(*k) => env
                .entry("agents")
                .or_insert(toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap()
                .entry(*name)
                .or_insert(toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap(),
            ["agents", name, _] => agents["agent"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|a| a["name"].as_str() == Some(*name))
                .unwrap()
                .as_table_mut()
                .unwrap(),
            [section, _] => env
                .entry(*section)
                .or_insert(toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap(),
            _ => panic!("{key}: show prints a key no spec file has"),
        };
        assert!(
            table.insert((*parts.last().unwrap()).to_string(), value).is_none(),
            "{key}"
        );
        pasted.push(key.clone());
    }
    assert!(pasted.len() > 60, "only {} values pasted", pasted.len());
    std::fs::write(p.path("environments/prod.toml"), toml::to_string(&env).unwrap()).unwrap();
    std::fs::write(p.path("environments/agents.toml"), toml::to_string(&agents).unwrap()).unwrap();
    let after = show(&p);
    let values = |v: &[(String, serde_json::Value, String)]| -> Vec<(String, serde_json::Value)> {
        v.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect()
    };
    assert_eq!(values(&before), values(&after));
    for (key, _, origin) in &after {
        if pasted.contains(key) {
            assert_eq!(origin, "spec", "{key}");
        }
    }
    // The text form aligns origins without padding every line to the longest one.
    let text = p.text(&p.run(&["show", "prod"]).stdout);
    assert!(text.contains("agents.supervisor.capacity = \"on-demand\"  "), "{text}");
    assert!(text.lines().all(|l| l.len() <= 200), "{text}");
    assert!(text.lines().filter(|l| l.len() > 90).count() < 20, "{text}");
}

/// A release stage needs a spec with shared state: validating the host reads the repository's other
/// specs, so `dev` (local state) and `staging` (no spec) are refused where the stages are written.
#[test]
fn a_release_stage_needs_a_spec_with_shared_state() {
    let p = Project::new();
    let prod = p.path("environments/prod.toml");
    let mut text = std::fs::read_to_string(&prod).unwrap();
    text.push_str(
        "\n[pipeline]\nrepository = \"example-org/support-infrastructure\"\n\
         tfgen_repository = \"https://github.com/example-org/tfgen\"\n\
         [[pipeline.stage]]\nenvironment = \"dev\"\ndeploy_role_arn = \"arn:aws:iam::123456789012:role/deploy-dev\"\n\
         [[pipeline.stage]]\nenvironment = \"staging\"\ndeploy_role_arn = \"arn:aws:iam::123456789012:role/deploy-staging\"\n\
         [[pipeline.stage]]\nenvironment = \"prod\"\ndeploy_role_arn = \"arn:aws:iam::123456789012:role/deploy-prod\"\n",
    );
    std::fs::write(&prod, text).unwrap();
    let o = p.run(&["validate", "prod"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("the stage `dev` has no shared state: environments/dev.toml has no `[backend.s3]`"),
        "{err}"
    );
    assert!(
        err.contains("the stage `staging` has no spec: there is no environments/staging.toml"),
        "{err}"
    );
    assert!(!err.contains("the stage `prod`"), "{err}");
}
