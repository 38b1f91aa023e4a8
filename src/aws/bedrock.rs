//! Bedrock: the Claude models tfgen knows, the cross-Region inference profiles each offers (geographic
//! `us.`, `eu.`, `apac.`, `jp.`, `au.` and `global.`), and [`resolve`], which turns what a spec names
//! (a foundation model, a profile ID or a profile ARN) plus the deployment Region into a [`Route`]:
//! the profile to invoke and the IAM resources AWS documents for invoking it. It reports nothing and
//! renders nothing; the Bedrock section's check turns a [`RouteError`] into a located diagnostic.
//!
//! Source (profiles, source and destination Regions per model):
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html>
//! and each model's page under <https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards.html>;
//! `GetInferenceProfile` (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html>)
//! called in a source Region lists the same destinations (one foundation-model ARN per destination).
//! IAM for geographic and global profiles:
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html> and
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html>.
//! Checked 2026-11-25.
//!
//! What was verified on 2026-11-25, and what was not (the search tool returned only the top of AWS's
//! inference-profiles page, in every language, never its per-model tables):
//! - verified on that page: `global.` profiles route to every commercial Region; some profiles route to
//!   different destinations per source Region (its example: `us.` Claude 3 Haiku from us-west-2 reaches
//!   only us-east-1 and us-west-2); `GetInferenceProfile` is the authority per source Region;
//! - verified from AWS's machine-learning blog (as republished; the original was not reachable):
//!   Canada (Central) invokes the `us.` and `global.` profiles of Claude Sonnet 4.5 and Haiku 4.5
//!   (added here as a `us.` source and destination), and Africa (Cape Town) the `global.` profiles of
//!   the Claude 4.5 models (added as a `global.` source); Claude Sonnet 4.5 has a `global.` profile;
//! - NOT verified (kept from the phase-1 table): every geographic profile's exact source and
//!   destination list (EU, APAC, JP, AU), the `global.` source lists, and which older models have
//!   which geographies. Check them with `aws bedrock get-inference-profile` from the deployment
//!   Region before relying on them, and update this table and its date.
//!
//! Where AWS routes a profile to fewer destinations from some source Regions (e.g. `us.` Claude 3 Haiku
//! from us-west-2), the table keeps the union: granting a destination that is never used is harmless,
//! missing one gives intermittent AccessDenied.
//!
//! Route policy (decided here, tested below): a bare foundation model picks the model's geographic
//! profile whose source Regions include the deployment Region, so requests and data stay in that
//! geography; only when the model has none there does it pick the model's `global.` profile. An
//! explicit profile ID or ARN is taken as written, and must be invocable from the Region.

use std::fmt;

use super::regions;

/// The default model: a Claude Sonnet, as the plan asks, that is Active on Bedrock. The plan named Claude
/// 3.7 Sonnet, which reached end of life on Bedrock on 2026-04-28 (see [`Lifecycle`]).
pub const DEFAULT_MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/// Where a model is in Bedrock's lifecycle.
///
/// Source: Amazon Bedrock User Guide, "Model lifecycle (Legacy)", the page that governs models launched
/// before 2026-09-07 (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html>),
/// and "Model lifecycle" for later ones (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html>).
/// Checked 2026-12-07. What was verified: the three states and that an end-of-life model's calls fail;
/// Claude 3.7 Sonnet's end of life on 2026-04-28 (the date as the project's brief quotes that page). NOT
/// verified: the pages' per-model tables (the search tool returned only their introductions), so the
/// Legacy models below keep the state this table had, with no end-of-life date, and the others are taken
/// as Active. Check `aws bedrock get-foundation-model --model-identifier <id>` (its `modelLifecycle`)
/// before relying on them, and update this table and its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Active,
    /// Still invocable; scheduled for end of life (the date, where the table has it).
    Legacy {
        end_of_life: Option<&'static str>,
    },
    /// Calls fail (a validation error) since this date.
    EndOfLife {
        since: &'static str,
    },
}

/// Where a cross-Region inference profile routes requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Us,
    Eu,
    Apac,
    Jp,
    Au,
    /// Any commercial Region.
    Global,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Scope::Us, Scope::Eu, Scope::Apac, Scope::Jp, Scope::Au, Scope::Global];

    /// The profile ID prefix, e.g. `eu` for `eu.anthropic.…`.
    pub fn prefix(self) -> &'static str {
        match self {
            Scope::Us => "us",
            Scope::Eu => "eu",
            Scope::Apac => "apac",
            Scope::Jp => "jp",
            Scope::Au => "au",
            Scope::Global => "global",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.prefix() == prefix)
    }

    pub fn is_global(self) -> bool {
        self == Scope::Global
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.", self.prefix())
    }
}

/// One system-defined inference profile of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub scope: Scope,
    /// Regions the profile can be invoked from.
    pub sources: &'static [&'static str],
    /// Regions requests may be served in. For `global.`, every commercial Region
    /// ([`regions::REGIONS`]); IAM then uses the Region-less foundation-model ARN instead.
    pub destinations: &'static [&'static str],
}

/// A Claude model on Bedrock and its inference profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    pub id: &'static str,
    pub name: &'static str,
    pub lifecycle: Lifecycle,
    pub profiles: &'static [Profile],
}

impl Model {
    pub fn profile(&self, scope: Scope) -> Option<&'static Profile> {
        self.profiles.iter().find(|p| p.scope == scope)
    }

    /// Past its end of life on Bedrock: every call fails.
    pub fn is_end_of_life(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::EndOfLife { .. })
    }
}

/// The Active Claude models invocable from `region`, each as the profile tfgen would pick for it, in
/// table order (newest first within each family): what to move to from a retired model.
pub fn active_in(region: &str) -> Vec<String> {
    MODELS
        .iter()
        .filter(|m| m.lifecycle == Lifecycle::Active)
        .filter_map(|m| resolve(m.id, region).ok().map(|r| r.profile_id))
        .collect()
}

const US3: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];
const US4: &[&str] = &["us-east-1", "us-east-2", "us-west-1", "us-west-2"];
/// The `us.` profiles of the Claude 4.5 Sonnet and Haiku, which Canada (Central) can also invoke
/// (AWS announcement of 2025-11-25, "cross-Region inference from the Canada (Central) Region").
const US4_CA: &[&str] = &["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1"];
const EU4: &[&str] = &["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"];
const EU6: &[&str] = &[
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-3",
];
const APAC7: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
];
const APAC8: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-4",
];
const JP: &[&str] = &["ap-northeast-1", "ap-northeast-3"];
const AU: &[&str] = &["ap-southeast-2", "ap-southeast-4"];
/// Source Regions of the `global.` profiles: the commercial Regions with the Bedrock runtime.
const GLOBAL_SOURCES: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "me-central-1",
    "il-central-1",
];
/// Source Regions of the Claude 4.5 `global.` profiles: [`GLOBAL_SOURCES`] and Africa (Cape Town).
const GLOBAL_SOURCES_45: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "af-south-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "me-central-1",
    "il-central-1",
];
/// Marker for "every commercial Region" (see [`Profile::destinations`]).
const ALL_COMMERCIAL: &[&str] = &[];

const fn geo(scope: Scope, regions: &'static [&'static str]) -> Profile {
    Profile {
        scope,
        sources: regions,
        destinations: regions,
    }
}

const GLOBAL: Profile = Profile {
    scope: Scope::Global,
    sources: GLOBAL_SOURCES,
    destinations: ALL_COMMERCIAL,
};

const GLOBAL_45: Profile = Profile {
    scope: Scope::Global,
    sources: GLOBAL_SOURCES_45,
    destinations: ALL_COMMERCIAL,
};

/// The Claude models tfgen knows, newest first within each family.
pub const MODELS: &[Model] = &[
    Model {
        id: "anthropic.claude-opus-4-5-20251101-v1:0",
        name: "Claude Opus 4.5",
        lifecycle: Lifecycle::Active,
        profiles: &[geo(Scope::Us, US4), geo(Scope::Eu, EU6), GLOBAL_45],
    },
    Model {
        id: "anthropic.claude-opus-4-1-20250805-v1:0",
        name: "Claude Opus 4.1",
        lifecycle: Lifecycle::Active,
        profiles: &[geo(Scope::Us, US3)],
    },
    Model {
        id: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "Claude Sonnet 4.5",
        lifecycle: Lifecycle::Active,
        profiles: &[
            geo(Scope::Us, US4_CA),
            geo(Scope::Eu, EU6),
            geo(Scope::Jp, JP),
            geo(Scope::Au, AU),
            GLOBAL_45,
        ],
    },
    Model {
        id: "anthropic.claude-sonnet-4-20250514-v1:0",
        name: "Claude Sonnet 4",
        lifecycle: Lifecycle::Active,
        profiles: &[
            geo(Scope::Us, US4),
            geo(Scope::Eu, EU6),
            geo(Scope::Apac, APAC8),
            GLOBAL,
        ],
    },
    Model {
        id: "anthropic.claude-haiku-4-5-20251001-v1:0",
        name: "Claude Haiku 4.5",
        lifecycle: Lifecycle::Active,
        profiles: &[
            geo(Scope::Us, US4_CA),
            geo(Scope::Eu, EU6),
            geo(Scope::Jp, JP),
            geo(Scope::Au, AU),
            GLOBAL_45,
        ],
    },
    Model {
        id: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "Claude 3.7 Sonnet",
        lifecycle: Lifecycle::EndOfLife { since: "2026-04-28" },
        profiles: &[geo(Scope::Us, US3), geo(Scope::Eu, EU4), geo(Scope::Apac, APAC7)],
    },
    Model {
        id: "anthropic.claude-3-5-haiku-20241022-v1:0",
        name: "Claude 3.5 Haiku",
        lifecycle: Lifecycle::Legacy { end_of_life: None },
        profiles: &[geo(Scope::Us, US3)],
    },
    Model {
        id: "anthropic.claude-3-haiku-20240307-v1:0",
        name: "Claude 3 Haiku",
        lifecycle: Lifecycle::Legacy { end_of_life: None },
        profiles: &[geo(Scope::Us, US3), geo(Scope::Eu, EU4), geo(Scope::Apac, APAC7)],
    },
];

/// The model with this foundation-model ID.
pub fn model(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

/// The destinations of a profile as Region codes (the whole commercial list for `global.`).
pub fn destinations(profile: &Profile) -> Vec<&'static str> {
    if profile.scope.is_global() {
        regions::codes().collect()
    } else {
        profile.destinations.to_vec()
    }
}

/// What the spec names, parsed but not yet checked against the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// `anthropic.claude-…`
    Foundation(String),
    /// `eu.anthropic.claude-…` or `global.anthropic.claude-…`
    Profile { scope: Scope, model: String },
    /// `arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`
    ProfileArn {
        region: String,
        account: String,
        scope: Scope,
        model: String,
    },
}

/// An IAM condition `StringEquals { key = value }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub key: &'static str,
    pub value: String,
}

/// One `Allow bedrock:InvokeModel*` grant AWS documents for a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub resources: Vec<String>,
    pub conditions: Vec<Condition>,
}

/// A resolved invocation route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub model: &'static Model,
    pub scope: Scope,
    /// e.g. `eu.anthropic.claude-3-7-sonnet-20250219-v1:0`
    pub profile_id: String,
    pub source_region: String,
    pub destination_regions: Vec<&'static str>,
    /// The account of a profile ARN given in the spec (`None`: the deploying account).
    pub account: Option<String>,
}

impl Route {
    pub fn is_global(&self) -> bool {
        self.scope.is_global()
    }

    /// The profile ARN in the source Region; `account` is the account ID or a Terraform expression for it.
    pub fn profile_arn(&self, partition: &str, account: &str) -> String {
        let account = self.account.as_deref().unwrap_or(account);
        format!(
            "arn:{partition}:bedrock:{}:{account}:inference-profile/{}",
            self.source_region, self.profile_id
        )
    }

    /// The IAM grants AWS documents for invoking this profile from its source Region.
    ///
    /// Geographic: the profile ARN, and the foundation model in every destination Region.
    /// Global: the profile ARN and the foundation model in the source Region, and the Region-less
    /// foundation-model ARN with `aws:RequestedRegion = "unspecified"`, both tied to the profile by
    /// `bedrock:InferenceProfileArn`.
    pub fn iam_grants(&self, partition: &str, account: &str) -> Vec<Grant> {
        let profile_arn = self.profile_arn(partition, account);
        let fm = |region: &str| format!("arn:{partition}:bedrock:{region}::foundation-model/{}", self.model.id);
        let via_profile = Condition {
            key: "bedrock:InferenceProfileArn",
            value: profile_arn.clone(),
        };
        let mut grants = vec![Grant {
            resources: vec![profile_arn.clone()],
            conditions: vec![],
        }];
        if self.is_global() {
            grants.push(Grant {
                resources: vec![fm(&self.source_region)],
                conditions: vec![via_profile.clone()],
            });
            grants.push(Grant {
                resources: vec![fm("")],
                conditions: vec![
                    Condition {
                        key: "aws:RequestedRegion",
                        value: "unspecified".into(),
                    },
                    via_profile,
                ],
            });
        } else {
            grants.push(Grant {
                resources: self.destination_regions.iter().map(|r| fm(r)).collect(),
                conditions: vec![via_profile],
            });
        }
        grants
    }
}

/// Why no route exists; each variant names what would work instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Not a model ID, profile ID or profile ARN.
    Malformed {
        input: String,
        why: &'static str,
    },
    UnknownRegion {
        region: String,
    },
    /// A foundation model tfgen has no table for.
    UnknownModel {
        model: String,
        known: Vec<&'static str>,
    },
    /// The model offers no profile of this scope.
    NoSuchProfile {
        model: &'static Model,
        scope: Scope,
        offered: Vec<Scope>,
    },
    /// The profile exists but cannot be invoked from the Region.
    NotASourceRegion {
        profile_id: String,
        region: String,
        sources: Vec<&'static str>,
        /// Profiles of the same model that can be invoked from the Region.
        instead: Vec<String>,
    },
    /// A profile ARN whose Region is not the deployment Region.
    ArnRegionMismatch {
        arn_region: String,
        region: String,
    },
    /// The model has no profile invocable from the Region.
    NoRoute {
        model: &'static Model,
        region: String,
        /// Profile IDs (any known model) invocable from the Region.
        alternatives: Vec<String>,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Malformed { input, why } => write!(f, "`{input}` is not a Bedrock model or profile: {why}"),
            RouteError::UnknownRegion { region } => write!(f, "{region} is not a commercial AWS Region"),
            RouteError::UnknownModel { model, known } => {
                write!(
                    f,
                    "tfgen has no profile table for `{model}`; known models: {}",
                    known.join(", ")
                )
            }
            RouteError::NoSuchProfile { model, scope, offered } => write!(
                f,
                "{} has no `{scope}` inference profile; it offers {}",
                model.name,
                join_scopes(offered)
            ),
            RouteError::NotASourceRegion {
                profile_id,
                region,
                sources,
                instead,
            } => {
                write!(
                    f,
                    "`{profile_id}` cannot be invoked from {region} (only from {})",
                    sources.join(", ")
                )?;
                if !instead.is_empty() {
                    write!(f, "; from {region} use {}", instead.join(" or "))?;
                }
                Ok(())
            }
            RouteError::ArnRegionMismatch { arn_region, region } => write!(
                f,
                "the profile ARN is in {arn_region}, but the environment deploys to {region}"
            ),
            RouteError::NoRoute {
                model,
                region,
                alternatives,
            } => {
                write!(f, "{} has no inference profile invocable from {region}", model.name)?;
                if alternatives.is_empty() {
                    write!(f, "; no known Claude model has one there")
                } else {
                    write!(f, "; profiles that work there: {}", alternatives.join(", "))
                }
            }
        }
    }
}

fn join_scopes(scopes: &[Scope]) -> String {
    let names: Vec<String> = scopes.iter().map(|s| format!("`{s}`")).collect();
    names.join(", ")
}

/// Parses a foundation-model ID, a profile ID or a profile ARN (no table lookups).
pub fn parse(input: &str) -> Result<ModelRef, RouteError> {
    let malformed = |why| RouteError::Malformed {
        input: input.to_string(),
        why,
    };
    if input.is_empty() || input.contains(char::is_whitespace) {
        return Err(malformed("it is empty or contains whitespace"));
    }
    if let Some(rest) = input.strip_prefix("arn:") {
        // arn:<partition>:bedrock:<region>:<account>:inference-profile/<id>
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return Err(malformed("an ARN has six `:`-separated parts"));
        };
        if partition != "aws" {
            return Err(malformed("only the `aws` partition is supported"));
        }
        if service != "bedrock" {
            return Err(malformed("it is not a Bedrock ARN"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("the account must be 12 digits"));
        }
        let Some(id) = resource.strip_prefix("inference-profile/") else {
            return Err(malformed(
                "only system-defined inference-profile ARNs are supported (`…:inference-profile/<id>`)",
            ));
        };
        return match parse(id)? {
            ModelRef::Profile { scope, model } => Ok(ModelRef::ProfileArn {
                region: region.to_string(),
                account: account.to_string(),
                scope,
                model,
            }),
            _ => Err(malformed("the ARN does not name a cross-Region profile ID")),
        };
    }
    let (head, tail) = input
        .split_once('.')
        .ok_or_else(|| malformed("expected `provider.model`"))?;
    if tail.is_empty() {
        return Err(malformed("nothing follows the first `.`"));
    }
    match Scope::from_prefix(head) {
        Some(scope) => {
            if !tail.contains('.') {
                return Err(malformed("a profile ID is `<scope>.<provider>.<model>`"));
            }
            if Scope::from_prefix(tail.split('.').next().unwrap_or_default()).is_some() {
                return Err(malformed("it has two profile prefixes"));
            }
            Ok(ModelRef::Profile {
                scope,
                model: tail.to_string(),
            })
        }
        None => Ok(ModelRef::Foundation(input.to_string())),
    }
}

/// Profile IDs of `model` invocable from `region`, in the route policy's order of preference.
pub fn usable_profiles(model: &'static Model, region: &str) -> Vec<&'static Profile> {
    let mut usable: Vec<&Profile> = model.profiles.iter().filter(|p| p.sources.contains(&region)).collect();
    // Geographic before global (Scope orders Global last).
    usable.sort_by_key(|p| p.scope);
    usable
}

fn profile_id(scope: Scope, model: &Model) -> String {
    format!("{}.{}", scope.prefix(), model.id)
}

/// Every known profile invocable from `region`: `(model, profile id)`, newest models first.
pub fn routes_from(region: &str) -> Vec<(&'static Model, String)> {
    MODELS
        .iter()
        .flat_map(|m| {
            usable_profiles(m, region)
                .into_iter()
                .map(move |p| (m, profile_id(p.scope, m)))
        })
        .collect()
}

fn known_model(id: &str) -> Result<&'static Model, RouteError> {
    model(id).ok_or_else(|| RouteError::UnknownModel {
        model: id.to_string(),
        known: MODELS.iter().map(|m| m.id).collect(),
    })
}

/// Resolves what the spec names into the route invoked from `region` (see the module doc's policy).
pub fn resolve(input: &str, region: &str) -> Result<Route, RouteError> {
    if regions::region(region).is_none() {
        return Err(RouteError::UnknownRegion {
            region: region.to_string(),
        });
    }
    let route = |model: &'static Model, profile: &'static Profile, account: Option<String>| Route {
        model,
        scope: profile.scope,
        profile_id: profile_id(profile.scope, model),
        source_region: region.to_string(),
        destination_regions: destinations(profile),
        account,
    };
    let (scope, model_id, account) = match parse(input)? {
        ModelRef::Foundation(id) => {
            let model = known_model(&id)?;
            return match usable_profiles(model, region).first() {
                Some(profile) => Ok(route(model, profile, None)),
                None => Err(RouteError::NoRoute {
                    model,
                    region: region.to_string(),
                    alternatives: routes_from(region).into_iter().map(|(_, id)| id).collect(),
                }),
            };
        }
        ModelRef::Profile { scope, model } => (scope, model, None),
        ModelRef::ProfileArn {
            region: arn_region,
            account,
            scope,
            model,
        } => {
            if arn_region != region {
                return Err(RouteError::ArnRegionMismatch {
                    arn_region,
                    region: region.to_string(),
                });
            }
            (scope, model, Some(account))
        }
    };
    let model = known_model(&model_id)?;
    let Some(profile) = model.profile(scope) else {
        return Err(RouteError::NoSuchProfile {
            model,
            scope,
            offered: model.profiles.iter().map(|p| p.scope).collect(),
        });
    };
    if !profile.sources.contains(&region) {
        return Err(RouteError::NotASourceRegion {
            profile_id: profile_id(scope, model),
            region: region.to_string(),
            sources: profile.sources.to_vec(),
            instead: usable_profiles(model, region)
                .into_iter()
                .map(|p| profile_id(p.scope, model))
                .collect(),
        });
    }
    Ok(route(model, profile, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SONNET_45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    const SONNET_4: &str = "anthropic.claude-sonnet-4-20250514-v1:0";
    const SONNET_37: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

    #[test]
    fn tables_are_consistent() {
        assert!(model(DEFAULT_MODEL).is_some_and(|m| m.lifecycle == Lifecycle::Active && m.name.contains("Sonnet")));
        assert!(model(SONNET_37).is_some_and(|m| m.is_end_of_life() && m.name == "Claude 3.7 Sonnet"));
        let mut ids = std::collections::BTreeSet::new();
        for m in MODELS {
            assert!(ids.insert(m.id), "{} twice", m.id);
            assert!(m.id.starts_with("anthropic.claude-"), "{}", m.id);
            assert!(!m.profiles.is_empty(), "{} has no profile", m.id);
            for p in m.profiles {
                assert_eq!(m.profiles.iter().filter(|q| q.scope == p.scope).count(), 1);
                for r in p.sources.iter().chain(p.destinations) {
                    assert!(regions::region(r).is_some(), "{} {}: unknown region {r}", m.id, p.scope);
                }
                if !p.scope.is_global() {
                    assert!(!p.destinations.is_empty());
                    // Every source of a geographic profile is also a destination in AWS's tables.
                    assert!(p.sources.iter().all(|s| p.destinations.contains(s)));
                }
            }
        }
    }

    #[test]
    fn a_retired_model_points_to_the_active_ones_of_the_region() {
        let active = active_in("eu-west-1");
        assert_eq!(
            active.first().map(String::as_str),
            Some("eu.anthropic.claude-opus-4-5-20251101-v1:0")
        );
        assert!(active.contains(&format!("eu.{DEFAULT_MODEL}")), "{active:?}");
        assert!(!active.iter().any(|p| p.contains("claude-3")), "{active:?}");
    }

    #[test]
    fn parses_the_three_input_forms() {
        assert_eq!(parse(SONNET_45), Ok(ModelRef::Foundation(SONNET_45.into())));
        assert_eq!(
            parse(&format!("global.{SONNET_45}")),
            Ok(ModelRef::Profile {
                scope: Scope::Global,
                model: SONNET_45.into()
            })
        );
        assert_eq!(
            parse(&format!(
                "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET_4}"
            )),
            Ok(ModelRef::ProfileArn {
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                scope: Scope::Eu,
                model: SONNET_4.into()
            })
        );
        for bad in [
            "",
            "x",
            "apac.",
            "eu.global.anthropic.claude-x",
            "a b",
            "arn:aws:bedrock:eu-west-1:123:inference-profile/eu.anthropic.x",
            "arn:aws:bedrock:eu-west-1:123456789012:foundation-model/anthropic.x",
            "arn:aws:s3:::bucket",
        ] {
            assert!(matches!(parse(bad), Err(RouteError::Malformed { .. })), "{bad}");
        }
    }

    #[test]
    fn a_foundation_model_prefers_its_geographic_profile() {
        let r = resolve(SONNET_37, "eu-west-1").unwrap();
        assert_eq!(r.profile_id, format!("eu.{SONNET_37}"));
        assert_eq!(r.destination_regions, EU4);
        let r = resolve(SONNET_45, "ap-northeast-1").unwrap();
        assert_eq!(r.scope, Scope::Jp);
        let r = resolve(SONNET_45, "ap-southeast-2").unwrap();
        assert_eq!(r.scope, Scope::Au);
        assert_eq!(resolve(SONNET_4, "ap-south-2").unwrap().scope, Scope::Apac);
    }

    #[test]
    fn destinations_are_per_model() {
        // The example: Sonnet 4's EU profile reaches more Regions than Claude 3.7's.
        let old = resolve(SONNET_37, "eu-west-1").unwrap().destination_regions;
        let new = resolve(SONNET_4, "eu-west-1").unwrap().destination_regions;
        assert!(old.iter().all(|r| new.contains(r)) && new.len() > old.len());
        assert!(new.contains(&"eu-south-2"));
    }

    #[test]
    fn a_region_without_a_geographic_profile_falls_back_to_global() {
        for region in ["us-west-1", "sa-east-1", "eu-west-2", "ca-central-1", "af-south-1"] {
            if region == "us-west-1" || region == "ca-central-1" {
                // Sonnet 4.5 has a `us.` profile invocable from us-west-1 and Canada: geographic wins.
                assert_eq!(resolve(SONNET_45, region).unwrap().scope, Scope::Us);
                continue;
            }
            let r = resolve(SONNET_45, region).unwrap();
            assert_eq!(r.scope, Scope::Global, "{region}");
            assert_eq!(r.destination_regions.len(), regions::REGIONS.len());
        }
    }

    #[test]
    fn no_route_names_what_works_there() {
        let err = resolve(SONNET_37, "sa-east-1").unwrap_err();
        let RouteError::NoRoute { alternatives, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(
            alternatives.contains(&format!("global.{SONNET_45}")),
            "{alternatives:?}"
        );
        assert!(alternatives.iter().all(|a| a.starts_with("global.")));
        assert!(
            err.to_string()
                .contains("Claude 3.7 Sonnet has no inference profile invocable from sa-east-1")
        );
        // A Region no profile serves at all.
        let err = resolve(SONNET_37, "me-south-1").unwrap_err();
        assert!(matches!(&err, RouteError::NoRoute { alternatives, .. } if alternatives.is_empty()));
    }

    #[test]
    fn explicit_profiles_are_taken_as_written_or_rejected() {
        let r = resolve(&format!("global.{SONNET_45}"), "eu-west-1").unwrap();
        assert_eq!(r.profile_id, format!("global.{SONNET_45}"));
        let err = resolve(&format!("us.{SONNET_37}"), "eu-west-1").unwrap_err();
        let RouteError::NotASourceRegion { instead, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(instead, &[format!("eu.{SONNET_37}")]);
        assert!(matches!(
            resolve(&format!("global.{SONNET_37}"), "eu-west-1"),
            Err(RouteError::NoSuchProfile { .. })
        ));
        assert!(matches!(
            resolve(&format!("jp.{SONNET_37}"), "ap-northeast-1"),
            Err(RouteError::NoSuchProfile { .. })
        ));
        assert!(matches!(
            resolve("vendor.unknown-v9", "eu-west-1"),
            Err(RouteError::UnknownModel { .. })
        ));
        assert!(matches!(
            resolve(SONNET_37, "xx-nowhere-1"),
            Err(RouteError::UnknownRegion { .. })
        ));
    }

    #[test]
    fn profile_arns_keep_their_account_and_must_match_the_region() {
        let arn = format!("arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET_4}");
        let r = resolve(&arn, "eu-west-1").unwrap();
        assert_eq!(r.profile_arn("aws", "${local.account}"), arn);
        assert!(matches!(
            resolve(&arn, "eu-central-1"),
            Err(RouteError::ArnRegionMismatch { .. })
        ));
    }

    #[test]
    fn iam_grants_follow_the_aws_documentation() {
        let geo = resolve(SONNET_4, "eu-west-1").unwrap();
        let grants = geo.iam_grants("aws", "111122223333");
        assert_eq!(
            grants[0].resources,
            [format!(
                "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.{SONNET_4}"
            )]
        );
        assert_eq!(grants[1].resources.len(), EU6.len());
        assert!(
            grants[1]
                .resources
                .contains(&format!("arn:aws:bedrock:eu-south-2::foundation-model/{SONNET_4}"))
        );
        assert_eq!(grants.len(), 2);

        let global = resolve(SONNET_45, "sa-east-1").unwrap();
        let grants = global.iam_grants("aws", "111122223333");
        assert_eq!(grants.len(), 3);
        assert_eq!(
            grants[1].resources,
            [format!("arn:aws:bedrock:sa-east-1::foundation-model/{SONNET_45}")]
        );
        assert_eq!(
            grants[2].resources,
            [format!("arn:aws:bedrock:::foundation-model/{SONNET_45}")]
        );
        assert!(
            grants[2]
                .conditions
                .iter()
                .any(|c| c.key == "aws:RequestedRegion" && c.value == "unspecified")
        );
    }

    #[test]
    fn every_region_and_model_resolves_or_names_alternatives() {
        for region in regions::codes() {
            for m in MODELS {
                match resolve(m.id, region) {
                    Ok(r) => assert!(
                        m.profile(r.scope).unwrap().sources.contains(&region),
                        "{} from {region}",
                        m.id
                    ),
                    Err(RouteError::NoRoute { alternatives, .. }) => {
                        for a in alternatives {
                            assert!(resolve(&a, region).is_ok(), "{a} from {region}");
                        }
                    }
                    Err(e) => panic!("{}: {e}", m.id),
                }
            }
        }
    }
}
