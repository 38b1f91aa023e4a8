//! One module per command, each a thin shell over the library: it reads its arguments, calls the
//! pipeline, prints, and returns the exit code.

pub mod access;
pub mod check;
pub mod completions;
pub mod cost;
pub mod diff;
pub mod init;
pub mod reach;
pub mod render;
pub mod scaffold;
pub mod schema;
pub mod show;
pub mod validate;
