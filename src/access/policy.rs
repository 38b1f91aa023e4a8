//! IAM policy documents as AWS reads them: statements with their effect, actions, resources, principals
//! and conditions, parsed from an evaluated `aws_iam_policy_document` or from policy JSON. It does not
//! decide anything ([`super::evaluate`] does) and knows nothing of the tree.

use std::fmt;

use anyhow::{Context as _, Result, bail};
use hcl::Value;
use serde::Serialize;

/// Where a policy was read from, for the report: the file, the resource that attaches it and its kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Source {
    /// The tree-relative file of the document (the `aws_iam_policy_document` block, or the attaching
    /// resource for inline JSON).
    pub file: String,
    /// The resource that attaches the document (`module.kms.aws_kms_key.this`), or a named stand-in
    /// (`deployer`) for a policy outside the tree.
    pub attached_by: String,
    /// The block that writes the document in `file`: `data.aws_iam_policy_document.key`, or the attaching
    /// resource (`aws_iam_role_policy.x`) for inline JSON.
    pub policy: String,
    pub kind: Kind,
}

/// Which of the documents AWS evaluates together a policy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Attached to the principal (inline role policy, customer managed policy).
    Identity,
    /// Attached to the resource (bucket, topic, secret, repository).
    Resource,
    /// A KMS key's policy: it must allow, directly or by delegating to the account.
    Key,
    /// A role's trust policy: who may assume it.
    Trust,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Identity => "identity policy",
            Kind::Resource => "resource policy",
            Kind::Key => "key policy",
            Kind::Trust => "trust policy",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (likewise `Resource`/`NotResource`): the patterns, and whether they are negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    pub not: bool,
    pub values: Vec<String>,
}

/// The `Principal` (or `NotPrincipal`) element: (type, identifier) pairs; `*` alone is `("*", "*")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals {
    pub not: bool,
    pub values: Vec<(String, String)>,
}

/// One condition: `operator` (with any `ForAnyValue:` prefix and `IfExists` suffix), key, values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Patterns,
    /// Absent in trust policies and key policies written without it.
    pub resources: Option<Patterns>,
    pub principals: Option<Principals>,
    pub conditions: Vec<Condition>,
}

/// A policy document and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub source: Source,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Reads the evaluated arguments of an `aws_iam_policy_document` (its `statement` blocks, as the
    /// provider turns them into JSON). `source_policy_documents` and `override_policy_documents` are
    /// refused: the proof would have to merge them as the provider does.
    pub fn from_document(source: Source, doc: &Value) -> Result<Policy> {
        let obj = doc.as_object().context("not an object")?;
        for unsupported in [
            "source_policy_documents",
            "override_policy_documents",
            "source_json",
            "override_json",
        ] {
            if obj.get(unsupported).is_some_and(|v| !v.is_null()) {
                bail!("`{unsupported}` is not understood by the access proof");
            }
        }
        let mut statements = Vec::new();
        for st in obj.get("statement").and_then(Value::as_array).into_iter().flatten() {
            let st = st.as_object().context("a statement is not a block")?;
            let strings = |key: &str| -> Result<Option<Vec<String>>> {
                st.get(key).filter(|v| !v.is_null()).map(string_list).transpose()
            };
            let effect = match st.get("effect").and_then(Value::as_str).unwrap_or("Allow") {
                "Allow" => Effect::Allow,
                "Deny" => Effect::Deny,
                other => bail!("effect {other:?}"),
            };
            let actions = match (strings("actions")?, strings("not_actions")?) {
                (Some(values), None) => Patterns { not: false, values },
                (None, Some(values)) => Patterns { not: true, values },
                _ => bail!("a statement needs exactly one of actions and not_actions"),
            };
            let resources = match (strings("resources")?, strings("not_resources")?) {
                (Some(values), None) => Some(Patterns { not: false, values }),
                (None, Some(values)) => Some(Patterns { not: true, values }),
                (None, None) => None,
                _ => bail!("a statement has both resources and not_resources"),
            };
            let principal_blocks = |key: &str| -> Result<Option<Vec<(String, String)>>> {
                let Some(blocks) = st.get(key).and_then(Value::as_array) else {
                    return Ok(None);
                };
                let mut out = Vec::new();
                for b in blocks {
                    let b = b.as_object().context("a principals block")?;
                    let kind = b
                        .get("type")
                        .and_then(Value::as_str)
                        .context("principals without type")?;
                    for id in string_list(b.get("identifiers").context("principals without identifiers")?)? {
                        out.push((kind.to_string(), id));
                    }
                }
                Ok(Some(out))
            };
            let principals = match (principal_blocks("principals")?, principal_blocks("not_principals")?) {
                (Some(values), None) => Some(Principals { not: false, values }),
                (None, Some(values)) => Some(Principals { not: true, values }),
                (None, None) => None,
                _ => bail!("a statement has both principals and not_principals"),
            };
            let mut conditions = Vec::new();
            for c in st.get("condition").and_then(Value::as_array).into_iter().flatten() {
                let c = c.as_object().context("a condition block")?;
                conditions.push(Condition {
                    operator: c
                        .get("test")
                        .and_then(Value::as_str)
                        .context("condition without test")?
                        .to_string(),
                    key: c
                        .get("variable")
                        .and_then(Value::as_str)
                        .context("condition without variable")?
                        .to_string(),
                    values: string_list(c.get("values").context("condition without values")?)?,
                });
            }
            statements.push(Statement {
                sid: st.get("sid").and_then(Value::as_str).map(str::to_string),
                effect,
                actions,
                resources,
                principals,
                conditions,
            });
        }
        Ok(Policy { source, statements })
    }

    /// Reads a policy in AWS's JSON form (`jsonencode(...)` or a heredoc in a hand-written file).
    pub fn from_json(source: Source, text: &str) -> Result<Policy> {
        let doc: serde_json::Value = serde_json::from_str(text).context("policy is not JSON")?;
        let mut statements = Vec::new();
        let list = match doc.get("Statement") {
            Some(serde_json::Value::Array(a)) => a.clone(),
            Some(one @ serde_json::Value::Object(_)) => vec![one.clone()],
            _ => bail!("policy has no Statement"),
        };
        for st in &list {
            let strings = |key: &str| -> Option<Vec<String>> { st.get(key).map(json_strings) };
            let effect = match st.get("Effect").and_then(|v| v.as_str()) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => bail!("effect {other:?}"),
            };
            let actions = match (strings("Action"), strings("NotAction")) {
                (Some(values), None) => Patterns { not: false, values },
                (None, Some(values)) => Patterns { not: true, values },
                _ => bail!("a statement needs exactly one of Action and NotAction"),
            };
            let resources = match (strings("Resource"), strings("NotResource")) {
                (Some(values), None) => Some(Patterns { not: false, values }),
                (None, Some(values)) => Some(Patterns { not: true, values }),
                _ => None,
            };
            let principal = |v: &serde_json::Value| -> Vec<(String, String)> {
                match v {
                    serde_json::Value::String(s) if s == "*" => vec![("*".to_string(), "*".to_string())],
                    serde_json::Value::Object(o) => o
                        .iter()
                        .flat_map(|(k, ids)| json_strings(ids).into_iter().map(move |id| (k.clone(), id)))
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let principals = match (st.get("Principal"), st.get("NotPrincipal")) {
                (Some(p), None) => Some(Principals {
                    not: false,
                    values: principal(p),
                }),
                (None, Some(p)) => Some(Principals {
                    not: true,
                    values: principal(p),
                }),
                _ => None,
            };
            let mut conditions = Vec::new();
            if let Some(serde_json::Value::Object(ops)) = st.get("Condition") {
                for (op, keys) in ops {
                    if let serde_json::Value::Object(keys) = keys {
                        for (key, values) in keys {
                            conditions.push(Condition {
                                operator: op.clone(),
                                key: key.clone(),
                                values: json_strings(values),
                            });
                        }
                    }
                }
            }
            statements.push(Statement {
                sid: st.get("Sid").and_then(|v| v.as_str()).map(str::to_string),
                effect,
                actions,
                resources,
                principals,
                conditions,
            });
        }
        Ok(Policy { source, statements })
    }
}

fn string_list(v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn scalar(v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => bail!("not a string: {other:?}"),
    }
}

fn json_strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(json_strings).collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Bool(b) => vec![b.to_string()],
        serde_json::Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}
