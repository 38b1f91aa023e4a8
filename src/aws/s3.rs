//! S3 names a spec may hold: the state bucket's name, and the state object's key as Terraform's S3
//! backend takes it. Rules and lookups only; `[backend]` reports what they find.
//!
//! Bucket names, source: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>
//! ("General purpose bucket naming rules"), checked 2026-12-07. State keys: Terraform 1.11.4's S3 backend,
//! observed with `terraform init` on this machine on 2026-12-07 ("The value must not start or end with
//! \"/\"", "Value must not contain \"//\"").

/// Prefixes AWS reserves: no general purpose bucket name starts with them.
pub const RESERVED_BUCKET_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes AWS reserves (access point aliases, Object Lambda, Multi-Region Access Points, directory and
/// table buckets).
pub const RESERVED_BUCKET_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Why `name` cannot be a general purpose bucket's name, or `None` when it can.
pub fn bucket_name_problem(name: &str) -> Option<String> {
    let charset = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'));
    if !(3..=63).contains(&name.len()) || !charset {
        return Some("a bucket name is 3-63 lowercase letters, digits, `-` and `.`".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("a bucket name starts and ends with a letter or digit".into());
    }
    if name.contains("..") {
        return Some("a bucket name has no two adjacent periods".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("a bucket name is not formatted as an IP address".into());
    }
    if let Some(p) = RESERVED_BUCKET_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        return Some(format!("AWS reserves the prefix `{p}`"));
    }
    if let Some(s) = RESERVED_BUCKET_SUFFIXES.iter().find(|s| name.ends_with(**s)) {
        return Some(format!("AWS reserves the suffix `{s}`"));
    }
    None
}

/// Why Terraform's S3 backend refuses `key` as the state's key, or `None` when it takes it.
pub fn state_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("the key is empty")
    } else if key.starts_with('/') || key.ends_with('/') {
        Some("Terraform's S3 backend refuses a key that starts or ends with `/`")
    } else if key.contains("//") {
        Some("Terraform's S3 backend refuses a key that contains `//`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_awss_rules() {
        for ok in ["my-state", "a.b.c", "tfgen-state-123456789012", "192.168.1.1x"] {
            assert_eq!(bucket_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "ab",
            "My_Bucket",
            "-state",
            "state.",
            "a..b",
            "192.168.1.1",
            "xn--state",
            "sthree-state",
            "amzn-s3-demo-state",
            "state-s3alias",
            "state--ol-s3",
            "state.mrap",
            "state--x-s3",
            "state--table-s3",
        ] {
            assert!(bucket_name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn state_keys_follow_terraforms_s3_backend() {
        assert_eq!(state_key_problem("tfgen/prod/terraform.tfstate"), None);
        for bad in ["", "/a", "a/", "a//b"] {
            assert!(state_key_problem(bad).is_some(), "{bad}");
        }
    }
}
