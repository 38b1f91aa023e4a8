//! `tfgen completions` and `tfgen man`: generated from the command line's own definition.

use anyhow::{Context as _, Result};
use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::common::exit;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    clap_complete::generate(shell, &mut Cli::command(), "tfgen", &mut std::io::stdout());
    exit::OK
}

pub fn man() -> Result<u8> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .context("writing the man page")?;
    Ok(exit::OK)
}
