//! ARNs as a spec writes them, `arn:<partition>:<service>:<region>:<account>:<resource>`: split into their
//! parts, with the account and an ID-suffixed resource checked for shape. It knows no service's rules;
//! the spec sections say which service, region and resource they expect.

/// The parts of an ARN whose partition is an AWS one (`aws`, `aws-cn`, `aws-us-gov`, ...) and whose
/// account is empty or 12 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// `None` unless `text` has all six parts, an AWS partition and an empty or 12-digit account.
    pub fn parse(text: &'a str) -> Option<Self> {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let ["arn", partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        let account_ok = account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
        (partition.starts_with("aws") && account_ok).then_some(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// An ARN of `service` in an account, whose resource is `<kind>/<UUID>` (an ACM certificate, a
    /// Private CA).
    pub fn parse_uuid_resource(text: &'a str, service: &str, kind: &str) -> Option<Self> {
        Self::parse(text).filter(|a| {
            a.service == service
                && !a.account.is_empty()
                && a.resource
                    .strip_prefix(kind)
                    .and_then(|r| r.strip_prefix('/'))
                    .is_some_and(|id| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Arn;

    #[test]
    fn parts_and_shapes() {
        let ca = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
        let a = Arn::parse_uuid_resource(ca, "acm-pca", "certificate-authority").unwrap();
        assert_eq!((a.region, a.account), ("eu-west-1", "111122223333"));
        assert!(Arn::parse_uuid_resource(ca, "acm", "certificate").is_none());
        assert!(
            Arn::parse_uuid_resource(&ca.replace("111122223333", "1111"), "acm-pca", "certificate-authority").is_none()
        );
        assert!(Arn::parse("arn:aws:iam::111122223333:role/x").is_some_and(|a| a.region.is_empty()));
        assert!(Arn::parse("arn:gcp:iam::111122223333:role/x").is_none());
        assert!(Arn::parse("arn:aws:iam:111122223333:role/x").is_none());
    }
}
