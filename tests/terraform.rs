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

/// Spot, ARM64 on one agent and the VPC endpoints, all on at once.
#[test]
fn cost_options_are_valid_terraform() {
    validate(&support::valid_fixture("spot"));
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
