//! The README's region and model tables, written from the facts in this module's siblings so the README
//! cannot drift from them (tests/module_facts.rs holds the README's copy equal to these). Markdown text
//! only; nothing here checks a spec.

use std::fmt::Write as _;

use super::{aurora, bedrock, quotas, regions};

/// One row per commercial Region: AZs, the Data API, and the profile the default model and the newer
/// Claude models would use from there.
pub fn regions_markdown() -> String {
    let mut out = String::from(
        "| region | name | AZs | Data API | default model's profile | other Claude profiles from here |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in regions::REGIONS {
        let data_api = if aurora::DATA_API_UNAVAILABLE.contains(&r.code) {
            "no"
        } else {
            "yes"
        };
        let default = bedrock::resolve(bedrock::DEFAULT_MODEL, r.code)
            .map_or_else(|_| "none".to_string(), |route| format!("`{}.`", route.scope.prefix()));
        let others: Vec<String> = bedrock::MODELS
            .iter()
            .filter(|m| m.id != bedrock::DEFAULT_MODEL && !m.is_end_of_life())
            .filter_map(|m| {
                bedrock::resolve(m.id, r.code)
                    .ok()
                    .map(|route| format!("{} `{}.`", m.name, route.scope.prefix()))
            })
            .collect();
        let others = if others.is_empty() {
            "none".to_string()
        } else {
            others.join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {data_api} | {default} | {others} |",
            r.code, r.name, r.azs
        );
    }
    out
}

/// One row per account quota tfgen compares an environment's needs with.
pub fn quotas_markdown() -> String {
    let mut out = String::from(
        "| `[account.quotas]` key | quota (Service Quotas console) | service | code | assumed when unstated |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for q in quotas::ALL {
        let default = if q.stated {
            format!("{} (AWS's default)", q.default)
        } else {
            format!("{} (AWS states no default)", q.default)
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` | {default} |",
            q.key, q.name, q.service, q.code
        );
    }
    out
}

/// One row per model and profile: where it can be invoked from and where it routes.
pub fn models_markdown() -> String {
    let mut out =
        String::from("| model | ID | profile | invocable from | routes to |\n| --- | --- | --- | --- | --- |\n");
    for m in bedrock::MODELS {
        let name = if let bedrock::Lifecycle::EndOfLife { since } = m.lifecycle {
            format!("{} (end of life since {since})", m.name)
        } else if let bedrock::Lifecycle::Legacy { end_of_life } = m.lifecycle {
            end_of_life.map_or_else(
                || format!("{} (legacy)", m.name),
                |d| format!("{} (legacy, end of life {d})", m.name),
            )
        } else {
            m.name.to_string()
        };
        for p in m.profiles {
            let (sources, destinations) = if p.scope.is_global() {
                (
                    format!("{} Regions", p.sources.len()),
                    "any commercial Region".to_string(),
                )
            } else {
                (p.sources.join(", "), p.destinations.join(", "))
            };
            let _ = writeln!(
                out,
                "| {name} | `{}` | `{}.` | {sources} | {destinations} |",
                m.id,
                p.scope.prefix()
            );
        }
    }
    out
}

/// Replaces the text between `<!-- facts:NAME -->` and `<!-- /facts:NAME -->` in `readme`.
pub fn splice(readme: &str, name: &str, table: &str) -> Option<String> {
    let (open, close) = (format!("<!-- facts:{name} -->\n"), format!("<!-- /facts:{name} -->"));
    let start = readme.find(&open)? + open.len();
    let end = start + readme[start..].find(&close)?;
    Some(format!("{}{table}{}", &readme[..start], &readme[end..]))
}
