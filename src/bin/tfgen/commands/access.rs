//! `tfgen access`: the access proof of the tree on disk, as Terraform loads it.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use tfgen::diag::Style;
use tfgen::load::Overrides;
use tfgen::vfs;

use crate::cli::Cli;
use crate::common::{self, exit};

pub fn run(cli: &Cli, style: Style, env: &str, out: Option<&Path>, json: bool) -> Result<u8> {
    let Some(compiled) = common::compile_once(&cli.root, env, Overrides::from_env(), style, &mut BTreeSet::new())?
    else {
        return Ok(exit::ERROR);
    };
    let dir = out.map_or_else(|| common::default_out(&cli.root, env), Path::to_path_buf);
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
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", tfgen::access::render_text(env, &report));
    }
    Ok(if report.passed() { exit::OK } else { exit::DIFFERS })
}
