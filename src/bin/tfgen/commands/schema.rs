//! `tfgen schema`: the JSON Schema of a spec file.

use crate::cli::SchemaFile;
use crate::common::exit;

pub fn run(file: SchemaFile) -> u8 {
    let which = match file {
        SchemaFile::Env => tfgen::keys::Schema::Env,
        SchemaFile::Agents => tfgen::keys::Schema::Agents,
    };
    print!("{}", tfgen::schema::json_schema_text(which));
    exit::OK
}
