//! tfgen: compiles a small environment spec into a complete, readable Terraform root module.
//!
//! The pipeline is one pure function per stage; only [`load`] and [`vfs`] touch the disk:
//!
//! ```text
//! load ─► spec::parse ─► sections::check (+ resolve) ─► render ─► format ─► vfs (write or diff)
//! Inputs    ParsedSpec            Model                   Tree      Tree
//! ```
//!
//! [`sections`] holds one module per spec section (raw type, checks, resolved type); [`resolve`] does the
//! work that crosses sections (names, listener-rule priorities, moves). [`schema`] derives the spec files'
//! JSON Schema from the raw types (and checks documents' shape against it); [`show`] tells where each
//! resolved value came from.

pub mod access;
pub mod addresses;
pub mod arn;
pub mod aws;
pub mod bootstrap;
pub mod check;
pub mod cidr;
pub mod contract;
pub mod cost;
pub mod diag;
pub mod diff;
pub mod docs;
pub mod format;
pub mod hcl_value;
pub mod keys;
pub mod load;
pub mod model;
pub mod names;
pub mod predict;
pub mod reach;
pub mod render;
pub mod resolve;
pub mod scaffold;
pub mod schema;
pub mod sections;
pub mod show;
pub mod smoke;
pub mod spanned;
pub mod spec;
pub mod vfs;

use diag::Diagnostics;
use load::Inputs;
use model::Model;
use vfs::Tree;

/// What a compile produced: the checked model, the formatted tree, and any warnings.
#[derive(Debug)]
pub struct Compiled {
    pub model: Model,
    pub tree: Tree,
    pub warnings: Diagnostics,
    /// The access proof of the rendered tree (`tfgen access`, before anything is written).
    pub access: access::Report,
    /// The reachability graph of the rendered tree's security groups (`tfgen reach`; the README shows it).
    pub reach: reach::Graph,
    /// The rendered tree parsed and evaluated once (the proofs read it; `diff` re-uses it).
    pub evaluation: predict::Evaluation,
}

/// Why a compile failed: either the spec is wrong (data for the user), or tfgen itself is.
#[derive(Debug)]
pub enum CompileError {
    /// Every problem found in the spec, in source order. Nothing was rendered.
    Spec(Diagnostics),
    /// A template or formatter failure: a bug in tfgen, never in the spec.
    Internal(anyhow::Error),
}

/// What the `validate` command runs: parse → check every section → resolve, without rendering.
pub fn validate_spec(inputs: &Inputs) -> Result<(Model, Diagnostics), Diagnostics> {
    let parsed = spec::parse(inputs)?;
    sections::check(&parsed, inputs)
}

/// Every diagnostic tfgen can report, one [`diag::Code`] each: the rules of every module that reports
/// any. Tests prove that each has a fixture.
pub fn diagnostic_codes() -> Vec<diag::Code> {
    fn add<R: Copy + Into<diag::Code>>(out: &mut Vec<diag::Code>, rules: &[R]) {
        out.extend(rules.iter().map(|&rule| rule.into()));
    }
    use sections::{
        account, agent_database, agents, alarms, alb, backend, bedrock, budget, compute, cost, database, deployment,
        dr, ecr, environment, network, pipeline, security,
    };
    let mut out = Vec::new();
    add(&mut out, spec::Rule::ALL);
    add(&mut out, keys::Rule::ALL);
    add(&mut out, environment::Rule::ALL);
    add(&mut out, network::Rule::ALL);
    add(&mut out, database::Rule::ALL);
    add(&mut out, bedrock::Rule::ALL);
    add(&mut out, alb::Rule::ALL);
    add(&mut out, alarms::Rule::ALL);
    add(&mut out, ecr::Rule::ALL);
    add(&mut out, deployment::Rule::ALL);
    add(&mut out, backend::Rule::ALL);
    add(&mut out, security::Rule::ALL);
    add(&mut out, pipeline::Rule::ALL);
    add(&mut out, agents::Rule::ALL);
    add(&mut out, compute::Rule::ALL);
    add(&mut out, cost::Rule::ALL);
    add(&mut out, budget::Rule::ALL);
    add(&mut out, dr::Rule::ALL);
    add(&mut out, agent_database::Rule::ALL);
    add(&mut out, account::Rule::ALL);
    add(&mut out, resolve::Rule::ALL);
    out
}

/// Runs the whole pure pipeline for one environment: parse → validate → resolve → render → format.
pub fn compile(inputs: &Inputs) -> Result<Compiled, CompileError> {
    let (model, warnings) = validate_spec(inputs).map_err(CompileError::Spec)?;
    let levers = cost::estimate(&model)
        .map(|e| cost::levers::levers(inputs, &model, &e))
        .unwrap_or_default();
    let render::Rendered {
        tree,
        access,
        reach,
        evaluation,
    } = render::render(&model, &levers).map_err(CompileError::Internal)?;
    let tree = format::format_tree(tree).map_err(CompileError::Internal)?;
    Ok(Compiled {
        model,
        tree,
        warnings,
        access,
        reach,
        evaluation,
    })
}
