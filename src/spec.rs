//! Parse stage: TOML text → the two spec files' raw types, exactly as written (no defaults applied,
//! nothing derived).
//!
//! Each section's raw type lives with its checks in [`crate::sections`]; this module only assembles the
//! files from them. Every value a check may point at is [`Spanned`], so diagnostics can name its line and
//! column. This module does not judge values.

use std::collections::BTreeMap;

pub use crate::spanned::Spanned;
use serde::Deserialize;

use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, Location, SourceFile, rules};
use crate::keys::{Schema, strip_unknown, unknown_keys};
use crate::load::Inputs;
use crate::sections::account::AccountSpec;
use crate::sections::agents::{AgentOverride, AgentSpec};
use crate::sections::alarms::AlarmsSpec;
use crate::sections::alb::AlbSpec;
use crate::sections::backend::BackendSpec;
use crate::sections::bedrock::BedrockSpec;
use crate::sections::budget::BudgetSpec;
use crate::sections::compute::ComputeSpec;
use crate::sections::cost::CostSpec;
use crate::sections::database::DatabaseSpec;
use crate::sections::deployment::DeploymentSpec;
use crate::sections::dr::DrSpec;
use crate::sections::ecr::EcrSpec;
use crate::sections::network::NetworkSpec;
use crate::sections::pipeline::PipelineSpec;
use crate::sections::security::SecuritySpec;

rules! {
    /// The diagnostics this module reports (TOML syntax and types).
    pub enum Rule {
        MissingKey,
        WrongType,
        InvalidToml,
    }
}

/// `environments/agents.toml`: the agents every environment deploys, declared once.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    #[serde(rename = "agent", default)]
    pub agents: Vec<AgentSpec>,
}

/// `environments/<env>.toml`: one environment, as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    pub region: Spanned<String>,
    /// `dev` or `prod`: picks the plan's "Resource Sizing" defaults and the strictness of the checks.
    pub sizing: Spanned<String>,
    /// The image tag every agent's task runs (e.g. a release version or a git SHA).
    pub image_tag: Spanned<String>,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub database: DatabaseSpec,
    #[serde(default)]
    pub bedrock: BedrockSpec,
    #[serde(default)]
    pub alb: AlbSpec,
    #[serde(default)]
    pub alarms: AlarmsSpec,
    #[serde(default)]
    pub ecr: EcrSpec,
    #[serde(default)]
    pub deployment: DeploymentSpec,
    pub backend: Option<BackendSpec>,
    #[serde(default)]
    pub security: SecuritySpec,
    /// The opt-in release pipeline this environment hosts.
    pub pipeline: Option<PipelineSpec>,
    #[serde(default)]
    pub compute: ComputeSpec,
    /// The monthly cost budget that checks `tfgen cost`'s estimate against the bill.
    #[serde(default)]
    pub budget: BudgetSpec,
    #[serde(default)]
    pub cost: CostSpec,
    /// Disaster recovery: where the database's backups are copied.
    #[serde(default)]
    pub dr: DrSpec,
    /// The AWS account this environment deploys to, and its quotas there.
    #[serde(default)]
    pub account: AccountSpec,
    /// Per-environment overrides of an agent's sizing, keyed by agent name.
    #[serde(default)]
    pub agents: BTreeMap<Spanned<String>, AgentOverride>,
}

/// Both spec files of one environment, parsed.
#[derive(Debug, Clone)]
pub struct ParsedSpec {
    pub env: EnvSpec,
    pub agents: AgentsFile,
    /// Unknown keys (left out of `env` and `agents`): errors reported together with the checks' own.
    pub unknown_keys: Diagnostics,
}

/// Parses both files; reports problems in each at once when both are broken.
pub fn parse(inputs: &Inputs) -> Result<ParsedSpec, Diagnostics> {
    let agents = parse_file::<AgentsFile>(&inputs.agents, Schema::Agents);
    let env = parse_file::<EnvSpec>(&inputs.env, Schema::Env);
    match (env, agents) {
        (Ok((env, mut unknown_keys)), Ok((agents, unknown_agents))) => {
            unknown_keys.extend(unknown_agents);
            Ok(ParsedSpec {
                env,
                agents,
                unknown_keys,
            })
        }
        (env, agents) => {
            let mut diags = Diagnostics::default();
            diags.extend(env.map_or_else(|d| d, |(_, unknown)| unknown));
            diags.extend(agents.map_or_else(|d| d, |(_, unknown)| unknown));
            Err(diags.sorted())
        }
    }
}

/// Syntax errors (all of them); else unknown keys, missing keys and wrong types (all of them, found by
/// walking the document against the schema generated from the raw types). With only unknown keys, the
/// rest of the file is still deserialized (without them), so that the checks report their problems in
/// the same run.
fn parse_file<T: serde::de::DeserializeOwned>(
    file: &Arc<SourceFile>,
    schema: Schema,
) -> Result<(T, Diagnostics), Diagnostics> {
    let (mut table, errors) = toml::de::DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        return Err(Diagnostics(errors.iter().map(|e| toml_diagnostic(file, e)).collect()));
    }
    let unknown = unknown_keys(file, table.get_ref(), schema);
    let shape = crate::schema::shape_problems(file, &table, schema);
    if !shape.is_empty() {
        return Err(Diagnostics(unknown.into_iter().chain(shape).collect()));
    }
    strip_unknown(table.get_mut(), schema);
    table.get_mut().make_owned();
    let parsed = T::deserialize(toml::de::Deserializer::from(table)).map_err(|e| toml_diagnostic(file, &e));
    match parsed {
        Ok(value) => Ok((value, Diagnostics(unknown))),
        Err(e) => Err(Diagnostics(unknown.into_iter().chain([e]).collect())),
    }
}

fn toml_diagnostic(file: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
    let location = e.span().map(|span| Location::new(file, span));
    let (code, summary, help) = describe_toml_error(e.message());
    Diagnostic::error(code, summary, location).with_help(help)
}

/// Turns serde/toml messages into a summary and a help line. (The spec has no enums, so serde's
/// "unknown variant" cannot occur: names such as `sizing` are strings, checked with a "did you mean".)
fn describe_toml_error(message: &str) -> (Rule, String, String) {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return (
            Rule::MissingKey,
            format!("missing required key `{field}`"),
            format!("add `{field} = …` to this table"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "another type"));
        let expected = match expected {
            "i64" => "a whole number",
            "f64" => "a number",
            "a boolean" => "`true` or `false`",
            other => other,
        };
        return (
            Rule::WrongType,
            format!("wrong type: found {found}"),
            format!("expected {expected}"),
        );
    }
    (
        Rule::InvalidToml,
        format!("invalid TOML: {message}"),
        "fix the syntax here; see https://toml.io for the format".to_string(),
    )
}
