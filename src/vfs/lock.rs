//! An exclusive lock on one output directory, held for a whole read or write of it. It serialises tfgen
//! processes only; it does not stop other programs from changing the directory.
//!
//! The lock is `flock` on the directory itself (std `File::lock`), not on a lock file: nothing is left
//! behind, and the kernel releases it when the holder exits for any reason, SIGKILL included, so a crashed
//! render can never leave a stale lock. A second tfgen therefore waits rather than fails: the wait always
//! ends, and renders run from scripts or `make -j` succeed in turn, the last one's tree winning whole.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::{Context as _, Result};

/// Held while it lives; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    /// Locks the existing directory `dir`, waiting (with a note on stderr) while another tfgen holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let file = File::open(dir).with_context(|| format!("opening {} to lock it", dir.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                eprintln!("tfgen: waiting for another tfgen command using {}", dir.display());
                file.lock().with_context(|| format!("locking {}", dir.display()))?;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", dir.display()));
            }
        }
        Ok(Self { _dir: file })
    }

    /// Locks `dir` if no other process holds it; `None` when one does.
    pub fn try_acquire(dir: &Path) -> Result<Option<Self>> {
        let file = File::open(dir).with_context(|| format!("opening {} to lock it", dir.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _dir: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", dir.display())),
        }
    }
}
