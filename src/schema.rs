//! The JSON Schema of both spec files, generated from the raw serde types themselves (schemars), and
//! the parse-stage check that walks a parsed TOML document against it: every missing required key and
//! every value of the wrong type, each located, in one run.
//!
//! The schema is the one `tfgen schema` writes and editors read (Taplo's `#:schema`); no second copy of
//! the spec's shape is written by hand. Unknown keys are [`crate::keys`]'s; values are judged later, by
//! [`crate::sections`].

use std::sync::{Arc, OnceLock};

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Location, SourceFile};
use crate::keys::Schema;
use crate::spec::{AgentsFile, EnvSpec, Rule};

/// Where the schemas live in a repository (`tfgen init` writes them there; the scaffolded specs point at them).
pub const ENV_SCHEMA_PATH: &str = "schema/env.schema.json";
pub const AGENTS_SCHEMA_PATH: &str = "schema/agents.schema.json";

/// The JSON Schema of one spec file.
pub fn json_schema(which: Schema) -> &'static Value {
    static ENV: OnceLock<Value> = OnceLock::new();
    static AGENTS: OnceLock<Value> = OnceLock::new();
    match which {
        Schema::Env => ENV.get_or_init(|| generate::<EnvSpec>("tfgen environment spec (environments/<env>.toml)")),
        Schema::Agents => AGENTS.get_or_init(|| generate::<AgentsFile>("tfgen agents spec (environments/agents.toml)")),
    }
}

/// The schema as the committed file's text: pretty JSON with a final newline.
pub fn json_schema_text(which: Schema) -> String {
    let mut text = serde_json::to_string_pretty(json_schema(which)).expect("a JSON value serialises");
    text.push('\n');
    text
}

fn generate<T: schemars::JsonSchema>(title: &str) -> Value {
    let mut schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), Value::String(title.into()));
    }
    schema
}

/// Every missing required key and every value of the wrong type in `table`, located.
pub fn shape_problems(file: &Arc<SourceFile>, table: &toml::Spanned<DeTable<'_>>, which: Schema) -> Vec<Diagnostic> {
    let root = json_schema(which);
    let mut walk = Walk {
        file,
        root,
        out: Vec::new(),
    };
    // The document's own span is the whole file; a missing top-level key points at its start.
    walk.table(table.get_ref(), 0..0, &[], root);
    walk.out
}

struct Walk<'a> {
    file: &'a Arc<SourceFile>,
    root: &'a Value,
    out: Vec<Diagnostic>,
}

impl<'a> Walk<'a> {
    /// `schema` with `$ref`s followed and `Option`'s `null` alternative dropped.
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        loop {
            if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap_or_default();
                match self
                    .root
                    .get("definitions")
                    .or_else(|| self.root.get("$defs"))
                    .and_then(|d| d.get(name))
                {
                    Some(s) => schema = s,
                    None => return schema,
                }
                continue;
            }
            let alternatives = schema
                .get("anyOf")
                .or_else(|| schema.get("oneOf"))
                .and_then(Value::as_array);
            if let Some(alts) = alternatives {
                let real: Vec<&Value> = alts.iter().filter(|s| !is_null(s)).collect();
                if let [one] = real.as_slice() {
                    schema = one;
                    continue;
                }
            }
            return schema;
        }
    }

    fn table(&mut self, table: &DeTable<'_>, span: std::ops::Range<usize>, path: &[String], schema: &'a Value) {
        let schema = self.resolve(schema);
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required.iter().filter_map(Value::as_str) {
                if !table.contains_key(key) {
                    let within = if path.is_empty() {
                        "the top level of this file".to_string()
                    } else {
                        format!("[{}]", path.join("."))
                    };
                    self.out.push(
                        Diagnostic::error(
                            Rule::MissingKey,
                            format!("missing required key `{key}`"),
                            Some(Location::new(self.file, span.clone())),
                        )
                        .with_help(format!("add `{key} = …` to {within}")),
                    );
                }
            }
        }
        for (key, value) in table {
            let name: &str = key.get_ref();
            let child = properties
                .and_then(|p| p.get(name))
                .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()));
            // Unknown keys are reported by `keys`.
            let Some(child) = child else { continue };
            let mut path = path.to_vec();
            path.push(name.to_string());
            self.value(value, &path, child);
        }
    }

    fn value(&mut self, value: &toml::Spanned<DeValue<'_>>, path: &[String], schema: &'a Value) {
        let schema = self.resolve(schema);
        let expected = types(schema);
        let found = kind(value.get_ref());
        let fits = expected.is_empty()
            || expected
                .iter()
                .any(|t| *t == found || (*t == "number" && found == "integer"));
        if !fits {
            let key = path.last().map_or("value", String::as_str);
            let expected: Vec<&str> = expected.iter().map(|t| describe(t)).collect();
            self.out.push(
                Diagnostic::error(
                    Rule::WrongType,
                    format!("wrong type for `{key}`: found {}", describe(found)),
                    Some(Location::new(self.file, value.span())),
                )
                .with_help(format!("expected {}", expected.join(" or "))),
            );
            return;
        }
        match value.get_ref() {
            DeValue::Table(t) => self.table(t, value.span(), path, schema),
            DeValue::Array(items) => {
                if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                    // A table in an array (`[[agent]]`) is named with double brackets in help lines.
                    let mut in_array = path.to_vec();
                    if let Some(last) = in_array.last_mut() {
                        *last = format!("[{last}]");
                    }
                    for item in items {
                        let at = if matches!(item.get_ref(), DeValue::Table(_)) {
                            &in_array
                        } else {
                            path
                        };
                        self.value(item, at, item_schema);
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// The JSON types a schema allows (`null` left out: an absent key is how TOML spells it).
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => Vec::new(),
    }
}

/// A TOML value's kind, in JSON Schema's words.
fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "string",
        DeValue::Integer(_) => "integer",
        DeValue::Float(_) => "number",
        DeValue::Boolean(_) => "boolean",
        DeValue::Datetime(_) => "datetime",
        DeValue::Array(_) => "array",
        DeValue::Table(_) => "object",
    }
}

fn describe(kind: &str) -> &str {
    match kind {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "`true` or `false`",
        "datetime" => "a date-time",
        "array" => "a list",
        "object" => "a table",
        other => other,
    }
}
