//! The command line's definition (clap): every command, argument and help text, from which `--help`,
//! completions and the man page are generated. It parses; it runs nothing.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use tfgen::diag::Style;

/// Compile environment specs into complete, readable Terraform.
#[derive(Debug, Parser)]
#[command(name = "tfgen", version, about, long_about = None)]
pub struct Cli {
    /// Project root holding `environments/` (default: the nearest directory, from the current one upwards,
    /// that holds `environments/`).
    #[arg(long = "root", global = true, value_name = "DIR")]
    pub root_arg: Option<PathBuf>,
    /// The project root in use: `--root`, or the one found from the current directory (see [`project_root`]).
    #[arg(skip)]
    pub root: PathBuf,
    /// Colour output: `auto` (on a terminal, unless NO_COLOR is set), `always` or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn style(self, is_terminal: bool) -> Style {
        let colour = match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color(),
        };
        if colour { Style::Color } else { Style::Plain }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// `agents/<name>/` (see `tfgen scaffold agent`), and the load test under `load_test/` (see `tfgen
    /// scaffold load-test`). When any of them exists, lists them and writes nothing.
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
pub enum SchemaFile {
    Env,
    Agents,
}

#[derive(Debug, Subcommand)]
pub enum Scaffold {
    /// Write `agents/<NAME>/` (a `python:3.11-slim` Dockerfile, a reference agent, requirements.txt) for an
    /// agent declared in `environments/agents.toml`; files that exist are kept as they are.
    Agent {
        /// The agent's name, as declared in `environments/agents.toml`.
        name: String,
    },
    /// Write `load_test/` (a Locust load test of an environment, and its pinned requirements); files that
    /// exist are kept as they are.
    LoadTest,
}

impl Command {
    /// Whether the command works on a project (and so needs its root).
    pub fn needs_root(&self) -> bool {
        !matches!(
            self,
            Command::Init { .. } | Command::Completions { .. } | Command::Man | Command::Schema { .. }
        )
    }
}

/// `NO_COLOR` is set to something (<https://no-color.org>).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

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
