//! Validate stage: one module per spec section, each with its raw serde type, its checks and its resolved
//! type side by side, and [`check`], which runs them all and assembles the [`Model`].
//!
//! Every section checks its own values into its resolved form through one [`Checker`]; checks run to the
//! end and collect every diagnostic before failing once. Work that crosses sections (names, listener-rule
//! priorities, moves) is [`crate::resolve`]'s. Nothing here renders or touches the disk.
//!
//! To add a per-environment field: declare it in the section's raw type, check it and carry it into the
//! section's resolved type (same file), then read it in the templates.

pub mod account;
pub mod agent_database;
pub mod agents;
pub mod alarms;
pub mod alb;
pub mod backend;
pub mod bedrock;
pub mod budget;
pub mod compute;
pub mod context;
pub mod cost;
pub mod database;
pub mod defaults;
pub mod deployment;
pub mod dr;
pub mod ecr;
pub mod environment;
pub mod network;
pub mod pipeline;
pub mod security;

use context::Checker;
use defaults::Defaults;

use crate::diag::Diagnostics;
use crate::load::Inputs;
use crate::model::{Model, Sizing};
use crate::spec::ParsedSpec;

/// Checks every section of a parsed spec and resolves it into the model. On success also returns the
/// warnings (which never stop a render); on failure, every problem found.
pub fn check(parsed: &ParsedSpec, inputs: &Inputs) -> Result<(Model, Diagnostics), Diagnostics> {
    let mut cx = Checker::new(&inputs.env, &inputs.agents);
    for d in parsed.unknown_keys.iter() {
        cx.push(d.clone());
    }
    let model = check_all(&mut cx, parsed, inputs);
    let has_errors = cx.has_errors();
    let diags = cx.finish();
    match model {
        Some(model) if !has_errors => Ok((model, diags)),
        _ => Err(diags),
    }
}

/// Runs every section's checks (all of them, even after a failure), then the cross-section resolve.
fn check_all(cx: &mut Checker, parsed: &ParsedSpec, inputs: &Inputs) -> Option<Model> {
    let spec = &parsed.env;
    let env = environment::env_name(cx, &inputs.env_name);
    let sizing = environment::sizing(cx, &spec.sizing);
    // An unknown sizing is an error already; dev's defaults let the other checks go on meanwhile.
    let defaults = Defaults::for_sizing(sizing.unwrap_or(Sizing::Dev));
    let prod = sizing == Some(Sizing::Prod);
    let region = environment::region(cx, &spec.region);
    let image_tag = environment::image_tag(cx, &spec.image_tag);

    let network = network::check(cx, &spec.network, &defaults, prod, region.as_deref());
    let database = database::check(cx, &spec.database, &defaults, prod);
    let bedrock = region.as_deref().and_then(|r| {
        let env_var = inputs.overrides.bedrock_model_id.as_deref();
        bedrock::check(cx, &spec.bedrock, env_var, r, &spec.region)
    });
    let alb = alb::check(cx, &spec.alb, &defaults, prod, region.as_deref());
    let alarms = alarms::check(cx, &spec.alarms);
    let ecr = ecr::check(cx, &spec.ecr, region.as_deref());
    let deployment = deployment::check(cx, &spec.deployment);
    let backend = backend::check(cx, spec.backend.as_ref(), env.as_ref(), region.as_deref());
    let shared = if prod {
        Some(("a prod environment", &spec.sizing))
    } else {
        spec.pipeline
            .as_ref()
            .map(|p| ("the environment hosting the release pipeline", &p.repository))
    };
    backend::check_shared(cx, spec.backend.as_ref(), shared);
    let agents = agents::check(cx, &parsed.agents.agents, &spec.agents, &defaults);
    let security = security::check(cx, &spec.security, sizing.unwrap_or(Sizing::Dev), region.as_deref());
    let dr = dr::check(cx, &spec.dr, region.as_deref(), security.backup_retention_days);
    if let Some(dr_model) = &dr {
        dr::check_with_backup_plan(cx, &spec.dr, dr_model.as_ref(), &security, &spec.sizing, prod);
    }
    let pipeline = pipeline::check(cx, spec.pipeline.as_ref());
    pipeline::check_stage_environments(cx, spec, &inputs.env_name, &inputs.siblings, inputs.siblings_complete);
    let (placement, placements) = compute::check(cx, &spec.compute, &spec.agents);
    let cost = cost::check(cx, &spec.cost);
    let budget = budget::check(cx, &spec.budget);
    let account = account::check(cx, &spec.account, spec.alb.certificate_arn.as_ref());
    let agent_databases = agent_database::check(cx, &parsed.agents.agents, &agents, database::MASTER_USERNAME);

    let env = env?;
    let mut resolved = crate::resolve::resolve(cx, &env, agents, security.in_transit_encryption);
    place_agents(&mut resolved.agents, placement, &placements);
    let backend = backend?;
    let database = database?;
    // The agents' secrets are named `<env>/multi-agent/database/<agent>` (modules/database_bootstrap).
    let bootstrap = crate::bootstrap::Bootstrap::new(
        &database.database_name,
        &format!("{env}/multi-agent/database/"),
        agent_databases,
    );
    let terraform_required_version = required_terraform(&backend, &bootstrap).to_string();
    let model = Model {
        env,
        spec_file: cx.env_file_name().to_string(),
        region: region?,
        sizing: sizing?,
        image_tag: image_tag?,
        names: resolved.names,
        network: network?,
        database,
        bootstrap,
        bedrock: bedrock?,
        alb: alb?,
        alarms: alarms?,
        ecr: ecr?,
        deployment: deployment?,
        terraform_required_version,
        backend,
        security,
        dr: dr?,
        pipeline: pipeline?,
        agents: resolved.agents,
        moves: resolved.moves,
        cost,
        account: account?,
        budget: None,
    };
    let mut model = model;
    let budget = budget?;
    // What the account must have: judged only on a spec without errors, whose model is the one rendered.
    if !cx.has_errors() {
        model.budget = budget::amount(cx, &model, budget, &spec.region);
        account::check_quotas(cx, &model, spec);
        account::check_singletons(cx, &model, spec, &inputs.siblings);
    }
    Some(model)
}

/// The model even when checks found errors, or `None` when a section could not be resolved at all. Only
/// for comparisons (`tfgen show` compares models to tell where each value came from); never rendered.
pub fn resolve_lenient(parsed: &ParsedSpec, inputs: &Inputs) -> Option<Model> {
    let mut cx = Checker::new(&inputs.env, &inputs.agents);
    check_all(&mut cx, parsed, inputs)
}

/// Gives each agent its capacity and architecture: its own override, else the environment's `[compute]`.
fn place_agents(
    agents: &mut [agents::Agent],
    default: compute::Placement,
    placements: &std::collections::BTreeMap<String, compute::Placement>,
) {
    for agent in agents {
        let p = placements.get(agent.name.as_str()).copied().unwrap_or(default);
        agent.capacity = p.capacity;
        agent.architecture = p.architecture;
        agent.cpu_architecture = p.architecture.ecs_name();
        agent.on_demand_base = p.on_demand_base;
        agent.spot_percent = p.spot_percent;
        agent.capacity_strategy = p.strategy();
    }
}

/// The Terraform versions the whole tree works with: the backend's, or 1.11 when the database bootstrap
/// is rendered (its agent passwords are ephemeral values written through write-only arguments).
fn required_terraform(
    backend: &crate::sections::backend::Backend,
    bootstrap: &crate::bootstrap::Bootstrap,
) -> &'static str {
    if bootstrap.agents.is_empty() {
        backend.terraform_required_version()
    } else {
        crate::bootstrap::REQUIRED_TERRAFORM
    }
}
