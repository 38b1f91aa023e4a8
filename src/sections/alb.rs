//! `[alb]`: the internet-facing Application Load Balancer in front of the agents. HTTPS certificate (its
//! form and region), deletion protection, idle timeout. Raw form, checks, resolved form.
//!
//! Listener rules and their priorities cross into the agents' section; [`crate::resolve`] assigns them.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use super::defaults::Defaults;
use crate::diag::{Diagnostic, rules};
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[alb]`).
    pub enum Rule {
        ProdWithoutCertificate,
        ProdAlbUnprotected,
        CertificateMalformed,
        CertificateOtherRegion,
        IdleTimeout,
        CertificateExampleAccount,
    }
}

/// Long enough for a streamed model answer with pauses; AWS's own default, 60 seconds, can cut one off.
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: u32 = 300;

/// `[alb]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbSpec {
    pub certificate_arn: Option<Spanned<String>>,
    pub deletion_protection: Option<Spanned<bool>>,
    /// Seconds a connection may stay idle before the load balancer closes it.
    pub idle_timeout_seconds: Option<Spanned<i64>>,
}

/// The load balancer, resolved. Its name is derived ([`crate::names::EnvNames`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alb {
    /// Absent: an HTTP listener only (dev); prod requires one.
    pub certificate_arn: Option<String>,
    pub deletion_protection: bool,
    pub idle_timeout_seconds: u32,
}

/// Checks `[alb]`; `region` is the environment's, when it is valid.
pub fn check(cx: &mut Checker, alb: &AlbSpec, defaults: &Defaults, prod: bool, region: Option<&str>) -> Option<Alb> {
    let mut ok = true;
    let certificate_arn = match &alb.certificate_arn {
        None => None,
        Some(arn) => {
            let checked = certificate(cx, arn, region);
            ok &= checked.is_some();
            checked
        }
    };
    if prod && alb.certificate_arn.is_none() {
        let help = format!(
            "add `[alb]` with `certificate_arn = \"arn:aws:acm:…\"` to {}",
            cx.env_file_name()
        );
        cx.push(
            Diagnostic::error(
                Rule::ProdWithoutCertificate,
                "prod has no HTTPS listener: `[alb] certificate_arn` is missing",
                None,
            )
            .with_help(help),
        );
        ok = false;
    }
    let deletion_protection = alb
        .deletion_protection
        .as_ref()
        .map_or(defaults.deletion_protection, |v| *v.get_ref());
    if prod
        && let Some(v) = &alb.deletion_protection
        && !v.get_ref()
    {
        cx.error(
            Rule::ProdAlbUnprotected,
            SpecFile::Env,
            v,
            "prod turns off the load balancer's deletion protection",
            "remove the line or set it to `true`; only dev may turn it off",
        );
        ok = false;
    }
    let idle_timeout_seconds = cx.count(
        Rule::IdleTimeout,
        alb.idle_timeout_seconds.as_ref(),
        DEFAULT_IDLE_TIMEOUT_SECONDS,
        1..=4000,
        "idle_timeout_seconds",
        "an ALB's idle timeout is 1 to 4000 seconds",
    );
    ok.then_some(Alb {
        certificate_arn,
        deletion_protection,
        idle_timeout_seconds: idle_timeout_seconds?,
    })
}

/// An ACM certificate ARN in the load balancer's region.
fn certificate(cx: &mut Checker, arn: &Spanned<String>, region: Option<&str>) -> Option<String> {
    let text = arn.get_ref();
    let Some(parsed) = crate::arn::Arn::parse_uuid_resource(text, "acm", "certificate") else {
        cx.error(
            Rule::CertificateMalformed,
            SpecFile::Env,
            arn,
            "malformed ACM certificate ARN",
            "expected `arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>`",
        );
        return None;
    };
    if let Some(region) = region
        && parsed.region != region
    {
        cx.error(
            Rule::CertificateOtherRegion,
            SpecFile::Env,
            arn,
            format!("the certificate is in {}, the load balancer in {region}", parsed.region),
            format!("an ALB can only use an ACM certificate from its own region; request or import one in {region}"),
        );
        return None;
    }
    if crate::aws::EXAMPLE_ACCOUNTS.contains(&parsed.account) {
        let at = cx.at(SpecFile::Env, arn);
        cx.push(
            Diagnostic::warning(
                Rule::CertificateExampleAccount,
                format!(
                    "the certificate is in account {}, which AWS's documentation uses in examples: the HTTPS \
                     listener would fail at apply",
                    parsed.account
                ),
                Some(at),
            )
            .with_help("name a certificate of the account you deploy to (the generated tree also refuses one from another account at plan)"),
        );
    }
    Some(text.clone())
}
