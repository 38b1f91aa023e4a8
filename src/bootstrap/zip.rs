//! A deterministic zip archive of a few files, stored without compression, and base64: what
//! `aws_s3_object.content_base64` needs to hold a Lambda function's code. Fixed timestamp (1980-01-01)
//! and permissions (0644), so the same source always gives the same bytes and the same plan.
//!
//! The archive is the `zip` crate's and the text the `base64` crate's; this module only fixes what makes
//! them reproducible. It reads nothing.

use std::io::{Cursor, Write as _};

use base64::Engine as _;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A zip holding `files` (name, data) in that order, stored.
pub fn stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        // Writing into memory fails only on a bug (a name zip cannot hold), never on input.
        zip.start_file(*name, options).expect("a zip entry in memory");
        zip.write_all(data).expect("writing into memory");
    }
    zip.finish().expect("finishing a zip in memory").into_inner()
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_reproducible_and_readable() {
        let files: [(&str, &[u8]); 2] = [("a.py", b"print(1)\n"), ("b.txt", b"")];
        let zip = stored(&files);
        assert_eq!(zip, stored(&files), "the same files give the same bytes");
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 2);
        let first = archive.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "a.py");
        assert_eq!((first.size(), first.unix_mode()), (9, Some(0o100_644)));
        assert_eq!(first.compression(), CompressionMethod::Stored);
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
