//! `[pipeline]`: the opt-in release pipeline (CodePipeline + CodeBuild) hosted by this environment. Each
//! commit of `branch` in `repository` is built once per agent, then promoted by image digest through the
//! `[[pipeline.stage]]` environments in order, each after the first behind a manual approval, each deployed
//! by rendering it with tfgen and applying it as its own `deploy_role_arn`. Raw form, checks, resolved form.
//! It renders nothing itself: `modules/pipeline` does, when this section is present.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use crate::diag::rules;
use crate::names::EnvName;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[pipeline]`).
    pub enum Rule {
        RepositoryInvalid,
        ProviderUnknown,
        TfgenRepositoryInvalid,
        NoStages,
        StageNameInvalid,
        StageDuplicate,
        RoleArnInvalid,
        TerraformVersionTooOld,
        StageWithoutSpec,
        StageWithoutSharedState,
    }
}

/// The hosts a CodeStar connection can reach (`aws_codestarconnections_connection.provider_type`). Source: the
/// AWS provider 5.100 documentation of that argument and the CodeConnections API's `ProviderType`; checked
/// 2026-11-25.
pub const PROVIDERS: &[&str] = &[
    "GitHub",
    "GitHubEnterpriseServer",
    "GitLab",
    "GitLabSelfManaged",
    "Bitbucket",
];
pub const DEFAULT_PROVIDER: &str = "GitHub";
pub const DEFAULT_BRANCH: &str = "main";
/// The Terraform release deploys apply with: the one tfgen's own tests validate against.
pub const DEFAULT_TERRAFORM_VERSION: &str = "1.11.4";
/// The oldest Terraform a deploy may use: every generated tree works with it (the database bootstrap's
/// write-only arguments and ephemeral values need 1.11; see `bootstrap::REQUIRED_TERRAFORM`).
pub const MIN_TERRAFORM_VERSION: (u32, u32, u32) = (1, 11, 0);

/// `1.11.4` → `(1, 11, 4)`; `None` for anything that is not a plain release number.
fn release(version: &str) -> Option<(u32, u32, u32)> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

/// `[pipeline]` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// The source repository, `owner/name`.
    pub repository: Spanned<String>,
    /// The branch whose every commit is released (default `main`).
    pub branch: Option<Spanned<String>>,
    /// The source host: GitHub (default), GitHubEnterpriseServer, GitLab, GitLabSelfManaged or Bitbucket.
    pub provider: Option<Spanned<String>>,
    /// The git URL deploys install tfgen from (this tfgen's version, tag `v<version>`).
    pub tfgen_repository: Spanned<String>,
    /// The Terraform release deploys apply with (default: the one tfgen is tested with).
    pub terraform_version: Option<Spanned<String>>,
    /// The environments a release goes through, in order.
    pub stage: Option<Spanned<Vec<StageSpec>>>,
}

/// One `[[pipeline.stage]]` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// The environment this stage deploys: `environments/<environment>.toml`.
    pub environment: Spanned<String>,
    /// The role the environment's deploy assumes: it applies the environment's tree and may push to its
    /// repositories; nothing else in the pipeline acts on the environment.
    pub deploy_role_arn: Spanned<String>,
}

/// The pipeline, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pipeline {
    pub repository: String,
    pub branch: String,
    pub provider: String,
    pub tfgen_repository: String,
    pub tfgen_version: String,
    pub terraform_version: String,
    pub stages: Vec<Stage>,
}

/// One environment of the promotion order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub name: String,
    pub deploy_role_arn: String,
    /// A manual approval comes first: every stage but the first.
    pub approval: bool,
}

fn is_repository(s: &str) -> bool {
    let part = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    s.split_once('/').is_some_and(|(owner, name)| part(owner) && part(name))
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`.
fn is_role_arn(s: &str) -> bool {
    crate::arn::Arn::parse(s).is_some_and(|a| {
        a.service == "iam"
            && a.region.is_empty()
            && !a.account.is_empty()
            && a.resource
                .strip_prefix("role/")
                .is_some_and(|n| !n.is_empty() && !n.contains('*'))
    })
}

/// Checks `[pipeline]`; `None` (absent) renders no pipeline.
pub fn check(cx: &mut Checker, spec: Option<&PipelineSpec>) -> Option<Option<Pipeline>> {
    let Some(p) = spec else { return Some(None) };
    let mut ok = true;
    if !is_repository(p.repository.get_ref()) {
        cx.error(
            Rule::RepositoryInvalid,
            SpecFile::Env,
            &p.repository,
            format!("`{}` is not a repository's `owner/name`", p.repository.get_ref()),
            "write the repository as its host shows it, e.g. `example-org/support-infrastructure`",
        );
        ok = false;
    }
    let provider = p.provider.as_ref().map_or(DEFAULT_PROVIDER, |v| v.get_ref().as_str());
    if let Some(v) = &p.provider
        && !PROVIDERS.contains(&v.get_ref().as_str())
    {
        let help = suggest(v.get_ref(), PROVIDERS.iter().copied(), "");
        cx.error(
            Rule::ProviderUnknown,
            SpecFile::Env,
            v,
            format!("CodeStar connections do not reach `{}`", v.get_ref()),
            if help.is_empty() {
                format!("use one of {}", PROVIDERS.join(", "))
            } else {
                help
            },
        );
        ok = false;
    }
    if !p.tfgen_repository.get_ref().starts_with("https://") {
        cx.error(
            Rule::TfgenRepositoryInvalid,
            SpecFile::Env,
            &p.tfgen_repository,
            "tfgen_repository is not an https:// git URL",
            "give the URL deploys run `cargo install --git` on, e.g. `https://github.com/example-org/tfgen`",
        );
        ok = false;
    }
    if let Some(v) = &p.terraform_version
        && release(v.get_ref()).is_none_or(|r| r < MIN_TERRAFORM_VERSION)
    {
        let (major, minor, patch) = MIN_TERRAFORM_VERSION;
        cx.error(
            Rule::TerraformVersionTooOld,
            SpecFile::Env,
            v,
            format!("`{}` is not a Terraform release {major}.{minor}.{patch} or later", v.get_ref()),
            format!(
                "deploys apply the rendered trees, which need Terraform {major}.{minor} (write-only arguments); e.g. `{DEFAULT_TERRAFORM_VERSION}`"
            ),
        );
        ok = false;
    }
    let mut stages: Vec<(Stage, &Spanned<String>)> = Vec::new();
    match &p.stage {
        Some(list) if !list.get_ref().is_empty() => {
            for s in list.get_ref() {
                let name = s.environment.get_ref();
                if let Err(why) = EnvName::new(name) {
                    cx.error(
                        Rule::StageNameInvalid,
                        SpecFile::Env,
                        &s.environment,
                        format!("`{name}` is not an environment name: {why}"),
                        "name an environment of environments/, e.g. `staging` for environments/staging.toml",
                    );
                    ok = false;
                } else if let Some((_, first)) = stages.iter().find(|(st, _)| st.name == *name) {
                    cx.duplicate(
                        Rule::StageDuplicate,
                        SpecFile::Env,
                        &s.environment,
                        first,
                        format!("`{name}` is a stage twice"),
                        "first here",
                        "a release goes through each environment once",
                    );
                    ok = false;
                }
                if !is_role_arn(s.deploy_role_arn.get_ref()) {
                    cx.error(
                        Rule::RoleArnInvalid,
                        SpecFile::Env,
                        &s.deploy_role_arn,
                        format!("`{}` is not an IAM role ARN", s.deploy_role_arn.get_ref()),
                        "e.g. `arn:aws:iam::123456789012:role/tfgen-deploy-staging`, the role that applies this environment",
                    );
                    ok = false;
                }
                let stage = Stage {
                    name: name.clone(),
                    deploy_role_arn: s.deploy_role_arn.get_ref().clone(),
                    approval: !stages.is_empty(),
                };
                stages.push((stage, &s.environment));
            }
        }
        _ => {
            cx.error(
                Rule::NoStages,
                SpecFile::Env,
                &p.repository,
                "[pipeline] has no `[[pipeline.stage]]`",
                "list the environments a release goes through, in order: [[pipeline.stage]] environment = \"dev\", deploy_role_arn = \"…\"",
            );
            ok = false;
        }
    }
    ok.then(|| {
        Some(Pipeline {
            repository: p.repository.get_ref().clone(),
            branch: p.branch.as_ref().map_or(DEFAULT_BRANCH, |b| b.get_ref()).to_string(),
            provider: provider.to_string(),
            tfgen_repository: p.tfgen_repository.get_ref().clone(),
            tfgen_version: env!("CARGO_PKG_VERSION").to_string(),
            terraform_version: p
                .terraform_version
                .as_ref()
                .map_or(DEFAULT_TERRAFORM_VERSION, |v| v.get_ref())
                .to_string(),
            stages: stages.into_iter().map(|(s, _)| s).collect(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_repositories() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/deploy"));
        assert!(is_role_arn("arn:aws-us-gov:iam::123456789012:role/path/deploy"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/deploy"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/deploy"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/*"));
        assert!(is_repository("example-org/infra.git"));
        assert!(!is_repository("infra"));
        assert!(!is_repository("a/b/c"));
    }

    #[test]
    fn terraform_releases() {
        assert_eq!(release("1.11.4"), Some((1, 11, 4)));
        assert!(release("1.11.4") >= Some(MIN_TERRAFORM_VERSION));
        assert!(release("1.10.5") < Some(MIN_TERRAFORM_VERSION));
        assert_eq!(release("latest"), None);
        assert_eq!(release("1.11"), None);
        assert_eq!(release("1.11.0-rc1"), None);
        assert_eq!(
            release(DEFAULT_TERRAFORM_VERSION).map(|r| r >= MIN_TERRAFORM_VERSION),
            Some(true)
        );
        let (major, minor, _) = MIN_TERRAFORM_VERSION;
        assert_eq!(crate::bootstrap::REQUIRED_TERRAFORM, format!(">= {major}.{minor}"));
    }
}

/// What a stage's spec says about its state (its other keys are checked when it is rendered).
#[derive(Debug, Default, Deserialize)]
struct StageEnvironment {
    #[serde(default)]
    backend: StageBackend,
}

#[derive(Debug, Default, Deserialize)]
struct StageBackend {
    s3: Option<toml::Value>,
}

/// Each `[[pipeline.stage]]` names an environment with a spec and shared state (`[backend.s3]`): a deploy
/// renders and applies it in a build container, whose local state would be lost when the build ends (the
/// deploy stops before applying such a stage; this says so at validate, in the host's pull request). The
/// host's own spec is `spec`; the others are `siblings`, judged missing only when `complete` (every spec of
/// `environments/` was read).
pub fn check_stage_environments(
    cx: &mut Checker,
    spec: &crate::spec::EnvSpec,
    host: &str,
    siblings: &[Arc<crate::diag::SourceFile>],
    complete: bool,
) {
    let Some(stages) = spec.pipeline.as_ref().and_then(|p| p.stage.as_ref()) else {
        return;
    };
    for stage in stages.get_ref() {
        let name = stage.environment.get_ref();
        let file = format!("{}/{name}.toml", crate::load::ENVIRONMENTS_DIR);
        let shared = if name == host {
            Some(spec.backend.as_ref().is_some_and(|b| b.s3.is_some()))
        } else {
            siblings
                .iter()
                .find(|f| f.name == file)
                .map(|f| toml::from_str::<StageEnvironment>(&f.text).is_ok_and(|s| s.backend.s3.is_some()))
        };
        match shared {
            Some(false) => cx.error(
                Rule::StageWithoutSharedState,
                SpecFile::Env,
                &stage.environment,
                format!("the stage `{name}` has no shared state: {file} has no `[backend.s3]`"),
                format!(
                    "a deploy applies `{name}` in a build container, whose local state is lost when the build ends; add `[backend.s3]` with `bucket = \"…\"` to {file}"
                ),
            ),
            None if complete => cx.error(
                Rule::StageWithoutSpec,
                SpecFile::Env,
                &stage.environment,
                format!("the stage `{name}` has no spec: there is no {file}"),
                format!("create {file} (a copy of another environment's spec, its values changed), or remove the stage"),
            ),
            // Shared state, or a stage of inputs that know no other environment (built from text).
            Some(true) | None => {}
        }
    }
}
