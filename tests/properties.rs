//! Never a panic: random and mutated specs go through parse → validate → resolve → render → format.
//! Whatever validates must also render, and its output must parse and be in canonical format.
//!
//! 10,000 cases by default (6,000 generated specs, 4,000 mutated texts); `PROPTEST_CASES` scales both.

mod support;

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tfgen::load::{Inputs, Overrides};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(default, |n| n * default / 10_000)
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(items)
}

/// An optional `key = value` line: usually absent or valid, sometimes invalid.
fn line(key: &'static str, valid: &'static [&'static str], invalid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(String::new()),
        7 => one_of(valid).prop_map(move |v| format!("{key} = {v}\n")),
        1 => one_of(invalid).prop_map(move |v| format!("{key} = {v}\n")),
    ]
    .boxed()
}

fn env_spec() -> impl Strategy<Value = String> {
    let top = (
        line(
            "region",
            &["\"eu-west-1\"", "\"us-east-1\"", "\"ap-south-2\""],
            &["\"sa-east-1\"", "\"il-central-1\"", "\"xx\"", "1"],
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
        line("az_count", &["2", "3"], &["1", "6", "0", "-4", "99999999999"]),
        line("nat", &["\"single\"", "\"per-az\""], &["\"both\""]),
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
            &["\"15.10\"", "\"16.8\"", "\"17.7\""],
            &["\"15.3\"", "\"14.13\"", "\"99\"", "\"a.b\""],
        ),
        line(
            "min_acu",
            &["0.5", "1", "2.5"],
            &["0.75", "-1", "300", "nan", "inf", "0"],
        ),
        line("max_acu", &["4", "256", "16"], &["0.5", "257", "1e308"]),
        line("instances", &["1", "2"], &["0", "17"]),
        line("backup_retention_days", &["7", "35"], &["0", "36"]),
        line("deletion_protection", &["true", "false"], &["\"no\""]),
        line("database_name", &["\"app\"", "\"_x1\""], &["\"App-DB\"", "\"\""]),
    );
    let rest = (
        line(
            "model",
            &["\"anthropic.claude-3-7-sonnet-20250219-v1:0\"", "\"vendor.unknown-v9\""],
            &["\"us.anthropic.claude-3-7-sonnet-20250219-v1:0\"", "\"x\"", "\"apac.\""],
        ),
        line(
            "certificate_arn",
            &["\"arn:aws:acm:eu-west-1:123456789012:certificate/5f1c9f4e-8b0a-4c3e-9d2a-6e7f8a9b0c1d\""],
            &["\"arn\""],
        ),
        line("email", &["\"a@b.co\""], &["\"nope\"", "\"a@.b\""]),
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
        |((r, s, i), (v, a, n, pu, pr), (e, mi, ma, ins, b, dp, dn), (m, c, em, rep, t, l, cpu, mem, d, mx), agent)| {
            // Required keys default to valid values when the generator left them out.
            let r = if r.is_empty() { "region = \"eu-west-1\"\n".to_string() } else { r };
            let s = if s.is_empty() { "sizing = \"dev\"\n".to_string() } else { s };
            let i = if i.is_empty() { "image_tag = \"1.0.0\"\n".to_string() } else { i };
            format!(
                "{r}{s}{i}\n[network]\n{v}{a}{n}{pu}{pr}\n[database]\n{e}{mi}{ma}{ins}{b}{dp}{dn}\n[bedrock]\n{m}\n[alb]\n{c}\n\
                 [alarms]\n{em}\n[ecr]\n{rep}\n[deployment]\n{t}{l}\n[agents.{agent}]\n{cpu}{mem}{d}{mx}"
            )
        },
    )
}

fn agents_file() -> impl Strategy<Value = String> {
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
        proptest::option::of(one_of(&["\"/health\"", "\"health\"", "\"\""])),
        proptest::option::of(one_of(&["\"supervisor\"", "\"old-name\"", "\"Bad\""])),
    )
        .prop_map(|(name, port, paths, health, renamed)| {
            let mut s = format!("[[agent]]\nname = \"{name}\"\nport = {port}\npaths = {paths}\n");
            if let Some(h) = health {
                let _ = writeln!(s, "health_check_path = {h}");
            }
            if let Some(r) = renamed {
                let _ = writeln!(s, "renamed_from = {r}");
            }
            s
        });
    proptest::collection::vec(agent, 0..7).prop_map(|v| v.join("\n"))
}

/// Runs the pipeline; panics (failing the property) only on a tfgen bug.
fn exercise(env: &str, agents: &str) {
    let inputs = Inputs::from_text("dev", env, agents, Overrides::default());
    let checked = tfgen::validate_spec(&inputs);
    match tfgen::compile(&inputs) {
        Ok(compiled) => {
            assert!(checked.is_ok(), "compile succeeded where check failed");
            for (path, text) in &compiled.tree.files {
                if path.ends_with(".md") {
                    assert!(text.starts_with(tfgen::vfs::MD_HEADER_MARK), "{path} lacks the header");
                    continue;
                }
                assert!(hcl::parse(text).is_ok(), "{path} does not parse");
                assert_eq!(&tfgen::format::format_hcl(text), text, "{path} not canonical");
            }
        }
        Err(tfgen::CompileError::Spec(diags)) => {
            assert!(checked.is_err(), "check passed but compile reported spec errors");
            assert!(diags.has_errors());
            let _ = diags.render(tfgen::diag::Style::Color);
        }
        Err(tfgen::CompileError::Internal(e)) => {
            panic!("a spec that validates must render: {e:#}\n--- env\n{env}\n--- agents\n{agents}")
        }
    }
}

#[test]
fn generated_specs_never_panic_and_valid_ones_render() {
    let shared = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: cases(6_000),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (env_spec(), proptest::option::weighted(0.2, agents_file()));
    let rendered = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(env, agents)| {
            let agents = agents.unwrap_or_else(|| shared.clone());
            exercise(&env, &agents);
            let inputs = Inputs::from_text("dev", &env, &agents, Overrides::default());
            if tfgen::validate_spec(&inputs).is_ok() {
                rendered.set(rendered.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    // The generator must reach the renderer often enough for "whatever validates renders" to mean something.
    let rendered = rendered.get();
    eprintln!("{rendered} of {} generated specs validated and rendered", cases(6_000));
    assert!(
        rendered > cases(6_000) / 50,
        "only {rendered} generated specs were valid"
    );
}

#[test]
fn mutated_specs_never_panic() {
    let root = support::root();
    let sources: Vec<String> = ["dev.toml", "prod.toml", "agents.toml"]
        .iter()
        .map(|f| std::fs::read_to_string(root.join("environments").join(f)).unwrap())
        .collect();
    let agents = sources[2].clone();
    let edit = (
        0usize..4000,
        0u8..4,
        proptest::sample::select(&["\"", "=", "[", "]", "\n", "#", "x", "0", ".", "{", "é", "\\", "-", " "][..]),
    );
    let strategy = (0usize..3, proptest::collection::vec(edit, 1..6));
    let mut runner = TestRunner::new(Config {
        cases: cases(4_000),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(which, edits)| {
            let mut text = sources[which].clone();
            for (pos, op, s) in edits {
                let mut at = pos % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match op {
                    0 => text.insert_str(at, s),
                    1 => {
                        let end = text[at..].char_indices().nth(3).map_or(text.len(), |(i, _)| at + i);
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                        text.replace_range(at..end, s);
                    }
                }
            }
            match which {
                2 => exercise(&sources[0], &text),
                _ => exercise(&text, &agents),
            }
            Ok(())
        })
        .unwrap();
}
