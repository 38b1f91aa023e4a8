//! `[backend]`: where Terraform keeps state. Local (the default) or an S3 bucket. Raw form, checks,
//! resolved form. It creates no bucket: the state bucket exists before the environment does.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::aws::{regions, s3};
use crate::diag::{Diagnostic, rules};
use crate::names::EnvName;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[backend]`).
    pub enum Rule {
        BucketName,
        StateKey,
        BackendRegionUnknown,
        SharedLocalState,
        LocalStateOptOut,
        BackendConflict,
        BackendLocalFalse,
    }
}

/// Where Terraform keeps state, as written. Absent: local state next to the generated files.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendSpec {
    pub s3: Option<S3BackendSpec>,
    /// `true`: keep local state in an environment that must otherwise have remote state (prod, or one
    /// hosting `[pipeline]`): a warned opt-out, for a trial that nobody else applies.
    pub local: Option<Spanned<bool>>,
}

/// `[backend.s3]` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3BackendSpec {
    pub bucket: Spanned<String>,
    pub key: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
}

/// The state backend, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Backend {
    /// `terraform.tfstate` next to the generated files: works with no set-up.
    Local,
    S3 {
        bucket: String,
        key: String,
        region: String,
    },
}

impl Backend {
    /// The Terraform versions the backend works with: S3's native locking needs 1.10.
    pub fn terraform_required_version(&self) -> &'static str {
        match self {
            Backend::Local => ">= 1.5",
            Backend::S3 { .. } => ">= 1.10",
        }
    }
}

/// Checks `[backend]`; the key defaults to one per environment, the region to the environment's.
pub fn check(
    cx: &mut Checker,
    backend: Option<&BackendSpec>,
    env: Option<&EnvName>,
    region: Option<&str>,
) -> Option<Backend> {
    let Some(s3) = backend.and_then(|b| b.s3.as_ref()) else {
        return Some(Backend::Local);
    };
    let mut ok = true;
    let bucket = s3.bucket.get_ref();
    if let Some(why) = s3::bucket_name_problem(bucket) {
        cx.error(
            Rule::BucketName,
            SpecFile::Env,
            &s3.bucket,
            format!("`{bucket}` is not a valid S3 bucket name: {why}"),
            "3-63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, no `..`, \
             not an IP address, without the prefixes and suffixes AWS reserves",
        );
        ok = false;
    }
    if let Some(k) = &s3.key
        && let Some(why) = s3::state_key_problem(k.get_ref())
    {
        cx.error(
            Rule::StateKey,
            SpecFile::Env,
            k,
            format!("`{}` is not a state key Terraform takes: {why}", k.get_ref()),
            "a relative path without empty parts, e.g. `tfgen/prod/terraform.tfstate`",
        );
        ok = false;
    }
    if let Some(r) = &s3.region
        && regions::region(r.get_ref()).is_none()
    {
        cx.error(
            Rule::BackendRegionUnknown,
            SpecFile::Env,
            r,
            format!("unknown AWS region `{}`", r.get_ref()),
            "the region of the state bucket",
        );
        ok = false;
    }
    let key = match &s3.key {
        Some(k) => k.get_ref().clone(),
        None => format!("tfgen/{}/terraform.tfstate", env?),
    };
    let region = match &s3.region {
        Some(r) => r.get_ref().clone(),
        None => region?.to_string(),
    };
    ok.then(|| Backend::S3 {
        bucket: bucket.clone(),
        key,
        region,
    })
}

/// State that several people, or the release pipeline, apply must be shared and locked: an environment
/// that is prod, or hosts `[pipeline]`, without `[backend.s3]` is an error unless `[backend] local = true`
/// says so (then a warning). `why` names what makes the environment one of them, pointing at it.
pub fn check_shared(cx: &mut Checker, backend: Option<&BackendSpec>, why: Option<(&str, &Spanned<String>)>) {
    let s3 = backend.and_then(|b| b.s3.as_ref());
    let local = backend.and_then(|b| b.local.as_ref());
    match (s3, local) {
        (Some(_), Some(l)) if *l.get_ref() => cx.error(
            Rule::BackendConflict,
            SpecFile::Env,
            l,
            "`[backend] local = true` and `[backend.s3]` are both set",
            "keep `[backend.s3]` for shared state, or remove it to keep local state",
        ),
        (Some(_), _) => {}
        (None, Some(l)) if !*l.get_ref() => cx.error(
            Rule::BackendLocalFalse,
            SpecFile::Env,
            l,
            "`[backend] local = false` names no other backend",
            "add `[backend.s3]` with the state bucket (`bucket = \"...\"`), or remove `local`",
        ),
        (None, Some(l)) => {
            if let Some((what, _)) = why {
                cx.push(
                    Diagnostic::warning(
                        Rule::LocalStateOptOut,
                        format!("{what} keeps its Terraform state on one machine: no locking, no history, lost with the disk"),
                        Some(cx.at(SpecFile::Env, l)),
                    )
                    .with_help("for anything beyond a trial, add `[backend.s3]` (an existing, versioned bucket) and remove `local`"),
                );
            }
        }
        (None, None) => {
            if let Some((what, at)) = why {
                cx.error(
                    Rule::SharedLocalState,
                    SpecFile::Env,
                    at,
                    format!("{what} would keep its Terraform state on one machine: no locking, no history, lost with the disk"),
                    "add `[backend.s3]` with an existing, versioned bucket (`bucket = \"...\"`; the key and region default to the environment's), or write `[backend] local = true` to accept local state",
                );
            }
        }
    }
}
