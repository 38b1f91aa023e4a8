//! The release pipeline (`[pipeline]`), read from the rendered tree: it exists only where a spec asks for
//! it; each stage after the first waits for a manual approval; deploys promote by digest and never build;
//! every role is least-privilege (no wildcard action, every deploy may assume only its own environment's
//! role); artifacts, logs and images are encrypted with the pipeline's key; logs have a retention.

mod support;

use hcl::{Body, Expression};
use support::{PIPELINE_FIXTURE, buildspecs, compile, inputs, script, valid_fixture};

#[test]
fn only_a_spec_with_a_pipeline_renders_one() {
    for env in ["dev", "prod"] {
        let tree = compile(&inputs(env));
        assert!(
            !tree.files.keys().any(|p| p.starts_with("modules/pipeline/")),
            "{env} has no [pipeline] but got its module"
        );
        assert!(!tree.get("main.tf").unwrap().contains("module \"pipeline\""));
    }
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    assert!(tree.get("modules/pipeline/main.tf").is_some());
    assert!(tree.get("main.tf").unwrap().contains("module \"pipeline\""));
}

fn pipeline_call(main_tf: &str) -> Body {
    let body: Body = hcl::parse(main_tf).unwrap();
    body.blocks()
        .find(|b| b.identifier() == "module" && b.labels().first().is_some_and(|l| l.as_str() == "pipeline"))
        .expect("module \"pipeline\"")
        .body
        .clone()
}

#[test]
fn stages_are_promoted_in_order_behind_approvals() {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let call = pipeline_call(tree.get("main.tf").unwrap());
    let stages = call.attributes().find(|a| a.key() == "stages").unwrap().expr().clone();
    let Expression::Array(stages) = stages else {
        panic!("stages is a list")
    };
    let read = |e: &Expression, key: &str| -> Expression {
        let Expression::Object(o) = e else { panic!() };
        o.iter()
            .find(|(k, _)| k.to_string() == key)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let names: Vec<String> = stages
        .iter()
        .map(|s| match read(s, "name") {
            Expression::String(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["dev", "staging", "prod"]);
    let approvals: Vec<bool> = stages
        .iter()
        .map(|s| matches!(read(s, "approval"), Expression::Bool(true)))
        .collect();
    assert_eq!(
        approvals,
        [false, true, true],
        "every stage but the first waits for an approval"
    );

    let module = tree.get("modules/pipeline/main.tf").unwrap();
    // One approval action per approved stage, before (run_order 1) the deploy (run_order 2).
    assert!(module.contains("provider  = \"Manual\""));
    assert!(module.contains("for_each = stage.value.approval ? [stage.value.name] : []"));
    // Deploys pull the release image by digest, retag it and check the environment got the same digest; they
    // never run `docker build`.
    let deploy = module
        .split("resource \"aws_codebuild_project\" \"deploy\"")
        .nth(1)
        .unwrap();
    let deploy = deploy.split("resource \"aws_codepipeline\"").next().unwrap();
    assert!(deploy.contains("@$digest\""), "deploys pull by digest");
    assert!(
        deploy.contains("test \"$pushed\" = \"$digest\""),
        "deploys verify the digest"
    );
    assert!(!deploy.contains("docker build"), "deploys never rebuild");
    assert!(deploy.contains("tfgen render \"$ENVIRONMENT\"") && deploy.contains("terraform apply"));
    assert!(deploy.contains("aws sts assume-role --role-arn \"$DEPLOY_ROLE_ARN\""));
    assert!(
        deploy.contains("grep -q 'backend \"s3\"' backend.tf ||"),
        "a stage without shared state stops"
    );
    // Builds tag with the commit, into repositories whose tags are immutable, and stop on scan findings.
    assert!(module.contains("TAG=\"$(echo \"$COMMIT_ID\" | cut -c1-12)\""));
    assert!(module.contains("image_tag_mutability = \"IMMUTABLE\""));
    assert!(module.contains("aws ecr wait image-scan-complete"));
}

#[test]
fn roles_are_least_privilege_and_everything_is_encrypted() {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let iam = tree.get("modules/pipeline/iam.tf").unwrap();
    for line in iam.lines().filter(|l| l.trim_start().starts_with("actions")) {
        assert!(
            !line.contains("\"*\"") && !line.contains(":*\""),
            "wildcard action: {line}"
        );
    }
    // The only resource "*" is the registry login, which has no resource to scope to.
    let star_resources = iam.matches("resources = [\"*\"]").count();
    let logins = iam.matches("actions   = [\"ecr:GetAuthorizationToken\"]").count();
    assert_eq!(
        star_resources, logins,
        "a resource \"*\" other than ecr:GetAuthorizationToken"
    );
    assert!(
        iam.contains("resources = [each.value.deploy_role_arn]"),
        "each deploy assumes only its role"
    );
    let module = tree.get("modules/pipeline/main.tf").unwrap();
    assert_eq!(module.matches("encryption_key = aws_kms_key.pipeline.arn").count(), 2);
    assert!(module.contains("type = \"KMS\"") && module.contains("enable_key_rotation = true"));
    assert!(module.contains("retention_in_days = var.log_retention_days"));
    assert!(module.contains("kms_master_key_id = aws_kms_key.pipeline.arn"));
}

#[test]
fn buildspecs_are_codebuild_yaml() {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let specs = buildspecs(tree.get("modules/pipeline/main.tf").unwrap());
    let projects: Vec<&str> = specs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(projects, ["build", "deploy"]);
    for (project, spec) in &specs {
        assert_eq!(spec["version"].as_f64(), Some(0.2), "{project}");
        assert_eq!(spec["env"]["shell"].as_str(), Some("bash"), "{project}");
        let script = script(spec);
        assert!(script.contains("set -euo pipefail"), "{project}: {script}");
    }
}

/// tfgen's plan prediction evaluates the pipeline's tree (every function its module calls is in the
/// evaluator), finds the pipeline's instances, and knows what forces each of their types to be replaced.
#[test]
fn the_plan_prediction_reads_the_pipeline_tree() {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let none = std::collections::BTreeMap::new();
    let nothing = std::collections::BTreeSet::new();
    let instances = tfgen::predict::evaluate(
        &tree,
        tfgen::predict::Unknowns {
            identity: &none,
            replaced: &nothing,
            changed: &nothing,
        },
    )
    .expect("the pipeline tree evaluates");
    let types: std::collections::BTreeSet<String> = instances.into_values().map(|i| i.resource_type).collect();
    for wanted in [
        "aws_codebuild_project",
        "aws_codepipeline",
        "aws_codestarconnections_connection",
    ] {
        assert!(types.contains(wanted), "no {wanted} instance in {types:?}");
    }
    let missing: Vec<&String> = types
        .iter()
        .filter(|t| tfgen::aws::provider::force_new(t).is_none())
        .collect();
    assert!(missing.is_empty(), "add these types to FORCE_NEW: {missing:?}");
}
