//! The image contract: what an agent image must do to run under the generated task definition, written
//! once. The README's "The image contract" section is [`markdown`]'s output (a test holds them equal), the
//! scaffolded Dockerfile and reference agent are filled from these constants, and `tests/contract.rs`
//! holds the rendered task definitions to them. This module neither renders Terraform nor runs images.

use std::fmt::Write as _;

pub use crate::sections::agents::DEFAULT_HEALTH_CHECK_PATH as HEALTH_PATH;

/// The JSON event an agent logs on every database failure; the monitoring module's metric filter counts it.
pub const DB_FAILURE_EVENT: &str = "db_connection_failed";

/// The last path segment an agent answers its smoke check at: `GET <any path>/smoke`, as the ALB forwards a
/// path unchanged (`/order/smoke` reaches order-management through its `/order/*` rule).
pub const SMOKE_SEGMENT: &str = "smoke";

/// The only directory a container may write to: a scratch volume, the root file system being read-only.
pub const WRITABLE_DIR: &str = "/tmp";

/// The numeric user and group the scaffolded image runs as (non-root; numeric, so ECS and Kubernetes-style
/// checks can see it is not 0 without reading `/etc/passwd`).
pub const USER_ID: u32 = 10001;

/// The variable the image's `ENV` sets to the agent's port (the task definition maps the same port).
pub const PORT_VAR: &str = "PORT";

/// The variable the task definition sets to [`TLS_PORT`] when the environment encrypts in transit
/// (`[security] in_transit_encryption`): the image then also serves HTTPS there, with a certificate it
/// creates at start.
pub const TLS_PORT_VAR: &str = "TLS_PORT";

/// The port every agent serves HTTPS on for the load balancer when the environment encrypts in transit.
/// The same for every agent (each task has its own network interface); no agent's `port` may take it.
pub const TLS_PORT: u16 = 8443;

/// The base image every scaffolded Dockerfile starts from (pinned by digest in the Dockerfile).
pub const BASE_IMAGE: &str = "python:3.11-slim";

/// Environment variables the task definition sets on every agent's container, and what they mean.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("AGENT_NAME", "the agent's name, as in `agents.toml`"),
    ("AWS_DEFAULT_REGION", "the environment's region"),
    (
        "BEDROCK_MODEL_ID",
        "the Bedrock inference profile to invoke (the task role may invoke only it)",
    ),
    (
        "CALL_TIMEOUT_SECONDS",
        "how long a call to another agent may take: the ALB's idle timeout, which is also Service Connect's \
         per-request timeout. Envoy retries a call that fails to connect or gets a 5xx, so calls between agents \
         must be idempotent",
    ),
    ("ENVIRONMENT", "the environment's name (`dev`, `prod`, ...)"),
    ("LOG_FORMAT", "always `json`"),
];

/// Environment variables set only on the containers of agents with `[agent.database]` in `agents.toml`.
/// The agent's credentials stay in Secrets Manager: the Data API reads them by `DB_SECRET_ARN`, so no
/// password is ever in the container's environment.
pub const DATABASE_ENVIRONMENT: &[(&str, &str)] = &[
    ("DB_CLUSTER_ARN", "the Aurora cluster, for the RDS Data API"),
    (
        "DB_SECRET_ARN",
        "the agent's own database secret (never the master's), for the RDS Data API",
    ),
    ("DB_NAME", "the database name"),
    ("DB_SCHEMA", "the agent's own schema, also its role's `search_path`"),
];

/// Variables ECS fills from Secrets Manager at start-up on every agent's container: values never appear
/// in the task definition.
pub const SECRETS: &[(&str, &str)] = &[(
    "API_KEYS",
    "the API-keys secret (a JSON object): `{}` until its keys are put outside Terraform",
)];

/// The container health check's Python program, run as `python3 -c <program>` by the task definition
/// and by the scaffolded Dockerfile's `HEALTHCHECK`: standard library only, as `python:3.11-slim` has no
/// curl. `port` and `path` are text so that the module can pass Terraform interpolations.
pub fn health_probe(port: &str, path: &str) -> String {
    format!("import urllib.request; urllib.request.urlopen('http://localhost:{port}{path}', timeout=4)")
}

/// The variable that holds a callee's URL: `order-management` → `ORDER_MANAGEMENT_URL`.
pub fn url_var(callee: &str) -> String {
    format!("{}_URL", callee.to_uppercase().replace('-', "_"))
}

/// The URL an agent reaches a callee at, through ECS Service Connect: `http://<name>:<port>`.
pub fn url(callee: &str, port: u16) -> String {
    format!("http://{callee}:{port}")
}

/// The path the environment's smoke check asks an agent's smoke check at through the ALB: the first of its
/// `paths` that ends in `/*` with no other wildcard, `*` replaced by [`SMOKE_SEGMENT`] (`/order/*` →
/// `/order/smoke`). `None` when no pattern gives one (exact paths only): the ALB routes no smoke path to it.
pub fn smoke_path(paths: &[String]) -> Option<String> {
    paths.iter().find_map(|pattern| {
        let prefix = pattern.strip_suffix('*')?;
        (prefix.ends_with('/') && !prefix.contains(['*', '?'])).then(|| format!("{prefix}{SMOKE_SEGMENT}"))
    })
}

/// The README section, generated from the constants above (`tests/contract.rs` compares).
pub fn markdown() -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Every agent image must do the following to run under the generated task definition. `tfgen init` and\n\
         `tfgen scaffold agent NAME` write a `{BASE_IMAGE}` Dockerfile and a reference agent (standard library\n\
         only) under `agents/<name>/` that meet it; `tests/contract.rs` runs the reference agents with the\n\
         environment the rendered task definitions give them, and holds this list to those task definitions.\n"
    );
    let _ = writeln!(
        s,
        "- **Port**: listen on the agent's `port` from `agents.toml`, on all interfaces (`awsvpc`); the image sets `{PORT_VAR}` to it."
    );
    let _ = writeln!(
        s,
        "- **HTTPS** (with `[security] in_transit_encryption`, on by default in prod): when `{TLS_PORT_VAR}` is set ({TLS_PORT}), also serve the same routes over HTTPS on that port, with a certificate created at start (self-signed is enough: the load balancer encrypts to its targets but checks no certificate). The load balancer and its health check then use that port; calls between agents stay on `{PORT_VAR}`, where Service Connect's proxy encrypts them. The scaffold runs `openssl req -x509` at start, so no private key is in the image."
    );
    let _ = writeln!(
        s,
        "- **Health**: answer `GET {HEALTH_PATH}` (or the agent's `health_check_path`) with 200 while the agent can serve; the ALB and the container health check both probe it. The task definition's health check and the scaffold's `HEALTHCHECK` run the same `python3 -c` probe with Python's `urllib`, as `python:3.11-slim` has no curl."
    );
    let _ = writeln!(
        s,
        "- **Logs**: one JSON object per line on stdout (`LOG_FORMAT=json`); the `awslogs` driver ships it."
    );
    let _ = writeln!(
        s,
        "- **Database failures**: log `{{\"event\": \"{DB_FAILURE_EVENT}\", \"error\": \"...\"}}` once per failure to use the database; the alarm counts these lines."
    );
    let _ = writeln!(
        s,
        "- **User**: run as a non-root user (the scaffold uses {USER_ID}:{USER_ID})."
    );
    let _ = writeln!(
        s,
        "- **File system**: the root file system is read-only; write only to `{WRITABLE_DIR}`, a scratch volume. Fargate mounts it root-owned with mode 0755 unless the image declares `VOLUME [\"{WRITABLE_DIR}\"]`, in which case ECS copies the image's directory, mode included: declare it, world-writable and sticky (1777), as the scaffold does, or a non-root user cannot write a temporary file."
    );
    let _ = writeln!(
        s,
        "- **Calls**: reach another agent at `http://<name>:<port>` (Service Connect), given as `<NAME>_URL`, e.g. `{}={}`.",
        url_var("order-management"),
        url("order-management", 8001)
    );
    let _ = writeln!(
        s,
        "- **Smoke check**: answer `GET <path>/{SMOKE_SEGMENT}` (any path ending so: the ALB forwards paths unchanged) with a JSON object `{{\"agent\": <name>, \"ok\": <bool>, \"checks\": {{<check>: {{\"ok\": <bool>, \"detail\": \"...\"}}}}}}`, status 200 when every check passed and 503 otherwise. The checks: `database`, a round trip in its own schema (only with `[agent.database]`); `model`, one call to its model, only when the query has `model=1`; `call:<name>`, the smoke check of each agent it calls, at `<NAME>_URL/{SMOKE_SEGMENT}?calls=0` (which skips that agent's own calls). The environment's generated `smoke.py` asks each agent through the ALB and fails on a missing or failed check; see \"Smoke check\"."
    );
    let _ = writeln!(
        s,
        "- **Secrets**: never baked into the image; they arrive as environment variables at start-up."
    );
    let _ = writeln!(s, "\n| environment variable | value |\n| --- | --- |");
    for (name, what) in ENVIRONMENT {
        let _ = writeln!(s, "| `{name}` | {what} |");
    }
    for (name, what) in DATABASE_ENVIRONMENT {
        let _ = writeln!(s, "| `{name}` (only with `[agent.database]`) | {what} |");
    }
    let _ = writeln!(
        s,
        "| `{TLS_PORT_VAR}` (only with `[security] in_transit_encryption`) | `{TLS_PORT}`: serve HTTPS there for the load balancer |"
    );
    let _ = writeln!(s, "| `<NAME>_URL` | one per agent in `calls`: `http://<name>:<port>` |");
    for (name, what) in SECRETS {
        let _ = writeln!(s, "| `{name}` (secret) | {what} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoke_path_is_under_the_first_prefix_rule() {
        let paths = |p: &[&str]| p.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            smoke_path(&paths(&["/", "/supervisor/*"])).as_deref(),
            Some("/supervisor/smoke")
        );
        assert_eq!(smoke_path(&paths(&["/*"])).as_deref(), Some("/smoke"));
        assert_eq!(
            smoke_path(&paths(&["/api/*/order/*", "/order/*"])).as_deref(),
            Some("/order/smoke")
        );
        assert_eq!(smoke_path(&paths(&["/status", "/v?/x*"])), None);
    }

    #[test]
    fn callee_urls_follow_the_convention() {
        assert_eq!(url_var("order-management"), "ORDER_MANAGEMENT_URL");
        assert_eq!(url("order-management", 8001), "http://order-management:8001");
    }

    #[test]
    fn the_readme_holds_the_contract() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&markdown()),
            "README.md's \"The image contract\" section differs from contract::markdown(); paste:\n{}",
            markdown()
        );
    }
}
