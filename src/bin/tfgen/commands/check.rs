//! `tfgen check`: the committed trees against their specs (and a git base), as a report for people or CI.

use anyhow::Result;

use tfgen::check;
use tfgen::diag::Style;
use tfgen::diff;
use tfgen::load::Overrides;

use crate::cli::Cli;
use crate::common::{self, exit};

pub fn run(cli: &Cli, style: Style, allow_destroy: bool, base: Option<&String>, json: bool) -> Result<u8> {
    let options = check::Options {
        allow_destroy,
        base: base.cloned(),
        overrides: Overrides::from_env(),
    };
    let report = check::run(&cli.root, &options)?;
    if json {
        for env in &report.environments {
            common::print_warnings(&env.warnings, style);
            if let Some(diags) = &env.errors {
                common::report_diags(diags, style);
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

/// The check report for people, on stdout; the specs' diagnostics go to stderr.
fn print_check(report: &check::CheckReport, style: Style) {
    // The report goes to stdout, one line or block per finding; only the specs' diagnostics go to stderr.
    for env in &report.environments {
        common::print_warnings(&env.warnings, style);
        if let Some(diags) = &env.errors {
            common::report_diags(diags, style);
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
