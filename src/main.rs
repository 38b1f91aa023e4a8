//! The `tfgen` command line: the outer edge. Reads the disk and the process environment, runs the pure
//! pipeline from the library, prints, and maps outcomes to exit codes. No compilation logic lives here.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use tfgen::diag::{Diagnostics, Style};
use tfgen::load::{self, Overrides};
use tfgen::{CompileError, diff, vfs};

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
    /// Show what `render` would change: a unified diff per file and the resources added, changed, removed.
    /// Exit 0 when identical, 1 when different, 2 on error.
    Diff {
        env: String,
        /// Directory to compare with (default `generated/<ENV>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// One line per file instead of the full diff.
        #[arg(long)]
        stat: bool,
    },
    /// Fail when any committed `generated/<env>` is stale, or a change destroys a stateful resource.
    Check {
        /// Accept changes that destroy databases, repositories, secrets, log groups, keys or buckets.
        #[arg(long)]
        allow_destroy: bool,
        /// Also compare the committed trees with those at this git revision (e.g. the PR's base).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
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
        Command::Diff { env, out, stat } => {
            let Some(compiled) = compile(&cli.root, env, overrides, style)? else {
                return Ok(exit::ERROR);
            };
            let out = out.clone().unwrap_or_else(|| default_out(&cli.root, env));
            let on_disk = vfs::Tree::read_generated(&out)?;
            let d = diff::diff(&on_disk, &compiled.tree, &out.display().to_string())?;
            if d.is_empty() {
                println!("{}: no changes", out.display());
                return Ok(exit::OK);
            }
            let stdout_style = cli.color.style(std::io::stdout().is_terminal());
            if *stat {
                print!("{}", diff::render_stat(&d));
            } else {
                print!("{}", diff::render_patch(&d, stdout_style));
            }
            print!("{}", diff::render_resources(&d.resources, stdout_style));
            Ok(exit::DIFFERS)
        }
        Command::Check { allow_destroy, base } => {
            let mut code = exit::OK;
            for env in load::list_environments(&cli.root)? {
                let Some(compiled) = compile(&cli.root, &env, overrides.clone(), style)? else {
                    code = exit::ERROR;
                    continue;
                };
                let dir = default_out(&cli.root, &env);
                let committed = vfs::Tree::read_generated(&dir)?;
                let stale = diff::diff(&committed, &compiled.tree, &dir.display().to_string())?;
                if stale.is_empty() {
                    println!("generated/{env}: up to date");
                } else {
                    eprint!("{}", diff::render_stat(&stale));
                    eprintln!("generated/{env} is stale: run `tfgen render {env}` and commit the result");
                    code = code.max(exit::DIFFERS);
                }
                let mut destroyed: Vec<String> = stale
                    .resources
                    .destroyed_stateful()
                    .into_iter()
                    .map(String::from)
                    .collect();
                if let Some(rev) = base {
                    let before = git_tree(&cli.root, rev, &format!("generated/{env}"))?;
                    if !before.files.is_empty() {
                        let since = diff::diff(&before, &committed, &format!("generated/{env}"))?;
                        print!(
                            "generated/{env} since {rev}: {}",
                            diff::render_resources(&since.resources, style)
                        );
                        destroyed.extend(since.resources.destroyed_stateful().into_iter().map(String::from));
                    }
                }
                if !destroyed.is_empty() && !allow_destroy {
                    eprintln!("generated/{env} destroys stateful resources: {}", destroyed.join(", "));
                    eprintln!("if that is intended, re-run with --allow-destroy");
                    code = code.max(exit::DIFFERS);
                }
            }
            Ok(code)
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

/// The files under `dir` at git revision `rev` that carry tfgen's header (empty when `dir` did not exist).
fn git_tree(root: &Path, rev: &str, dir: &str) -> Result<vfs::Tree> {
    let git = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .with_context(|| format!("running git {}", args.join(" ")))?;
        anyhow::ensure!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let mut tree = vfs::Tree::default();
    for path in git(&["ls-tree", "-r", "--name-only", rev, "--", dir])?.lines() {
        if !vfs::owned::is_owned_name(path) {
            continue;
        }
        let text = git(&["show", &format!("{rev}:{path}")])?;
        if text.starts_with(vfs::HEADER_MARK) {
            tree.insert(path.trim_start_matches(dir).trim_start_matches('/'), text);
        }
    }
    Ok(tree)
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
            report(&diags, style);
            Ok(None)
        }
        Err(CompileError::Internal(e)) => Err(e.context("internal error in tfgen (please report it)")),
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
