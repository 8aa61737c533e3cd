//! Photos (attachments) by content address, the same on devices and the server: a photo is
//! named `sha256:<64 lowercase hex>` after its bytes, so the same picture is stored and sent
//! once however many records reference it, and its bytes can be checked against its name.
//! Only JPEG, PNG and WebP images of at most [`MAX_PHOTO_BYTES`] are taken, recognised by
//! their first bytes (not by what a client claims).

use sha2::{Digest, Sha256};

/// The largest photo, in bytes (10 MiB: a phone camera's JPEG is 2–5 MB).
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;

/// The prefix of a photo's reference.
pub const REF_PREFIX: &str = "sha256:";

/// Why bytes are not a photo Lapak takes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Larger than [`MAX_PHOTO_BYTES`].
    #[error(
        "the photo is {0} bytes; at most {MAX_PHOTO_BYTES} bytes (10 MiB) are taken: take it at a lower resolution"
    )]
    TooLarge(u64),
    /// Not a JPEG, PNG or WebP image.
    #[error(
        "the file is not a JPEG, PNG or WebP image: take the photo with the camera or pick an image"
    )]
    NotAnImage,
    /// Empty.
    #[error("the photo is empty: take it again")]
    Empty,
    /// A reference that is not `sha256:<64 hex>`.
    #[error("`{0}` is not a photo reference: use the `sha256:...` a photo was added as")]
    BadRef(String),
}

/// The content type of an image from its first bytes, when it is one Lapak takes.
#[must_use]
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The reference (`sha256:<hex>`) of `bytes`, after checking they are a photo Lapak takes.
///
/// # Errors
/// [`PhotoError`] saying what is wrong with the bytes.
pub fn reference_of(bytes: &[u8]) -> Result<String, PhotoError> {
    check(bytes)?;
    Ok(format!("{REF_PREFIX}{}", hex_digest(bytes)))
}

/// Whether `bytes` are a photo Lapak takes (size and type).
///
/// # Errors
/// [`PhotoError`].
pub fn check(bytes: &[u8]) -> Result<(), PhotoError> {
    let len = bytes.len() as u64;
    if len == 0 {
        return Err(PhotoError::Empty);
    }
    if len > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge(len));
    }
    sniff(bytes).map(|_| ()).ok_or(PhotoError::NotAnImage)
}

/// The lowercase hex SHA-256 of `bytes`.
#[must_use]
pub fn hex_digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The 64 hex digits of a reference (`sha256:<hex>`, or the bare hex).
///
/// # Errors
/// [`PhotoError::BadRef`].
pub fn digest_of(reference: &str) -> Result<&str, PhotoError> {
    let hex = reference.strip_prefix(REF_PREFIX).unwrap_or(reference);
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(hex)
    } else {
        Err(PhotoError::BadRef(reference.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(check(b"<html>"), Err(PhotoError::NotAnImage));
        assert_eq!(check(b""), Err(PhotoError::Empty));
        let big = vec![0xFF; usize::try_from(MAX_PHOTO_BYTES).unwrap() + 1];
        assert!(matches!(check(&big), Err(PhotoError::TooLarge(_))));
    }

    #[test]
    fn a_reference_names_the_bytes() {
        let r = reference_of(b"\xFF\xD8\xFF\xE0hello").unwrap();
        assert!(r.starts_with("sha256:") && r.len() == 71, "{r}");
        assert_eq!(digest_of(&r).unwrap(), &r[7..]);
        assert_eq!(
            hex_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:ABC",
            "",
            &format!("sha256:{}", "g".repeat(64)),
        ] {
            assert!(digest_of(bad).is_err(), "{bad}");
        }
    }
}
