//! Rebuild when a template changes: `include_dir!` embeds `modules/` but cannot tell cargo about new files.
fn main() {
    println!("cargo:rerun-if-changed=modules");
}
