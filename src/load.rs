//! Load stage (an edge): reads the spec files of one environment from disk into [`Inputs`].
//!
//! It does not parse or check anything; every later stage is a pure function of [`Inputs`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use crate::diag::SourceFile;

/// The directory, relative to the project root, that holds the specs.
pub const ENVIRONMENTS_DIR: &str = "environments";
/// The file, inside [`ENVIRONMENTS_DIR`], that declares the agents every environment shares.
pub const AGENTS_FILE: &str = "agents.toml";

/// Values that come from the process environment at render time rather than from the spec.
///
/// Read once at the edge (`main`), so that the pipeline stays a pure function of its inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `BEDROCK_MODEL_ID`, as the plan allows, overriding the spec's and the default model.
    pub bedrock_model_id: Option<String>,
}

impl Overrides {
    /// Reads the overrides tfgen honours from the process environment. An empty value counts as unset.
    pub fn from_env() -> Self {
        Self {
            bedrock_model_id: std::env::var("BEDROCK_MODEL_ID").ok().filter(|v| !v.trim().is_empty()),
        }
    }
}

/// Everything the pipeline needs for one environment, as text.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The environment's name, taken from its file name (`prod` for `environments/prod.toml`).
    pub env_name: String,
    pub env: Arc<SourceFile>,
    pub agents: Arc<SourceFile>,
    pub overrides: Overrides,
    /// The other environments' specs, read only for what environments of one account must not both
    /// manage (account-wide singletons) and what a release stage needs (shared state); empty for inputs
    /// built from text.
    pub siblings: Vec<Arc<SourceFile>>,
    /// `siblings` holds every other spec of `environments/` ([`load`]): an environment not among them has
    /// no spec. False for inputs built from text, which know of no other environment.
    pub siblings_complete: bool,
}

impl Inputs {
    /// Builds inputs from in-memory text (tests, fuzzing) with the same display names as files on disk.
    pub fn from_text(env_name: &str, env_text: &str, agents_text: &str, overrides: Overrides) -> Self {
        Self {
            env_name: env_name.to_string(),
            env: Arc::new(SourceFile {
                name: format!("{ENVIRONMENTS_DIR}/{env_name}.toml"),
                text: env_text.into(),
            }),
            agents: Arc::new(SourceFile {
                name: format!("{ENVIRONMENTS_DIR}/{AGENTS_FILE}"),
                text: agents_text.into(),
            }),
            overrides,
            siblings: Vec::new(),
            siblings_complete: false,
        }
    }

    /// These inputs with another environment's spec (`name` as its file name under `environments/`).
    #[must_use]
    pub fn with_sibling(mut self, name: &str, text: &str) -> Self {
        self.siblings.push(Arc::new(SourceFile {
            name: format!("{ENVIRONMENTS_DIR}/{name}.toml"),
            text: text.into(),
        }));
        self
    }
}

/// Reads `environments/<env>.toml` and `environments/agents.toml` under `root`.
pub fn load(root: &Path, env_name: &str, overrides: Overrides) -> Result<Inputs> {
    let dir = root.join(ENVIRONMENTS_DIR);
    let env_path = dir.join(format!("{env_name}.toml"));
    if !env_path.is_file() {
        let known = list_environments(root).unwrap_or_default();
        let hint = if known.is_empty() {
            format!("no environment specs found in {}", dir.display())
        } else {
            format!("known environments: {}", known.join(", "))
        };
        bail!(
            "no spec for environment `{env_name}` at {} ({hint})",
            env_path.display()
        );
    }
    let env_text = read(&env_path)?;
    let agents_text = read(&dir.join(AGENTS_FILE))?;
    let mut inputs = Inputs::from_text(env_name, &env_text, &agents_text, overrides);
    for other in list_environments(root)? {
        if other != env_name {
            let text = read(&dir.join(format!("{other}.toml")))?;
            inputs = inputs.with_sibling(&other, &text);
        }
    }
    inputs.siblings_complete = true;
    Ok(inputs)
}

/// The project root for a command run in `cwd`: the nearest of `cwd` and its ancestors that holds an
/// [`ENVIRONMENTS_DIR`] directory (as git looks for `.git` and cargo for `Cargo.toml`). It is returned
/// relative to `cwd` (`.`, `..`, `../..`), so that paths printed from it read as the user would type them.
/// `None` when no ancestor has one.
pub fn find_root(cwd: &Path) -> Option<PathBuf> {
    let mut relative = PathBuf::from(".");
    for (depth, dir) in cwd.ancestors().enumerate() {
        if dir.join(ENVIRONMENTS_DIR).is_dir() {
            return Some(relative);
        }
        relative = if depth == 0 {
            PathBuf::from("..")
        } else {
            relative.join("..")
        };
    }
    None
}

/// The environments that have a spec: every `*.toml` in `environments/` except the shared agents file.
pub fn list_environments(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(ENVIRONMENTS_DIR);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path: PathBuf = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        let is_spec =
            path.extension().is_some_and(|e| e == "toml") && path.file_name().is_some_and(|n| n != AGENTS_FILE);
        if is_spec && let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
            names.push(stem.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_nearest_directory_holding_environments() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("environments")).unwrap();
        std::fs::create_dir_all(root.join("generated/dev/modules")).unwrap();
        assert_eq!(find_root(root), Some(PathBuf::from(".")));
        assert_eq!(find_root(&root.join("environments")), Some(PathBuf::from("..")));
        assert_eq!(
            find_root(&root.join("generated/dev/modules")),
            Some(PathBuf::from("../../.."))
        );
        // A nested project wins over the outer one, as with git.
        std::fs::create_dir_all(root.join("generated/dev/environments")).unwrap();
        assert_eq!(
            find_root(&root.join("generated/dev/modules")),
            Some(PathBuf::from(".."))
        );
    }

    #[test]
    fn a_file_named_environments_is_not_a_root() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("environments"), "a file, not a directory").unwrap();
        // The search goes on upwards, past the file: to whatever the parent finds, one level further up
        // (normally nothing: the temporary directory's ancestors hold no `environments/`).
        let from_parent = find_root(tmp.path().parent().unwrap());
        assert_eq!(find_root(tmp.path()), from_parent.map(|r| Path::new("..").join(r)));
    }
}
