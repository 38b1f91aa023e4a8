//! `tfgen show`: the resolved spec (the model, every default applied) with the origin of each value:
//! the spec, the sizing's defaults, tfgen's defaults, an environment variable, or derived from others.
//!
//! Origins are computed by comparison, not recorded by hand: the model is resolved again without the
//! environment variables, from the spec's required keys only, and from those with the other sizing; a
//! value that changes between two of them comes from what was taken away. Spec keys are the schema's
//! ([`crate::schema`]), so no second list of them is kept here. This module reads no files.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::diag::Diagnostics;
use crate::keys::Schema;
use crate::load::{Inputs, Overrides};
use crate::model::Model;
use crate::schema::json_schema;
use crate::sections;
use crate::spec;

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written in `environments/<env>.toml` or `environments/agents.toml`.
    Spec,
    /// An environment variable at render time (`BEDROCK_MODEL_ID`).
    Environment,
    /// The sizing's default (the plan's "Resource Sizing", dev or prod).
    Sizing,
    /// tfgen's default for a key that is not written.
    Default,
    /// Not a spec key: derived from other values (names, subnets, priorities, ARNs' parts).
    Derived,
}

impl Origin {
    fn label(self) -> &'static str {
        match self {
            Origin::Spec => "spec",
            Origin::Environment => "environment variable",
            Origin::Sizing => "sizing",
            Origin::Default => "default",
            Origin::Derived => "derived",
        }
    }
}

/// One resolved value: its dotted path in the model, the value, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub origin: Origin,
}

/// The resolved spec of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub environment: String,
    pub values: Vec<Entry>,
}

/// Resolves `inputs` (failing with every problem, as `validate` does) and tells each value's origin.
pub fn show(inputs: &Inputs) -> Result<Shown, Diagnostics> {
    let (model, _) = crate::validate_spec(inputs)?;
    let parsed = spec::parse(inputs)?;
    let raw_env = raw(&inputs.env.text);
    let raw_agents = raw(&inputs.agents.text);

    let without_env_vars = lenient(&Inputs::from_text(
        &inputs.env_name,
        &inputs.env.text,
        &inputs.agents.text,
        Overrides::default(),
    ));
    let required = required_only(&raw_env, None);
    let base = lenient(&Inputs::from_text(
        &inputs.env_name,
        &required,
        &inputs.agents.text,
        Overrides::default(),
    ));
    let other_sizing = if parsed.env.sizing.get_ref() == "prod" {
        "dev"
    } else {
        "prod"
    };
    let other = required_only(&raw_env, Some(other_sizing));
    let other = lenient(&Inputs::from_text(
        &inputs.env_name,
        &other,
        &inputs.agents.text,
        Overrides::default(),
    ));

    let model_json = to_json(&model);
    let mut values = Vec::new();
    let mut leaves = Vec::new();
    collect(&model_json, &mut Vec::new(), &mut leaves);
    for (path, value) in leaves {
        if path.first().is_some_and(|p| p == "spec_file" || p == "env") {
            continue;
        }
        let at = |m: &Option<Value>| m.as_ref().and_then(|m| lookup(m, &path)).cloned();
        let origin = if at(&without_env_vars).is_some_and(|v| v != value) {
            Origin::Environment
        } else if !is_spec_key(&path) {
            // Names, ARNs' parts, the ECS spellings: computed from spec values, never written.
            Origin::Derived
        } else if written(&raw_env, &raw_agents, &path) || at(&base).is_some_and(|v| v != value) {
            Origin::Spec
        } else if matches!((at(&base), at(&other)), (Some(a), Some(b)) if a != b && !placeholder(&a) && !placeholder(&b))
        {
            Origin::Sizing
        } else {
            Origin::Default
        };
        values.push(Entry {
            key: path.join("."),
            value,
            origin,
        });
    }
    Ok(Shown {
        environment: inputs.env_name.clone(),
        values,
    })
}

/// Values longer than this (the database bootstrap's SQL and code) are summarised in the text form.
const LONGEST_SHOWN: usize = 120;

/// Lines up to this long have their origin comments aligned; longer ones keep two spaces before it.
const ALIGN_WITHIN: usize = 72;

/// The text form: one `key = value  # origin` line per value, aligned. A value longer than
/// [`LONGEST_SHOWN`] characters is summarised; `--json` has it whole.
pub fn text(shown: &Shown) -> String {
    let lines: Vec<(String, &Origin)> = shown
        .values
        .iter()
        .map(|e| {
            let value = e.value.to_string();
            let n = value.chars().count();
            if n > LONGEST_SHOWN {
                (format!("{} = <{n} characters; --json prints it>", e.key), &e.origin)
            } else {
                (format!("{} = {value}", e.key), &e.origin)
            }
        })
        .collect();
    // Origins line up in a column, but a few long values do not push every line past a terminal's width.
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .filter(|n| *n <= ALIGN_WITHIN)
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "# environment {}: every value resolved, with its origin\n",
        shown.environment
    );
    for (line, origin) in lines {
        let _ = writeln!(out, "{line:width$}  # {}", origin.label());
    }
    out
}

/// The account of the comparison model's placeholder certificate.
const PLACEHOLDER_ACCOUNT: &str = "000000000000";

fn lenient(inputs: &Inputs) -> Option<Value> {
    let parsed = spec::parse(inputs).ok()?;
    sections::resolve_lenient(&parsed, inputs).map(|m| to_json(&m))
}

fn placeholder(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains(PLACEHOLDER_ACCOUNT))
}

fn to_json(model: &Model) -> Value {
    serde_json::to_value(model).expect("the model serialises")
}

fn raw(text: &str) -> Value {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(Value::Null)
}

/// The environment spec with only its required keys (the schema's), the sizing optionally replaced.
fn required_only(raw_env: &Value, sizing: Option<&str>) -> String {
    let required: Vec<&str> = json_schema(Schema::Env)
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut table = toml::Table::new();
    for key in required {
        if let Some(v) = raw_env.get(key).and_then(|v| toml::Value::try_from(v).ok()) {
            table.insert(key.to_string(), v);
        }
    }
    if let Some(s) = sizing {
        table.insert("sizing".into(), toml::Value::String(s.into()));
    }
    // prod requires an HTTPS certificate; the comparison model gets a placeholder (never shown).
    if table.get("sizing").and_then(toml::Value::as_str) == Some("prod") {
        let region = table.get("region").and_then(toml::Value::as_str).unwrap_or_default();
        let mut alb = toml::Table::new();
        alb.insert(
            "certificate_arn".into(),
            toml::Value::String(format!(
                "arn:aws:acm:{region}:{PLACEHOLDER_ACCOUNT}:certificate/00000000-0000-0000-0000-000000000000"
            )),
        );
        table.insert("alb".into(), toml::Value::Table(alb));
    }
    toml::to_string(&table).unwrap_or_default()
}

/// Every leaf of the model: scalars and lists of scalars. Agents are keyed by name.
fn collect(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                collect(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for (i, item) in items.iter().enumerate() {
                let key = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string);
                path.push(key);
                collect(item, path, out);
                path.pop();
            }
        }
        _ => out.push((path.clone(), value.clone())),
    }
}

fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut at = value;
    for key in path {
        at = match at {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find(|(i, item)| item.get("name").and_then(Value::as_str) == Some(key) || i.to_string() == *key)
                .map(|(_, item)| item)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Whether the value's key is written: in its section of the environment file, in the agent's
/// `[agents.<name>]` overrides, or in the agent's `[[agent]]` of agents.toml.
fn written(raw_env: &Value, raw_agents: &Value, path: &[String]) -> bool {
    let Some(last) = path.last() else { return false };
    match path {
        [key] => raw_env.get(key).is_some(),
        [section, agent, ..] if section == "agents" => {
            raw_env
                .get("agents")
                .and_then(|a| a.get(agent))
                .and_then(|a| a.get(last))
                .is_some()
                || raw_agents
                    .get("agent")
                    .and_then(Value::as_array)
                    .and_then(|list| {
                        list.iter()
                            .find(|a| a.get("name").and_then(Value::as_str) == Some(agent))
                    })
                    .and_then(|a| a.get(last))
                    .is_some()
        }
        [section, ..] => raw_env.get(section).and_then(|s| s.get(last)).is_some(),
        [] => false,
    }
}

/// Whether the value's key is a key of its spec section (per the schema), as opposed to a derived value.
fn is_spec_key(path: &[String]) -> bool {
    let env = json_schema(Schema::Env);
    let agents = json_schema(Schema::Agents);
    let has =
        |root: &Value, node: Option<&Value>, key: &str| properties(root, node).is_some_and(|p| p.contains_key(key));
    match path {
        [key] => has(env, Some(env), key),
        [section, .., last] if section == "agents" => {
            let spec = env.pointer("/properties/agents/additionalProperties");
            let declared = agents.pointer("/properties/agent/items");
            has(env, spec, last) || has(agents, declared, last)
        }
        [section, .., last] => has(env, env.pointer(&format!("/properties/{section}")), last),
        [] => false,
    }
}

/// The properties of a schema node, following a `$ref`, a documented section's `allOf` and `Option`'s `anyOf`.
fn properties<'v>(root: &'v Value, node: Option<&'v Value>) -> Option<&'v serde_json::Map<String, Value>> {
    let node = node?;
    if let Some(p) = node.get("properties").and_then(Value::as_object) {
        return Some(p);
    }
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next()?;
        let defs = root.get("definitions").or_else(|| root.get("$defs"))?;
        return properties(root, defs.get(name));
    }
    // A documented section is `allOf: [$ref]`; an optional one `anyOf: [$ref, null]`.
    ["allOf", "anyOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|alt| properties(root, Some(alt)))
}
