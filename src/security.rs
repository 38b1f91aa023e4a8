//! Security controls of an environment (`[security]` in the spec): raw type, resolved type, checks.
//!
//! Prod-sized environments may not turn off prod-critical controls; dev may, with safe defaults.
//! This module neither parses TOML nor renders; it is called by [`crate::validate`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, SourceFile};
use crate::model::Sizing;

/// `[security]` as written in the spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySpec {}

/// The security controls an environment gets, every default applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Security {}

/// Checks `[security]` against the environment's sizing and applies the defaults.
pub fn validate(
    _spec: &SecuritySpec,
    _sizing: Sizing,
    _file: &Arc<SourceFile>,
) -> (Security, Vec<Diagnostic>) {
    (Security {}, Vec::new())
}
