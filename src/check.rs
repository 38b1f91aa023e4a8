//! The `tfgen check` policy as a function that returns a report: is every committed `generated/<env>`
//! what tfgen renders now, which resources would the committed trees change since a git base, and which
//! of those changes destroy or replace stateful resources. It prints nothing; `tfgen check` (src/bin/tfgen/commands/check.rs) does.
//!
//! It reads the project (specs, committed trees) and, for a base, runs `git`; it never writes.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::diag::Diagnostics;
use crate::diff::{self, TreeDiff};
use crate::load::{self, Overrides};
use crate::vfs::{self, Tree};
use crate::{CompileError, compile};

/// How `check` is asked to judge.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Accept changes that destroy or replace stateful resources.
    pub allow_destroy: bool,
    /// Also compare the committed trees with those at this git revision (e.g. the PR's base).
    pub base: Option<String>,
    /// Environment-variable overrides the specs are rendered with.
    pub overrides: Overrides,
}

/// The verdict for one environment.
#[derive(Debug, Clone)]
pub struct EnvReport {
    pub env: String,
    /// `generated/<env>`, relative to the project root.
    pub dir: String,
    pub warnings: Diagnostics,
    /// The spec's errors; when set, nothing else was checked.
    pub errors: Option<Diagnostics>,
    /// Committed tree → freshly rendered tree (empty when up to date).
    pub stale: TreeDiff,
    /// Tree at the base revision → committed tree, when a base was given and the tree existed there.
    pub since_base: Option<TreeDiff>,
    /// Stateful addresses destroyed or replaced by either diff.
    pub destroyed: Vec<String>,
}

impl EnvReport {
    /// Some file tfgen writes differs from its render.
    pub fn is_stale(&self) -> bool {
        !self.stale.files.is_empty()
    }

    /// Something tfgen did not write sits in the tree (see [`crate::vfs::foreign`]).
    pub fn has_foreign(&self) -> bool {
        !self.stale.foreign.is_empty()
    }
}

/// The verdict for every environment under `environments/`.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub allow_destroy: bool,
    pub base: Option<String>,
    pub environments: Vec<EnvReport>,
    /// Directories under `generated/` that no spec renders (`generated/staging` after its spec was deleted),
    /// relative to the project root.
    pub orphans: Vec<String>,
}

impl CheckReport {
    /// Some spec has errors.
    pub fn has_errors(&self) -> bool {
        self.environments.iter().any(|e| e.errors.is_some())
    }

    /// Some committed tree differs from its render, holds files tfgen did not write, has no spec, or
    /// destroys state without `allow_destroy`.
    pub fn fails(&self) -> bool {
        !self.orphans.is_empty()
            || self
                .environments
                .iter()
                .any(|e| e.is_stale() || e.has_foreign() || self.blocks_destroy(e))
    }

    /// Does this environment destroy stateful resources that the options do not allow?
    pub fn blocks_destroy(&self, env: &EnvReport) -> bool {
        !env.destroyed.is_empty() && !self.allow_destroy
    }
}

/// Runs the check over the project at `root`.
pub fn run(root: &Path, options: &Options) -> Result<CheckReport> {
    let mut environments = Vec::new();
    let names = load::list_environments(root)?;
    let orphans = orphans(root, &names)?;
    for env in names {
        let inputs = load::load(root, &env, options.overrides.clone())?;
        let dir = format!("generated/{env}");
        let mut report = EnvReport {
            env: env.clone(),
            dir: dir.clone(),
            warnings: Diagnostics::default(),
            errors: None,
            stale: TreeDiff::default(),
            since_base: None,
            destroyed: Vec::new(),
        };
        let compiled = match compile(&inputs) {
            Ok(c) => c,
            Err(CompileError::Spec(diags)) => {
                report.errors = Some(diags);
                environments.push(report);
                continue;
            }
            Err(CompileError::Internal(e)) => return Err(e.context("internal error in tfgen (please report it)")),
        };
        report.warnings = compiled.warnings.clone();
        let committed = Tree::read_generated(&root.join(&dir))?;
        report.stale = diff::diff_compiled(&committed, &compiled, &dir)?;
        let mut destroyed: Vec<String> = report
            .stale
            .resources
            .destroyed_stateful()
            .into_iter()
            .map(String::from)
            .collect();
        if let Some(rev) = &options.base {
            let before = git_tree(root, rev, &dir)?;
            if !before.files.is_empty() {
                let since = diff::diff(&before, &committed, &dir)?;
                destroyed.extend(since.resources.destroyed_stateful().into_iter().map(String::from));
                report.since_base = Some(since);
            }
        }
        destroyed.sort();
        destroyed.dedup();
        report.destroyed = destroyed;
        environments.push(report);
    }
    Ok(CheckReport {
        allow_destroy: options.allow_destroy,
        base: options.base.clone(),
        environments,
        orphans,
    })
}

/// What to do about `orphan`, a directory of [`CheckReport::orphans`] (`generated/<name>`).
pub fn orphan_help(orphan: &str) -> String {
    let name = orphan.trim_start_matches("generated/");
    format!(
        "{orphan}: no spec renders it (environments/{name}.toml is missing). If that environment was applied, \
         its resources still exist: run `terraform destroy` in {orphan} first, then delete the directory; or \
         restore the spec"
    )
}

/// The directories under `generated/` (hidden ones aside) that none of `envs` renders.
fn orphans(root: &Path, envs: &[String]) -> Result<Vec<String>> {
    let dir = root.join("generated");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !name.starts_with('.') && !envs.contains(&name) {
            orphans.push(format!("generated/{name}"));
        }
    }
    orphans.sort();
    Ok(orphans)
}

/// The files under `dir` at git revision `rev` that carry tfgen's header (empty when `dir` did not exist).
/// Other files (binary plans, state, anything not UTF-8) are skipped unread past their first bytes.
pub fn git_tree(root: &Path, rev: &str, dir: &str) -> Result<Tree> {
    let git = |args: &[&str]| -> Result<Vec<u8>> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .with_context(|| format!("running git {}", args.join(" ")))?;
        anyhow::ensure!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(out.stdout)
    };
    let mut tree = Tree::default();
    let listing = git(&["ls-tree", "-r", "-z", "--name-only", rev, "--", dir])?;
    for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let Ok(path) = std::str::from_utf8(path) else {
            continue;
        };
        if !vfs::owned::is_owned_name(path) {
            continue;
        }
        let bytes = git(&["show", &format!("{rev}:{path}")])?;
        if let Ok(text) = String::from_utf8(bytes)
            && vfs::owned::is_generated_text(path, &text)
        {
            tree.insert(path.trim_start_matches(dir).trim_start_matches('/'), text);
        }
    }
    Ok(tree)
}
