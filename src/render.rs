//! Render stage: [`Model`] → [`Tree`] of unformatted Terraform text, from the templates under
//! `modules/` (embedded in the binary, so an installed `tfgen` needs no checkout).
//!
//! `modules/root/*.tf.j2` become the root module; `modules/<name>/*.tf` are copied into
//! `modules/<name>/` of the output. Templates hold no logic beyond `if`/`for` over the model; every
//! value is written through [`crate::hcl_value`]. This stage neither formats nor writes.

use std::sync::OnceLock;

use anyhow::{Context as _, Result};
use include_dir::{Dir, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};

use crate::hcl_value;
use crate::model::Model;
use crate::vfs::{HEADER_MARK, Tree};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/modules");

/// The header every generated file starts with.
pub fn header(model: &Model) -> String {
    format!(
        "{HEADER_MARK} from {}. DO NOT EDIT.\n# Change the spec or tfgen's templates, then run `tfgen render {}`.\n\n",
        model.spec_file, model.env
    )
}

/// The template environment, built once per process (templates are embedded, so they never change).
fn environment() -> Result<&'static Environment<'static>> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| build_environment().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Builds the template environment: strict undefined values, block trimming, HCL encoding of every value.
fn build_environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .context("template syntax")?,
    );
    env.set_formatter(|out, _state, value| {
        let text = if value.is_safe() {
            value.to_string()
        } else {
            hcl_value::encode(value)?
        };
        out.write_str(&text)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    for file in templates() {
        let path = file.path().to_string_lossy().into_owned();
        if path.ends_with(".j2") {
            let text = file
                .contents_utf8()
                .with_context(|| format!("template {path} is not UTF-8"))?;
            env.add_template_owned(path, text.to_string())
                .context("parsing templates")?;
        }
    }
    Ok(env)
}

fn templates() -> impl Iterator<Item = &'static include_dir::File<'static>> {
    fn all(dir: &'static Dir<'static>) -> Box<dyn Iterator<Item = &'static include_dir::File<'static>>> {
        Box::new(dir.files().chain(dir.dirs().flat_map(all)))
    }
    all(&TEMPLATES)
}

/// Renders every template for `model`, with the access proof of the result (which the README shows) and
/// its cheapest `levers` (the README lists the top three). Output paths are relative to the environment's
/// directory.
pub fn render(model: &Model, levers: &[crate::cost::levers::Lever]) -> Result<Rendered> {
    let env = environment()?;
    // The model, the smoke check's agents as the JSON `smoke.py` embeds (not HCL, so marked safe), and the
    // image contract's TLS port.
    let ctx = minijinja::context! {
        smoke_agents => Value::from_safe_string(crate::smoke::agents_json(model)),
        tls_port => crate::contract::TLS_PORT,
        ..Value::from(Serde(model))
    };
    let header = header(model);
    let mut tree = Tree::default();
    for file in templates() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        let (body, out_path) = if let Some(name) = path.strip_suffix(".j2") {
            let tmpl = env
                .get_template(&path)
                .with_context(|| format!("loading template {path}"))?;
            let body = tmpl
                .render(&ctx)
                .map_err(|e| anyhow::anyhow!("{e:#}"))
                .with_context(|| format!("rendering {path}"))?;
            (body, output_path(name))
        } else if path.ends_with(".tf") {
            // The release pipeline's module goes only into the tree of the environment that hosts it.
            if path.starts_with("pipeline/") && model.pipeline.is_none() {
                continue;
            }
            // So does the replicas' template module, only into a tree that replicates.
            if path.starts_with("ecr_replica/") && model.ecr.replicas.is_empty() {
                continue;
            }
            // And the DR Region's backup vault, only into a tree with `[dr]`.
            if path.starts_with("backup_copy/") && model.dr.is_none() {
                continue;
            }
            // And the Service Connect CA and role, only into a tree that encrypts in transit.
            if path.starts_with("service_connect_tls/") && !model.security.in_transit_encryption {
                continue;
            }
            let text = file.contents_utf8().with_context(|| format!("{path} is not UTF-8"))?;
            tree.verbatim.insert(output_path(&path));
            (text.to_string(), output_path(&path))
        } else {
            continue;
        };
        if body.trim().is_empty() {
            continue;
        }
        tree.insert(out_path, format!("{header}{}", body.trim_start()));
    }
    // The reachability section is read back from the rendered security groups, not from the model; so is
    // the access table (the policies of the rendered tree, decided by `tfgen access`'s evaluator). Both read
    // one evaluation of the tree.
    let evaluation = crate::predict::Evaluation::new(&tree).context("evaluating the rendered tree")?;
    let reach = crate::reach::from_evaluated(&evaluation.plain)
        .context("computing the reachability graph of the rendered tree")?;
    let access = crate::access::check_evaluated(model, &tree, &evaluation.plain)
        .context("proving the rendered tree's accesses")?;
    tree.insert(crate::docs::README, crate::docs::readme(model, &reach, &access, levers));
    Ok(Rendered {
        tree,
        access,
        reach,
        evaluation,
    })
}

/// A rendered tree with the two proofs read back from it, which its README shows.
pub struct Rendered {
    pub tree: Tree,
    pub access: crate::access::Report,
    pub reach: crate::reach::Graph,
    /// The tree's evaluation both proofs read, which `diff` re-uses.
    pub evaluation: crate::predict::Evaluation,
}

/// `root/main.tf` → `main.tf`; `ecs/main.tf` → `modules/ecs/main.tf`.
fn output_path(template_path: &str) -> String {
    match template_path.strip_prefix("root/") {
        Some(rest) => rest.to_string(),
        None => format!("modules/{template_path}"),
    }
}
