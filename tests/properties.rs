//! Never a panic: random and mutated specs go through parse → validate → resolve → render → format.
//! Whatever validates must also render, and its output must parse and be in canonical format.
//!
//! 10,000 cases by default (6,000 generated specs, 4,000 mutated texts); `PROPTEST_CASES` scales both.

mod support;

use support::specs::{agents_file, env_spec};

use proptest::test_runner::{Config, TestRunner};
use tfgen::load::{Inputs, Overrides};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(default, |n| n * default / 10_000)
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
                if path.ends_with(".py") {
                    // The smoke check: the agents it embeds are JSON in a raw string (tests/render.rs has
                    // Python parse the whole file for every fixture).
                    let agents = support::smoke_agents(text);
                    let parsed: Result<serde_json::Value, _> = serde_json::from_str(agents);
                    assert!(parsed.is_ok(), "{path}'s agents are not JSON: {agents}");
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
