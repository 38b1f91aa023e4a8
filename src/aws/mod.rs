//! The one home of AWS facts: every table tfgen checks a spec against, each with the page it was
//! copied from and the date it was checked. Pure data and pure lookups; nothing here reports a
//! diagnostic or renders anything (the spec sections' checks do, by calling these functions).
//!
//! When AWS changes, update the table here and its `Checked` date; nothing else restates these facts
//! (tests hold the child modules' copies under `modules/` equal to them).

pub mod aurora;
pub mod bedrock;
pub mod fargate;
pub mod limits;
pub mod logs;
pub mod provider;
pub mod regions;
pub mod tables;

/// When a table was last compared with its source page.
pub const CHECKED: &str = "2026-11-25";
