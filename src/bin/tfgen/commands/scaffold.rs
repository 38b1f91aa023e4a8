//! `tfgen scaffold agent` and `tfgen scaffold load-test`: files for the user to own, each written once.

use std::path::Path;

use anyhow::{Context as _, Result};

use tfgen::{load, scaffold};

use crate::common::{self, exit};

/// `tfgen scaffold agent NAME`: writes the agent's image files that do not exist yet, and keeps the others.
pub fn agent(root: &Path, name: &str) -> Result<u8> {
    let agents_file = root.join(load::ENVIRONMENTS_DIR).join(load::AGENTS_FILE);
    let text = std::fs::read_to_string(&agents_file).with_context(|| format!("reading {}", agents_file.display()))?;
    let declared = scaffold::declared_agents(&text);
    let Some(agent) = declared.iter().find(|a| a.name == *name) else {
        let names: Vec<&str> = declared.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "error: `{name}` is not an agent of {}\nhelp: declare it there first ([[agent]] with name and port); declared: {}",
            agents_file.display(),
            names.join(", ")
        );
        return Ok(exit::ERROR);
    };
    write_once(root, scaffold::agent_files(agent))
}

/// `tfgen scaffold load-test`: writes the load test's files that do not exist yet, and keeps the others.
pub fn load_test(root: &Path) -> Result<u8> {
    write_once(root, scaffold::load_test_files())
}

/// Writes each file that does not exist (as anything, a symlink included) and says which it kept.
fn write_once(root: &Path, files: Vec<(String, String)>) -> Result<u8> {
    for (path, text) in files {
        let target = root.join(&path);
        if target.symlink_metadata().is_ok() {
            println!("kept    {path} (exists; tfgen never overwrites it)");
            continue;
        }
        common::write_new(&target, &text)?;
        println!("created {path}");
    }
    Ok(exit::OK)
}
