//! Render tests: snapshots of the rendered root module for every fixture, and the invariants every
//! output must satisfy (deterministic, parses, already formatted, carries the generated header).

mod support;

use std::fmt::Write as _;
use std::path::Path;

use tfgen::format::format_hcl;
use tfgen::load::{Inputs, Overrides};
use tfgen::vfs::{HEADER_MARK, Tree};

fn fixture_inputs(path: &Path) -> Inputs {
    let env = path.file_stem().unwrap().to_str().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let agents = std::fs::read_to_string(support::root().join("environments/agents.toml")).unwrap();
    Inputs::from_text(env, &text, &agents, Overrides::default())
}

/// What a snapshot shows: the root module in full, and the child modules' file list.
fn snapshot_text(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, text) in &tree.files {
        if path.contains('/') {
            let _ = writeln!(out, "--- {path} ({} lines)", text.lines().count());
        }
    }
    for (path, text) in &tree.files {
        if !path.contains('/') {
            let _ = write!(out, "=== {path}\n{text}");
        }
    }
    out
}

fn assert_invariants(inputs: &Inputs, tree: &Tree) {
    let again = support::compile(inputs);
    assert_eq!(tree, &again, "rendering twice gave different bytes");
    for (path, text) in &tree.files {
        assert!(text.starts_with(HEADER_MARK), "{path} lacks the generated header");
        assert!(
            text.contains(&inputs.env.name),
            "{path}'s header does not name its spec"
        );
        hcl::parse(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        assert_eq!(&format_hcl(text), text, "{path} is not in canonical format");
        assert!(
            !text.contains('\t') && !text.contains(" \n"),
            "{path} has tabs or trailing spaces"
        );
    }
}

#[test]
fn fixtures_render_as_snapshotted() {
    insta::glob!("fixtures/valid/*.toml", |path| {
        let inputs = fixture_inputs(path);
        let tree = support::compile(&inputs);
        assert_invariants(&inputs, &tree);
        insta::assert_snapshot!(snapshot_text(&tree));
    });
}

#[test]
fn committed_environments_satisfy_the_invariants() {
    for env in ["dev", "prod"] {
        let inputs = support::inputs(env);
        let tree = support::compile(&inputs);
        assert_invariants(&inputs, &tree);
    }
}

#[test]
fn committed_trees_are_up_to_date() {
    for env in ["dev", "prod"] {
        let tree = support::compile(&support::inputs(env));
        let on_disk = Tree::read_generated(&support::root().join("generated").join(env)).unwrap();
        let d = tfgen::diff::diff(&on_disk, &tree, env).unwrap();
        assert!(
            d.is_empty(),
            "generated/{env} is stale; run `cargo run -- render {env}`:\n{}",
            tfgen::diff::render_stat(&d)
        );
    }
}

#[test]
fn bedrock_model_id_override_is_recorded() {
    let mut inputs = support::inputs("dev");
    inputs.overrides.bedrock_model_id = Some("eu.anthropic.claude-3-haiku-20240307-v1:0".into());
    let tree = support::compile(&inputs);
    let main = tree.get("main.tf").unwrap();
    assert!(
        main.contains(r#"bedrock_model_id = "eu.anthropic.claude-3-haiku-20240307-v1:0""#),
        "{main}"
    );
    assert!(main.contains(r#"bedrock_model_source = "env_var""#));
    let default = support::compile(&support::inputs("dev"));
    assert!(
        default
            .get("main.tf")
            .unwrap()
            .contains(r#"bedrock_model_source = "default""#)
    );
}

#[test]
fn region_picks_the_inference_profile() {
    for (region, prefix) in [("us-west-2", "us"), ("eu-north-1", "eu"), ("ap-south-1", "apac")] {
        let mut inputs = support::inputs("dev");
        let text = inputs
            .env
            .text
            .replace("region = \"eu-west-1\"", &format!("region = \"{region}\""));
        inputs = Inputs::from_text("dev", &text, &inputs.agents.text, Overrides::default());
        let main = support::compile(&inputs).files["main.tf"].clone();
        assert!(
            main.contains(&format!("\"{prefix}.anthropic.claude-3-7-sonnet-20250219-v1:0\"")),
            "{region}: {main}"
        );
    }
}

#[test]
fn adding_an_agent_is_one_entry() {
    let inputs = support::inputs("dev");
    let agents = format!(
        "{}\n[[agent]]\nname = \"billing\"\nport = 8005\npaths = [\"/billing/*\"]\n",
        inputs.agents.text
    );
    let inputs = Inputs::from_text("dev", &inputs.env.text, &agents, Overrides::default());
    let tree = support::compile(&inputs);
    let main = tree.get("main.tf").unwrap();
    for name in [
        "dev-billing-cluster",
        "dev-billing-service",
        "dev-billing-tg",
        "dev/billing-agent",
        "/aws/ecs/dev/billing",
    ] {
        assert!(main.contains(name), "missing {name}");
    }
}
