//! `[bedrock]`: the Claude model every agent calls. Picks it (`BEDROCK_MODEL_ID`, the spec, or the
//! default) and its cross-region inference profile for the region, or says why there is none. Raw form,
//! checks, resolved form. It writes no IAM policy; the `iam` module's template does, from [`Bedrock`].

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::diag::{Diagnostic, rules};
use crate::regions;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[bedrock]`).
    pub enum Rule {
        ProfileWrongGeography,
        NoProfileInRegion,
        NotAModelId,
        ModelNotInGeography,
        UnknownModel,
    }
}

/// `[bedrock]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BedrockSpec {
    /// A foundation model ID (`anthropic.…`) or a cross-region inference profile ID (`eu.anthropic.…`).
    pub model: Option<Spanned<String>>,
}

/// Where `BEDROCK_MODEL_ID` came from; recorded in the output so a stray variable shows in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// tfgen's default, the plan's Claude 3.7 Sonnet.
    Default,
    /// `[bedrock] model` in the spec.
    Spec,
    /// The `BEDROCK_MODEL_ID` environment variable at render time.
    EnvVar,
}

/// The Bedrock model every agent uses, as a cross-region inference profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bedrock {
    /// What containers get as `BEDROCK_MODEL_ID`: the inference profile ID, e.g. `eu.anthropic.…`.
    pub profile_id: String,
    /// The foundation model behind the profile, e.g. `anthropic.…`.
    pub model_id: String,
    /// Regions the profile routes to; the task role may invoke the model in each.
    pub destination_regions: Vec<String>,
    pub source: ModelSource,
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
        (None, None) => (regions::DEFAULT_MODEL.to_string(), ModelSource::Default),
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
    let home = regions::profile_group_for_region(region);
    let (group, model) = match (regions::split_profile(&id), home) {
        (Some((group, model)), Some(home)) if group.prefix == home.prefix => (group, model.to_string()),
        (Some((group, model)), _) => {
            let help = match home {
                Some(home) => format!(
                    "from {region} use the `{}.` profile: `{}.{model}`",
                    home.prefix, home.prefix
                ),
                None => format!(
                    "`{}.` profiles can be invoked only from {}",
                    group.prefix,
                    group.regions.join(", ")
                ),
            };
            cx.push(
                Diagnostic::error(
                    Rule::ProfileWrongGeography,
                    format!("Bedrock profile `{id}`{origin} cannot be invoked from {region}"),
                    at,
                )
                .with_help(help),
            );
            return None;
        }
        (None, Some(home)) => (home, id.clone()),
        (None, None) => {
            let all: Vec<&str> = regions::PROFILE_GROUPS
                .iter()
                .flat_map(|g| g.regions.iter().copied())
                .collect();
            cx.push(
                Diagnostic::error(
                    Rule::NoProfileInRegion,
                    format!("no Bedrock cross-region inference profile for `{id}`{origin} in {region}"),
                    at,
                )
                .with_help(format!("deploy to a region with a profile: {}", all.join(", "))),
            );
            return None;
        }
    };
    if !model.contains('.') || model.contains(char::is_whitespace) {
        cx.push(
            Diagnostic::error(
                Rule::NotAModelId,
                format!("`{id}`{origin} is not a Bedrock model ID"),
                at,
            )
            .with_help(format!("e.g. `{}`", regions::DEFAULT_MODEL)),
        );
        return None;
    }
    match regions::model_geographies(&model) {
        Some(geos) if !geos.contains(&group.prefix) => {
            cx.push(
                Diagnostic::error(
                    Rule::ModelNotInGeography,
                    format!(
                        "`{model}`{origin} has no `{}.` inference profile, so it cannot run from {region}",
                        group.prefix
                    ),
                    at,
                )
                .with_help(format!(
                    "it is offered in the {} geographies; pick another model or region",
                    geos.join(", ")
                )),
            );
            return None;
        }
        Some(_) => {}
        None => cx.push(
            Diagnostic::warning(
                Rule::UnknownModel,
                format!(
                    "tfgen does not know the model `{model}`{origin}; its `{}.` profile is assumed to exist",
                    group.prefix
                ),
                at,
            )
            .with_help("check `aws bedrock list-inference-profiles` in the region before applying"),
        ),
    }
    Some(Bedrock {
        profile_id: format!("{}.{model}", group.prefix),
        model_id: model,
        destination_regions: group.regions.iter().map(ToString::to_string).collect(),
        source,
    })
}
