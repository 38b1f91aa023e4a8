//! The access proof: the evaluator against AWS's documented policy evaluation rules (each case cites the
//! page it comes from), the committed trees decided flow by flow, and `tfgen access` on hand-edited trees.
//! The mutation test is in `tests/access_mutations.rs` (slow).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use tfgen::access::evaluate::{Caller, Documents, Request, Verdict, decide};
use tfgen::access::policy::{Kind, Policy, Source};
use tfgen::access::{self, Report};
use tfgen::vfs::Tree;

const ACCOUNT: &str = "111122223333";

fn policy(kind: Kind, json: &str) -> Policy {
    let source = Source {
        file: "test".to_string(),
        attached_by: "test".to_string(),
        policy: "test".to_string(),
        kind,
    };
    Policy::from_json(source, json).expect("the example parses")
}

fn role(name: &str) -> Caller {
    Caller::Iam {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        account: ACCOUNT.to_string(),
    }
}

fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k.to_ascii_lowercase()).or_default().push((*v).to_string());
    }
    out
}

fn verdict(caller: &Caller, action: &str, resource: &str, context: &[(&str, &str)], docs: &Documents<'_>) -> Verdict {
    let context = ctx(context);
    let req = Request {
        caller,
        action,
        resource,
        resource_account: ACCOUNT,
        context: &context,
    };
    decide(&req, docs).verdict
}

fn identity<'a>(policies: &[&'a Policy]) -> Documents<'a> {
    Documents {
        identity: policies.to_vec(),
        ..Documents::default()
    }
}

// IAM User Guide, "Policy evaluation logic" (reference_policies_evaluation-logic.html): "An explicit deny
// in any policy overrides any allows", and a request with no applicable allow is implicitly denied.
#[test]
fn an_explicit_deny_overrides_any_allow_and_nothing_allowed_is_denied() {
    let allow = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let deny = policy(
        Kind::Identity,
        r#"{"Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let me = role("app");
    let docs = identity(&[&allow, &deny]);
    assert_eq!(
        verdict(&me, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&me, "s3:DeleteObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Denied
    );
    assert_eq!(
        verdict(
            &me,
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-1:1:q",
            &[],
            &identity(&[&deny])
        ),
        Verdict::Denied
    );
}

// IAM User Guide, "IAM JSON policy elements: Action" and "NotAction": action names are case-insensitive
// and take `*` and `?`; NotAction with Allow allows everything but the listed actions.
#[test]
fn actions_match_case_insensitively_with_wildcards_and_not_action() {
    let p = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":["ec2:Describe*","s3:Get?bject"],"Resource":"*"},
                        {"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:sns:*:*:t"}]}"#,
    );
    let me = role("app");
    let docs = identity(&[&p]);
    assert_eq!(verdict(&me, "EC2:describeInstances", "*", &[], &docs), Verdict::Allowed);
    assert_eq!(
        verdict(&me, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&me, "s3:GetObjectAcl", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Denied
    );
    assert_eq!(
        verdict(&me, "sns:Publish", "arn:aws:sns:eu-west-1:1:t", &[], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&me, "iam:PassRole", "arn:aws:sns:eu-west-1:1:t", &[], &docs),
        Verdict::Denied
    );
}

// IAM User Guide, "IAM JSON policy elements: NotResource": the statement applies to every resource but
// the listed ones.
#[test]
fn not_resource_excludes_the_listed_resources() {
    let p = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}]}"#,
    );
    let docs = identity(&[&p]);
    let me = role("app");
    assert_eq!(
        verdict(&me, "s3:GetObject", "arn:aws:s3:::public/k", &[], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&me, "s3:GetObject", "arn:aws:s3:::secret/k", &[], &docs),
        Verdict::Denied
    );
}

// IAM User Guide, "IAM JSON policy elements: Condition operators": "If the key that you specify in a policy
// condition is not present in the request context, the values do not match and the condition is false. If
// the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the
// right key is not present, the condition is true." ...IfExists is true when the key is absent; Null tests
// presence.
#[test]
fn a_missing_key_fails_positive_operators_and_passes_negated_ones() {
    let p = |op: &str| {
        policy(
            Kind::Identity,
            &format!(
                r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"{op}":{{"aws:SourceVpc":"vpc-1"}}}}}}]}}"#
            ),
        )
    };
    let me = role("app");
    let check = |op: &str, context: &[(&str, &str)]| {
        let p = p(op);
        verdict(&me, "s3:GetObject", "arn:aws:s3:::b/k", context, &identity(&[&p]))
    };
    assert_eq!(check("StringEquals", &[]), Verdict::Denied);
    assert_eq!(check("StringNotEquals", &[]), Verdict::Allowed);
    assert_eq!(check("StringNotLike", &[]), Verdict::Allowed);
    assert_eq!(check("StringEqualsIfExists", &[]), Verdict::Allowed);
    assert_eq!(
        check("StringEqualsIfExists", &[("aws:SourceVpc", "vpc-2")]),
        Verdict::Denied
    );
    assert_eq!(check("StringEquals", &[("aws:SourceVpc", "vpc-1")]), Verdict::Allowed);
    // Condition key names are case-insensitive.
    assert_eq!(check("StringEquals", &[("AWS:SOURCEVPC", "vpc-1")]), Verdict::Allowed);
    let null = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}]}"#,
    );
    let docs = identity(&[&null]);
    assert_eq!(
        verdict(&me, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &me,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            &[("aws:TokenIssueTime", "2026-01-01")],
            &docs
        ),
        Verdict::Denied
    );
}

// IAM User Guide, "Condition element": several values for one key are ORed, several keys and operators
// are ANDed. "Set operators for multivalued context keys": ForAllValues is true when the request has no
// value for the key; ForAnyValue is then false.
#[test]
fn values_are_ored_keys_are_anded_and_set_operators_follow_the_documentation() {
    let p = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{
            "StringEquals":{"kms:ViaService":["s3.eu-west-1.amazonaws.com","sns.eu-west-1.amazonaws.com"],"kms:CallerAccount":"111122223333"}}}]}"#,
    );
    let me = role("app");
    let docs = identity(&[&p]);
    let both = [
        ("kms:ViaService", "sns.eu-west-1.amazonaws.com"),
        ("kms:CallerAccount", ACCOUNT),
    ];
    assert_eq!(verdict(&me, "kms:Decrypt", "k", &both, &docs), Verdict::Allowed);
    assert_eq!(verdict(&me, "kms:Decrypt", "k", &both[..1], &docs), Verdict::Denied);
    let all = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["a","b"]}}}]}"#,
    );
    let any = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["a","b"]}}}]}"#,
    );
    assert_eq!(
        verdict(&me, "dynamodb:PutItem", "t", &[], &identity(&[&all])),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&me, "dynamodb:PutItem", "t", &[], &identity(&[&any])),
        Verdict::Denied
    );
    let attrs = [("dynamodb:Attributes", "a"), ("dynamodb:Attributes", "c")];
    assert_eq!(
        verdict(&me, "dynamodb:PutItem", "t", &attrs, &identity(&[&all])),
        Verdict::Denied
    );
    assert_eq!(
        verdict(&me, "dynamodb:PutItem", "t", &attrs, &identity(&[&any])),
        Verdict::Allowed
    );
}

// IAM User Guide, "Condition operators", ARN operators: "Each of the six colon-delimited components of the
// ARN is checked separately and each can include multi-character match wildcards (*) or single-character
// match wildcards (?)."
#[test]
fn arn_like_matches_each_component_on_its_own() {
    let p = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:eu-west-1:111122223333:log-group:*"}}}]}"#,
    );
    let me = role("app");
    let docs = identity(&[&p]);
    let ok = [(
        "kms:EncryptionContext:aws:logs:arn",
        "arn:aws:logs:eu-west-1:111122223333:log-group:/a/b",
    )];
    let other_region = [(
        "kms:EncryptionContext:aws:logs:arn",
        "arn:aws:logs:us-east-1:111122223333:log-group:/a/b",
    )];
    assert_eq!(verdict(&me, "kms:Encrypt", "k", &ok, &docs), Verdict::Allowed);
    assert_eq!(verdict(&me, "kms:Encrypt", "k", &other_region, &docs), Verdict::Denied);
}

// AWS KMS Developer Guide, "Key policies in AWS KMS": "Unless the key policy explicitly allows it, you cannot
// use IAM policies to allow access to a KMS key." With the default key policy's statement for the account
// ("Allows access to the AWS account and enables IAM policies"), an IAM policy does grant it.
#[test]
fn a_key_policy_must_allow_and_may_delegate_to_iam() {
    let iam = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
    );
    let only_admin = policy(
        Kind::Key,
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]}"#,
    );
    let delegates = policy(
        Kind::Key,
        r#"{"Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#,
    );
    let me = role("app");
    let with = |key: &Policy, id: &[&Policy]| {
        let docs = Documents {
            identity: id.to_vec(),
            resource: Some(key),
            ..Documents::default()
        };
        verdict(
            &me,
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/1",
            &[],
            &docs,
        )
    };
    assert_eq!(
        with(&only_admin, &[&iam]),
        Verdict::Denied,
        "IAM alone never grants a key"
    );
    assert_eq!(with(&delegates, &[&iam]), Verdict::Allowed);
    assert_eq!(
        with(&delegates, &[]),
        Verdict::Denied,
        "delegation needs the IAM allow too"
    );
    let admin = role("admin");
    let docs = Documents {
        resource: Some(&only_admin),
        ..Documents::default()
    };
    assert_eq!(
        verdict(&admin, "kms:Decrypt", "k", &[], &docs),
        Verdict::Allowed,
        "named directly: no IAM needed"
    );
}

// IAM User Guide, "Policy evaluation logic" (same account): a request is allowed when either the identity
// policies or a resource-based policy that names the principal allow it. "Cross-account policy evaluation
// logic": both the identity policy in the requesting account and the resource policy must allow.
#[test]
fn same_account_needs_one_allow_and_cross_account_needs_both() {
    let bucket = policy(
        Kind::Resource,
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let reader = role("reader");
    let docs = Documents {
        resource: Some(&bucket),
        ..Documents::default()
    };
    assert_eq!(
        verdict(&reader, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Allowed
    );
    let other = Caller::Iam {
        arn: "arn:aws:iam::444455556666:role/reader".to_string(),
        account: "444455556666".to_string(),
    };
    let cross = policy(
        Kind::Resource,
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let docs = Documents {
        resource: Some(&cross),
        ..Documents::default()
    };
    assert_eq!(
        verdict(&other, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Denied
    );
    let iam = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let docs = Documents {
        identity: vec![&iam],
        resource: Some(&cross),
        ..Documents::default()
    };
    assert_eq!(
        verdict(&other, "s3:GetObject", "arn:aws:s3:::b/k", &[], &docs),
        Verdict::Allowed
    );
}

// IAM User Guide, "Roles terms and concepts" / "IAM JSON policy elements: Principal": a service assumes a
// role only if the role's trust policy names the service; the confused-deputy conditions
// (aws:SourceAccount, aws:SourceArn) must hold.
#[test]
fn a_trust_policy_decides_who_assumes_a_role() {
    let trust = policy(
        Kind::Trust,
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",
            "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#,
    );
    let docs = Documents {
        resource: Some(&trust),
        ..Documents::default()
    };
    let ecs = Caller::Service {
        name: "ecs-tasks.amazonaws.com".to_string(),
    };
    let lambda = Caller::Service {
        name: "lambda.amazonaws.com".to_string(),
    };
    let arn = "arn:aws:iam::111122223333:role/r";
    assert_eq!(
        verdict(&ecs, "sts:AssumeRole", arn, &[("aws:SourceAccount", ACCOUNT)], &docs),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &ecs,
            "sts:AssumeRole",
            arn,
            &[("aws:SourceAccount", "444455556666")],
            &docs
        ),
        Verdict::Denied
    );
    assert_eq!(
        verdict(&lambda, "sts:AssumeRole", arn, &[("aws:SourceAccount", ACCOUNT)], &docs),
        Verdict::Denied
    );
}

// What the proof does not understand, it says so for that request instead of guessing.
#[test]
fn an_unknown_operator_is_reported_not_guessed() {
    let p = policy(
        Kind::Identity,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#,
    );
    let v = verdict(&role("app"), "s3:GetObject", "arn:aws:s3:::b/k", &[], &identity(&[&p]));
    assert!(
        matches!(v, Verdict::Unknown(ref why) if why.contains("DateGreaterThan")),
        "{v:?}"
    );
}

fn committed(env: &str) -> (tfgen::model::Model, Tree) {
    let inputs = support::inputs(env);
    let model = tfgen::compile(&inputs).expect("the shipped spec compiles").model;
    let tree = Tree::read_terraform(&support::root().join("generated").join(env)).unwrap();
    (model, tree)
}

fn failing(report: &Report) -> BTreeSet<String> {
    report
        .failures()
        .map(|c| format!("{} | {} {}", c.flow.purpose, c.flow.who, c.flow.action))
        .collect()
}

#[test]
fn the_committed_trees_grant_every_needed_access_and_nothing_forbidden() {
    for env in ["dev", "prod"] {
        let (model, tree) = committed(env);
        let report = access::check(&model, &tree).unwrap();
        assert!(report.flows.len() > 150, "{env}: only {} flows", report.flows.len());
        assert_eq!(
            failing(&report),
            BTreeSet::new(),
            "{env}:\n{}",
            access::render_text(env, &report)
        );
        assert!(report.unreadable.is_empty(), "{env}: {:?}", report.unreadable);
        assert!(report.unused.is_empty(), "{env}: {:?}", report.unused);
        let readme = tree.get("README.md").map_or_else(
            || std::fs::read_to_string(support::root().join("generated").join(env).join("README.md")).unwrap(),
            str::to_string,
        );
        let row = format!("| role {env}-supervisor-task | bedrock:InvokeModel");
        assert!(readme.contains("## Who may do what") && readme.contains(&row), "{env}");
    }
}

fn tfgen(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tfgen"))
        .args(args)
        .current_dir(support::root())
        .output()
        .unwrap()
}

/// A copy of a committed tree in a temporary directory, with `edit` applied to its files.
fn copy_of(env: &str, edit: impl FnOnce(&mut Tree)) -> tempfile::TempDir {
    let (_, mut tree) = committed(env);
    edit(&mut tree);
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in &tree.files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

#[test]
fn the_command_judges_the_tree_on_disk_and_names_what_is_denied() {
    let ok = tfgen(&["access", "dev"]);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(text.contains("every one decided as the system needs"), "{text}");
    assert!(text.contains("Who may read each secret:"), "{text}");
    let json = tfgen(&["access", "prod", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(report["flows"].as_array().unwrap().len() > 150);

    // The key without S3 among its services: today's day-one failure, named with the statement's file.
    let dir = copy_of("dev", |tree| {
        // The services are the module's default list (the environment's key passes none).
        let kms = "modules/kms/variables.tf";
        let text = tree.get(kms).unwrap().replace(", \"s3\"]", "]");
        tree.insert(kms, text);
    });
    let out = tfgen(&["access", "dev", "--out", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DENIED: deployer uploads bootstrap.zip"), "{text}");
    assert!(text.contains("no statement of the key policy allows it"), "{text}");

    // A hand-added file that grants an agent everything: the forbidden accesses are reported allowed.
    let dir = copy_of("dev", |tree| {
        tree.insert(
            "modules/iam/extra.tf",
            "resource \"aws_iam_role_policy\" \"everything\" {\n  role   = aws_iam_role.task.id\n  policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = \"*\", Resource = \"*\" }] })\n}\n",
        );
    });
    let out = tfgen(&["access", "dev", "--out", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ALLOWED (must be denied): agent supervisor reads agent order-management's database secret"),
        "{text}"
    );
    assert!(
        text.contains("ALLOWED (must be denied): agent supervisor invokes the database bootstrap"),
        "{text}"
    );
}

/// The alarm topic's publishers: without budgets.amazonaws.com in the topic policy or the key policy, the
/// budget's alerts are denied (AWS Budgets would refuse the notification at create); without the
/// aws:SourceAccount condition, another account's alarms and budgets may publish.
#[test]
fn the_budget_and_the_alarms_publish_to_their_topic_and_no_other_account_does() {
    let without_budgets = |file: &'static str| {
        copy_of("prod", move |tree| {
            let text = tree.get(file).unwrap().replace(
                r#"["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]"#,
                r#"["cloudwatch.amazonaws.com"]"#,
            );
            tree.insert(file, text);
        })
    };
    for (file, why) in [
        (
            "modules/monitoring/main.tf",
            "AWS Budgets publish to topic prod-multi-agent-alarms | service budgets.amazonaws.com sns:Publish",
        ),
        (
            "modules/kms/main.tf",
            "AWS Budgets publish to topic prod-multi-agent-alarms | service budgets.amazonaws.com kms:",
        ),
    ] {
        let dir = without_budgets(file);
        let (model, _) = committed("prod");
        let tree = Tree::read_terraform(dir.path()).unwrap();
        let report = access::check(&model, &tree).unwrap();
        let failed = failing(&report);
        assert!(failed.iter().any(|f| f.starts_with(why)), "{file}: {failed:#?}");
    }
    let dir = copy_of("prod", |tree| {
        let file = "modules/monitoring/main.tf";
        let condition = "\n    condition {\n      test     = \"StringEquals\"\n      variable = \"aws:SourceAccount\"\n      values   = [data.aws_caller_identity.current.account_id]\n    }\n";
        let before = tree.get(file).unwrap();
        assert!(before.contains(condition), "{before}");
        let text = before.replace(condition, "");
        tree.insert(file, text);
    });
    let (model, _) = committed("prod");
    let report = access::check(&model, &Tree::read_terraform(dir.path()).unwrap()).unwrap();
    let failed = failing(&report);
    assert!(
        failed
            .iter()
            .any(|f| f.starts_with("AWS Budgets of another account publish to topic")),
        "{failed:#?}"
    );
}

#[test]
/// The committed specs validate and render with a passing proof. (No spec can make the proof fail, so the
/// refusal itself is not exercised here; `tfgen access` on hand-edited trees is, above.)
fn validate_and_render_succeed_with_a_passing_proof() {
    let out = tfgen(&["validate", "--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let out = tfgen(&["render", "dev", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report = access::check(&committed("dev").0, &Tree::read_terraform(dir.path()).unwrap()).unwrap();
    assert!(report.passed());
}

/// Every valid fixture (the pipeline's, Spot, other regions) and the us-east-1 variant render a tree that
/// passes the proof: `render` would refuse to write any other. The pipeline's key lost its grant for ECR
/// once (`kms:Create*` narrowed to `kms:CreateAlias`), and only this caught it.
#[test]
fn every_valid_fixture_passes_the_proof() {
    let dir = support::root().join("tests/fixtures/valid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .into_string()
                .unwrap()
                .strip_suffix(".toml")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.contains(&support::PIPELINE_FIXTURE.to_string()));
    let mut inputs: Vec<(String, tfgen::load::Inputs)> =
        names.iter().map(|n| (n.clone(), support::valid_fixture(n))).collect();
    inputs.push(("us-east-1 variant".to_string(), support::us_east_1_variant()));
    for (name, inputs) in inputs {
        let compiled = tfgen::compile(&inputs).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(
            compiled.access.passed(),
            "{name}:\n{}",
            access::render_text(&name, &compiled.access)
        );
        if name == support::PIPELINE_FIXTURE {
            let codebuild = compiled
                .access
                .flows
                .iter()
                .filter(|c| c.flow.purpose.contains("moves pipeline artifacts"))
                .count();
            assert!(codebuild >= 8, "{name}: {codebuild} artifact accesses");
        }
    }
}
