//! The one home of AWS facts: every table tfgen checks a spec against, each with the page it was
//! copied from and the date it was checked. Pure data and pure lookups; nothing here reports a
//! diagnostic or renders anything (the spec sections' checks do, by calling these functions).
//!
//! When AWS changes, update the table here and its `Checked` date; nothing else restates these facts
//! (tests hold the child modules' copies under `modules/` equal to them).

pub mod aurora;
pub mod bedrock;
pub mod fargate;
pub mod limits;
pub mod logs;
pub mod provider;
pub mod quotas;
pub mod regions;
pub mod s3;
pub mod service_connect;
pub mod tables;

/// When a table was last compared with its source page.
pub const CHECKED: &str = "2026-11-25";

/// Account IDs that AWS's documentation uses in examples, and `000000000000` (emulators, templates): an ARN
/// in one of them is a placeholder, and whatever names it fails at apply. Source: the IAM User Guide's
/// examples (`123456789012`, `111122223333`, `444455556666`, `777788889999`) and the AWS General Reference,
/// "Amazon Resource Names"; checked 2026-12-07.
pub const EXAMPLE_ACCOUNTS: &[&str] = &[
    "123456789012",
    "111122223333",
    "444455556666",
    "777788889999",
    "000000000000",
];

/// Domains reserved for examples (RFC 2606 and RFC 6761): mail to them reaches no one.
pub fn is_placeholder_domain(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    ["example.com", "example.net", "example.org"]
        .iter()
        .any(|x| d == *x || d.ends_with(&format!(".{x}")))
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|tld| d.ends_with(tld))
}
