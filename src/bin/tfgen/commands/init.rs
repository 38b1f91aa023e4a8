//! `tfgen init`: a new infrastructure repository, or nothing when any of its files exists.

use std::path::Path;

use anyhow::Result;

use tfgen::scaffold;

use crate::common::{self, exit};

/// `tfgen init DIR`: writes the scaffold, or nothing at all when any of its files already exists.
pub fn run(dir: &Path) -> Result<u8> {
    let files = scaffold::files();
    let existing: Vec<&str> = files
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| dir.join(path).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        eprintln!("error: {} already has files tfgen init would write:", dir.display());
        for path in &existing {
            eprintln!("  {path}");
        }
        eprintln!("nothing was written; move them away, or run `tfgen init` in another directory");
        return Ok(exit::ERROR);
    }
    for (path, text) in &files {
        let target = dir.join(path);
        common::write_new(&target, text)?;
        println!("created {}", target.display());
    }
    println!(
        "\nnext:\n  \
         1. edit environments/*.toml; prod.toml's certificate_arn is a placeholder to replace before applying\n  \
         2. tfgen render --all\n  \
         3. commit environments/, generated/, agents/, .gitignore and .github/\n  \
         4. set TFGEN_REPOSITORY in {} to the tfgen repository CI installs from",
        scaffold::WORKFLOW_PATH
    );
    Ok(exit::OK)
}
