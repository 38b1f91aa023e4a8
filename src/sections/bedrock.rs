//! `[bedrock]`: the Claude model every agent calls. Picks it (`BEDROCK_MODEL_ID`, the spec, or the
//! default) and the cross-Region inference profile for the region through [`crate::aws::bedrock::resolve`], with
//! the IAM grants AWS documents for it, or says why there is none (a located error). Raw form,
//! checks, resolved form. It writes no IAM policy; the `iam` module iterates over [`Bedrock::grants`].

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::diag::{Diagnostic, rules};
use std::collections::BTreeMap;

use crate::aws::bedrock::{self, Route, RouteError};
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[bedrock]`).
    pub enum Rule {
        ProfileWrongGeography,
        NoProfileInRegion,
        NotAModelId,
        ModelNotInGeography,
        UnknownModel,
        ProfileArnRegion,
        ModelEndOfLife,
        ModelLegacy,
    }
}

/// `[bedrock]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BedrockSpec {
    /// A foundation model ID (`anthropic.…`), a cross-Region inference profile ID (`eu.anthropic.…`,
    /// `global.anthropic.…`) or a profile ARN.
    pub model: Option<Spanned<String>>,
}

/// Where `BEDROCK_MODEL_ID` came from; recorded in the output so a stray variable shows in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// tfgen's default: an Active Claude Sonnet ([`bedrock::DEFAULT_MODEL`]).
    Default,
    /// `[bedrock] model` in the spec.
    Spec,
    /// The `BEDROCK_MODEL_ID` environment variable at render time.
    EnvVar,
}

/// One `Allow bedrock:InvokeModel*` statement of the task role, as [`Route::iam_grants`] documents it.
/// ARNs hold `${partition}` and `${account_id}` placeholders that the `iam` module fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub sid: String,
    pub resources: Vec<String>,
    /// `StringEquals` conditions: key → value.
    pub conditions: BTreeMap<String, String>,
}

/// The Bedrock model every agent uses, as a cross-Region inference profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bedrock {
    /// What containers get as `BEDROCK_MODEL_ID`: the profile ID (`eu.anthropic.…`), or the profile ARN
    /// when the spec names one.
    pub profile_id: String,
    /// The foundation model behind the profile, e.g. `anthropic.…`.
    pub model_id: String,
    /// `us`, `eu`, `apac`, `jp`, `au` or `global`.
    pub scope: String,
    /// Regions the profile routes to (every commercial Region for `global`).
    pub destination_regions: Vec<String>,
    /// The task role's Bedrock statements, one per grant.
    pub grants: Vec<Grant>,
    pub source: ModelSource,
}

fn grants(route: &Route) -> Vec<Grant> {
    route
        .iam_grants("${partition}", "${account_id}")
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let sid = match i {
                0 => "InvokeInferenceProfile",
                _ if g.resources.iter().any(|r| r.contains(":bedrock:::")) => "InvokeGlobalFoundationModelViaProfile",
                _ => "InvokeFoundationModelViaProfile",
            };
            Grant {
                sid: sid.to_string(),
                resources: g.resources,
                conditions: g.conditions.into_iter().map(|c| (c.key.to_string(), c.value)).collect(),
            }
        })
        .collect()
}

/// The rule a route error breaks, and the help that goes with it.
fn rule_and_help(err: &RouteError, region: &str) -> (Rule, String) {
    let help = match err {
        RouteError::Malformed { .. } => format!(
            "name a foundation model, a profile ID or a profile ARN, e.g. `{}`",
            bedrock::DEFAULT_MODEL
        ),
        RouteError::UnknownRegion { .. } => "use a commercial AWS Region".into(),
        RouteError::UnknownModel { .. } => {
            "tfgen checks profiles and IAM against its table (src/aws/bedrock.rs); add the model there with its source"
                .into()
        }
        RouteError::NoSuchProfile { model, .. } => {
            format!(
                "name the foundation model `{}` and tfgen picks its profile for {region}",
                model.id
            )
        }
        RouteError::NotASourceRegion { instead, .. } => instead.first().map_or_else(
            || "pick another model or Region".into(),
            |p| format!("from {region} use `{p}`"),
        ),
        RouteError::ArnRegionMismatch { .. } => {
            "a profile is invoked in the Region the agents run in; use that Region's ARN or the profile ID".into()
        }
        RouteError::NoRoute { alternatives, .. } if alternatives.is_empty() => {
            "deploy to a Region with a Bedrock profile for a Claude model".into()
        }
        RouteError::NoRoute { .. } => "pick one of those profiles, or another Region".into(),
    };
    let rule = match err {
        RouteError::Malformed { .. } => Rule::NotAModelId,
        RouteError::UnknownModel { .. } => Rule::UnknownModel,
        RouteError::NoSuchProfile { .. } => Rule::ModelNotInGeography,
        RouteError::NotASourceRegion { .. } => Rule::ProfileWrongGeography,
        RouteError::ArnRegionMismatch { .. } => Rule::ProfileArnRegion,
        RouteError::UnknownRegion { .. } | RouteError::NoRoute { .. } => Rule::NoProfileInRegion,
    };
    (rule, help)
}

/// Picks the model for `region`; `env_var` is `BEDROCK_MODEL_ID` at render time, which wins over the spec.
pub fn check(
    cx: &mut Checker,
    spec: &BedrockSpec,
    env_var: Option<&str>,
    region: &str,
    region_at: &Spanned<String>,
) -> Option<Bedrock> {
    let spec_model = spec.model.as_ref();
    let (id, source) = match (env_var, spec_model) {
        (Some(env), _) => (env.to_string(), ModelSource::EnvVar),
        (None, Some(m)) => (m.get_ref().clone(), ModelSource::Spec),
        (None, None) => (bedrock::DEFAULT_MODEL.to_string(), ModelSource::Default),
    };
    // Where to point: the spec's model line, else the region line.
    let at = match source {
        ModelSource::Spec => spec_model.map(|m| cx.at(SpecFile::Env, m)),
        ModelSource::EnvVar => None,
        ModelSource::Default => Some(cx.at(SpecFile::Env, region_at)),
    };
    let origin = match source {
        ModelSource::EnvVar => " (from BEDROCK_MODEL_ID)",
        _ => "",
    };
    match bedrock::resolve(&id, region) {
        Ok(route) if route.model.is_end_of_life() => {
            let since = match route.model.lifecycle {
                bedrock::Lifecycle::EndOfLife { since } => since,
                _ => "",
            };
            let instead = bedrock::active_in(region);
            let help = if instead.is_empty() {
                "no Active Claude model is invocable from this Region".to_string()
            } else {
                format!("Active models invocable from {region}: `{}`", instead.join("`, `"))
            };
            cx.push(
                Diagnostic::error(
                    Rule::ModelEndOfLife,
                    format!(
                        "{} reached end of life on Amazon Bedrock on {since}: every call fails{origin}",
                        route.model.name
                    ),
                    at,
                )
                .with_help(help),
            );
            None
        }
        Ok(route) => {
            if let bedrock::Lifecycle::Legacy { end_of_life } = route.model.lifecycle {
                let when = end_of_life.map_or_else(
                    || "an end-of-life date AWS will announce".to_string(),
                    |d| format!("end of life on {d}"),
                );
                cx.push(
                    Diagnostic::warning(
                        Rule::ModelLegacy,
                        format!("{} is Legacy on Amazon Bedrock, with {when}{origin}", route.model.name),
                        at.clone(),
                    )
                    .with_help(format!(
                        "move to an Active model before then, e.g. `{}` (tfgen's default)",
                        bedrock::DEFAULT_MODEL
                    )),
                );
            }
            Some(Bedrock {
                profile_id: if id.starts_with("arn:") {
                    id.clone()
                } else {
                    route.profile_id.clone()
                },
                model_id: route.model.id.to_string(),
                scope: route.scope.prefix().to_string(),
                destination_regions: route.destination_regions.iter().map(ToString::to_string).collect(),
                grants: grants(&route),
                source,
            })
        }
        Err(err) => {
            let (rule, help) = rule_and_help(&err, region);
            cx.push(Diagnostic::error(rule, format!("{err}{origin}"), at).with_help(help));
            None
        }
    }
}
