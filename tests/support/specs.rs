//! Spec generators shared by the property tests: random `environments/<env>.toml` and `agents.toml`
//! texts, mostly valid, sometimes not. `tests/properties.rs` sends them through the pipeline;
//! `tests/accepted_specs.rs` sends the ones tfgen accepts through `terraform validate`.

use std::fmt::Write as _;

use proptest::prelude::*;

pub fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(items)
}

/// An optional `key = value` line: usually absent or valid, sometimes invalid.
pub fn line(
    key: &'static str,
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
) -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(String::new()),
        7 => one_of(valid).prop_map(move |v| format!("{key} = {v}\n")),
        1 => one_of(invalid).prop_map(move |v| format!("{key} = {v}\n")),
    ]
    .boxed()
}

pub fn env_spec() -> impl Strategy<Value = String> {
    let top = (
        line(
            "region",
            &[
                "\"eu-west-1\"",
                "\"us-east-1\"",
                "\"ap-south-1\"",
                "\"us-west-2\"",
                "\"eu-central-1\"",
                "\"ap-northeast-1\"",
                "\"ap-southeast-2\"",
            ],
            // us-west-1 and sa-east-1 are valid with a Claude 4.x model only.
            &[
                "\"us-west-1\"",
                "\"sa-east-1\"",
                "\"il-central-1\"",
                "\"ap-south-2\"",
                "\"xx\"",
                "1",
            ],
        ),
        line("sizing", &["\"dev\""], &["\"prod\"", "\"prd\"", "true"]),
        line(
            "image_tag",
            &["\"1.0.0\"", "\"sha-abc_1\""],
            &["\"latest\"", "\"\"", "\"-x\"", "\"a b\"", "7"],
        ),
    );
    let network = (
        line(
            "vpc_cidr",
            &["\"10.0.0.0/16\"", "\"10.0.0.0/24\"", "\"172.16.0.0/20\""],
            &["\"10.0.0.0/27\"", "\"10.0.0.1/16\"", "\"x\"", "\"10.0.0.0/8\""],
        ),
        // 4 and 6 are valid only where the Region has that many AZs (us-east-1).
        line("az_count", &["2", "3"], &["4", "6", "1", "7", "0", "-4", "99999999999"]),
        line("nat", &["\"single\"", "\"per-az\"", "\"instance\""], &["\"both\""]),
        line(
            "public_subnets",
            &["[\"10.0.1.0/24\", \"10.0.2.0/24\"]"],
            &["[\"10.0.1.0/24\"]", "[]", "[\"10.0.0.0/16\", \"10.0.0.0/16\"]", "[1]"],
        ),
        line(
            "private_subnets",
            &["[\"10.0.10.0/24\", \"10.0.20.0/24\"]"],
            &[
                "[\"192.168.0.0/24\", \"10.0.1.0/24\"]",
                "[\"10.0.0.0/29\", \"10.0.0.8/29\"]",
            ],
        ),
    );
    let database = (
        line(
            "engine_version",
            &["\"15.10\"", "\"16.8\"", "\"17.7\"", "\"14.13\"", "\"15.6\""],
            &["\"15.3\"", "\"13.10\"", "\"99\"", "\"a.b\""],
        ),
        line(
            "min_acu",
            &["0.5", "1", "2.5", "0"],
            &["0.75", "-1", "300", "nan", "inf"],
        ),
        line("max_acu", &["4", "256", "16"], &["0.5", "257", "1e308"]),
        line("auto_pause_seconds", &["300", "86400"], &["299", "86401"]),
        line("instances", &["1", "2"], &["0", "17"]),
        line("backup_retention_days", &["7", "35"], &["0", "36"]),
        line("deletion_protection", &["true", "false"], &["\"no\""]),
        line(
            "database_name",
            &["\"app\"", "\"a_1\""],
            &["\"App-DB\"", "\"\"", "\"_x1\""],
        ),
    );
    let rest = (
        line(
            "model",
            &[
                "\"anthropic.claude-sonnet-4-5-20250929-v1:0\"",
                "\"anthropic.claude-sonnet-4-20250514-v1:0\"",
                "\"eu.anthropic.claude-sonnet-4-5-20250929-v1:0\"",
                "\"global.anthropic.claude-sonnet-4-5-20250929-v1:0\"",
                "\"anthropic.claude-haiku-4-5-20251001-v1:0\"",
                "\"jp.anthropic.claude-sonnet-4-5-20250929-v1:0\"",
                "\"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0\"",
            ],
            &[
                "\"us.anthropic.claude-3-7-sonnet-20250219-v1:0\"",
                "\"anthropic.claude-3-7-sonnet-20250219-v1:0\"",
                "\"x\"",
                "\"apac.\"",
                "\"vendor.unknown-v9\"",
            ],
        ),
        line(
            "certificate_arn",
            &["\"arn:aws:acm:eu-west-1:123456789012:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d\""],
            &["\"arn\""],
        ),
        line("email", &["\"a@b.co\""], &["\"nope\"", "\"a@.b\""]),
        line("container_insights", &["true", "false"], &["\"yes\""]),
        line(
            "replication_regions",
            &["[\"ca-central-1\"]", "[]"],
            &["[\"x\", \"x\"]"],
        ),
        line("cpu_target_percent", &["70", "1", "100"], &["0", "101"]),
        line("log_retention_days", &["30", "3653"], &["45"]),
        line("cpu", &["1024"], &["256", "300", "16384"]),
        line("memory", &["2048", "8192"], &["512", "122880", "0"]),
        line("desired_count", &["0", "1", "2"], &["-1", "5000"]),
        line("max_count", &["4", "1000"], &["0", "1001"]),
    );
    (top, network, database, rest, one_of(&["supervisor", "order-management", "supervisor", "personalization", "ghost"])).prop_map(
        |((r, s, i), (v, a, n, pu, pr), (e, mi, ma, ap, ins, b, dp, dn), (m, c, em, ci, rep, t, l, cpu, mem, d, mx), agent)| {
            // Required keys default to valid values when the generator left them out.
            let r = if r.is_empty() { "region = \"eu-west-1\"\n".to_string() } else { r };
            let s = if s.is_empty() { "sizing = \"dev\"\n".to_string() } else { s };
            let i = if i.is_empty() { "image_tag = \"1.0.0\"\n".to_string() } else { i };
            // The auto-pause delay goes with a minimum of 0 ACU (elsewhere it is an error, so keep it rare).
            let ap = if mi == "min_acu = 0\n" || (ap.contains("299") && ma.is_empty()) { ap } else { String::new() };
            format!(
                "{r}{s}{i}\n[network]\n{v}{a}{n}{pu}{pr}\n[database]\n{e}{mi}{ma}{ap}{ins}{b}{dp}{dn}\n[bedrock]\n{m}\n[alb]\n{c}\n\
                 [alarms]\n{em}{ci}\n[ecr]\n{rep}\n[deployment]\n{t}{l}\n[agents.{agent}]\n{cpu}{mem}{d}{mx}"
            )
        },
    )
}

pub fn agents_file() -> impl Strategy<Value = String> {
    let agent = (
        one_of(&[
            "supervisor",
            "order-management",
            "a",
            "Bad_Name",
            "x-",
            "product-recommendation-and-more-words",
            "billing",
        ]),
        one_of(&["8000", "8001", "0", "5432", "70000", "-1", "\"80\""]),
        one_of(&[
            "[\"/\"]",
            "[\"/order/*\"]",
            "[]",
            "[\"no-slash\"]",
            "[\"/a\", \"/b\", \"/c\", \"/d\", \"/e\", \"/f\"]",
            "[\"/x y\"]",
        ]),
        proptest::option::of(one_of(&["\"/health\"", "\"/health?full=1\"", "\"health\"", "\"\""])),
        proptest::option::of(one_of(&["\"supervisor\"", "\"old-name\"", "\"Bad\""])),
        proptest::option::of(one_of(&[
            "[\"order-management\"]",
            "[\"supervisor\", \"billing\"]",
            "[]",
            "[\"ghost\"]",
        ])),
        proptest::option::of(one_of(&[
            "",
            "reads = [\"order-management\"]\n",
            "reads = [\"supervisor\"]\nsqlite_migration = true\n",
            "password_version = 2\n",
            "reads = [\"ghost\"]\n",
            "password_version = 0\n",
        ])),
    )
        .prop_map(|(name, port, paths, health, renamed, calls, database)| {
            let mut s = format!("[[agent]]\nname = \"{name}\"\nport = {port}\npaths = {paths}\n");
            if let Some(h) = health {
                let _ = writeln!(s, "health_check_path = {h}");
            }
            if let Some(r) = renamed {
                let _ = writeln!(s, "renamed_from = {r}");
            }
            if let Some(c) = calls {
                let _ = writeln!(s, "calls = {c}");
            }
            if let Some(d) = database {
                let _ = write!(s, "\n[agent.database]\n{d}");
            }
            s
        });
    proptest::collection::vec(agent, 0..7).prop_map(|v| v.join("\n"))
}
