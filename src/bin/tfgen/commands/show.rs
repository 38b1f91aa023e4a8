//! `tfgen show`: every resolved value of an environment with its origin.

use anyhow::{Context as _, Result};

use tfgen::diag::Style;
use tfgen::load::{self, Overrides};

use crate::cli::Cli;
use crate::common::exit;

pub fn run(cli: &Cli, style: Style, env: &str, json: bool) -> Result<u8> {
    let inputs = load::load(&cli.root, env, Overrides::from_env())?;
    match tfgen::show::show(&inputs) {
        Ok(shown) if json => {
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
