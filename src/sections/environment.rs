//! The environment's own keys: its name (from the spec file's name), `sizing`, `region` and `image_tag`.
//!
//! The raw values are top-level keys of [`crate::spec::EnvSpec`]; this module checks them one by one.
//! It knows nothing of the sections below them.

use super::context::{Checker, SpecFile, suggest};
use crate::aws::{aurora, regions};
use crate::diag::{Diagnostic, rules};
use crate::model::Sizing;
use crate::names::EnvName;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (the environment's own keys).
    pub enum Rule {
        EnvName,
        UnknownSizing,
        UnknownRegion,
        RegionWithoutDataApi,
        ImageTagInvalid,
        ImageTagLatest,
    }
}

/// The environment name, which comes from the spec file's name, not from its contents.
pub fn env_name(cx: &mut Checker, name: &str) -> Option<EnvName> {
    match EnvName::new(name) {
        Ok(env) => Some(env),
        Err(why) => {
            cx.push(
                Diagnostic::error(Rule::EnvName, format!("environment name `{name}` {why}"), None)
                    .with_help("rename the spec file, e.g. `environments/staging.toml`"),
            );
            None
        }
    }
}

pub fn sizing(cx: &mut Checker, sizing: &Spanned<String>) -> Option<Sizing> {
    match sizing.get_ref().as_str() {
        "dev" => Some(Sizing::Dev),
        "prod" => Some(Sizing::Prod),
        other => {
            let help = suggest(other, ["dev", "prod"], "sizing is `dev` or `prod`");
            cx.error(
                Rule::UnknownSizing,
                SpecFile::Env,
                sizing,
                format!("unknown sizing `{other}`"),
                help,
            );
            None
        }
    }
}

pub fn region(cx: &mut Checker, region: &Spanned<String>) -> Option<String> {
    let name = region.get_ref();
    if regions::region(name).is_none() {
        let help = suggest(
            name,
            regions::codes(),
            "use a commercial AWS region such as `eu-west-1`",
        );
        cx.error(
            Rule::UnknownRegion,
            SpecFile::Env,
            region,
            format!("unknown AWS region `{name}`"),
            help,
        );
        return None;
    }
    if aurora::DATA_API_UNAVAILABLE.contains(&name.as_str()) {
        let offered = aurora::data_api_regions();
        cx.error(
            Rule::RegionWithoutDataApi,
            SpecFile::Env,
            region,
            format!("the RDS Data API for Aurora PostgreSQL is not offered in `{name}`"),
            format!(
                "the plan's agents need the Data API; regions that offer it: {}",
                offered.join(", ")
            ),
        );
    }
    Some(name.clone())
}

pub fn image_tag(cx: &mut Checker, tag: &Spanned<String>) -> Option<String> {
    let t = tag.get_ref();
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        cx.error(
            Rule::ImageTagInvalid,
            SpecFile::Env,
            tag,
            format!("`{t}` is not a valid image tag"),
            "up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
        );
        return None;
    }
    if t == "latest" {
        cx.error(
            Rule::ImageTagLatest,
            SpecFile::Env,
            tag,
            "`latest` cannot be deployed: ECR tags are immutable",
            "tag images with a version or a git SHA and name it here",
        );
        return None;
    }
    Some(t.clone())
}
