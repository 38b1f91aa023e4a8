//! `tfgen reach`: who can reach whom, from the security groups, against the declared graph.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use tfgen::diag::Style;
use tfgen::load::Overrides;
use tfgen::vfs;

use crate::cli::Cli;
use crate::common::{self, exit};

pub fn run(cli: &Cli, style: Style, env: &str, dir: Option<&Path>) -> Result<u8> {
    let Some(compiled) = common::compile_once(&cli.root, env, Overrides::from_env(), style, &mut BTreeSet::new())?
    else {
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
