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
    if !common::access_proven(env, &compiled) {
        return Ok(exit::ERROR);
    }
    let out = out.map_or_else(|| common::default_out(&cli.root, env), Path::to_path_buf);
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
        Some(diff::diff_compiled(&on_disk, &compiled, &dir)?)
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
