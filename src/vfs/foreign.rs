//! What in an output directory is neither tfgen's nor Terraform's working files: the entries `check`
//! fails on, `diff` shows and `render` warns about. It classifies names and kinds; it reads nothing (the
//! walk is [`super::owned::walk`]).
//!
//! Terraform merges every `.tf`, `.tf.json`, `*_override.tf` and auto-loaded `.tfvars` file of a directory
//! into the configuration, so one hand-added file can grant `"*"` on `"*"` while the tree tfgen wrote is
//! unchanged. Nothing may sit in a generated tree but tfgen's files and what `terraform init/plan/apply`
//! leave there themselves (the same names the scaffolded `.gitignore` lists, plus the lock file).

use std::fmt;

/// An entry under an output directory that tfgen did not write and Terraform did not leave there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Foreign {
    /// Relative to the output directory, `/`-separated.
    pub path: String,
    /// "a file", "a symlink", "a FIFO", "a directory" (hidden ones are not entered), ...
    pub kind: &'static str,
    /// Terraform reads it as part of the configuration (or its variable values).
    pub loaded: bool,
}

impl Foreign {
    pub fn new(path: String, kind: &'static str) -> Self {
        let loaded = kind != "a directory" && is_loaded_by_terraform(&path);
        Self { path, kind, loaded }
    }
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} tfgen did not write", self.path, self.kind)?;
        if self.loaded {
            f.write_str(" (Terraform loads it with the tree)")?;
        }
        Ok(())
    }
}

/// Names Terraform loads from a configuration directory: `.tf`/`.tf.json` (overrides included; not hidden
/// files) and, in the root module, the auto-loaded variable files.
pub fn is_loaded_by_terraform(rel: &str) -> bool {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    if name.starts_with('.') {
        return false;
    }
    let configuration = name.ends_with(".tf") || name.ends_with(".tf.json");
    let variables = dir.is_empty()
        && (matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
            || name.ends_with(".auto.tfvars")
            || name.ends_with(".auto.tfvars.json"));
    configuration || variables
}

/// What `terraform init/plan/apply` write into the directory they run in (and tfgen's own transaction
/// directory), which are never foreign. Mirrors the scaffolded `.gitignore`. A name Terraform would load as
/// configuration is never one (`x.tfstate.tf` is configuration, whatever it is called).
pub fn is_working_file(name: &str, is_dir: bool) -> bool {
    if is_dir {
        return name == ".terraform" || name == ".tfgen";
    }
    if name.ends_with(".tf") || name.ends_with(".tf.json") || name.contains(".tfvars") {
        return false;
    }
    name == ".terraform.lock.hcl"
        || name == ".terraform.tfstate.lock.info"
        || name.ends_with(".tfstate")
        || (name.contains(".tfstate.") && name.ends_with(".backup"))
        || name.ends_with(".tfplan")
        || (name.starts_with("crash.") && name.ends_with(".log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_working_files_are_not_foreign_and_configuration_is_loaded() {
        for name in [
            ".terraform.lock.hcl",
            "terraform.tfstate",
            "terraform.tfstate.backup",
            "plan.tfplan",
            "crash.log",
            "crash.1700000000.log",
        ] {
            assert!(is_working_file(name, false), "{name}");
        }
        assert!(is_working_file(".terraform", true) && is_working_file(".tfgen", true));
        assert!(!is_working_file("notes.txt", false) && !is_working_file("modules", true));
        for name in [
            "x_override.tf",
            "modules/iam/a.tf.json",
            "terraform.tfvars",
            "a.auto.tfvars.json",
        ] {
            assert!(is_loaded_by_terraform(name), "{name}");
        }
        for name in ["notes.md", ".hidden.tf", "prod.tfvars", "modules/iam/terraform.tfvars"] {
            assert!(!is_loaded_by_terraform(name), "{name}");
        }
        // Configuration named like state is configuration.
        for name in ["grant.tfstate.tf", "y.tfstate.tf.json", "x.tfstate.auto.tfvars"] {
            assert!(!is_working_file(name, false), "{name}");
        }
        assert!(is_working_file("terraform.tfstate.1700000000.backup", false));
        assert!(!Foreign::new("x.tf".into(), "a directory").loaded);
        assert_eq!(
            Foreign::new("modules/iam/x_override.tf".into(), "a file").to_string(),
            "modules/iam/x_override.tf: a file tfgen did not write (Terraform loads it with the tree)"
        );
    }
}
