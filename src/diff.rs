//! Diff stage: what `render` would change on disk, per file and per Terraform resource instance.
//!
//! A pure function of two trees (on disk, rendered); it neither reads nor writes files.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Result;
use similar::{ChangeTag, TextDiff};

use crate::addresses;
use crate::diag::Style;
use crate::vfs::Tree;

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

/// Resource instances Terraform would add, change or destroy, as far as the configuration tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// `from` addresses that a `moved` block carries over: removed in name only.
    pub moved: Vec<(String, String)>,
}

impl ResourceSummary {
    /// Removed stateful resources (databases, repositories, secrets, logs, keys, buckets).
    pub fn destroyed_stateful(&self) -> Vec<&str> {
        self.removed
            .iter()
            .map(String::as_str)
            .filter(|a| addresses::is_stateful(a))
            .collect()
    }
}

/// The whole difference between the tree on disk and the rendered one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    pub files: Vec<FileChange>,
    pub resources: ResourceSummary,
}

impl TreeDiff {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Compares `old` (on disk) with `new` (rendered). `prefix` names the directory in diff headers.
pub fn diff(old: &Tree, new: &Tree, prefix: &str) -> Result<TreeDiff> {
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
    let resources = if old.get("main.tf").is_some() && new.get("main.tf").is_some() {
        resource_summary(old, new)?
    } else {
        ResourceSummary {
            added: addresses::instances(new)
                .map(|m| m.into_keys().collect())
                .unwrap_or_default(),
            ..ResourceSummary::default()
        }
    };
    Ok(TreeDiff { files, resources })
}

fn resource_summary(old: &Tree, new: &Tree) -> Result<ResourceSummary> {
    let (before, after) = (addresses::instances(old)?, addresses::instances(new)?);
    let moves = addresses::moved_blocks(new)?;
    let mut summary = ResourceSummary::default();
    for (address, fingerprint) in &after {
        match before.get(address) {
            None => {
                let moved_from = moves
                    .iter()
                    .find(|(_, to)| covers(to, address))
                    .map(|(from, to)| rebase(address, to, from))
                    .filter(|old| before.contains_key(old));
                match moved_from {
                    Some(old) => summary.moved.push((old, address.clone())),
                    None => summary.added.push(address.clone()),
                }
            }
            Some(old) if old != fingerprint => summary.changed.push(address.clone()),
            Some(_) => {}
        }
    }
    for address in before.keys() {
        if !after.contains_key(address) && !summary.moved.iter().any(|(from, _)| from == address) {
            summary.removed.push(address.clone());
        }
    }
    Ok(summary)
}

/// Does a `moved` target (`module.ecs["a"]`) cover this address (`module.ecs["a"].aws_x.y`)?
fn covers(target: &str, address: &str) -> bool {
    address == target || address.starts_with(&format!("{target}."))
}

fn rebase(address: &str, to: &str, from: &str) -> String {
    format!("{from}{}", &address[to.len()..])
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

/// The resource summary (`+3 ~1 -0`), each address, and a loud warning for destroyed stateful ones.
pub fn render_resources(summary: &ResourceSummary, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "resources: +{} ~{} -{}{}",
        summary.added.len(),
        summary.changed.len(),
        summary.removed.len(),
        if summary.moved.is_empty() {
            String::new()
        } else {
            format!(" (moved {})", summary.moved.len())
        }
    );
    for a in &summary.added {
        let _ = writeln!(out, "  + {a}");
    }
    for a in &summary.changed {
        let _ = writeln!(out, "  ~ {a}");
    }
    for (from, to) in &summary.moved {
        let _ = writeln!(out, "  > {from} -> {to}");
    }
    for a in &summary.removed {
        let _ = writeln!(out, "  - {a}");
    }
    let stateful = summary.destroyed_stateful();
    if !stateful.is_empty() {
        let banner = "WARNING: this change destroys stateful resources; their data is lost:";
        let banner = if style == Style::Color {
            format!("\x1b[1;31m{banner}\x1b[0m")
        } else {
            banner.to_string()
        };
        let _ = writeln!(out, "\n{banner}");
        for a in stateful {
            let _ = writeln!(out, "  !! {a}");
        }
        let _ = writeln!(
            out,
            "If this is a rename, declare `renamed_from` on the agent so tfgen emits `moved` blocks."
        );
    }
    out
}
