//! `[alarms]`: where CloudWatch alarms are sent, and whether the agent clusters publish Container
//! Insights metrics. Raw form, checks, resolved form.
//!
//! The alarms themselves are in the `monitoring` module's template; this module only checks the address.
//! Without Container Insights (the default) every alarm reads free metrics: CPU and memory from `AWS/ECS`,
//! healthy tasks from the load balancer's `HealthyHostCount`. With it, the running-tasks alarm compares
//! the live desired and running counts instead, for about $5 per agent a month (`tfgen cost` prices it).

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile};
use crate::diag::{Diagnostic, rules};
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[alarms]`).
    pub enum Rule {
        EmailInvalid,
        EmailPlaceholder,
    }
}

/// `[alarms]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmsSpec {
    /// Subscribed to the alarm topic (the recipient confirms the subscription).
    pub email: Option<Spanned<String>>,
    /// Container Insights on every agent cluster (default false: the alarms use free metrics).
    pub container_insights: Option<Spanned<bool>>,
}

/// Alarm delivery, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarms {
    /// Subscribed to the alarm topic; absent: alarms go to the topic only.
    pub email: Option<String>,
    /// Container Insights on every agent cluster; the running-tasks alarm reads it when on.
    pub container_insights: bool,
}

pub fn check(cx: &mut Checker, alarms: &AlarmsSpec) -> Option<Alarms> {
    let email = match &alarms.email {
        None => None,
        Some(e) => Some(email(cx, e)?),
    };
    let container_insights = alarms.container_insights.as_ref().is_some_and(|v| *v.get_ref());
    Some(Alarms {
        email,
        container_insights,
    })
}

fn email(cx: &mut Checker, email: &Spanned<String>) -> Option<String> {
    let e = email.get_ref();
    if !is_email_address(e) {
        cx.error(
            Rule::EmailInvalid,
            SpecFile::Env,
            email,
            format!("`{e}` is not an e-mail address"),
            "e.g. `platform-oncall@example.com`",
        );
        return None;
    }
    if let Some((_, domain)) = e.split_once('@')
        && crate::aws::is_placeholder_domain(domain)
    {
        let at = cx.at(SpecFile::Env, email);
        cx.push(
            Diagnostic::warning(
                Rule::EmailPlaceholder,
                format!("`{domain}` is reserved for examples: alarms sent to `{e}` reach no one"),
                Some(at),
            )
            .with_help("use the address of the team that answers the alarms"),
        );
    }
    Some(e.clone())
}

/// An address SNS can deliver to: a dot-atom local part (RFC 5322: letters, digits and
/// ``!#$%&'*+/=?^_`{|}~-``, dots only between them; at most 64 characters) and a host name of at least two
/// labels (each 1-63 letters, digits and inner hyphens), the last alphabetic and at least two long.
fn is_email_address(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok =
        (1..=64).contains(&local.len()) && local.split('.').all(|part| !part.is_empty() && part.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain.len() <= 253 && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

#[cfg(test)]
mod email_tests {
    use super::is_email_address;

    #[test]
    fn addresses_sns_can_deliver_to() {
        for ok in [
            "platform-oncall@example.com",
            "a.b+alerts@mail.example.co.uk",
            "o'neil@example.org",
        ] {
            assert!(is_email_address(ok), "{ok}");
        }
        for bad in [
            "a@b",
            "a@b..com",
            "a@-b.com",
            "a@b-.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a b@c.com",
            "a@b.c",
            "a@b.com.",
            "a@b_c.com",
            "a@@b.com",
            "@b.com",
            "a@b.c0m",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }
}
