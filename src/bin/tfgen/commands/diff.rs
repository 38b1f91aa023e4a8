//! `tfgen diff`: what `render` would change on disk, and what `terraform plan` would do about it.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Result;

use tfgen::diag::Style;
use tfgen::load::Overrides;
use tfgen::{diff, vfs};

use crate::cli::Cli;
use crate::common::{self, exit};

/// Diffs the named environment, or every one with `all`; the exit code is the highest of them.
pub fn run(
    cli: &Cli,
    style: Style,
    env: Option<&String>,
    all: bool,
    out: Option<&Path>,
    (stat, json): (bool, bool),
) -> Result<u8> {
    let overrides = Overrides::from_env();
    let mut code = exit::OK;
    let mut seen = BTreeSet::new();
    for env in common::selected_envs(&cli.root, env, all)? {
        code = code.max(diff_one(cli, &env, out, stat, json, &overrides, style, &mut seen)?);
    }
    Ok(code)
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
    let Some(compiled) = common::compile_once(&cli.root, env, overrides.clone(), style, seen)? else {
        return Ok(exit::ERROR);
    };
    let out = out.map_or_else(|| common::default_out(&cli.root, env), Path::to_path_buf);
    let on_disk = vfs::Tree::read_generated(&out)?;
    let dir = out.display().to_string();
    let d = diff::diff_compiled(&on_disk, &compiled, &dir)?;
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
