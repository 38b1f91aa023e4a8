//! AWS's policy evaluation logic for one request, for the constructs the rendered trees use: an explicit
//! deny anywhere wins; otherwise an allow in the identity policies or a resource policy that names the
//! caller; a KMS key's policy must allow (IAM grants a key action only where the key policy delegates to
//! the account), and so must a role's trust policy. Wildcards in `Action`/`Resource`, `Not*` elements,
//! `Principal` forms and the string, ARN, `Bool` and `Null` condition operators with `IfExists` and the
//! `ForAnyValue`/`ForAllValues` set operators. It does not see service control policies, permission
//! boundaries or session policies, and answers [`Verdict::Unknown`] for anything else it meets (another
//! operator, a policy variable, a value known only after apply) instead of guessing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::policy::{Condition, Effect, Kind, Patterns, Policy, Source, Statement};

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Caller {
    /// An IAM principal (a role, an account's root, the deployer) of `account`.
    Iam { arn: String, account: String },
    /// An AWS service principal (`logs.eu-west-1.amazonaws.com`): it has no identity policies.
    Service { name: String },
}

/// One request: who, what, on which resource, and the request context (keys compared case-insensitively).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub caller: &'a Caller,
    pub action: &'a str,
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    pub context: &'a BTreeMap<String, Vec<String>>,
}

/// The documents AWS evaluates together for a request.
#[derive(Debug, Clone, Default)]
pub struct Documents<'a> {
    /// The caller's identity policies.
    pub identity: Vec<&'a Policy>,
    /// The caller's identity policies are outside the tree and assumed to allow (the deployer).
    pub identity_allows_all: bool,
    /// AWS managed policies attached to the caller, which the proof does not read.
    pub unread: Vec<String>,
    /// The resource's policy: a bucket or topic policy, a key policy, a trust policy.
    pub resource: Option<&'a Policy>,
}

/// What AWS would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case")]
pub enum Verdict {
    Allowed,
    Denied,
    /// Outside what the proof understands; the reason says what.
    Unknown(String),
}

/// A statement that decided a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Cited {
    #[serde(flatten)]
    pub source: Source,
    pub sid: Option<String>,
    pub effect: String,
}

/// The verdict and the statements behind it (the deny, or the allows that were needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub because: Vec<Cited>,
    /// For a denial without a deny statement: what was missing.
    pub missing: Option<String>,
}

/// How a resource policy's `Principal` names the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// By its own ARN or service name, or `*`: the resource policy alone grants.
    Directly,
    /// By its account: the account's identity policies must also allow.
    ByAccount,
}

/// Decides one request against its documents.
pub fn decide(req: &Request<'_>, docs: &Documents<'_>) -> Decision {
    let mut denies = Vec::new();
    let mut identity_allows = Vec::new();
    let mut direct = Vec::new();
    let mut by_account = Vec::new();
    let mut unknown: Option<String> = None;
    let is_iam = matches!(req.caller, Caller::Iam { .. });
    if is_iam {
        for policy in &docs.identity {
            for st in &policy.statements {
                match applies(st, req, None) {
                    Ok(true) => push(st, policy, &mut denies, &mut identity_allows),
                    Ok(false) => {}
                    Err(why) => unknown = unknown.or(Some(why)),
                }
            }
        }
    }
    let resource_kind = docs.resource.map(|p| p.source.kind);
    if let Some(policy) = docs.resource {
        for st in &policy.statements {
            let Some(named) = principal(st, req.caller) else {
                continue;
            };
            match applies(st, req, Some(policy.source.kind)) {
                Ok(true) if st.effect == Effect::Deny => denies.push(cite(st, policy)),
                Ok(true) if named == Named::Directly => direct.push(cite(st, policy)),
                Ok(true) => by_account.push(cite(st, policy)),
                Ok(false) => {}
                Err(why) => unknown = unknown.or(Some(why)),
            }
        }
    }
    if !denies.is_empty() {
        return Decision {
            verdict: Verdict::Denied,
            because: denies,
            missing: None,
        };
    }
    let same_account = match req.caller {
        Caller::Iam { account, .. } => account == req.resource_account,
        Caller::Service { .. } => true,
    };
    let identity_ok = is_iam && (docs.identity_allows_all || !identity_allows.is_empty());
    let identity_cited = || {
        if docs.identity_allows_all {
            Vec::new()
        } else {
            identity_allows.clone()
        }
    };
    // Which documents must allow: a key or trust policy always; a resource policy for another account's
    // caller; otherwise either the identity policies or a resource policy that names the caller.
    let must_resource = matches!(resource_kind, Some(Kind::Key | Kind::Trust)) || !same_account;
    let allowed = if !direct.is_empty() {
        if same_account || identity_ok || !is_iam {
            Some([direct.clone(), if same_account { Vec::new() } else { identity_cited() }].concat())
        } else {
            None
        }
    } else if !by_account.is_empty() && identity_ok {
        Some([by_account.clone(), identity_cited()].concat())
    } else if !must_resource && identity_ok {
        Some(identity_cited())
    } else {
        None
    };
    if let Some(because) = allowed {
        return Decision {
            verdict: Verdict::Allowed,
            because,
            missing: None,
        };
    }
    if let Some(why) = unknown {
        return Decision {
            verdict: Verdict::Unknown(why),
            because: Vec::new(),
            missing: None,
        };
    }
    if !docs.unread.is_empty() && !must_resource {
        return Decision {
            verdict: Verdict::Unknown(format!(
                "granted only by AWS managed policies, which are not read: {}",
                docs.unread.join(", ")
            )),
            because: Vec::new(),
            missing: None,
        };
    }
    let missing = match (resource_kind, identity_ok, by_account.is_empty()) {
        (Some(kind @ (Kind::Key | Kind::Trust)), _, true) => format!("no statement of the {kind} allows it"),
        (Some(kind), false, false) => format!("the {kind} delegates to the account, but no identity policy allows it"),
        (_, false, _) if is_iam => "no identity policy allows it".to_string(),
        (None, _, _) => "no resource policy allows the service".to_string(),
        (Some(kind), _, _) => format!("no statement of the {kind} allows it"),
    };
    Decision {
        verdict: Verdict::Denied,
        because: Vec::new(),
        missing: Some(missing),
    }
}

fn cite(st: &Statement, policy: &Policy) -> Cited {
    Cited {
        source: policy.source.clone(),
        sid: st.sid.clone(),
        effect: format!("{:?}", st.effect),
    }
}

fn push(st: &Statement, policy: &Policy, denies: &mut Vec<Cited>, allows: &mut Vec<Cited>) {
    match st.effect {
        Effect::Deny => denies.push(cite(st, policy)),
        Effect::Allow => allows.push(cite(st, policy)),
    }
}

/// Does the statement's `Principal` name the caller, and how? `None` when it does not (or has none).
fn principal(st: &Statement, caller: &Caller) -> Option<Named> {
    let p = st.principals.as_ref()?;
    let mut best = None;
    for (kind, id) in &p.values {
        let named = match (kind.as_str(), id.as_str(), caller) {
            ("*", "*", _) | ("AWS", "*", Caller::Iam { .. }) => Some(Named::Directly),
            ("AWS", id, Caller::Iam { arn, account }) => {
                if id == arn {
                    Some(Named::Directly)
                } else if id == account || is_root_of(id, account) {
                    if is_root_of(arn, account) {
                        Some(Named::Directly)
                    } else {
                        Some(Named::ByAccount)
                    }
                } else {
                    None
                }
            }
            ("Service", id, Caller::Service { name }) if id == name => Some(Named::Directly),
            _ => None,
        };
        best = match (best, named) {
            (Some(Named::Directly), _) | (_, Some(Named::Directly)) => Some(Named::Directly),
            (a, b) => a.or(b),
        };
    }
    if p.not {
        // NotPrincipal: everyone but the named; only ever used with Deny.
        return if best.is_some() { None } else { Some(Named::Directly) };
    }
    best
}

fn is_root_of(arn: &str, account: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4] == account && parts[5] == "root"
}

/// Do the statement's action, resource and conditions cover the request? `Err` names a construct the
/// proof does not understand (only when the action matches, so it matters).
fn applies(st: &Statement, req: &Request<'_>, kind: Option<Kind>) -> Result<bool, String> {
    if !patterns(&st.actions, req.action, true) {
        return Ok(false);
    }
    let sid = st.sid.as_deref().unwrap_or("(no Sid)");
    let opaque = |v: &str| v.contains("unknown:::::") || v.contains("${");
    if let Some(res) = &st.resources {
        if let Some(v) = res.values.iter().find(|v| opaque(v))
            && !patterns(res, req.resource, false)
        {
            return Err(format!("statement {sid}: resource {v:?} is not known before apply"));
        }
        // In a key policy "*" means the key itself; in others the resource must match.
        if kind != Some(Kind::Key) && !patterns(res, req.resource, false) {
            return Ok(false);
        }
    }
    for c in &st.conditions {
        if let Some(v) = c.values.iter().find(|v| opaque(v)) {
            return Err(format!(
                "statement {sid}: condition {} {} {v:?} is not known before apply",
                c.operator, c.key
            ));
        }
        if !condition(c, req.context).map_err(|e| format!("statement {sid}: {e}"))? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn patterns(p: &Patterns, value: &str, case_insensitive: bool) -> bool {
    let any = p.values.iter().any(|pat| matches(pat, value, case_insensitive));
    any != p.not
}

/// `*` matches any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    matches(pattern, text, false)
}

/// [`glob`], optionally ignoring ASCII case (IAM actions), without allocating.
fn matches(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let eq = |a: char, b: char| a == b || (case_insensitive && a.eq_ignore_ascii_case(&b));
    if pattern.is_ascii() && text.is_ascii() {
        // One byte is one character: index the bytes.
        let (p, t) = (pattern.as_bytes(), text.as_bytes());
        return wildcard(p.len(), t.len(), |pi| p[pi] as char, |ti| t[ti] as char, eq);
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    wildcard(p.len(), t.len(), |pi| p[pi], |ti| t[ti], eq)
}

/// The wildcard match over `plen` pattern and `tlen` text characters, read through `p` and `t`.
fn wildcard(
    plen: usize,
    tlen: usize,
    p: impl Fn(usize) -> char,
    t: impl Fn(usize) -> char,
    eq: impl Fn(char, char) -> bool,
) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < tlen {
        if pi < plen && (p(pi) == '?' || (p(pi) != '*' && eq(p(pi), t(ti)))) {
            pi += 1;
            ti += 1;
        } else if pi < plen && p(pi) == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < plen && p(pi) == '*' {
        pi += 1;
    }
    pi == plen
}

/// ARN matching: each of the six `:`-separated parts is matched on its own (the last keeps its colons).
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

/// One condition against the request context.
fn condition(c: &Condition, context: &BTreeMap<String, Vec<String>>) -> Result<bool, String> {
    let (set, op) = match c.operator.split_once(':') {
        Some((set @ ("ForAnyValue" | "ForAllValues"), op)) => (Some(set), op),
        Some(_) => return Err(format!("condition operator {} is not understood", c.operator)),
        None => (None, c.operator.as_str()),
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (op, false),
    };
    let present = context.get(&c.key.to_ascii_lowercase());
    if op == "Null" {
        let want_absent = c.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return Ok(want_absent == present.is_none_or(Vec::is_empty));
    }
    let (negated, test): (bool, fn(&str, &str) -> bool) = match op {
        "StringEquals" => (false, |p, v| p == v),
        "StringNotEquals" => (true, |p, v| p == v),
        "StringEqualsIgnoreCase" => (false, |p, v| p.eq_ignore_ascii_case(v)),
        "StringNotEqualsIgnoreCase" => (true, |p, v| p.eq_ignore_ascii_case(v)),
        "StringLike" => (false, glob),
        "StringNotLike" => (true, glob),
        "ArnEquals" | "ArnLike" => (false, arn_like),
        "ArnNotEquals" | "ArnNotLike" => (true, arn_like),
        "Bool" => (false, |p, v| p.eq_ignore_ascii_case(v)),
        other => return Err(format!("condition operator {other} is not understood")),
    };
    let Some(values) = present.filter(|v| !v.is_empty()) else {
        // A missing key: true with IfExists, for a negated operator, or for ForAllValues; else false.
        return Ok(if_exists || negated || set == Some("ForAllValues"));
    };
    let matches = |v: &String| c.values.iter().any(|p| test(p, v));
    Ok(match set {
        Some("ForAllValues") => values.iter().all(|v| matches(v) != negated),
        Some(_) => values.iter().any(|v| matches(v) != negated),
        None => values.iter().any(matches) != negated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(glob("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"));
        assert!(glob("a*", "a*b"));
        assert!(glob("s3:Get?bject", "s3:GetObject"));
        assert!(!glob("s3:Get?bject", "s3:GetObjects"));
        assert!(!glob("s3:GetObject", "s3:getobject"));
        assert!(matches("S3:GETOBJECT*", "s3:GetObjectVersion", true));
        assert!(glob("é*ü", "éaaü"));
        assert!(glob("?", "é"));
        assert!(!glob("??", "é"));
        assert!(glob("*", ""));
        assert!(!glob("", "a"));
    }
}
