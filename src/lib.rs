//! tfgen: compiles a small environment spec into a complete, readable Terraform root module.
//!
//! The pipeline is one pure function per stage; only [`load`] and [`vfs`] touch the disk:
//!
//! ```text
//! load ─► spec::parse ─► validate ─► resolve ─► render ─► format ─► vfs (write or diff)
//! Inputs    ParsedSpec    ValidSpec    Model      Tree      Tree
//! ```

pub mod addresses;
pub mod aws;
pub mod cidr;
pub mod diag;
pub mod diff;
pub mod fargate;
pub mod format;
pub mod hcl_value;
pub mod keys;
pub mod load;
pub mod model;
pub mod names;
pub mod regions;
pub mod render;
pub mod resolve;
pub mod security;
pub mod spec;
pub mod validate;
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
}

/// Why a compile failed: either the spec is wrong (data for the user), or tfgen itself is.
#[derive(Debug)]
pub enum CompileError {
    /// Every problem found in the spec, in source order. Nothing was rendered.
    Spec(Diagnostics),
    /// A template or formatter failure: a bug in tfgen, never in the spec.
    Internal(anyhow::Error),
}

/// Checks a spec without rendering it: parse → validate → resolve.
pub fn check(inputs: &Inputs) -> Result<(Model, Diagnostics), Diagnostics> {
    let parsed = spec::parse(inputs)?;
    let (valid, warnings) = validate::validate(&parsed, inputs)?;
    Ok((resolve::resolve(&valid), warnings))
}

/// Runs the whole pure pipeline for one environment: parse → validate → resolve → render → format.
pub fn compile(inputs: &Inputs) -> Result<Compiled, CompileError> {
    let (model, warnings) = check(inputs).map_err(CompileError::Spec)?;
    let tree = render::render(&model).map_err(CompileError::Internal)?;
    let tree = format::format_tree(tree).map_err(CompileError::Internal)?;
    Ok(Compiled { model, tree, warnings })
}
