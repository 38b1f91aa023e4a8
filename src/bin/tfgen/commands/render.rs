//! `tfgen render`: compile, prove, write, and say what the write changes.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Result;

use tfgen::diag::Style;
use tfgen::load::Overrides;
use tfgen::{diff, vfs};

use crate::cli::Cli;
use crate::common::{self, exit};

/// Renders the named environment, or every one with `all`; the exit code is the highest of them.
pub fn run(cli: &Cli, style: Style, env: Option<&String>, all: bool, out: Option<&Path>) -> Result<u8> {
    let overrides = Overrides::from_env();
    let mut code = exit::OK;
    let mut seen = BTreeSet::new();
    for env in common::selected_envs(&cli.root, env, all)? {
        code = code.max(render_one(cli, &env, out, &overrides, style, &mut seen)?);
    }
    Ok(code)
}

/// `render` for one environment.
fn render_one(
    cli: &Cli,
    env: &str,
    out: Option<&Path>,
    overrides: &Overrides,
    style: Style,
    seen: &mut BTreeSet<String>,
) -> Result<u8> {
    let Some(compiled) = common::compile_once(&cli.root, env, overrides.clone(), style, seen)? else {
        return Ok(exit::ERROR);
    };
    let out = out.map_or_else(|| common::default_out(&cli.root, env), Path::to_path_buf);
    write_proven(env, &compiled, &out, cli.color.style(std::io::stdout().is_terminal()))
}

/// Writes a compiled environment to `out` and says what the write changes, only if its access proof
/// passed: otherwise it reports the proof and writes nothing.
fn write_proven(env: &str, compiled: &tfgen::Compiled, out: &Path, stdout_style: Style) -> Result<u8> {
    if !common::access_proven(env, compiled) {
        return Ok(exit::ERROR);
    }
    let out = out.to_path_buf();
    // What the write changes, predicted as `diff` would before it: a render that replaces the database
    // says so, whoever runs it. Predicted before the write, not after: the transaction stays as short
    // as it was (tests/interrupt.rs aims its kills at it). A concurrent render between this read and the
    // write's own lock would make the printed prediction stale, never the write.
    let on_disk = vfs::Tree::read_generated(&out)?;
    let dir = out.display().to_string();
    // A first render destroys nothing: no prediction needed (`terraform plan` lists what it creates).
    let first = on_disk.get("main.tf").is_none();
    let change = if first {
        None
    } else {
        Some(diff::diff_compiled(&on_disk, compiled, &dir)?)
    };
    let r = vfs::write(&compiled.tree, &out)?;
    println!(
        "rendered {env} into {dir}: {} files written, {} unchanged, {} removed",
        r.written,
        r.unchanged,
        r.removed.len()
    );
    if let Some(change) = change.filter(|c| !c.files.is_empty()) {
        print!("{}", diff::render_resources(&change.resources, stdout_style));
    }
    for f in &r.foreign {
        eprintln!("warning: {}/{f}; left in place", out.display());
    }
    if !r.foreign.is_empty() {
        eprintln!("warning: `tfgen check` and `tfgen diff` fail until the files above are removed");
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dev environment, compiled from this repository's specs.
    fn dev() -> tfgen::Compiled {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |file: &str| std::fs::read_to_string(root.join("environments").join(file)).unwrap();
        let inputs =
            tfgen::load::Inputs::from_text("dev", &read("dev.toml"), &read("agents.toml"), Overrides::default());
        tfgen::compile(&inputs).unwrap_or_else(|_| panic!("dev compiles"))
    }

    /// Issue 21: render refuses a tree whose access proof fails, and writes nothing at all; the same tree
    /// with the proof passing is written.
    #[test]
    fn render_writes_nothing_when_the_access_proof_fails() {
        let mut compiled = dev();
        // CloudWatch Logs may no longer use the key: every agent's log group is then denied.
        let kms = compiled.tree.files.get_mut("modules/kms/main.tf").unwrap();
        assert!(kms.contains("\"logs.${local.region}.amazonaws.com\""));
        *kms = kms.replace("\"logs.${local.region}.amazonaws.com\"", "\"sns.amazonaws.com\"");
        compiled.access = tfgen::access::check(&compiled.model, &compiled.tree).unwrap();
        assert!(!compiled.access.passed(), "the mutation must fail the proof");
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("dev");
        assert_eq!(
            write_proven("dev", &compiled, &target, Style::Plain).unwrap(),
            exit::ERROR
        );
        assert!(
            !target.exists(),
            "render wrote into {} though the proof failed",
            target.display()
        );

        let proven = dev();
        assert!(proven.access.passed());
        assert_eq!(write_proven("dev", &proven, &target, Style::Plain).unwrap(), exit::OK);
        assert!(target.join("main.tf").is_file() && target.join("smoke.py").is_file());
    }
}
