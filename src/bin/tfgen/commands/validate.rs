//! `tfgen validate`: every check and the access proof, in memory, writing nothing.

use std::collections::BTreeSet;

use anyhow::Result;

use tfgen::CompileError;
use tfgen::diag::Style;
use tfgen::load::{self, Overrides};

use crate::cli::Cli;
use crate::common::{self, exit};

pub fn run(cli: &Cli, style: Style, env: Option<&String>, all: bool) -> Result<u8> {
    let envs = match (env, all) {
        (Some(e), _) => vec![e.clone()],
        (None, true) => load::list_environments(&cli.root)?,
        (None, false) => anyhow::bail!("name an environment, or pass --all"),
    };
    let mut code = exit::OK;
    let mut seen = BTreeSet::new();
    for env in envs {
        let inputs = load::load(&cli.root, &env, Overrides::from_env())?;
        match tfgen::compile(&inputs) {
            Ok(compiled) => {
                common::print_warnings(
                    &compiled.warnings.clone().without_repeats(&mut seen, load::AGENTS_FILE),
                    style,
                );
                if common::access_proven(&env, &compiled) {
                    println!("{env}: ok");
                } else {
                    code = code.max(exit::ERROR);
                }
            }
            Err(CompileError::Spec(diags)) => code = code.max(common::report_once(&env, diags, style, &mut seen)),
            Err(CompileError::Internal(e)) => {
                return Err(e.context("internal error in tfgen (please report it)"));
            }
        }
    }
    Ok(code)
}
