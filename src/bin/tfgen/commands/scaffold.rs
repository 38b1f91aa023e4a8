//! `tfgen scaffold agent`: an agent's image files, each written once.

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
    for (path, text) in scaffold::agent_files(agent) {
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
