//! What several commands share: exit codes, finding the project, compiling an environment once per run
//! with its diagnostics printed, and writing a new file. Output to the terminal only; no pipeline logic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use tfgen::CompileError;
use tfgen::diag::{Diagnostics, Style};
use tfgen::load::{self, Overrides};

use crate::cli::Cli;

/// Exit codes, shared by every command (like `terraform plan -detailed-exitcode`).
pub mod exit {
    /// Success; for `diff`/`check`: no differences.
    pub const OK: u8 = 0;
    /// `diff`/`check`: the generated tree differs from what is on disk.
    pub const DIFFERS: u8 = 1;
    /// The spec has errors, or tfgen could not do its job (I/O, usage).
    pub const ERROR: u8 = 2;
}

/// Loads and compiles one environment; prints warnings, or the spec's errors (then `None`), leaving out
/// diagnostics in `agents.toml` that an earlier environment of this run (recorded in `seen`) already printed.
pub fn compile_once(
    root: &Path,
    env: &str,
    overrides: Overrides,
    style: Style,
    seen: &mut BTreeSet<String>,
) -> Result<Option<tfgen::Compiled>> {
    let inputs = load::load(root, env, overrides)?;
    match tfgen::compile(&inputs) {
        Ok(compiled) => {
            print_warnings(
                &compiled.warnings.clone().without_repeats(seen, load::AGENTS_FILE),
                style,
            );
            Ok(Some(compiled))
        }
        Err(CompileError::Spec(diags)) => {
            report_once(env, diags, style, seen);
            Ok(None)
        }
        Err(CompileError::Internal(e)) => Err(e.context("internal error in tfgen (please report it)")),
    }
}

pub fn default_out(root: &Path, env: &str) -> PathBuf {
    root.join("generated").join(env)
}

pub fn report_diags(diags: &Diagnostics, style: Style) -> u8 {
    eprint!("{}", diags.render(style));
    exit::ERROR
}

pub fn print_warnings(diags: &Diagnostics, style: Style) {
    if !diags.is_empty() {
        eprint!("{}", diags.render(style));
    }
}

/// The project root: `--root` when given (it must hold `environments/`), otherwise the nearest directory
/// from the current one upwards that holds `environments/`. Commands that need no project get `.`.
pub fn project_root(cli: &Cli) -> Result<PathBuf> {
    if !cli.command.needs_root() {
        return Ok(PathBuf::from("."));
    }
    let envs = load::ENVIRONMENTS_DIR;
    if let Some(root) = &cli.root_arg {
        anyhow::ensure!(
            root.join(envs).is_dir(),
            "{} holds no `{envs}/` directory\nhelp: run `tfgen init {}` to start a tfgen repository there",
            root.display(),
            root.display()
        );
        return Ok(root.clone());
    }
    let cwd = std::env::current_dir().context("finding the current directory")?;
    load::find_root(&cwd).with_context(|| {
        format!(
            "no `{envs}/` directory in {} or any directory above it, so this is not a tfgen repository\n\
             help: run `tfgen init` to start one here, or pass `--root DIR`",
            cwd.display()
        )
    })
}

/// The environments a command works on: the one named, or with `--all` every one that has a spec.
pub fn selected_envs(root: &Path, env: Option<&String>, all: bool) -> Result<Vec<String>> {
    if let Some(env) = env {
        return Ok(vec![env.clone()]);
    }
    anyhow::ensure!(all, "name an environment, or pass --all");
    let envs = load::list_environments(root)?;
    anyhow::ensure!(
        !envs.is_empty(),
        "no environment specs in {}",
        root.join(load::ENVIRONMENTS_DIR).display()
    );
    Ok(envs)
}

/// Prints an environment's errors, except those in `agents.toml` already printed for another one.
pub fn report_once(env: &str, diags: Diagnostics, style: Style, seen: &mut BTreeSet<String>) -> u8 {
    let fresh = diags.without_repeats(seen, load::AGENTS_FILE);
    if fresh.has_errors() {
        report_diags(&fresh, style)
    } else {
        print_warnings(&fresh, style);
        eprintln!("{env}: fails with the {} problems shown above", load::AGENTS_FILE);
        exit::ERROR
    }
}

/// The access proof of a rendered tree; on failure, what is wrong goes to stderr and nothing may be written.
pub fn access_proven(env: &str, compiled: &tfgen::Compiled) -> bool {
    let report = &compiled.access;
    if report.passed() {
        return true;
    }
    eprint!("{}", tfgen::access::render_text(env, report));
    eprintln!(
        "tfgen: {env}: the rendered tree does not grant what the environment needs (see above); nothing was \
         written. This is a bug in tfgen's templates: please report it."
    );
    false
}

/// Creates `target` (and its directories) with `text`; fails if it exists.
pub fn write_new(target: &Path, text: &str) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .with_context(|| format!("creating {}", target.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).with_context(|| format!("writing {}", target.display()))
}
