//! Parse-stage helper: finds every unknown key of a spec at once, each with its location and the
//! closest allowed key. serde's `deny_unknown_fields` stops at the first; users deserve all of them.
//!
//! The allowed keys come from the raw spec types themselves (by asking their `Deserialize` impls),
//! so this module never keeps a second copy of the schema. It does not check values.

use std::cell::Cell;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Location, SourceFile, did_you_mean, rules};
use crate::sections::account::{AccountSpec, QuotasSpec};
use crate::sections::agent_database::AgentDatabaseSpec;
use crate::sections::agents::{AgentOverride, AgentSpec};
use crate::sections::alarms::AlarmsSpec;
use crate::sections::alb::AlbSpec;
use crate::sections::backend::{BackendSpec, S3BackendSpec};
use crate::sections::bedrock::BedrockSpec;
use crate::sections::budget::BudgetSpec;
use crate::sections::compute::ComputeSpec;
use crate::sections::cost::CostSpec;
use crate::sections::database::DatabaseSpec;
use crate::sections::deployment::DeploymentSpec;
use crate::sections::dr::DrSpec;
use crate::sections::ecr::EcrSpec;
use crate::sections::network::NetworkSpec;
use crate::sections::pipeline::{PipelineSpec, StageSpec};
use crate::sections::security::SecuritySpec;
use crate::spec::{AgentsFile, EnvSpec};

rules! {
    /// The diagnostics this module reports (unknown keys).
    pub enum Rule {
        UnknownKey,
    }
}

/// Which of the two spec files a table belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Env,
    Agents,
}

/// The allowed keys of the table at `path`, or `None` where any key is allowed (maps keyed by name).
fn allowed(schema: Schema, path: &[&str]) -> Option<&'static [&'static str]> {
    Some(match (schema, path) {
        (Schema::Env, []) => fields_of::<EnvSpec>(),
        (Schema::Env, ["network"]) => fields_of::<NetworkSpec>(),
        (Schema::Env, ["database"]) => fields_of::<DatabaseSpec>(),
        (Schema::Env, ["bedrock"]) => fields_of::<BedrockSpec>(),
        (Schema::Env, ["alb"]) => fields_of::<AlbSpec>(),
        (Schema::Env, ["alarms"]) => fields_of::<AlarmsSpec>(),
        (Schema::Env, ["ecr"]) => fields_of::<EcrSpec>(),
        (Schema::Env, ["deployment"]) => fields_of::<DeploymentSpec>(),
        (Schema::Env, ["backend"]) => fields_of::<BackendSpec>(),
        (Schema::Env, ["backend", "s3"]) => fields_of::<S3BackendSpec>(),
        (Schema::Env, ["security"]) => fields_of::<SecuritySpec>(),
        (Schema::Env, ["pipeline"]) => fields_of::<PipelineSpec>(),
        (Schema::Env, ["pipeline", "stage", _]) => fields_of::<StageSpec>(),
        (Schema::Env, ["compute"]) => fields_of::<ComputeSpec>(),
        (Schema::Env, ["cost"]) => fields_of::<CostSpec>(),
        (Schema::Env, ["budget"]) => fields_of::<BudgetSpec>(),
        (Schema::Env, ["dr"]) => fields_of::<DrSpec>(),
        (Schema::Env, ["account"]) => fields_of::<AccountSpec>(),
        (Schema::Env, ["account", "quotas"]) => fields_of::<QuotasSpec>(),
        (Schema::Env, ["agents", _]) => fields_of::<AgentOverride>(),
        (Schema::Agents, []) => fields_of::<AgentsFile>(),
        (Schema::Agents, ["agent", _]) => fields_of::<AgentSpec>(),
        (Schema::Agents, ["agent", _, "database"]) => fields_of::<AgentDatabaseSpec>(),
        _ => return None,
    })
}

/// Every unknown key in `table`, as diagnostics pointing at the key.
pub fn unknown_keys(file: &Arc<SourceFile>, table: &DeTable<'_>, schema: Schema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(file, table, schema, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(
    file: &Arc<SourceFile>,
    table: &'a DeTable<'_>,
    schema: Schema,
    path: &mut Vec<&'a str>,
    out: &mut Vec<Diagnostic>,
) {
    let allowed = allowed(schema, path);
    for (key, value) in table {
        let name: &str = key.get_ref();
        if let Some(allowed) = allowed
            && !allowed.contains(&name)
        {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" in [{}]", path.join("."))
            };
            let help = match did_you_mean(name, allowed.iter().copied()) {
                Some(best) => format!("did you mean `{best}`? allowed keys: {}", allowed.join(", ")),
                None => format!("allowed keys: {}", allowed.join(", ")),
            };
            out.push(
                Diagnostic::error(
                    Rule::UnknownKey,
                    format!("unknown key `{name}`{at}"),
                    Some(Location::new(file, key.span())),
                )
                .with_help(help),
            );
            continue;
        }
        path.push(name);
        match value.get_ref() {
            DeValue::Table(t) => walk(file, t, schema, path, out),
            DeValue::Array(items) => {
                for item in items {
                    if let DeValue::Table(t) = item.get_ref() {
                        // Array elements share one schema: the index does not matter.
                        path.push("*");
                        walk(file, t, schema, path, out);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// Removes every unknown key from `table` (after [`unknown_keys`] reported them), so that the rest of
/// the spec can still be deserialized and checked in the same run.
pub fn strip_unknown(table: &mut DeTable<'_>, schema: Schema) {
    strip(table, schema, &mut Vec::new());
}

fn strip(table: &mut DeTable<'_>, schema: Schema, path: &mut Vec<String>) {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    if let Some(allowed) = allowed(schema, &names) {
        let all = std::mem::take(table);
        *table = all
            .into_iter()
            .filter(|(key, _)| allowed.contains(&key.get_ref().as_ref()))
            .collect();
    }
    for (key, value) in table.iter_mut() {
        path.push(key.get_ref().to_string());
        match value.get_mut() {
            DeValue::Table(t) => strip(t, schema, path),
            DeValue::Array(items) => {
                path.push("*".to_string());
                for item in items.iter_mut() {
                    if let DeValue::Table(t) = item.get_mut() {
                        strip(t, schema, path);
                    }
                }
                path.pop();
            }
            _ => {}
        }
        path.pop();
    }
}

/// The field names of a struct, as its derived `Deserialize` announces them.
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let seen = Cell::new(None);
    let _ = T::deserialize(FieldProbe(&seen));
    seen.get().unwrap_or(&[])
}

/// A deserializer that records the field list it is asked for, then gives up.
struct FieldProbe<'a>(&'a Cell<Option<&'static [&'static str]>>);

#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field probe")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Probed
    }
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        self.0.set(Some(fields));
        Err(Probed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_spec_types() {
        assert!(fields_of::<NetworkSpec>().contains(&"vpc_cidr"));
        assert_eq!(fields_of::<AgentsFile>(), ["agent"]);
        assert!(fields_of::<EnvSpec>().contains(&"image_tag"));
    }
}
