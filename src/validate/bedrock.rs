//! Validate stage, Bedrock: picks the model (BEDROCK_MODEL_ID, the spec, or the default) and its
//! cross-region inference profile for the region, or says why there is none. It writes no IAM policy.

use super::{Checker, File};
use crate::diag::Diagnostic;
use crate::load::Inputs;
use crate::model::{Bedrock, ModelSource};
use crate::regions;
use crate::spec::{ParsedSpec, Spanned};

impl Checker {
    pub(super) fn bedrock(
        &mut self,
        parsed: &ParsedSpec,
        inputs: &Inputs,
        region: &str,
        region_at: &Spanned<String>,
    ) -> Option<Bedrock> {
        let spec_model = parsed.env.bedrock.model.as_ref();
        let (id, source) = match (&inputs.overrides.bedrock_model_id, spec_model) {
            (Some(env), _) => (env.clone(), ModelSource::EnvVar),
            (None, Some(m)) => (m.get_ref().clone(), ModelSource::Spec),
            (None, None) => (regions::DEFAULT_MODEL.to_string(), ModelSource::Default),
        };
        // Where to point: the spec's model line, else the region line.
        let at = match source {
            ModelSource::Spec => spec_model.map(|m| self.at(File::Env, m)).unwrap_or_default(),
            ModelSource::EnvVar => None,
            ModelSource::Default => self.at(File::Env, region_at),
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
                self.diags.push(
                    Diagnostic::error(
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
                self.diags.push(
                    Diagnostic::error(
                        format!("no Bedrock cross-region inference profile for `{id}`{origin} in {region}"),
                        at,
                    )
                    .with_help(format!("deploy to a region with a profile: {}", all.join(", "))),
                );
                return None;
            }
        };
        if !model.contains('.') || model.contains(char::is_whitespace) {
            self.diags.push(
                Diagnostic::error(format!("`{id}`{origin} is not a Bedrock model ID"), at)
                    .with_help(format!("e.g. `{}`", regions::DEFAULT_MODEL)),
            );
            return None;
        }
        match regions::model_geographies(&model) {
            Some(geos) if !geos.contains(&group.prefix) => {
                self.diags.push(
                    Diagnostic::error(
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
            None => self.diags.push(
                Diagnostic::warning(
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
}
