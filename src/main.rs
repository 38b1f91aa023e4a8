//! The `tfgen` command line: the outer edge. Reads the disk and the process environment, runs the pure
//! pipeline from the library, prints, and maps outcomes to exit codes. No compilation logic lives here.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{CommandFactory as _, Parser, Subcommand};

use tfgen::diag::{Diagnostics, Style};
use tfgen::load::{self, Overrides};
use tfgen::{CompileError, check, diff, scaffold, vfs};

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
    /// Project root holding `environments/` (default: the nearest directory, from the current one upwards,
    /// that holds `environments/`).
    #[arg(long = "root", global = true, value_name = "DIR")]
    root_arg: Option<PathBuf>,
    /// The project root in use: `--root`, or the one found from the current directory (see [`project_root`]).
    #[arg(skip)]
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
        /// Environment to render (its spec is `environments/<ENV>.toml`); omit with `--all`.
        #[arg(required_unless_present = "all")]
        env: Option<String>,
        /// Render every environment under `environments/` into its `generated/<ENV>/`.
        #[arg(long, conflicts_with_all = ["env", "out"])]
        all: bool,
        /// Output directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show what `render` would change: a unified diff per file, and what `terraform plan` would do to each
    /// resource instance (create, update, replace, delete, move).
    /// Exit 0 when identical, 1 when different, 2 on error.
    Diff {
        /// Environment to compare (its spec is `environments/<ENV>.toml`); omit with `--all`.
        #[arg(required_unless_present = "all")]
        env: Option<String>,
        /// Compare every environment under `environments/` with its `generated/<ENV>/`; exits with the
        /// highest code of any of them.
        #[arg(long, conflicts_with_all = ["env", "out"])]
        all: bool,
        /// Directory to compare with (default `generated/<ENV>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// One line per file instead of the full diff.
        #[arg(long)]
        stat: bool,
        /// Print the files and the predicted resource actions as JSON instead.
        #[arg(long, conflicts_with_all = ["stat", "all"])]
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
    /// Show who can reach whom on which ports, computed from the security groups of the rendered tree.
    ///
    /// Reads the tree `render` would write (or, with `--dir`, a tree on disk such as `generated/<ENV>`),
    /// evaluates its security groups and rules, and compares the result with the graph the spec declares
    /// (agents.toml's `calls` and `[agent.database]`). Exit 0 when they are equal, 1 when they differ.
    Reach {
        /// Environment (its spec is `environments/<ENV>.toml`).
        env: String,
        /// Read the rendered tree from this directory instead of rendering it.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Prove from the tree on disk that every access the environment needs is allowed, and nothing it must
    /// not have.
    ///
    /// Reads every `.tf` file of `generated/<ENV>` (or `--out DIR`), hand edits included, evaluates its
    /// IAM, key, bucket and trust policies with AWS's evaluation logic, and decides each access the spec
    /// implies (deploying, pulling images, injecting secrets, logging, calling the model, the Data API,
    /// the bootstrap, migrations) and each one it forbids (another agent's secret, the master secret,
    /// another model). Also lists grants no access uses and who may read each secret or decrypt with
    /// each key. Exit 0 when every access is decided as needed, 1 otherwise.
    Access {
        /// Environment (its spec is `environments/<ENV>.toml`).
        env: String,
        /// The tree to judge (default `generated/<ENV>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a spec (parse, validate, resolve) without writing anything.
    Validate {
        /// Environment to check; omit with `--all`.
        env: Option<String>,
        /// Check every environment under `environments/`; a problem in `agents.toml` is shown once.
        #[arg(long, conflicts_with = "env")]
        all: bool,
    },
    /// Start a new infrastructure repository (specs, `.gitignore`, CI workflow); never overwrites a file.
    ///
    /// Writes `environments/agents.toml` (the plan's five agents), `environments/dev.toml` and
    /// `environments/prod.toml` (every optional key commented out with its default), the specs' JSON
    /// Schemas in `schema/` (for editors), a `.gitignore` for Terraform's local files,
    /// `.github/workflows/infrastructure.yml`, and per agent a Dockerfile and a reference agent under
    /// `agents/<name>/` (see `tfgen scaffold agent`). When any of them exists, lists
    /// them and writes nothing.
    Init {
        /// Directory to create the repository in (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Write files for the user to own: once, never overwriting one that exists.
    #[command(subcommand)]
    Scaffold(Scaffold),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    ///
    /// For example: `tfgen completions bash > ~/.local/share/bash-completion/completions/tfgen`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Show the resolved spec of an environment: every value, defaults applied, with its origin.
    ///
    /// Each value is the model tfgen renders from, and its origin is one of `spec` (written in the spec
    /// files), `environment variable` (BEDROCK_MODEL_ID), `sizing` (the dev or prod sizing's default),
    /// `default` (tfgen's default for an unwritten key) or `derived` (computed from other values).
    Show {
        /// Environment to show (its spec is `environments/<ENV>.toml`).
        env: String,
        /// Print JSON (`{"environment": …, "values": [{"key", "value", "origin"}]}`) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of a spec file, generated from tfgen's own spec types.
    ///
    /// `tfgen init` writes both into `schema/`, and the scaffolded specs point editors at them with
    /// Taplo's `#:schema` directive. After upgrading tfgen: `tfgen schema env > schema/env.schema.json`.
    Schema {
        /// Which spec file: `env` (environments/<env>.toml) or `agents` (environments/agents.toml).
        #[arg(value_enum)]
        file: SchemaFile,
    },
    /// Estimate an environment's monthly AWS cost at list prices, line by line, with its usage assumptions.
    ///
    /// Works offline from the spec alone (no plan, no credentials). Override the assumptions in the spec's
    /// `[cost]` section.
    Cost {
        /// Environment to estimate (its spec is `environments/<ENV>.toml`).
        env: String,
        /// Print the estimate as JSON.
        #[arg(long)]
        json: bool,
        /// Price with another region's table (e.g. `us-east-1`, to compare), instead of the spec's region.
        #[arg(long, value_name = "REGION")]
        prices: Option<String>,
        /// Also list every setting that changes the monthly cost, with the change and its effect on
        /// availability, protection or operations.
        #[arg(long)]
        levers: bool,
    },
    /// Print tfgen's man page (roff).
    ///
    /// For example: `tfgen man > ~/.local/share/man/man1/tfgen.1`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SchemaFile {
    Env,
    Agents,
}

#[derive(Debug, Subcommand)]
enum Scaffold {
    /// Write `agents/<NAME>/` (a `python:3.11-slim` Dockerfile, a reference agent, requirements.txt) for an
    /// agent declared in `environments/agents.toml`; files that exist are kept as they are.
    Agent {
        /// The agent's name, as declared in `environments/agents.toml`.
        name: String,
    },
}

impl Command {
    /// Whether the command works on a project (and so needs its root).
    fn needs_root(&self) -> bool {
        !matches!(
            self,
            Command::Init { .. } | Command::Completions { .. } | Command::Man | Command::Schema { .. }
        )
    }
}

/// A reader that closes the pipe early (`tfgen check --json | head`) ends tfgen quietly, as it ends `cat`:
/// Rust's runtime ignores SIGPIPE, which turns every later `println!` into a panic (exit 101); the
/// default action ends the process instead.
#[cfg(unix)]
#[allow(unsafe_code)]
fn restore_default_sigpipe() {
    // SAFETY: called first thing in `main`, before any other thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    restore_default_sigpipe();
    let mut cli = Cli::parse();
    let style = cli.color.style(std::io::stderr().is_terminal());
    let result = project_root(&cli).and_then(|root| {
        cli.root = root;
        run(&cli, style)
    });
    match result {
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
        Command::Render { env, all, out } => {
            let mut code = exit::OK;
            let mut seen = BTreeSet::new();
            for env in selected_envs(&cli.root, env.as_ref(), *all)? {
                code = code.max(render_one(cli, &env, out.as_deref(), &overrides, style, &mut seen)?);
            }
            Ok(code)
        }
        Command::Diff {
            env,
            all,
            out,
            stat,
            json,
        } => {
            let mut code = exit::OK;
            let mut seen = BTreeSet::new();
            for env in selected_envs(&cli.root, env.as_ref(), *all)? {
                code = code.max(diff_one(
                    cli,
                    &env,
                    out.as_deref(),
                    *stat,
                    *json,
                    &overrides,
                    style,
                    &mut seen,
                )?);
            }
            Ok(code)
        }
        Command::Init { dir } => init(dir),
        Command::Scaffold(Scaffold::Agent { name }) => scaffold_agent(&cli.root, name),
        Command::Cost {
            env,
            json,
            prices,
            levers,
        } => cost(cli, env, (*json, *levers), prices.as_deref(), &overrides, style),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "tfgen", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::Show { env, json } => {
            let inputs = load::load(&cli.root, env, overrides.clone())?;
            match tfgen::show::show(&inputs) {
                Ok(shown) if *json => {
                    println!("{}", serde_json::to_string_pretty(&shown).context("writing JSON")?);
                    Ok(exit::OK)
                }
                Ok(shown) => {
                    print!("{}", tfgen::show::text(&shown));
                    Ok(exit::OK)
                }
                Err(diags) => {
                    eprint!("{}", diags.render(style));
                    Ok(exit::ERROR)
                }
            }
        }
        Command::Schema { file } => {
            let which = match file {
                SchemaFile::Env => tfgen::keys::Schema::Env,
                SchemaFile::Agents => tfgen::keys::Schema::Agents,
            };
            print!("{}", tfgen::schema::json_schema_text(which));
            Ok(exit::OK)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
            Ok(exit::OK)
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
        Command::Reach { env, dir } => {
            let Some(compiled) = compile_once(&cli.root, env, overrides.clone(), style, &mut BTreeSet::new())? else {
                return Ok(exit::ERROR);
            };
            // The graph of the tree render would write is part of the compile; a tree on disk is read anew.
            let graph = match dir {
                Some(d) => tfgen::reach::from_tree(&vfs::Tree::read_generated(d)?)?,
                None => compiled.reach.clone(),
            };
            print!("{graph}");
            let differences = graph.differences(&tfgen::reach::declared(&compiled.model));
            if differences.is_empty() {
                println!("{env}: the security groups allow exactly the declared graph");
                Ok(exit::OK)
            } else {
                println!("{env}: the security groups differ from the declared graph (+ allowed, - missing):");
                for line in differences {
                    println!("  {line}");
                }
                Ok(exit::DIFFERS)
            }
        }
        Command::Access { env, out, json } => {
            let Some(compiled) = compile_once(&cli.root, env, overrides.clone(), style, &mut BTreeSet::new())? else {
                return Ok(exit::ERROR);
            };
            let dir = out.clone().unwrap_or_else(|| default_out(&cli.root, env));
            let tree = vfs::Tree::read_terraform(&dir)?;
            if tree.files.is_empty() {
                anyhow::bail!(
                    "{} holds no Terraform files: run `tfgen render {env}` first",
                    dir.display()
                );
            }
            // The tree on disk is judged as Terraform loads it; when it is exactly what render writes (the
            // README aside, which Terraform does not read), the compile already proved it.
            let rendered = compiled.tree.files.iter().filter(|(p, _)| p.ends_with(".tf"));
            let report = if tree.files.iter().eq(rendered) {
                compiled.access.clone()
            } else {
                tfgen::access::check(&compiled.model, &tree)?
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", tfgen::access::render_text(env, &report));
            }
            Ok(if report.passed() { exit::OK } else { exit::DIFFERS })
        }
        Command::Validate { env, all } => {
            let envs = match (env, all) {
                (Some(e), _) => vec![e.clone()],
                (None, true) => load::list_environments(&cli.root)?,
                (None, false) => anyhow::bail!("name an environment, or pass --all"),
            };
            let mut code = exit::OK;
            let mut seen = BTreeSet::new();
            for env in envs {
                let inputs = load::load(&cli.root, &env, overrides.clone())?;
                match tfgen::compile(&inputs) {
                    Ok(compiled) => {
                        print_warnings(
                            &compiled.warnings.clone().without_repeats(&mut seen, load::AGENTS_FILE),
                            style,
                        );
                        if access_proven(&env, &compiled) {
                            println!("{env}: ok");
                        } else {
                            code = code.max(exit::ERROR);
                        }
                    }
                    Err(CompileError::Spec(diags)) => code = code.max(report_once(&env, diags, style, &mut seen)),
                    Err(CompileError::Internal(e)) => {
                        return Err(e.context("internal error in tfgen (please report it)"));
                    }
                }
            }
            Ok(code)
        }
    }
}

/// The check report for people: up-to-date lines on stdout, problems on stderr.
fn print_check(report: &check::CheckReport, style: Style) {
    // The report goes to stdout, one line or block per finding; only the specs' diagnostics go to stderr.
    for env in &report.environments {
        print_warnings(&env.warnings, style);
        if let Some(diags) = &env.errors {
            report_diags(diags, style);
            continue;
        }
        let (name, dir) = (&env.env, &env.dir);
        if env.is_stale() {
            println!("{dir}:");
            print!("{}", diff::render_stat(&env.stale));
            println!("{dir} is stale: run `tfgen render {name}` and commit the result");
        }
        print!("{}", diff::render_foreign(&env.stale, dir));
        if !env.is_stale() && !env.has_foreign() {
            println!("{dir}: up to date");
        }
        if let (Some(since), Some(rev)) = (&env.since_base, &report.base) {
            print!("{dir} since {rev}: {}", diff::render_resources(&since.resources, style));
        }
        if report.blocks_destroy(env) {
            println!(
                "{dir} destroys or replaces stateful resources: {}",
                env.destroyed.join(", ")
            );
            println!("if that is intended, re-run with --allow-destroy");
        }
    }
    for orphan in &report.orphans {
        println!("{}", check::orphan_help(orphan));
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
                "foreign": e.stale.foreign.iter().map(|f| &f.path).collect::<Vec<_>>(),
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
        "orphaned": report.orphans,
    })
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Loads and compiles one environment; prints warnings, or the spec's errors (then `None`), leaving out
/// diagnostics in `agents.toml` that an earlier environment of this run (recorded in `seen`) already printed.
fn compile_once(
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

/// The project root: `--root` when given (it must hold `environments/`), otherwise the nearest directory
/// from the current one upwards that holds `environments/`. Commands that need no project get `.`.
fn project_root(cli: &Cli) -> Result<PathBuf> {
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
fn selected_envs(root: &Path, env: Option<&String>, all: bool) -> Result<Vec<String>> {
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

/// `render` for one environment.
fn render_one(
    cli: &Cli,
    env: &str,
    out: Option<&Path>,
    overrides: &Overrides,
    style: Style,
    seen: &mut BTreeSet<String>,
) -> Result<u8> {
    let Some(compiled) = compile_once(&cli.root, env, overrides.clone(), style, seen)? else {
        return Ok(exit::ERROR);
    };
    if !access_proven(env, &compiled) {
        return Ok(exit::ERROR);
    }
    let out = out.map_or_else(|| default_out(&cli.root, env), Path::to_path_buf);
    // What the write changes, predicted as `diff` would before it: a render that replaces the database
    // says so, whoever runs it.
    let on_disk = vfs::Tree::read_generated(&out)?;
    let dir = out.display().to_string();
    // A first render destroys nothing: no prediction needed (`terraform plan` lists what it creates).
    let first = on_disk.get("main.tf").is_none();
    let change = if first {
        None
    } else {
        Some(diff::diff(&on_disk, &compiled.tree, &dir)?)
    };
    let r = vfs::write(&compiled.tree, &out)?;
    println!(
        "rendered {env} into {dir}: {} files written, {} unchanged, {} removed",
        r.written,
        r.unchanged,
        r.removed.len()
    );
    if let Some(change) = change.filter(|c| !c.files.is_empty()) {
        let stdout_style = cli.color.style(std::io::stdout().is_terminal());
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

/// The access proof of a rendered tree; on failure, what is wrong goes to stderr and nothing may be written.
fn access_proven(env: &str, compiled: &tfgen::Compiled) -> bool {
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

/// `diff` for one environment.
#[allow(clippy::too_many_arguments)] // one per `diff` option, passed straight through
fn diff_one(
    cli: &Cli,
    env: &str,
    out: Option<&Path>,
    stat: bool,
    json: bool,
    overrides: &Overrides,
    style: Style,
    seen: &mut BTreeSet<String>,
) -> Result<u8> {
    let Some(compiled) = compile_once(&cli.root, env, overrides.clone(), style, seen)? else {
        return Ok(exit::ERROR);
    };
    let out = out.map_or_else(|| default_out(&cli.root, env), Path::to_path_buf);
    let on_disk = vfs::Tree::read_generated(&out)?;
    let dir = out.display().to_string();
    let d = diff::diff(&on_disk, &compiled.tree, &dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&diff::to_json(&d, &dir))?);
        return Ok(if d.is_empty() { exit::OK } else { exit::DIFFERS });
    }
    if d.is_empty() {
        println!("{dir}: no changes");
        return Ok(exit::OK);
    }
    let stdout_style = cli.color.style(std::io::stdout().is_terminal());
    if !d.files.is_empty() {
        if stat {
            println!("{dir}:");
            print!("{}", diff::render_stat(&d));
        } else {
            print!("{}", diff::render_patch(&d, stdout_style));
        }
        print!("{}", diff::render_resources(&d.resources, stdout_style));
        print!("{}", tfgen::docs::cost_change(&on_disk, &compiled.model));
    }
    print!("{}", diff::render_foreign(&d, &dir));
    Ok(exit::DIFFERS)
}

/// `tfgen cost ENV`: the estimate as text or JSON.
fn cost(
    cli: &Cli,
    env: &str,
    (json, with_levers): (bool, bool),
    prices: Option<&str>,
    overrides: &Overrides,
    style: Style,
) -> Result<u8> {
    let inputs = load::load(&cli.root, env, overrides.clone())?;
    let model = match tfgen::validate_spec(&inputs) {
        Ok((model, warnings)) => {
            print_warnings(&warnings, style);
            model
        }
        Err(diags) => return Ok(report_diags(&diags, style)),
    };
    let estimate = match prices {
        None => tfgen::cost::estimate(&model),
        Some(region) => tfgen::cost::prices::for_region(region)
            .map(|p| tfgen::cost::estimate_with(&model, p))
            .ok_or_else(|| {
                format!(
                    "tfgen has no price table for {region}; priced regions: {}",
                    tfgen::cost::prices::priced_regions().join(", ")
                )
            }),
    }
    .map_err(anyhow::Error::msg)?;
    let levers = with_levers.then(|| tfgen::cost::levers::levers(&inputs, &model, &estimate));
    if json {
        let mut value = serde_json::to_value(&estimate)?;
        if let Some(levers) = &levers {
            value["levers"] = serde_json::to_value(levers)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", tfgen::cost::render_text(&estimate, &model.spec_file));
        if let Some(levers) = &levers {
            print!("\n{}", tfgen::cost::levers::render_text(levers));
        }
    }
    Ok(exit::OK)
}

/// Prints an environment's errors, except those in `agents.toml` already printed for another one.
fn report_once(env: &str, diags: Diagnostics, style: Style, seen: &mut BTreeSet<String>) -> u8 {
    let fresh = diags.without_repeats(seen, load::AGENTS_FILE);
    if fresh.has_errors() {
        report_diags(&fresh, style)
    } else {
        print_warnings(&fresh, style);
        eprintln!("{env}: fails with the {} problems shown above", load::AGENTS_FILE);
        exit::ERROR
    }
}

/// `tfgen scaffold agent NAME`: writes the agent's image files that do not exist yet, and keeps the others.
fn scaffold_agent(root: &Path, name: &str) -> Result<u8> {
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
        write_new(&target, &text)?;
        println!("created {path}");
    }
    Ok(exit::OK)
}

/// Creates `target` (and its directories) with `text`; fails if it exists.
fn write_new(target: &Path, text: &str) -> Result<()> {
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

/// `tfgen init DIR`: writes the scaffold, or nothing at all when any of its files already exists.
fn init(dir: &Path) -> Result<u8> {
    let files = scaffold::files();
    let existing: Vec<&str> = files
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| dir.join(path).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        eprintln!("error: {} already has files tfgen init would write:", dir.display());
        for path in &existing {
            eprintln!("  {path}");
        }
        eprintln!("nothing was written; move them away, or run `tfgen init` in another directory");
        return Ok(exit::ERROR);
    }
    for (path, text) in &files {
        let target = dir.join(path);
        write_new(&target, text)?;
        println!("created {}", target.display());
    }
    println!(
        "\nnext:\n  \
         1. edit environments/*.toml; prod.toml's certificate_arn is a placeholder to replace before applying\n  \
         2. tfgen render --all\n  \
         3. commit environments/, generated/, agents/, .gitignore and .github/\n  \
         4. set TFGEN_REPOSITORY in {} to the tfgen repository CI installs from",
        scaffold::WORKFLOW_PATH
    );
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand and every argument has help text: `--help`, completions and the man page show it.
    #[test]
    fn every_argument_and_subcommand_is_described() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(sub_path.clone());
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "tfgen", &mut missing);
        assert!(missing.is_empty(), "no help text for: {}", missing.join(", "));
        // The walk sees what it should: a known subcommand and argument, and the generated `help` ones.
        let render = cmd.find_subcommand("render").unwrap();
        assert!(render.get_arguments().any(|a| a.get_id() == "all"));
        assert!(cmd.get_subcommands().any(|s| s.get_name() == "help"));
    }

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
