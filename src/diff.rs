//! Diff stage: what `render` would change on disk, per file and per Terraform resource instance.
//!
//! A pure function of two trees (on disk, rendered); it neither reads nor writes files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use similar::{ChangeTag, TextDiff};

use crate::addresses;
use crate::diag::Style;
use crate::predict::{self, Action, ResourceChange};
use crate::vfs::{Foreign, Tree};

/// How one file changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub status: FileStatus,
    pub insertions: usize,
    pub deletions: usize,
    /// Unified diff text (uncoloured).
    pub unified: String,
}

/// What `terraform plan` would do to each resource instance, as predicted by [`predict`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    /// Every instance the plan touches, moves included, sorted by address.
    pub changes: Vec<ResourceChange>,
    /// The provider configuration (`providers.tf`: region, default tags) changed, which the prediction
    /// does not model.
    pub provider_changed: bool,
    /// Why no resource actions could be predicted (the tree on disk cannot be evaluated, e.g. a module
    /// it calls is missing), in which case `changes` is empty.
    pub unpredictable: Option<String>,
}

impl ResourceSummary {
    /// How many instances get `action` (moves with no other change count as [`Action::NoOp`]).
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// Instances that keep their state under a new address.
    pub fn moved(&self) -> usize {
        self.changes.iter().filter(|c| c.moved_from.is_some()).count()
    }

    /// Stateful instances that are deleted or replaced: their data is lost.
    pub fn destroyed_stateful(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.destroys_state())
            .map(|c| c.address.as_str())
            .collect()
    }
}

/// The whole difference between the tree on disk and the rendered one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    pub files: Vec<FileChange>,
    pub resources: ResourceSummary,
    /// What sits in the directory on disk that tfgen did not write (see [`crate::vfs::foreign`]): a render
    /// leaves it there, so it stays a difference until someone removes it.
    pub foreign: Vec<Foreign>,
}

impl TreeDiff {
    /// The directory is exactly what tfgen renders: no file to change, nothing foreign beside it.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.foreign.is_empty()
    }
}

/// Compares `old` (on disk) with `new` (rendered). `prefix` names the directory in diff headers.
pub fn diff(old: &Tree, new: &Tree, prefix: &str) -> Result<TreeDiff> {
    diff_evaluated(old, new, None, prefix)
}

/// [`diff`] of a compiled tree, whose evaluation the compile already did.
pub fn diff_compiled(old: &Tree, compiled: &crate::Compiled, prefix: &str) -> Result<TreeDiff> {
    diff_evaluated(old, &compiled.tree, Some(&compiled.evaluation), prefix)
}

fn diff_evaluated(old: &Tree, new: &Tree, evaluation: Option<&predict::Evaluation>, prefix: &str) -> Result<TreeDiff> {
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    let mut files = Vec::new();
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        if a == b {
            continue;
        }
        let status = match (a, b) {
            (None, _) => FileStatus::Added,
            (_, None) => FileStatus::Removed,
            _ => FileStatus::Modified,
        };
        let (a, b) = (a.unwrap_or(""), b.unwrap_or(""));
        let text = TextDiff::from_lines(a, b);
        let (mut insertions, mut deletions) = (0, 0);
        for change in text.iter_all_changes() {
            match change.tag() {
                ChangeTag::Insert => insertions += 1,
                ChangeTag::Delete => deletions += 1,
                ChangeTag::Equal => {}
            }
        }
        let old_name = if status == FileStatus::Added {
            "/dev/null".to_string()
        } else {
            format!("a/{prefix}/{path}")
        };
        let new_name = if status == FileStatus::Removed {
            "/dev/null".to_string()
        } else {
            format!("b/{prefix}/{path}")
        };
        let unified = text
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .to_string();
        files.push(FileChange {
            path: path.clone(),
            status,
            insertions,
            deletions,
            unified,
        });
    }
    let provider_changed = old.get("main.tf").is_some() && old.get("providers.tf") != new.get("providers.tf");
    // The tree on disk may be incomplete (a module it calls is missing): the file diff still stands, but
    // no resource action can be predicted. The rendered tree always evaluates; a failure there is a bug.
    // Identical trees plan nothing: skip the evaluation (a no-op render, an up-to-date check).
    let same = files.is_empty();
    let resources = match if same {
        Ok(Vec::new())
    } else {
        resource_changes(old, new, evaluation)
    } {
        Ok(changes) => ResourceSummary {
            changes,
            provider_changed,
            unpredictable: None,
        },
        Err(e) => {
            let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
            predict::evaluate(new, predict::Unknowns::none(&identity, &nothing))?;
            ResourceSummary {
                changes: Vec::new(),
                provider_changed,
                unpredictable: Some(format!("{e:#}")),
            }
        }
    };
    Ok(TreeDiff {
        files,
        resources,
        foreign: old.foreign.clone(),
    })
}

fn resource_changes(old: &Tree, new: &Tree, evaluation: Option<&predict::Evaluation>) -> Result<Vec<ResourceChange>> {
    let (had, has) = (old.get("main.tf").is_some(), new.get("main.tf").is_some());
    let all = |tree: &Tree, action: Action| -> Result<Vec<ResourceChange>> {
        let (identity, nothing) = (BTreeMap::new(), BTreeSet::new());
        let instances = predict::evaluate(tree, predict::Unknowns::none(&identity, &nothing))?;
        Ok(instances
            .into_keys()
            .map(|address| ResourceChange {
                stateful: addresses::is_stateful(&address),
                address,
                action,
                moved_from: None,
                forces_replacement: Vec::new(),
                changed_attributes: Vec::new(),
            })
            .collect())
    };
    match (had, has) {
        (true, true) => match evaluation {
            Some(evaluation) => predict::predict_from(old, new, evaluation),
            None => predict::predict(old, new),
        },
        (false, true) => all(new, Action::Create),
        (true, false) => all(old, Action::Delete),
        (false, false) => Ok(Vec::new()),
    }
}

/// The machine-readable form of a diff (`tfgen diff --json`, and each environment of `check --json`).
pub fn to_json(diff: &TreeDiff, dir: &str) -> serde_json::Value {
    let files: Vec<serde_json::Value> = diff
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": f.path,
                "status": match f.status {
                    FileStatus::Added => "added",
                    FileStatus::Removed => "removed",
                    FileStatus::Modified => "modified",
                },
                "insertions": f.insertions,
                "deletions": f.deletions,
            })
        })
        .collect();
    let r = &diff.resources;
    let foreign: Vec<serde_json::Value> = diff
        .foreign
        .iter()
        .map(|f| serde_json::json!({"path": f.path, "kind": f.kind, "loaded_by_terraform": f.loaded}))
        .collect();
    serde_json::json!({
        "directory": dir,
        "files": files,
        "foreign": foreign,
        "resources": {
            "create": r.count(Action::Create),
            "update": r.count(Action::Update),
            "replace": r.count(Action::Replace),
            "delete": r.count(Action::Delete),
            "moved": r.moved(),
            "provider_changed": r.provider_changed,
            "unpredictable": r.unpredictable,
            "destroyed_stateful": r.destroyed_stateful(),
            "changes": r.changes,
        },
    })
}

/// The unified diff of every file, coloured on request.
pub fn render_patch(diff: &TreeDiff, style: Style) -> String {
    let mut out = String::new();
    for file in &diff.files {
        for line in file.unified.lines() {
            let code = match line.as_bytes().first() {
                _ if line.starts_with("+++") || line.starts_with("---") => "1",
                Some(b'+') => "32",
                Some(b'-') => "31",
                Some(b'@') => "36",
                _ => "",
            };
            if style == Style::Color && !code.is_empty() {
                let _ = writeln!(out, "\x1b[{code}m{line}\x1b[0m");
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// One line per foreign entry, under `dir`, and what to do about them (empty when there are none).
pub fn render_foreign(diff: &TreeDiff, dir: &str) -> String {
    let mut out = String::new();
    for f in &diff.foreign {
        let _ = writeln!(out, "{dir}/{f}");
    }
    if !diff.foreign.is_empty() {
        let _ = writeln!(
            out,
            "{dir} must hold only what tfgen renders: move each change into the spec (or a module outside the \
             generated tree) and delete the files; tfgen never deletes them"
        );
    }
    out
}

/// One line per changed file, like `git diff --stat`.
pub fn render_stat(diff: &TreeDiff) -> String {
    let width = diff.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in &diff.files {
        let mark = match f.status {
            FileStatus::Added => "added",
            FileStatus::Removed => "removed",
            FileStatus::Modified => "modified",
        };
        let _ = writeln!(
            out,
            " {:<width$} | {mark:>8} +{} -{}",
            f.path, f.insertions, f.deletions
        );
    }
    let (ins, del): (usize, usize) = diff
        .files
        .iter()
        .fold((0, 0), |(i, d), f| (i + f.insertions, d + f.deletions));
    let _ = writeln!(
        out,
        " {} file{} changed, +{ins} -{del}",
        diff.files.len(),
        if diff.files.len() == 1 { "" } else { "s" }
    );
    out
}

/// The resource summary (`+3 ~1 -/+1 -0 (moved 15)`), each address (replacements with the attributes
/// that force them), and a loud warning for stateful resources that are replaced or destroyed.
pub fn render_resources(summary: &ResourceSummary, style: Style) -> String {
    let mut out = String::new();
    let moved = summary.moved();
    let _ = writeln!(
        out,
        "resources: +{} ~{} -/+{} -{}{}",
        summary.count(Action::Create),
        summary.count(Action::Update),
        summary.count(Action::Replace),
        summary.count(Action::Delete),
        if moved == 0 {
            String::new()
        } else {
            format!(" (moved {moved})")
        }
    );
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::NoOp,
        Action::Delete,
    ] {
        for c in summary.changes.iter().filter(|c| c.action == action) {
            let mut line = format!("  {} {}", action.sign(), c.address);
            if let Some(from) = &c.moved_from {
                let _ = write!(line, " (moved from {from})");
            }
            if !c.forces_replacement.is_empty() {
                let _ = write!(line, " (forces replacement: {})", c.forces_replacement.join(", "));
            }
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(why) = &summary.unpredictable {
        let _ = writeln!(
            out,
            "note: no resource actions predicted: the tree on disk cannot be evaluated ({why}); read `terraform plan`"
        );
    }
    if summary.provider_changed {
        let _ = writeln!(
            out,
            "note: providers.tf changed (region or default tags); this summary does not model provider changes, so read `terraform plan`"
        );
    }
    let stateful = summary.destroyed_stateful();
    if !stateful.is_empty() {
        let banner = "WARNING: this change destroys or replaces stateful resources; their data is lost:";
        let banner = if style == Style::Color {
            format!("\x1b[1;31m{banner}\x1b[0m")
        } else {
            banner.to_string()
        };
        let _ = writeln!(out, "\n{banner}");
        for a in stateful {
            let _ = writeln!(out, "  !! {a}");
        }
        if looks_like_a_rename(summary) {
            let _ = writeln!(
                out,
                "If this is a rename, declare `renamed_from` on the agent so tfgen emits `moved` blocks."
            );
        }
    }
    out
}

/// A stateful instance keyed by one name is destroyed while the same resource is created under another
/// key (`module.x.aws_y.z["old"]` → `["new"]`): the only case `renamed_from` can turn into a move.
fn looks_like_a_rename(summary: &ResourceSummary) -> bool {
    let unkeyed = |address: &str| -> Option<String> {
        let start = address.find("[\"")?;
        let end = start + address[start..].find("\"]")?;
        Some(format!("{}{}", &address[..start], &address[end + 2..]))
    };
    let created: BTreeSet<String> = summary
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .filter_map(|c| unkeyed(&c.address))
        .collect();
    summary
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete && c.stateful)
        .filter_map(|c| unkeyed(&c.address))
        .any(|a| created.contains(&a))
}
