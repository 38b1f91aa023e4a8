//! Which files in an output directory are tfgen's, decided without following symlinks or opening anything
//! but regular files. It reads and checks; it never writes (that is [`super::journal`]).
//!
//! A file is tfgen's when all of these hold: its name ends in `.tf` (or `.md`, the generated README, or `.py`,
//! the smoke check); no component of its path starts with
//! `.` (so `.terraform/` and `.tfgen/` are never entered); every directory on the way is a real directory
//! (`symlink_metadata`, never a symlink); the file itself is a regular file, opened with `O_NOFOLLOW` and
//! `O_NONBLOCK` and checked again with `fstat` after opening; and its text starts with [`HEADER_MARK`]
//! (a `.md` file: with [`MD_HEADER_MARK`], an HTML comment).
//! Everything else (plan files, state, sockets, FIFOs, symlinks, hand-written `.tf` files) is left alone.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::foreign::{self, Foreign};
use super::{HEADER_MARK, MD_HEADER_MARK};

/// Whether tfgen could have written a file with this name (the only names it opens).
pub fn is_owned_name(rel: &str) -> bool {
    Path::new(rel)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| (n.ends_with(".tf") || n.ends_with(".md") || n.ends_with(".py")) && !n.starts_with('.'))
}

/// The header a file of this name starts with when tfgen wrote it.
pub fn header_mark(rel: &str) -> &'static str {
    if rel.ends_with(".md") {
        MD_HEADER_MARK
    } else {
        HEADER_MARK
    }
}

/// Whether `text`, found at `rel`, is a file tfgen wrote.
pub fn is_generated_text(rel: &str, text: &str) -> bool {
    is_owned_name(rel) && text.starts_with(header_mark(rel))
}

/// Checks that `rel` is a path tfgen may write: relative, `/`-separated plain names, none hidden, ending in
/// `.tf`, `.md` or `.py`.
pub fn check_writable_name(rel: &str) -> Result<()> {
    let plain = !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.contains(['\\', '\t', '\n', '\r', '\0']));
    anyhow::ensure!(
        plain && is_owned_name(rel),
        "internal error in tfgen: refusing to write {rel:?} (tfgen writes only `.tf`, `.md` and `.py` files in plain subdirectories)"
    );
    Ok(())
}

/// Opens `path` for reading only if it is a regular file: never follows a symlink, never blocks on a FIFO.
/// `Ok(None)` when it is anything else (or vanished).
fn open_regular(path: &Path) -> io::Result<Option<File>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if !std::fs::symlink_metadata(path)?.file_type().is_file() {
        return Ok(None);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        // ELOOP: the last component is a symlink; ENXIO: a socket or a FIFO without a writer.
        Err(e) if e.kind() == io::ErrorKind::NotFound || is_not_a_file(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(file.metadata()?.file_type().is_file().then_some(file))
}

fn is_not_a_file(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENXIO | libc::EISDIR))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// The text of `path` if it is a regular file that tfgen wrote (UTF-8, starting with the header).
pub fn read_generated_file(path: &Path) -> Result<Option<String>> {
    let Some(mut file) = open_regular(path).with_context(|| format!("opening {}", path.display()))? else {
        return Ok(None);
    };
    let mark = header_mark(&path.to_string_lossy());
    let mut head = vec![0u8; mark.len()];
    if file.read_exact(&mut head).is_err() || head != mark.as_bytes() {
        return Ok(None);
    }
    let mut bytes = head;
    file.read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8(bytes).ok())
}

/// The text of `path` if it is a regular UTF-8 file, whoever wrote it.
pub fn read_regular_file(path: &Path) -> Result<Option<String>> {
    let Some(mut file) = open_regular(path).with_context(|| format!("opening {}", path.display()))? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8(bytes).ok())
}

/// Every file under `dir` whose name tfgen could own, reached through real directories only.
pub fn candidates(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    Ok(walk(dir)?.candidates)
}

/// One pass over an output directory, opening nothing.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files whose name tfgen could own (`.tf`, `.md`), reached through real directories.
    pub candidates: Vec<(String, PathBuf)>,
    /// Everything else that is neither a directory on the way nor a Terraform working file.
    pub others: Vec<Foreign>,
}

/// Walks `dir` without following symlinks; hidden directories are not entered (Terraform's and tfgen's
/// own are skipped, any other is reported whole).
pub fn walk(dir: &Path) -> Result<Walk> {
    let mut out = Walk::default();
    let mut todo = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, d)) = todo.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let entry = entry.with_context(|| format!("reading {}", d.display()))?;
            // `DirEntry::file_type` does not follow symlinks: a symlinked directory is not entered.
            let ty = entry
                .file_type()
                .with_context(|| format!("inspecting {}", entry.path().display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
                out.others.push(Foreign::new(rel, kind_of(ty)));
                continue;
            };
            if foreign::is_working_file(&name, ty.is_dir()) {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if ty.is_dir() && !name.starts_with('.') {
                todo.push((format!("{rel}/"), entry.path()));
            } else if ty.is_file() && is_owned_name(&rel) {
                out.candidates.push((rel, entry.path()));
            } else {
                out.others.push(Foreign::new(rel, kind_of(ty)));
            }
        }
    }
    out.candidates.sort();
    out.others.sort();
    Ok(out)
}

/// What is on disk where tfgen wants to write `rel`.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot {
    /// Nothing there yet (missing directories are created).
    Free,
    /// A file tfgen wrote, with its text.
    Generated(String),
    /// Something tfgen must not replace: why, for the error message.
    Foreign(String),
}

/// Inspects the place of `rel` under `out` without following symlinks: every parent must be a real
/// directory or missing, and the file itself missing or a regular file carrying tfgen's header.
pub fn inspect(out: &Path, rel: &str) -> Result<Slot> {
    let mut path = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Slot::Free),
            Err(e) => return Err(e).with_context(|| format!("inspecting {}", path.display())),
        };
        let last = i + 1 == parts.len();
        let ty = meta.file_type();
        let kind = kind_of(ty);
        if !last && !ty.is_dir() {
            return Ok(Slot::Foreign(format!(
                "{} is {kind}, not a directory (tfgen never writes through symlinks or into other files)",
                path.display()
            )));
        }
        if last {
            if !ty.is_file() {
                return Ok(Slot::Foreign(format!(
                    "{} is {kind}, not a file tfgen wrote",
                    path.display()
                )));
            }
            return Ok(match read_generated_file(&path)? {
                Some(text) => Slot::Generated(text),
                None => Slot::Foreign(format!("{} exists and was not written by tfgen", path.display())),
            });
        }
    }
    Ok(Slot::Free)
}

fn kind_of(ty: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ty.is_fifo() {
            return "a FIFO";
        }
        if ty.is_socket() {
            return "a socket";
        }
    }
    if ty.is_symlink() {
        "a symlink"
    } else if ty.is_dir() {
        "a directory"
    } else if ty.is_file() {
        "a file"
    } else {
        "a special file"
    }
}

/// Creates the missing directories on the way to `rel` under `out`, failing on anything that is not a real
/// directory (so a write can never land outside `out`).
pub fn make_parents(out: &Path, rel: &str) -> Result<()> {
    let mut path = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(m) => anyhow::bail!(
                "{} is {}, not a directory (tfgen never writes through symlinks)",
                path.display(),
                kind_of(m.file_type())
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("inspecting {}", path.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tf_paths_are_tfgens() {
        assert!(is_owned_name("main.tf") && is_owned_name("modules/ecs/main.tf"));
        for foreign in [
            "plan.tfplan",
            "terraform.tfstate",
            "notes.txt",
            ".README.md",
            ".terraform.lock.hcl",
            "x.auto.tfvars",
            ".hidden.tf",
        ] {
            assert!(!is_owned_name(foreign), "{foreign}");
        }
        assert!(check_writable_name("modules/ecs/main.tf").is_ok());
        for bad in [
            "../main.tf",
            "/main.tf",
            "a//main.tf",
            ".tfgen/main.tf",
            "a\tb.tf",
            "plan.tfplan",
            "",
        ] {
            assert!(check_writable_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn inspect_sees_symlinks_and_foreign_files_without_following_them() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir(out.join("real")).unwrap();
        std::os::unix::fs::symlink(out.join("real"), out.join("modules")).unwrap();
        std::fs::write(out.join("real/main.tf"), format!("{HEADER_MARK}\n")).unwrap();
        std::fs::write(out.join("mine.tf"), "# mine\n").unwrap();
        std::fs::write(out.join("ours.tf"), format!("{HEADER_MARK} x\n")).unwrap();
        assert_eq!(inspect(out, "new/main.tf").unwrap(), Slot::Free);
        assert_eq!(
            inspect(out, "real/main.tf").unwrap(),
            Slot::Generated(format!("{HEADER_MARK}\n"))
        );
        assert!(matches!(inspect(out, "modules/main.tf").unwrap(), Slot::Foreign(why) if why.contains("symlink")));
        assert!(matches!(inspect(out, "mine.tf").unwrap(), Slot::Foreign(why) if why.contains("not written")));
        assert!(make_parents(out, "modules/x/main.tf").is_err());
        assert!(!out.join("real/x").exists());
        let found: Vec<String> = candidates(out).unwrap().into_iter().map(|(rel, _)| rel).collect();
        assert_eq!(found, ["mine.tf", "ours.tf", "real/main.tf"]);
    }
}
