//! The `tfgen` command line: the outer edge. Reads the disk and the process environment, runs the pure
//! pipeline from the library, prints, and maps outcomes to exit codes. No compilation logic lives here.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use tfgen::diag::{Diagnostics, Style};
use tfgen::load::{self, Overrides};
use tfgen::{CompileError, vfs};

/// Exit codes, shared by every command (like `terraform plan -detailed-exitcode`).
mod exit {
    /// Success; for `diff`/`check`: no differences.
    pub const OK: u8 = 0;
    /// `diff`/`check`: the generated tree differs from what is on disk.
    pub const DIFFERS: u8 = 1;
    /// The spec has errors, or tfgen could not do its job (I/O, usage).
    pub const ERROR: u8 = 2;
}

/// Compile environment specs into complete, readable Terraform.
#[derive(Debug, Parser)]
#[command(name = "tfgen", version, about, long_about = None)]
struct Cli {
    /// Project root holding `environments/` (default: the current directory).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render `environments/<ENV>.toml` into a Terraform root module (default `generated/<ENV>/`).
    Render {
        env: String,
        /// Output directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a spec (parse, validate, resolve) without writing anything.
    Validate {
        /// Environment to check; omit with `--all`.
        env: Option<String>,
        /// Check every environment under `environments/`.
        #[arg(long, conflicts_with = "env")]
        all: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) || !std::io::stderr().is_terminal() {
        Style::Plain
    } else {
        Style::Color
    };
    match run(&cli, style) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn run(cli: &Cli, style: Style) -> Result<u8> {
    let overrides = Overrides::from_env();
    match &cli.command {
        Command::Render { env, out } => {
            let inputs = load::load(&cli.root, env, overrides)?;
            let compiled = match tfgen::compile(&inputs) {
                Ok(c) => c,
                Err(CompileError::Spec(diags)) => return Ok(report(&diags, style)),
                Err(CompileError::Internal(e)) => return Err(e.context("internal error (please report it)")),
            };
            print_warnings(&compiled.warnings, style);
            let out = out.clone().unwrap_or_else(|| default_out(&cli.root, env));
            let r = vfs::write(&compiled.tree, &out)?;
            println!(
                "rendered {env} into {}: {} files written, {} unchanged, {} removed",
                out.display(),
                r.written,
                r.unchanged,
                r.removed.len()
            );
            Ok(exit::OK)
        }
        Command::Validate { env, all } => {
            let envs = match (env, all) {
                (Some(e), _) => vec![e.clone()],
                (None, true) => load::list_environments(&cli.root)?,
                (None, false) => anyhow::bail!("name an environment, or pass --all"),
            };
            let mut code = exit::OK;
            for env in envs {
                let inputs = load::load(&cli.root, &env, overrides.clone())?;
                match tfgen::check(&inputs) {
                    Ok((_, warnings)) => {
                        print_warnings(&warnings, style);
                        println!("{env}: ok");
                    }
                    Err(diags) => code = code.max(report(&diags, style)),
                }
            }
            Ok(code)
        }
    }
}

fn default_out(root: &Path, env: &str) -> PathBuf {
    root.join("generated").join(env)
}

fn report(diags: &Diagnostics, style: Style) -> u8 {
    eprint!("{}", diags.render(style));
    exit::ERROR
}

fn print_warnings(diags: &Diagnostics, style: Style) {
    if !diags.is_empty() {
        eprint!("{}", diags.render(style));
    }
}

#[allow(dead_code)]
fn context_unused() -> Result<()> {
    std::fs::metadata(".").context("unused")?;
    Ok(())
}
