//! Parse stage: TOML text → raw spec types, exactly as written (no defaults applied, nothing derived).
//!
//! Every value a check may point at is [`Spanned`], so diagnostics can name its line and column.
//! This module does not judge values; [`crate::validate`] does, and [`crate::resolve`] applies defaults.

use std::collections::BTreeMap;

use serde::Deserialize;
pub use toml::Spanned;

use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, Location, SourceFile};
use crate::keys::{Schema, unknown_keys};
use crate::load::Inputs;

/// `environments/agents.toml`: the agents every environment deploys, declared once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    #[serde(rename = "agent", default)]
    pub agents: Vec<AgentSpec>,
}

/// One `[[agent]]` entry, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub name: Spanned<String>,
    pub port: Spanned<i64>,
    /// ALB path patterns routed to this agent, e.g. `["/order/*"]`.
    pub paths: Spanned<Vec<Spanned<String>>>,
    pub health_check_path: Option<Spanned<String>>,
    pub description: Option<String>,
    /// The agent's previous name: its Terraform state is moved, its AWS names are kept.
    pub renamed_from: Option<Spanned<String>>,
}

/// `environments/<env>.toml`: one environment, as written.
#[derive(Debug, Clone, Deserialize)]
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
    pub security: crate::security::SecuritySpec,
    /// Per-environment overrides of an agent's sizing, keyed by agent name.
    #[serde(default)]
    pub agents: BTreeMap<Spanned<String>, AgentOverride>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub vpc_cidr: Option<Spanned<String>>,
    pub az_count: Option<Spanned<i64>>,
    /// `single` (one NAT gateway) or `per-az` (one in each AZ).
    pub nat: Option<Spanned<String>>,
    pub public_subnets: Option<Spanned<Vec<Spanned<String>>>>,
    pub private_subnets: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine_version: Option<Spanned<String>>,
    pub min_acu: Option<Spanned<f64>>,
    pub max_acu: Option<Spanned<f64>>,
    pub instances: Option<Spanned<i64>>,
    pub backup_retention_days: Option<Spanned<i64>>,
    pub deletion_protection: Option<Spanned<bool>>,
    pub database_name: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BedrockSpec {
    /// A foundation model ID (`anthropic.…`) or a cross-region inference profile ID (`eu.anthropic.…`).
    pub model: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbSpec {
    pub certificate_arn: Option<Spanned<String>>,
    pub deletion_protection: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmsSpec {
    pub email: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrSpec {
    /// Regions that receive a copy of every image pushed to this environment's repositories.
    pub replication_regions: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Make `terraform apply` wait (up to the 10-minute deployment timeout) until every service is stable.
    pub wait_for_steady_state: Option<Spanned<bool>>,
    pub cpu_target_percent: Option<Spanned<i64>>,
    pub log_retention_days: Option<Spanned<i64>>,
}

/// Where Terraform keeps state. Absent: local state next to the generated files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSpec {
    pub s3: Option<S3BackendSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3BackendSpec {
    pub bucket: Spanned<String>,
    pub key: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
}

/// An environment's override of one shared agent's sizing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentOverride {
    pub cpu: Option<Spanned<i64>>,
    pub memory: Option<Spanned<i64>>,
    pub desired_count: Option<Spanned<i64>>,
    pub max_count: Option<Spanned<i64>>,
}

/// Both spec files of one environment, parsed.
#[derive(Debug, Clone)]
pub struct ParsedSpec {
    pub env: EnvSpec,
    pub agents: AgentsFile,
}

/// Parses both files; reports problems in each at once when both are broken.
pub fn parse(inputs: &Inputs) -> Result<ParsedSpec, Diagnostics> {
    let agents = parse_file::<AgentsFile>(&inputs.agents, Schema::Agents);
    let env = parse_file::<EnvSpec>(&inputs.env, Schema::Env);
    match (env, agents) {
        (Ok(env), Ok(agents)) => Ok(ParsedSpec { env, agents }),
        (env, agents) => {
            let mut diags = Diagnostics::default();
            diags.extend(env.err().unwrap_or_default());
            diags.extend(agents.err().unwrap_or_default());
            Err(diags.sorted())
        }
    }
}

/// Syntax errors (all of them), then unknown keys (all of them), then serde's first type error.
fn parse_file<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>, schema: Schema) -> Result<T, Diagnostics> {
    let (table, errors) = toml::de::DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        return Err(Diagnostics(errors.iter().map(|e| toml_diagnostic(file, e)).collect()));
    }
    let unknown = unknown_keys(file, table.get_ref(), schema);
    if !unknown.is_empty() {
        return Err(Diagnostics(unknown));
    }
    toml::from_str::<T>(&file.text).map_err(|e| Diagnostics(vec![toml_diagnostic(file, &e)]))
}

fn toml_diagnostic(file: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
    let location = e.span().map(|span| Location::new(file, span));
    let (summary, help) = describe_toml_error(e.message());
    Diagnostic::error(summary, location).with_help(help)
}

/// Turns serde/toml messages into a summary and a help line.
fn describe_toml_error(message: &str) -> (String, String) {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return (
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
        return (format!("wrong type: found {found}"), format!("expected {expected}"));
    }
    if message.starts_with("unknown variant") {
        return (message.to_string(), "use one of the listed values".to_string());
    }
    (
        format!("invalid TOML: {message}"),
        "fix the syntax here; see https://toml.io for the format".to_string(),
    )
}
