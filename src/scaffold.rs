//! The files `tfgen init` writes into a new infrastructure repository, embedded in the binary so that an
//! installed `tfgen` needs nothing else. The templates live in `init/`; the agents file is this
//! repository's own `environments/agents.toml` (the plan's five agents), so the two cannot drift.
//!
//! The JSON Schemas come from [`crate::schema`], so a new repository's specs are checked by its editor
//! against the same types tfgen reads them with. Each agent also gets, once, a Dockerfile and a reference
//! agent under `agents/<name>/` (from `init/agent/`, filled from [`crate::contract`]); `tfgen scaffold agent
//! NAME` writes them for one agent. The load test goes under `load_test/` (`tfgen scaffold load-test`).
//!
//! This module does not touch the disk: `main` checks for existing files and writes these.

use crate::contract;

/// Replaced, in the CI workflow, by the version of the running tfgen, which CI then installs.
const VERSION_PLACEHOLDER: &str = "{{TFGEN_VERSION}}";

/// The scaffold's CI workflow, relative to the new repository's root.
pub const WORKFLOW_PATH: &str = ".github/workflows/infrastructure.yml";

/// The agents file every new repository starts with.
const AGENTS_TOML: &str = include_str!("../environments/agents.toml");

/// An agent of an agents file, as its image files need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredAgent {
    pub name: String,
    pub port: u16,
    /// Its `health_check_path`, or the default: what the ALB and the task's health check probe.
    pub health_check_path: String,
}

/// The files of one agent's image, written once: `agents/<name>/{Dockerfile,app.py,requirements.txt}`.
/// The reference agent answers, and the `HEALTHCHECK` probes, the agent's own health check path.
pub fn agent_files(agent: &DeclaredAgent) -> Vec<(String, String)> {
    let (name, port, health) = (&agent.name, agent.port, agent.health_check_path.as_str());
    let fill = |text: &str| {
        text.replace("{{AGENT_NAME}}", name)
            .replace("{{PORT}}", &port.to_string())
            .replace("{{HEALTH_PROBE}}", &contract::health_probe(&port.to_string(), health))
            .replace("{{HEALTH_PATH}}", health)
            .replace("{{DB_FAILURE_EVENT}}", contract::DB_FAILURE_EVENT)
            .replace("{{SMOKE_SEGMENT}}", contract::SMOKE_SEGMENT)
            .replace("{{TLS_PORT_VAR}}", contract::TLS_PORT_VAR)
            .replace("{{TLS_PORT}}", &contract::TLS_PORT.to_string())
    };
    [
        ("Dockerfile", include_str!("../init/agent/Dockerfile")),
        ("app.py", include_str!("../init/agent/app.py")),
        ("requirements.txt", include_str!("../init/agent/requirements.txt")),
    ]
    .into_iter()
    .map(|(file, text)| (format!("agents/{name}/{file}"), fill(text)))
    .collect()
}

/// The load test of an environment, written once: `load_test/{locustfile.py,requirements.txt}`. It reads
/// the environment's agents from the tree's `smoke.py` ([`crate::smoke`]), so it holds nothing to refill.
pub fn load_test_files() -> Vec<(String, String)> {
    [
        ("locustfile.py", include_str!("../init/load_test/locustfile.py")),
        ("requirements.txt", include_str!("../init/load_test/requirements.txt")),
    ]
    .into_iter()
    .map(|(file, text)| (format!("{LOAD_TEST_DIR}/{file}"), text.to_string()))
    .collect()
}

/// Where the load test's files go, relative to the repository's root.
pub const LOAD_TEST_DIR: &str = "load_test";

/// The agents declared in an agents file; entries that do not parse are left out (the spec's own checks
/// report them).
pub fn declared_agents(agents_toml: &str) -> Vec<DeclaredAgent> {
    toml::from_str::<crate::spec::AgentsFile>(agents_toml)
        .map(|file| {
            file.agents
                .iter()
                .filter_map(|a| {
                    Some(DeclaredAgent {
                        name: a.name.get_ref().clone(),
                        port: u16::try_from(*a.port.get_ref()).ok()?,
                        health_check_path: a
                            .health_check_path
                            .as_ref()
                            .map_or(contract::HEALTH_PATH, |p| p.get_ref().as_str())
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every file of a new repository: its path relative to the repository's root, and its text.
pub fn files() -> Vec<(String, String)> {
    let mut files = base_files();
    for agent in declared_agents(AGENTS_TOML) {
        files.extend(agent_files(&agent));
    }
    files.extend(load_test_files());
    files
}

fn base_files() -> Vec<(String, String)> {
    vec![
        ("environments/agents.toml", AGENTS_TOML.to_string()),
        (
            "environments/dev.toml",
            include_str!("../init/environments/dev.toml").to_string(),
        ),
        (
            "environments/prod.toml",
            include_str!("../init/environments/prod.toml").to_string(),
        ),
        // The JSON Schemas the specs' `#:schema` directives point at (for Taplo / Even Better TOML).
        (
            crate::schema::ENV_SCHEMA_PATH,
            crate::schema::json_schema_text(crate::keys::Schema::Env),
        ),
        (
            crate::schema::AGENTS_SCHEMA_PATH,
            crate::schema::json_schema_text(crate::keys::Schema::Agents),
        ),
        // Stored without its dot, so that it does not apply to tfgen's own `init/` directory.
        (".gitignore", include_str!("../init/gitignore").to_string()),
        (
            WORKFLOW_PATH,
            include_str!("../init/infrastructure.yml").replace(VERSION_PLACEHOLDER, env!("CARGO_PKG_VERSION")),
        ),
    ]
    .into_iter()
    .map(|(path, text)| (path.to_string(), text))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_pins_this_version() {
        let files = files();
        let (_, workflow) = files.iter().find(|(p, _)| p == WORKFLOW_PATH).unwrap();
        assert!(
            !workflow.contains(VERSION_PLACEHOLDER),
            "placeholder left in the workflow"
        );
        assert!(workflow.contains(&format!("TFGEN_VERSION: \"{}\"", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn init_writes_an_image_for_each_of_the_five_agents() {
        let files = files();
        for name in [
            "supervisor",
            "order-management",
            "product-recommendation",
            "personalization",
            "troubleshooting",
        ] {
            for file in ["Dockerfile", "app.py", "requirements.txt"] {
                let path = format!("agents/{name}/{file}");
                let (_, text) = files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .unwrap_or_else(|| panic!("{path}"));
                assert!(!text.contains("{{AGENT_NAME}}") && !text.contains("{{PORT}}"), "{path}");
            }
        }
    }
}
