//! One render's changes to an output directory as a transaction: staged files, a journal of steps, a
//! commit marker, and the recovery that finishes or discards an interrupted one. It decides nothing about
//! which files may be written (that is [`super::owned`] and [`super::write`]) and does no locking
//! (callers hold [`super::lock::DirLock`]).
//!
//! Everything lives in `<out>/.tfgen/`: `stage/<n>` (the new files), `journal` (being written) and
//! `committed` (the same journal after the commit rename). See the module documentation of [`super`] for
//! the crash points and why recovery is correct.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result};

use super::owned;

/// The hidden directory holding an in-flight transaction; absent when none is.
pub const STATE_DIR: &str = ".tfgen";
const STAGE: &str = "stage";
const JOURNAL: &str = "journal";
const COMMITTED: &str = "committed";
const MAGIC: &str = "tfgen-journal 1";

/// The changes one render makes: files to (over)write with their text, generated files to remove.
#[derive(Debug, Default)]
pub struct Changes {
    pub writes: Vec<(String, String)>,
    pub removes: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Rename `.tfgen/stage/<stage>` over `<out>/<rel>`; done once the staged file is gone.
    Write { stage: String, rel: String },
    /// Remove `<out>/<rel>` if it is still a generated file, and its directories if they became empty.
    Remove { rel: String },
}

/// What [`recover`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovery {
    /// No interrupted transaction.
    Nothing,
    /// An uncommitted transaction was discarded: the tree is the one from before it.
    RolledBack,
    /// A committed transaction was completed: the tree is the one it wrote.
    RolledForward,
}

/// Applies `changes` to `out` atomically (the directory's lock must be held and [`recover`] run first).
/// A failure before the commit point (a full disk while staging) removes the staging state again.
pub fn commit(out: &Path, changes: &Changes) -> Result<()> {
    let steps = match prepare(out, changes) {
        Ok(steps) => steps,
        Err(e) => {
            let _ = discard(out);
            return Err(e);
        }
    };
    let state = out.join(STATE_DIR);
    // The commit point: before this rename the old tree stands, after it the new one will.
    rename(&state.join(JOURNAL), &state.join(COMMITTED))?;
    sync_dir(&state)?;
    apply(out, &steps)?;
    finish(out)
}

/// Stages the new files and writes the journal, all durably; touches nothing outside `.tfgen/`.
fn prepare(out: &Path, changes: &Changes) -> Result<Vec<Step>> {
    let state = out.join(STATE_DIR);
    let stage = state.join(STAGE);
    create_dir(&state)?;
    create_dir(&stage)?;
    sync_dir(out)?;
    let mut steps = Vec::new();
    for (i, (rel, text)) in changes.writes.iter().enumerate() {
        let name = i.to_string();
        write_durably(&stage.join(&name), text.as_bytes())?;
        steps.push(Step::Write {
            stage: name,
            rel: rel.clone(),
        });
    }
    steps.extend(changes.removes.iter().map(|rel| Step::Remove { rel: rel.clone() }));
    sync_dir(&stage)?;
    write_durably(&state.join(JOURNAL), encode(&steps).as_bytes())?;
    sync_dir(&state)?;
    Ok(steps)
}

/// Completes or discards whatever transaction an interrupted tfgen left in `out` (lock held).
pub fn recover(out: &Path) -> Result<Recovery> {
    let state = out.join(STATE_DIR);
    match std::fs::symlink_metadata(&state) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recovery::Nothing),
        Err(e) => return Err(e).with_context(|| format!("inspecting {}", state.display())),
        Ok(m) if !m.file_type().is_dir() => anyhow::bail!(
            "{} is not tfgen's staging directory (it is not a real directory); move it away",
            state.display()
        ),
        Ok(_) => {}
    }
    let committed = state.join(COMMITTED);
    if std::fs::symlink_metadata(&committed).is_ok() {
        let text = std::fs::read_to_string(&committed).with_context(|| format!("reading {}", committed.display()))?;
        let steps = decode(&text).with_context(|| format!("reading {}", committed.display()))?;
        apply(out, &steps)?;
        finish(out)?;
        return Ok(Recovery::RolledForward);
    }
    let started = std::fs::symlink_metadata(state.join(JOURNAL)).is_ok()
        || std::fs::read_dir(state.join(STAGE)).is_ok_and(|mut d| d.next().is_some());
    discard(out)?;
    Ok(if started {
        Recovery::RolledBack
    } else {
        Recovery::Nothing
    })
}

/// Performs `steps`; each is idempotent, so a crash part-way and a second run converge. Then makes the
/// renames durable.
fn apply(out: &Path, steps: &[Step]) -> Result<()> {
    let stage = out.join(STATE_DIR).join(STAGE);
    let mut dirs = BTreeSet::new();
    for step in steps {
        let rel = match step {
            Step::Write { stage: name, rel } => {
                let from = stage.join(name);
                if std::fs::symlink_metadata(&from).is_ok() {
                    owned::make_parents(out, rel)?;
                    rename(&from, &out.join(rel))?;
                }
                rel
            }
            Step::Remove { rel } => {
                let path = out.join(rel);
                if matches!(owned::inspect(out, rel)?, owned::Slot::Generated(_)) {
                    std::fs::remove_file(&path).with_context(|| format!("removing stale {}", path.display()))?;
                }
                remove_empty_parents(out, rel);
                rel
            }
        };
        let mut parent = Path::new(rel).parent();
        while let Some(p) = parent {
            dirs.insert(out.join(p));
            parent = p.parent();
        }
    }
    for dir in dirs.iter().rev() {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Drops the commit marker (durably), then the rest of the state directory.
fn finish(out: &Path) -> Result<()> {
    let state = out.join(STATE_DIR);
    let committed = state.join(COMMITTED);
    std::fs::remove_file(&committed).with_context(|| format!("removing {}", committed.display()))?;
    sync_dir(&state)?;
    discard(out)
}

fn discard(out: &Path) -> Result<()> {
    let state = out.join(STATE_DIR);
    std::fs::remove_dir_all(&state).with_context(|| format!("removing {}", state.display()))?;
    sync_dir(out)
}

fn remove_empty_parents(out: &Path, rel: &str) {
    let mut dir = Path::new(rel).parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if std::fs::remove_dir(out.join(d)).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn encode(steps: &[Step]) -> String {
    let mut lines = vec![MAGIC.to_string()];
    lines.extend(steps.iter().map(|step| match step {
        Step::Write { stage, rel } => format!("write\t{stage}\t{rel}"),
        Step::Remove { rel } => format!("remove\t{rel}"),
    }));
    lines.push("end\n".into());
    lines.join("\n")
}

fn decode(text: &str) -> Result<Vec<Step>> {
    let mut lines = text.lines();
    anyhow::ensure!(lines.next() == Some(MAGIC), "not a tfgen journal");
    let mut steps = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["write", stage, rel] => steps.push(Step::Write {
                stage: (*stage).to_string(),
                rel: checked(rel)?,
            }),
            ["remove", rel] => steps.push(Step::Remove { rel: checked(rel)? }),
            ["end"] => return Ok(steps),
            _ => anyhow::bail!("unreadable journal line {line:?}"),
        }
    }
    anyhow::bail!("the journal is truncated")
}

fn checked(rel: &str) -> Result<String> {
    owned::check_writable_name(rel)?;
    Ok(rel.to_string())
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir(path).with_context(|| format!("creating {}", path.display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).with_context(|| format!("moving {} to {}", from.display(), to.display()))
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Makes the entries of `dir` (creations, renames, removals) durable.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_round_trip_and_truncation_is_detected() {
        let steps = vec![
            Step::Write {
                stage: "0".into(),
                rel: "modules/ecs/main.tf".into(),
            },
            Step::Remove { rel: "old.tf".into() },
        ];
        let text = encode(&steps);
        assert_eq!(decode(&text).unwrap(), steps);
        assert!(decode(text.trim_end_matches("end\n")).is_err());
        assert!(decode("write\t0\t../escape.tf\nend\n").is_err());
    }
}
