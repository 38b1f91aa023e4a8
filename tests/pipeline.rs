//! The release pipeline (`[pipeline]`), read from the rendered tree: it exists only where a spec asks for
//! it; each stage after the first waits for a manual approval; builds push a linux/amd64 and a linux/arm64
//! image (the Docker daemon's own builder, one platform at a time; no BuildKit container), then one image
//! index that lists both, and gate on each platform image's scan; deploys copy that whole index by digest and never
//! build;
//! every role is least-privilege (no wildcard action, every deploy may assume only its own environment's
//! role); artifacts, logs and images are encrypted with the pipeline's key; logs have a retention.

mod support;

use std::process::Command;

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
    // Deploys copy the release image by digest and check the environment got the same digest; they never
    // run `docker build`.
    let deploy = module
        .split("resource \"aws_codebuild_project\" \"deploy\"")
        .nth(1)
        .unwrap();
    let deploy = deploy.split("resource \"aws_codepipeline\"").next().unwrap();
    assert!(deploy.contains("@$digest\""), "deploys copy by digest");
    assert!(
        deploy.contains("test \"$pushed\" = \"$digest\""),
        "deploys verify the digest"
    );
    assert!(
        !deploy.contains("docker build ") && !deploy.contains("docker buildx build"),
        "deploys never rebuild"
    );
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

/// The build buildspec's and the deploy buildspec's commands, as the bash scripts shellcheck sees.
fn build_and_deploy_scripts() -> (String, String) {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let specs = buildspecs(tree.get("modules/pipeline/main.tf").unwrap());
    let of = |project: &str| {
        let (_, spec) = specs
            .iter()
            .find(|(p, _)| p == project)
            .unwrap_or_else(|| panic!("no {project} buildspec"));
        script(spec)
    };
    (of("build"), of("deploy"))
}

/// The lines of a script that are commands, not comments.
fn commands(script: &str) -> String {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of the `for platform in $PLATFORMS; do` loop that contains `marker`, from its `for` to its `done`.
fn platform_loop(commands: &str, marker: &str) -> String {
    let lines: Vec<&str> = commands.lines().collect();
    let mut from = 0;
    while let Some(at) = lines[from..]
        .iter()
        .position(|l| l.trim_start().starts_with("for platform in $PLATFORMS; do"))
    {
        let start = from + at;
        let indent = lines[start].len() - lines[start].trim_start().len();
        let end = start
            + lines[start..]
                .iter()
                .position(|l| l.trim() == "done" && l.len() - l.trim_start().len() == indent)
                .expect("the loop's end");
        let body = lines[start..=end].join("\n");
        if body.contains(marker) {
            return body;
        }
        from = end + 1;
    }
    panic!("no loop over the platforms with `{marker}` in: {commands}")
}

/// Builds push ONE image for every platform a stage can run (an image index of linux/amd64 and linux/arm64):
/// each platform's image is built by the Docker daemon's own builder (`docker build --platform`, the arm64
/// one under QEMU registered from ECR Public) and pushed under its platform tag, and buildx's registry-side
/// `imagetools create` assembles the index under the commit's tag. No BuildKit container runs: no
/// `docker buildx create`, no builder image, no `docker buildx build`.
#[test]
fn builds_push_one_multi_platform_image() {
    let (build, _) = build_and_deploy_scripts();
    let build = commands(&build);
    assert!(
        build.contains("PLATFORMS=\"linux/amd64 linux/arm64\""),
        "both platforms, always: {build}"
    );
    let each = platform_loop(&build, "docker build ");
    for part in [
        "image=\"$REPOSITORY_URL:$TAG-${platform#*/}\"",
        "docker build --pull --platform \"$platform\" --provenance=false --tag \"$image\" \"$CONTEXT\"",
        "docker push \"$image\"",
        "sources+=(\"$image\")",
    ] {
        assert!(each.contains(part), "`{part}` not in the per-platform build: {each}");
    }
    assert!(
        each.contains("test \"$built\" = \"$platform\" ||")
            && each.find("test \"$built\"").unwrap() < each.find("docker push").unwrap(),
        "an image built for another platform is never pushed: {each}"
    );
    assert!(
        each.contains("imageTag=\"$TAG-${platform#*/}\""),
        "a platform image an interrupted build pushed is reused, not pushed again: {each}"
    );
    let index = build
        .find("docker buildx imagetools create --tag \"$REPOSITORY_URL:$TAG\" \"${sources[@]}\"")
        .unwrap_or_else(|| panic!("no index assembled from the platform images: {build}"));
    assert!(
        build.find(&each).unwrap() < index,
        "the index is pushed after its platform images"
    );
    assert!(
        build.contains("docker run --privileged --rm public.ecr.aws/eks-distro-build-tooling/")
            && build.contains("--install arm64"),
        "QEMU for arm64, registered from ECR Public: {build}"
    );
    // The only image the build runs is QEMU's registration; no builder container, from anywhere.
    assert_eq!(build.matches("docker run ").count(), 1, "{build}");
    for builder in [
        "docker buildx create",
        "docker buildx build",
        "--driver",
        "buildkit",
        "public.ecr.aws/vend/",
        "docker tag ",
    ] {
        assert!(
            !build.to_lowercase().contains(builder),
            "`{builder}` in the build: {build}"
        );
    }
}

/// ECR does not scan an image index: the gate reads the index and waits for, and checks, the scan of EACH
/// platform's image by its digest; it never waits on the tag (the index), and it fails on a tag that is not
/// an index with every platform.
#[test]
fn builds_gate_on_each_platform_image_scan() {
    let (build, _) = build_and_deploy_scripts();
    let build = commands(&build);
    assert!(
        build.contains("aws ecr batch-get-image --repository-name \"$REPOSITORY_NAME\" --image-ids imageTag=\"$TAG\"")
            && build.contains("application/vnd.oci.image.index.v1+json")
            && build.contains("application/vnd.docker.distribution.manifest.list.v2+json"),
        "the gate reads the index: {build}"
    );
    let body = platform_loop(&build, "image-scan-complete");
    assert!(
        body.contains(".platform.os + \"/\" + .platform.architecture == $p") && body.contains(".digest"),
        "each platform's image digest comes from the index: {body}"
    );
    assert!(
        body.contains("test -n \"$digest\" ||"),
        "a missing platform stops the release"
    );
    assert!(
        body.contains(
            "aws ecr wait image-scan-complete --repository-name \"$REPOSITORY_NAME\" --image-id imageDigest=\"$digest\""
        ),
        "the wait is per platform image: {body}"
    );
    assert!(
        body.contains("aws ecr describe-image-scan-findings --repository-name \"$REPOSITORY_NAME\" --image-id imageDigest=\"$digest\"")
            && body.contains("--query 'imageScanFindings.findingSeverityCounts'"),
        "the findings are per platform image: {body}"
    );
    assert!(
        body.contains("test \"$(echo \"$COUNTS\" | jq '(.CRITICAL // 0) + (.HIGH // 0)')\" = 0 ||")
            && body.contains("exit 1"),
        "a critical or high finding in any platform stops the release: {body}"
    );
    // Nothing waits for or reads the scan of the tag, which names the index ECR cannot scan.
    for line in build.lines().filter(|l| l.contains("image-scan")) {
        assert!(!line.contains("imageTag="), "a scan step on the index's tag: {line}");
    }
    assert!(
        build.contains("jq -e '.manifests | type == \"array\"'"),
        "a tag that is not an index stops the release"
    );
    assert!(
        build.contains("'.manifests | length == ($platforms | split(\" \") | length)'"),
        "an index that lists more than one image per platform stops the release"
    );
}

/// Deploys copy the release's whole image index by digest, registry to registry, so every platform keeps its
/// digest; they never `docker pull` (one platform) and re-push it (a new digest), and they check the digest.
#[test]
fn deploys_copy_the_whole_index_by_digest() {
    let (_, deploy) = build_and_deploy_scripts();
    let deploy = commands(&deploy);
    assert!(
        deploy.contains(
            "docker buildx imagetools create --tag \"$url:$TAG\" \"$RELEASE_REGISTRY/$RELEASE_REPOSITORY_PREFIX/$agent@$digest\""
        ),
        "deploys copy the index by digest: {deploy}"
    );
    for single in [
        "docker pull",
        "docker push",
        "docker tag",
        "docker build ",
        "docker buildx build",
    ] {
        assert!(!deploy.contains(single), "`{single}` in the deploy: {deploy}");
    }
    assert!(
        deploy.contains("test \"$pushed\" = \"$digest\" ||"),
        "deploys verify that the environment got the release digest"
    );
    // The release registry's login (the copy's source) comes before the environment's role is assumed.
    let login = deploy
        .find("docker login --username AWS --password-stdin \"$RELEASE_REGISTRY\"")
        .expect("a login to the release registry");
    let assume = deploy.find("aws sts assume-role").expect("the environment's role");
    assert!(
        login < assume,
        "the release registry login must use the project's own role"
    );
}

/// The roles allow what the buildspecs' commands call: the build pushes (layers, platform images, index),
/// reads the index and starts and reads each platform image's scan; the deploy reads the release images.
#[test]
fn roles_allow_what_the_buildspecs_call() {
    let tree = compile(&valid_fixture(PIPELINE_FIXTURE));
    let iam = tree.get("modules/pipeline/iam.tf").unwrap();
    let statement = |sid: &str| -> String {
        let at = iam
            .find(&format!("sid = \"{sid}\""))
            .or_else(|| iam.find(&format!("sid       = \"{sid}\"")))
            .unwrap_or_else(|| panic!("no statement {sid}"));
        let rest = &iam[at..];
        rest[..rest.find("resources").unwrap()].to_string()
    };
    let build = statement("PushAndScanReleaseImages");
    for action in [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:StartImageScan",
        "ecr:DescribeImageScanFindings",
    ] {
        assert!(
            build.contains(&format!("\"{action}\"")),
            "the build role lacks {action}"
        );
    }
    let deploy = statement("PullReleaseImages");
    for action in [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:DescribeImages",
    ] {
        assert!(
            deploy.contains(&format!("\"{action}\"")),
            "the deploy role lacks {action}"
        );
    }
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
    let instances = tfgen::predict::evaluate(&tree, tfgen::predict::Unknowns::none(&none, &nothing))
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

// --- the buildspecs' commands, run against stand-ins for `aws`, `docker`, `terraform` and `tfgen` -------------
//
// These run the real bash (and jq) of the rendered buildspecs with fakes on PATH that answer as ECR would and
// log every call. They prove the scripts' own logic (which digests are scanned, what stops a release, what a
// deploy copies), not that AWS, Docker or CodeBuild behave as the fakes do.

/// jq, which the buildspecs use (CodeBuild's standard image has it): installed with apt-get when missing.
fn ensure_jq() {
    let present = || {
        Command::new("jq")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present() {
        return;
    }
    let install = |update: bool| {
        if update {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        }
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "jq"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        install(false) || install(true),
        "could not install jq with apt-get (run as root with Debian's registry reachable)"
    );
    assert!(present(), "jq still missing after apt-get install jq");
}

/// An image index of a linux/amd64 and a linux/arm64 image: what the fake ECR holds under a release tag that
/// a test says was pushed before the build (`Run::pushed`).
const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:amd64image","size":1,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:arm64image","size":1,"platform":{"architecture":"arm64","os":"linux"}}]}"#;

/// A fake `aws`: logs its arguments, and answers the ECR, STS calls the buildspecs make from the files in
/// `$FAKE` (what the test set up, and what the fake `docker` pushed): a release tag exists when
/// `$FAKE/tag-<tag>` does, and the commit's tag holds `$FAKE/manifest`.
const FAKE_AWS: &str = r#"#!/usr/bin/env bash
args="$*"
echo "aws $args" >> "$FAKE/calls"
case "$args" in
  "ecr get-login-password"*) echo token ;;
  "sts assume-role"*) echo '{"AccessKeyId":"a","SecretAccessKey":"s","SessionToken":"t"}' ;;
  "ecr batch-get-image"*)
    tag="${args#*imageTag=}"; tag="${tag%% *}"
    if [ -f "$FAKE/tag-$tag" ]; then cat "$FAKE/manifest"; else echo None; fi ;;
  "ecr describe-images --repository-name release/"*"imageDetails[0].imageDigest"*) echo "sha256:index" ;;
  "ecr describe-images --repository-name release/"*)
    tag="${args#*imageTag=}"; tag="${tag%% *}"
    test -f "$FAKE/tag-$tag" || exit 254 ;;
  "ecr describe-images --repository-name live/"*)
    agent="${args#*--repository-name live/}"; agent="${agent%% *}"
    test -f "$FAKE/copied-$agent" || exit 254
    cat "$FAKE/copied-$agent" ;;
  "ecr describe-image-scan-findings"*"findingSeverityCounts"*)
    digest="${args#*imageDigest=}"; digest="${digest%% *}"
    cat "$FAKE/findings-$digest" 2>/dev/null || echo null ;;
  "ecr describe-image-scan-findings"*) echo '{}' ;;
esac
"#;

/// A fake `docker`: logs its arguments; `login` reads the password from stdin. `build` records the platform
/// it built the tag for (or what `$FAKE/build-as` says, a builder that ignored `--platform`), `image inspect`
/// answers it, and `push` puts the tag in the fake ECR. `buildx imagetools create` into a release repository
/// pushes an index of its sources, each a pushed platform image (digest `sha256:<arch>image`), as ECR holds it;
/// into an environment's repository it copies the digest it is given as a source, or what `$FAKE/copy-as`
/// says.
const FAKE_DOCKER: &str = r#"#!/usr/bin/env bash
echo "docker $*" >> "$FAKE/calls"
case "$*" in
  "login "*"--password-stdin"*) cat > /dev/null ;;
  "build "*)
    args=("$@"); platform=""; tag=""
    for i in "${!args[@]}"; do
      case "${args[$i]}" in
        --platform) platform="${args[$((i + 1))]}" ;;
        --tag) tag="${args[$((i + 1))]}" ;;
      esac
    done
    if [ -f "$FAKE/build-as" ]; then platform="$(cat "$FAKE/build-as")"; fi
    echo "$platform" > "$FAKE/local-${tag##*:}" ;;
  "image inspect"*)
    image="${*: -1}"; cat "$FAKE/local-${image##*:}" ;;
  "push "*)
    cp "$FAKE/local-${2##*:}" "$FAKE/tag-${2##*:}" ;;
  "buildx imagetools create --tag "*)
    target="$5"
    case "$target" in
      */release/*)
        platforms=()
        for source in "${@:6}"; do
          test -f "$FAKE/tag-${source##*:}" || { echo "ERROR: $source: not found" >&2; exit 1; }
          platforms+=("$(cat "$FAKE/tag-${source##*:}")")
        done
        printf '%s\n' "${platforms[@]}" | jq -R . | jq -s -c '{schemaVersion: 2,
          mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
          manifests: map(split("/") as [$os, $arch] | {mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            digest: ("sha256:" + $arch + "image"), size: 1, platform: {architecture: $arch, os: $os}})}' > "$FAKE/manifest"
        echo index > "$FAKE/tag-${target##*:}" ;;
      *)
        agent="${target#*/live/}"; agent="${agent%%:*}"
        if [ -f "$FAKE/copy-as" ]; then cat "$FAKE/copy-as"; else echo "${6#*@}"; fi > "$FAKE/copied-$agent" ;;
    esac ;;
esac
exit 0
"#;

/// A fake `terraform`: the environment's repository URLs; every other command succeeds.
const FAKE_TERRAFORM: &str = r#"#!/usr/bin/env bash
echo "terraform $*" >> "$FAKE/calls"
case "$*" in
  "output -json ecr_repository_urls") echo '{"billing":"333333333333.dkr.ecr.eu-west-1.amazonaws.com/live/billing","support":"333333333333.dkr.ecr.eu-west-1.amazonaws.com/live/support"}' ;;
esac
"#;

/// A fake `tfgen`: `render` writes the tree a stage with shared state has.
const FAKE_TFGEN: &str = r#"#!/usr/bin/env bash
echo "tfgen $*" >> "$FAKE/calls"
mkdir -p "generated/$2" && echo 'terraform { backend "s3" {} }' > "generated/$2/backend.tf"
"#;

/// A fake `python3`: runs only the tree's smoke check, which fails when `$FAKE/smoke-fails` exists.
const FAKE_PYTHON: &str = r#"#!/usr/bin/env bash
echo "python3 $*" >> "$FAKE/calls"
test "$1" = smoke.py || { echo "fake python3 runs only smoke.py"; exit 2; }
if test -f "$FAKE/smoke-fails"; then echo "FAIL  supervisor: database failed"; exit 1; fi
"#;

/// A working directory with the fakes on PATH, and the calls they logged.
struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        ensure_jq();
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, text) in [
            ("aws", FAKE_AWS),
            ("docker", FAKE_DOCKER),
            ("terraform", FAKE_TERRAFORM),
            ("tfgen", FAKE_TFGEN),
            ("python3", FAKE_PYTHON),
        ] {
            let path = bin.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("fake")).unwrap();
        std::fs::create_dir_all(dir.path().join("work/environments")).unwrap();
        std::fs::write(
            dir.path().join("work/environments/live.toml"),
            "image_tag = \"1.4.2\"\n",
        )
        .unwrap();
        Run { dir }
    }

    fn set(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join("fake").join(file), text).unwrap();
    }

    /// The commit's release tag exists already (an earlier build), and holds `manifest`.
    fn pushed(&self, manifest: &str) {
        self.set("tag-0123456789ab", "index\n");
        self.set("manifest", manifest);
    }

    /// Runs `script` (its phases in order, from `from` on) in bash; its output and whether it succeeded.
    fn run(&self, script: &str, from: &str) -> (bool, String) {
        let script = &script[script.find(from).unwrap_or_else(|| panic!("no `{from}` in {script}"))..];
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path().join("work"))
            .env("PATH", path)
            .env("FAKE", self.dir.path().join("fake"))
            .env("COMMIT_ID", "0123456789abcdef0123")
            .env("CONTEXT", "agents/support")
            .env("REPOSITORY_NAME", "release/support")
            .env(
                "REPOSITORY_URL",
                "111111111111.dkr.ecr.eu-west-1.amazonaws.com/release/support",
            )
            .env("ENVIRONMENT", "live")
            .env("DEPLOY_ROLE_ARN", "arn:aws:iam::333333333333:role/deploy")
            .env("AGENTS", "billing support")
            .env("RELEASE_REGISTRY", "111111111111.dkr.ecr.eu-west-1.amazonaws.com")
            .env("RELEASE_REPOSITORY_PREFIX", "release")
            .output()
            .expect("run bash");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("fake/calls")).unwrap_or_default()
    }
}

/// The release images' repository URL, and the commit's tag, in the runs below.
const RELEASE: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/release/support";

/// The build, run: each platform's image is built and pushed under its platform tag, then the index of both
/// under the commit's tag; each platform image's scan is waited for by its digest, and a critical or high
/// finding in EITHER platform, or a tag that is not an index of exactly both platforms, stops the release.
#[test]
fn the_build_gate_stops_on_any_platform_image() {
    let (build, _) = build_and_deploy_scripts();

    let clean = Run::new();
    let (ok, out) = clean.run(&build, "set -euo pipefail");
    assert!(ok, "a clean build failed:\n{out}");
    let calls = clean.calls();
    let at = |call: &str| calls.find(call).unwrap_or_else(|| panic!("no `{call}` in:\n{calls}"));
    let mut pushes = Vec::new();
    for arch in ["amd64", "arm64"] {
        let build_at = at(&format!(
            "docker build --pull --platform linux/{arch} --provenance=false --tag {RELEASE}:0123456789ab-{arch} agents/support\n"
        ));
        let push_at = at(&format!("docker push {RELEASE}:0123456789ab-{arch}\n"));
        assert!(build_at < push_at, "{calls}");
        pushes.push(push_at);
    }
    let index_at = at(&format!(
        "docker buildx imagetools create --tag {RELEASE}:0123456789ab {RELEASE}:0123456789ab-amd64 {RELEASE}:0123456789ab-arm64\n"
    ));
    assert!(
        pushes.iter().all(|&p| p < index_at),
        "the index is pushed after both platform images:\n{calls}"
    );
    assert_eq!(calls.matches("docker build ").count(), 2, "{calls}");
    for digest in ["sha256:amd64image", "sha256:arm64image"] {
        let wait = at(&format!(
            "aws ecr wait image-scan-complete --repository-name release/support --image-id imageDigest={digest}"
        ));
        assert!(index_at < wait, "{calls}");
    }
    assert!(
        out.trim_end().ends_with("sha256:index"),
        "the release digest is the index's:\n{out}"
    );

    for (platform, digest) in [
        ("linux/amd64", "sha256:amd64image"),
        ("linux/arm64", "sha256:arm64image"),
    ] {
        let run = Run::new();
        run.set(&format!("findings-{digest}"), r#"{"HIGH":1,"LOW":3}"#);
        let (ok, out) = run.run(&build, "set -euo pipefail");
        assert!(
            !ok,
            "a HIGH finding in the {platform} image did not stop the release:\n{out}"
        );
        assert!(
            out.contains(&format!("{platform} image {digest} has critical or high findings")),
            "{out}"
        );
    }

    // A build of this commit that stopped after pushing its amd64 image: that image is reused (its tag is
    // immutable), the arm64 one is built, and the index lists both.
    let resumed = Run::new();
    resumed.set("tag-0123456789ab-amd64", "linux/amd64\n");
    let (ok, out) = resumed.run(&build, "set -euo pipefail");
    let calls = resumed.calls();
    assert!(ok, "{out}\n{calls}");
    assert!(
        !calls.contains("--platform linux/amd64")
            && !calls.contains(&format!("docker push {RELEASE}:0123456789ab-amd64")),
        "the amd64 image was pushed again:\n{calls}"
    );
    assert!(
        calls.contains(&format!("docker push {RELEASE}:0123456789ab-arm64"))
            && calls.contains(&format!(
                "docker buildx imagetools create --tag {RELEASE}:0123456789ab {RELEASE}:0123456789ab-amd64 {RELEASE}:0123456789ab-arm64"
            )),
        "{calls}"
    );

    // The daemon built another platform than it was asked for (no QEMU, --platform ignored): nothing under
    // that platform's tag is pushed, and the release stops.
    let ignored = Run::new();
    ignored.set("build-as", "linux/amd64\n");
    let (ok, out) = ignored.run(&build, "set -euo pipefail");
    assert!(
        !ok && out.contains("0123456789ab-arm64 was built for linux/amd64, not linux/arm64"),
        "{out}"
    );
    assert!(
        !ignored
            .calls()
            .contains(&format!("docker push {RELEASE}:0123456789ab-arm64"))
            && !ignored.calls().contains("imagetools create"),
        "{}",
        ignored.calls()
    );

    // A commit built before both platforms were: its tag is a single-platform image, not rebuilt.
    let old = Run::new();
    old.pushed(r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]}"#);
    let (ok, out) = old.run(&build, "set -euo pipefail");
    assert!(!ok && out.contains("is not a multi-platform image index"), "{out}");
    for rebuilt in ["docker build", "docker push", "imagetools create"] {
        assert!(
            !old.calls().contains(rebuilt),
            "an existing tag was rebuilt:\n{}",
            old.calls()
        );
    }

    // An existing index of both platforms passes without a rebuild.
    let done = Run::new();
    done.pushed(INDEX);
    let (ok, out) = done.run(&build, "set -euo pipefail");
    assert!(ok && !done.calls().contains("docker build"), "{out}\n{}", done.calls());

    // An index without the arm64 image.
    let half = Run::new();
    half.pushed(&INDEX.replace("\"arm64\"", "\"s390x\""));
    let (ok, out) = half.run(&build, "set -euo pipefail");
    assert!(!ok && out.contains("has no single linux/arm64 image"), "{out}");

    // An index of one platform only.
    let one = Run::new();
    one.pushed(&INDEX.replace(
        r#",{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:arm64image","size":1,"platform":{"architecture":"arm64","os":"linux"}}"#,
        "",
    ));
    let (ok, out) = one.run(&build, "set -euo pipefail");
    assert!(
        !ok && out.contains("lists other manifests than one image per platform"),
        "{out}"
    );

    // An index with a third, unscanned manifest (an attestation, platform unknown/unknown).
    let extra = Run::new();
    extra.pushed(&INDEX.replace(
        "]}",
        r#",{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:attestation","size":1,"platform":{"architecture":"unknown","os":"unknown"}}]}"#,
    ));
    let (ok, out) = extra.run(&build, "set -euo pipefail");
    assert!(
        !ok && out.contains("lists other manifests than one image per platform"),
        "{out}"
    );
}

/// The deploy's copy, run: each agent's release index is copied by digest with buildx imagetools (no docker
/// pull, tag or push), and a digest in the environment other than the release's stops the deploy.
#[test]
fn the_deploy_copies_each_index_by_digest_and_checks_it() {
    let (_, deploy) = build_and_deploy_scripts();
    // From the build phase on: the install phase downloads Terraform, Rust and tfgen.
    let build_phase = deploy
        .match_indices("set -euo pipefail")
        .nth(1)
        .map(|(i, _)| &deploy[i..])
        .expect("the deploy's build phase");

    let run = Run::new();
    let (ok, out) = run.run(build_phase, "set -euo pipefail");
    assert!(ok, "the deploy failed:\n{out}");
    let calls = run.calls();
    for agent in ["billing", "support"] {
        assert!(
            calls.contains(&format!(
                "docker buildx imagetools create --tag 333333333333.dkr.ecr.eu-west-1.amazonaws.com/live/{agent}:0123456789ab 111111111111.dkr.ecr.eu-west-1.amazonaws.com/release/{agent}@sha256:index"
            )),
            "{agent}'s index was not copied by digest:\n{calls}"
        );
    }
    for single in ["docker pull", "docker push", "docker tag"] {
        assert!(!calls.contains(single), "`{single}` in the deploy:\n{calls}");
    }
    // The gate: the environment's smoke check runs after the apply, from the environment's tree.
    assert!(
        calls
            .trim_end()
            .ends_with("terraform apply -input=false -auto-approve\npython3 smoke.py --retry-for 600"),
        "{calls}"
    );
    let failing = Run::new();
    failing.set("smoke-fails", "");
    let (ok, out) = failing.run(build_phase, "set -euo pipefail");
    assert!(
        !ok && out.contains("FAIL  supervisor"),
        "a failed smoke check must fail the stage: {out}"
    );

    // A retried deploy: the environment has the release digest already, so nothing is copied again.
    let again = Run::new();
    again.set("copied-billing", "sha256:index\n");
    again.set("copied-support", "sha256:index\n");
    let (ok, out) = again.run(build_phase, "set -euo pipefail");
    assert!(
        ok && !again.calls().contains("imagetools create"),
        "{out}\n{}",
        again.calls()
    );

    // The copy arrived under another digest: the deploy stops before applying.
    let wrong = Run::new();
    wrong.set("copy-as", "sha256:another\n");
    let (ok, out) = wrong.run(build_phase, "set -euo pipefail");
    assert!(
        !ok && out.contains("live has sha256:another, the release is sha256:index"),
        "{ok} {out}\n{}",
        wrong.calls()
    );
    assert!(
        !wrong
            .calls()
            .lines()
            .any(|l| l == "terraform apply -input=false -auto-approve"),
        "the environment was applied with an image it does not have"
    );
}
