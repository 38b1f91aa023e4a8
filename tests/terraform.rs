//! Ground truth: the real `terraform` with the real AWS provider validates and formats the output.
//! These tests fail (never skip) when Terraform is missing; see `support::terraform`.

mod support;

use support::{compile, inputs, tf, tf_ok, us_east_1_variant, write_tree};
use tfgen::load::Inputs;

fn validate(inputs: &Inputs) {
    let tree = compile(inputs);
    let dir = tempfile::tempdir().unwrap();
    write_tree(&tree, dir.path());
    tf_ok(dir.path(), &["init", "-backend=false", "-input=false", "-no-color"]);
    let out = tf_ok(dir.path(), &["validate", "-no-color"]);
    assert!(out.contains("The configuration is valid"), "{out}");
    // `terraform fmt` must have nothing to change.
    let fmt = tf(dir.path(), &["fmt", "-check", "-recursive", "-list=true", "-no-color"]);
    assert!(
        fmt.status.success(),
        "terraform fmt would change: {}{}",
        String::from_utf8_lossy(&fmt.stdout),
        String::from_utf8_lossy(&fmt.stderr)
    );
}

#[test]
fn dev_is_valid_terraform() {
    validate(&inputs("dev"));
}

#[test]
fn prod_is_valid_terraform() {
    validate(&inputs("prod"));
}

#[test]
fn us_east_1_variant_is_valid_terraform() {
    validate(&us_east_1_variant());
}

#[test]
fn committed_trees_are_fmt_clean() {
    for env in ["dev", "prod"] {
        let dir = support::root().join("generated").join(env);
        let out = tf(&dir, &["fmt", "-check", "-recursive", "-no-color"]);
        assert!(
            out.status.success(),
            "terraform fmt -check failed on generated/{env}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn renamed_agent_moved_blocks_are_valid_terraform() {
    let base = inputs("dev");
    let agents = base.agents.text.replace(
        "name = \"troubleshooting\"",
        "name = \"tech-support\"\nrenamed_from = \"troubleshooting\"",
    );
    let renamed = Inputs::from_text("dev", &base.env.text, &agents, tfgen::load::Overrides::default());
    let tree = compile(&renamed);
    assert_eq!(
        tfgen::addresses::moved_blocks(&tree).unwrap().len(),
        tfgen::addresses::AGENT_KEYED.len()
    );
    validate(&renamed);
}

/// Any sensible environment name works with the plan's five agents: `staging`, `qa-eu-west-1` and the
/// longest allowed name render (names over an AWS limit shortened, with a warning naming both), every
/// derived name fits its limit and stays distinct, and the trees pass `terraform validate`.
#[test]
fn other_environment_names_render_and_validate() {
    let dev = inputs("dev");
    let longest = "integration-eu-west1";
    assert_eq!(longest.len(), tfgen::names::EnvName::MAX_LEN);
    for env in ["staging", "qa-eu-west-1", longest] {
        let named = Inputs::from_text(env, &dev.env.text, &dev.agents.text, tfgen::load::Overrides::default());
        let compiled = match tfgen::compile(&named) {
            Ok(c) => c,
            Err(e) => panic!("{env} does not compile: {e:?}"),
        };
        let mut seen = std::collections::BTreeSet::new();
        for agent in &compiled.model.agents {
            for (kind, name) in agent.names.all() {
                assert!(name.len() <= kind.limit(), "{env}: `{name}` exceeds {}", kind.limit());
                assert!(seen.insert(name.to_string()), "{env}: `{name}` is derived twice");
            }
        }
        for (kind, name) in compiled.model.names.all() {
            assert!(name.len() <= kind.limit(), "{env}: `{name}` exceeds {}", kind.limit());
        }
        // Every shortened name is shown, full and short, in a warning.
        let tg = &compiled
            .model
            .agents
            .iter()
            .find(|a| a.name.as_str() == "product-recommendation")
            .unwrap()
            .names
            .target_group;
        let full = format!("{env}-product-recommendation-tg");
        if full.len() > 32 {
            let warned = compiled
                .warnings
                .iter()
                .any(|d| d.summary.contains(&format!("`{full}`")) && d.summary.contains(&format!("`{tg}`")));
            assert!(warned, "{env}: no warning names `{full}` → `{tg}`");
        } else {
            assert_eq!(tg, &full);
        }
        validate(&named);
    }
}
