//! The files `tfgen init` writes into a new infrastructure repository, embedded in the binary so that an
//! installed `tfgen` needs nothing else. The templates live in `init/`; the agents file is this
//! repository's own `environments/agents.toml` (the plan's five agents), so the two cannot drift.
//!
//! The JSON Schemas come from [`crate::schema`], so a new repository's specs are checked by its editor
//! against the same types tfgen reads them with. This module does not touch the disk: `main` checks for existing files and writes these.

/// Replaced, in the CI workflow, by the version of the running tfgen, which CI then installs.
const VERSION_PLACEHOLDER: &str = "{{TFGEN_VERSION}}";

/// The scaffold's CI workflow, relative to the new repository's root.
pub const WORKFLOW_PATH: &str = ".github/workflows/infrastructure.yml";

/// Every file of a new repository: its path relative to the repository's root, and its text.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            "environments/agents.toml",
            include_str!("../environments/agents.toml").to_string(),
        ),
        (
            "environments/dev.toml",
            include_str!("../init/environments/dev.toml").to_string(),
        ),
        (
            "environments/prod.toml",
            include_str!("../init/environments/prod.toml").to_string(),
        ),
        // The JSON Schemas the specs' `#:schema` directives point at (for Taplo / Even Better TOML).
        (
            crate::schema::ENV_SCHEMA_PATH,
            crate::schema::json_schema_text(crate::keys::Schema::Env),
        ),
        (
            crate::schema::AGENTS_SCHEMA_PATH,
            crate::schema::json_schema_text(crate::keys::Schema::Agents),
        ),
        // Stored without its dot, so that it does not apply to tfgen's own `init/` directory.
        (".gitignore", include_str!("../init/gitignore").to_string()),
        (
            WORKFLOW_PATH,
            include_str!("../init/infrastructure.yml").replace(VERSION_PLACEHOLDER, env!("CARGO_PKG_VERSION")),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_pins_this_version() {
        let files = files();
        let (_, workflow) = files.iter().find(|(p, _)| *p == WORKFLOW_PATH).unwrap();
        assert!(
            !workflow.contains(VERSION_PLACEHOLDER),
            "placeholder left in the workflow"
        );
        assert!(workflow.contains(&format!("TFGEN_VERSION: \"{}\"", env!("CARGO_PKG_VERSION"))));
    }
}
