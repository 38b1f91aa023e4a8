//! The `tfgen` command line: the outer edge. Reads the disk and the process environment, runs the pure
//! pipeline from the library, prints, and maps outcomes to exit codes. No compilation logic lives here:
//! [`cli`] defines the arguments, [`commands`] holds one thin module per command, [`common`] what they share.

mod cli;
mod commands;
mod common;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser as _;

use tfgen::diag::Style;

use cli::{Cli, Command, Scaffold};
use common::exit;

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
    let result = common::project_root(&cli).and_then(|root| {
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
    match &cli.command {
        Command::Render { env, all, out } => commands::render::run(cli, style, env.as_ref(), *all, out.as_deref()),
        Command::Diff {
            env,
            all,
            out,
            stat,
            json,
        } => commands::diff::run(cli, style, env.as_ref(), *all, out.as_deref(), (*stat, *json)),
        Command::Init { dir } => commands::init::run(dir),
        Command::Scaffold(Scaffold::Agent { name }) => commands::scaffold::agent(&cli.root, name),
        Command::Scaffold(Scaffold::LoadTest) => commands::scaffold::load_test(&cli.root),
        Command::Cost {
            env,
            json,
            prices,
            levers,
        } => commands::cost::run(cli, env, (*json, *levers), prices.as_deref(), style),
        Command::Completions { shell } => Ok(commands::completions::completions(*shell)),
        Command::Man => commands::completions::man(),
        Command::Show { env, json } => commands::show::run(cli, style, env, *json),
        Command::Schema { file } => Ok(commands::schema::run(*file)),
        Command::Check {
            allow_destroy,
            base,
            json,
        } => commands::check::run(cli, style, *allow_destroy, base.as_ref(), *json),
        Command::Reach { env, dir } => commands::reach::run(cli, style, env, dir.as_deref()),
        Command::Access { env, out, json } => commands::access::run(cli, style, env, out.as_deref(), *json),
        Command::Validate { env, all } => commands::validate::run(cli, style, env.as_ref(), *all),
    }
}
