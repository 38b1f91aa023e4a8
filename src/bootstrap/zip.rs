//! A deterministic zip archive of a few files, stored without compression, and base64: what
//! `aws_s3_object.content_base64` needs to hold a Lambda function's code. Fixed timestamp (1980-01-01)
//! and permissions (0644), so the same source always gives the same bytes and the same plan.
//!
//! Only this shape of zip (PKWARE APPNOTE 6.3.10, sections 4.3.7, 4.3.12, 4.3.16); it reads nothing.

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip requires.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip holding `files` (name, data) in that order, stored. Panics past 4 GiB (no zip64), far beyond a
/// handler's size.
pub fn stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    // DOS date 1980-01-01 00:00:00.
    let (time, date) = (0u16, (1u16 << 5) | 1);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let size = u32::try_from(data.len()).expect("zip64 is not supported");
        let name_len = u16::try_from(name.len()).expect("file name too long");
        let crc = crc32(data);
        let offset = u32::try_from(out.len()).expect("zip64 is not supported");
        // The fields the local and the central header share, from "version needed" to the name's length.
        let mut common = Vec::with_capacity(26);
        common.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        common.extend_from_slice(&0u16.to_le_bytes()); // flags
        common.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        common.extend_from_slice(&time.to_le_bytes());
        common.extend_from_slice(&date.to_le_bytes());
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&size.to_le_bytes());
        common.extend_from_slice(&size.to_le_bytes());
        common.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x031Eu16.to_le_bytes()); // made by: Unix, 3.0 (so the mode below counts)
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 8]); // extra, comment, disk number, internal attributes
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes()); // regular file, rw-r--r--
        central.extend_from_slice(&offset.to_le_bytes()); // local header offset
        central.extend_from_slice(name.as_bytes());
    }
    let central_at = u32::try_from(out.len()).expect("zip64 is not supported");
    let central_len = u32::try_from(central.len()).expect("zip64 is not supported");
    let count = u16::try_from(files.len()).expect("too many files");
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_and_base64_match_their_standard_test_vectors() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
