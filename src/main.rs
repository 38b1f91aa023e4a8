//! The `tfgen` command line: the outer edge. Reads the disk and the process environment, runs the pure
//! pipeline from the library, prints, and maps outcomes to exit codes. No compilation logic lives here.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use tfgen::diag::{Diagnostics, Style};
use tfgen::load::{self, Overrides};
use tfgen::{CompileError, check, diff, vfs};

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
    /// Colour output: `auto` (on a terminal, unless NO_COLOR is set), `always` or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn style(self, is_terminal: bool) -> Style {
        let colour = match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color(),
        };
        if colour { Style::Color } else { Style::Plain }
    }
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
    /// Show what `render` would change: a unified diff per file, and what `terraform plan` would do to each
    /// resource instance (create, update, replace, delete, move).
    /// Exit 0 when identical, 1 when different, 2 on error.
    Diff {
        env: String,
        /// Directory to compare with (default `generated/<ENV>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// One line per file instead of the full diff.
        #[arg(long)]
        stat: bool,
        /// Print the files and the predicted resource actions as JSON instead.
        #[arg(long, conflicts_with = "stat")]
        json: bool,
    },
    /// Fail when any committed `generated/<env>` is stale, or a change destroys or replaces a stateful resource.
    Check {
        /// Accept changes that destroy or replace databases, repositories, secrets, log groups, keys, buckets or
        /// backup vaults.
        #[arg(long)]
        allow_destroy: bool,
        /// Also compare the committed trees with those at this git revision (e.g. the PR's base).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Print the report as JSON on stdout (diagnostics still go to stderr).
        #[arg(long)]
        json: bool,
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
    let style = cli.color.style(std::io::stderr().is_terminal());
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
            let Some(compiled) = compile(&cli.root, env, overrides, style)? else {
                return Ok(exit::ERROR);
            };
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
        Command::Diff { env, out, stat, json } => {
            let Some(compiled) = compile(&cli.root, env, overrides, style)? else {
                return Ok(exit::ERROR);
            };
            let out = out.clone().unwrap_or_else(|| default_out(&cli.root, env));
            let on_disk = vfs::Tree::read_generated(&out)?;
            let dir = out.display().to_string();
            let d = diff::diff(&on_disk, &compiled.tree, &dir)?;
            let code = if d.is_empty() { exit::OK } else { exit::DIFFERS };
            if *json {
                println!("{}", serde_json::to_string_pretty(&diff::to_json(&d, &dir))?);
                return Ok(code);
            }
            if d.is_empty() {
                println!("{}: no changes", out.display());
                return Ok(code);
            }
            let stdout_style = cli.color.style(std::io::stdout().is_terminal());
            if *stat {
                print!("{}", diff::render_stat(&d));
            } else {
                print!("{}", diff::render_patch(&d, stdout_style));
            }
            print!("{}", diff::render_resources(&d.resources, stdout_style));
            Ok(code)
        }
        Command::Check {
            allow_destroy,
            base,
            json,
        } => {
            let options = check::Options {
                allow_destroy: *allow_destroy,
                base: base.clone(),
                overrides,
            };
            let report = check::run(&cli.root, &options)?;
            if *json {
                for env in &report.environments {
                    print_warnings(&env.warnings, style);
                    if let Some(diags) = &env.errors {
                        report_diags(diags, style);
                    }
                }
                println!("{}", serde_json::to_string_pretty(&check_json(&report))?);
            } else {
                print_check(&report, style);
            }
            Ok(if report.has_errors() {
                exit::ERROR
            } else if report.fails() {
                exit::DIFFERS
            } else {
                exit::OK
            })
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
                    Err(diags) => code = code.max(report_diags(&diags, style)),
                }
            }
            Ok(code)
        }
    }
}

/// The check report for people: up-to-date lines on stdout, problems on stderr.
fn print_check(report: &check::CheckReport, style: Style) {
    for env in &report.environments {
        print_warnings(&env.warnings, style);
        if let Some(diags) = &env.errors {
            report_diags(diags, style);
            continue;
        }
        let name = &env.env;
        if env.is_stale() {
            eprint!("{}", diff::render_stat(&env.stale));
            eprintln!("generated/{name} is stale: run `tfgen render {name}` and commit the result");
        } else {
            println!("generated/{name}: up to date");
        }
        if let (Some(since), Some(rev)) = (&env.since_base, &report.base) {
            print!(
                "generated/{name} since {rev}: {}",
                diff::render_resources(&since.resources, style)
            );
        }
        if report.blocks_destroy(env) {
            eprintln!(
                "generated/{name} destroys or replaces stateful resources: {}",
                env.destroyed.join(", ")
            );
            eprintln!("if that is intended, re-run with --allow-destroy");
        }
    }
}

/// The check report for CI bots (`check --json`).
fn check_json(report: &check::CheckReport) -> serde_json::Value {
    let envs: Vec<serde_json::Value> = report
        .environments
        .iter()
        .map(|e| {
            serde_json::json!({
                "environment": e.env,
                "spec_errors": e.errors.is_some(),
                "stale": e.is_stale(),
                "diff": diff::to_json(&e.stale, &e.dir),
                "since_base": e.since_base.as_ref().map(|d| diff::to_json(d, &e.dir)),
                "destroyed_stateful": e.destroyed,
                "destroy_blocked": report.blocks_destroy(e),
            })
        })
        .collect();
    serde_json::json!({
        "passed": !report.has_errors() && !report.fails(),
        "base": report.base,
        "allow_destroy": report.allow_destroy,
        "environments": envs,
    })
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Loads and compiles one environment; prints warnings, or the spec's errors (then `None`).
fn compile(root: &Path, env: &str, overrides: Overrides, style: Style) -> Result<Option<tfgen::Compiled>> {
    let inputs = load::load(root, env, overrides)?;
    match tfgen::compile(&inputs) {
        Ok(compiled) => {
            print_warnings(&compiled.warnings, style);
            Ok(Some(compiled))
        }
        Err(CompileError::Spec(diags)) => {
            report_diags(&diags, style);
            Ok(None)
        }
        Err(CompileError::Internal(e)) => Err(e.context("internal error in tfgen (please report it)")),
    }
}

fn default_out(root: &Path, env: &str) -> PathBuf {
    root.join("generated").join(env)
}

fn report_diags(diags: &Diagnostics, style: Style) -> u8 {
    eprint!("{}", diags.render(style));
    exit::ERROR
}

fn print_warnings(diags: &Diagnostics, style: Style) {
    if !diags.is_empty() {
        eprint!("{}", diags.render(style));
    }
}
