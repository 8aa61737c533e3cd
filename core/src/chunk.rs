//! Cheap checks of an Automerge change's bytes before anything costly is done with them.
//!
//! An Automerge change travels as one *chunk*: the magic bytes `85 6f 4a 83`, a 4-byte
//! checksum, a chunk type (0 document, 1 change, 2 compressed change), the body's length as an
//! unsigned LEB128, and the body. A compressed change's body is raw DEFLATE of a change's body,
//! so a few kilobytes may claim gigabytes. [`check_change`] reads the header, requires exactly
//! one chunk of type 1 or 2 whose declared length matches the input, and inflates a type 2 body
//! with a hard bound on its output: a bomb is refused after at most `max_inflated` bytes were
//! produced. It returns the change's content size (the inflated body, or the body as is), which
//! callers count against their own budgets before Automerge parses the change.

use std::io::Read as _;

/// The bytes every Automerge chunk starts with.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Chunk type of an uncompressed change.
const CHANGE: u8 = 1;
/// Chunk type of a DEFLATE-compressed change.
const COMPRESSED_CHANGE: u8 = 2;

/// Why the bytes are not one acceptable change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// The header is cut short or does not start with the magic bytes.
    #[error("not an Automerge change: the bytes do not start with an Automerge chunk header")]
    NotAChunk,
    /// A document, bundle or unknown chunk type where a change was expected.
    #[error("an Automerge chunk of type {0} where a change (type 1 or 2) was expected")]
    WrongType(u8),
    /// The declared body length differs from the bytes that follow the header.
    #[error(
        "the change declares a body of {declared} bytes but {present} follow its header: send exactly one whole change"
    )]
    Length {
        /// The length in the header.
        declared: u64,
        /// The bytes present after the header.
        present: usize,
    },
    /// A compressed body is not valid DEFLATE.
    #[error("the compressed change is not valid DEFLATE data")]
    Deflate,
    /// A compressed body inflates past the bound.
    #[error(
        "the compressed change inflates to more than {max} bytes, the most one change may hold: save smaller edits"
    )]
    TooLarge {
        /// The bound.
        max: usize,
    },
}

/// Checks that `bytes` are exactly one change chunk (type 1, or type 2 inflating to at most
/// `max_inflated` bytes) and returns the size of its content: the inflated body of a compressed
/// change, the body of a plain one. Work is bounded by the input and `max_inflated`.
///
/// # Errors
/// [`ChunkError`] naming the first thing wrong.
pub fn check_change(bytes: &[u8], max_inflated: usize) -> Result<usize, ChunkError> {
    let rest = bytes
        .strip_prefix(&MAGIC[..])
        .ok_or(ChunkError::NotAChunk)?;
    let (&kind, rest) = rest
        .get(4..)
        .and_then(<[u8]>::split_first)
        .ok_or(ChunkError::NotAChunk)?;
    let (declared, body) = uleb128(rest).ok_or(ChunkError::NotAChunk)?;
    if u64::try_from(body.len()).ok() != Some(declared) {
        return Err(ChunkError::Length {
            declared,
            present: body.len(),
        });
    }
    match kind {
        CHANGE => Ok(body.len()),
        COMPRESSED_CHANGE => inflated_len(body, max_inflated),
        other => Err(ChunkError::WrongType(other)),
    }
}

/// Inflates `body` into a sink, stopping with [`ChunkError::TooLarge`] once more than `max`
/// bytes came out.
fn inflated_len(body: &[u8], max: usize) -> Result<usize, ChunkError> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::bufread::DeflateDecoder::new(body).take(limit);
    let n = std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|_| ChunkError::Deflate)?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > max {
        return Err(ChunkError::TooLarge { max });
    }
    Ok(n)
}

/// How many operations the change's columns claim, counted from their run lengths without
/// decoding a single operation: Automerge's own parse walks every claimed operation, and a few
/// bytes of run-length columns can claim hundreds of millions of them. `Ok(None)` when the body
/// cannot be walked (Automerge's parse then refuses it); work is bounded by the input and
/// `max_inflated`.
///
/// # Errors
/// As [`check_change`].
pub fn claimed_ops(bytes: &[u8], max_inflated: usize) -> Result<Option<u64>, ChunkError> {
    check_change(bytes, max_inflated)?;
    let rest = &bytes[MAGIC.len() + 4..];
    let (&kind, rest) = rest.split_first().ok_or(ChunkError::NotAChunk)?;
    let (_, body) = uleb128(rest).ok_or(ChunkError::NotAChunk)?;
    let inflated;
    let body = if kind == COMPRESSED_CHANGE {
        inflated = inflate(body, max_inflated)?;
        inflated.as_slice()
    } else {
        body
    };
    Ok(columns_claim(body))
}

/// Inflates a body known to stay within `max` bytes.
fn inflate(body: &[u8], max: usize) -> Result<Vec<u8>, ChunkError> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    flate2::bufread::DeflateDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| ChunkError::Deflate)?;
    if out.len() > max {
        return Err(ChunkError::TooLarge { max });
    }
    Ok(out)
}

/// Walks a change body (dependencies, actor, sequence, start op, time, message, other actors,
/// column metadata) to its operation columns and returns the most rows any column claims.
fn columns_claim(body: &[u8]) -> Option<u64> {
    let (deps, mut rest) = uleb128(body)?;
    rest = rest.get(usize::try_from(deps).ok()?.checked_mul(32)?..)?;
    rest = skip_bytes(rest)?; // actor
    rest = uleb128(rest)?.1; // seq
    rest = uleb128(rest)?.1; // start op
    rest = uleb128(rest)?.1; // time (signed; skipping is the same)
    rest = skip_bytes(rest)?; // message
    let (others, mut after) = uleb128(rest)?;
    for _ in 0..others {
        after = skip_bytes(after)?;
    }
    let (count, mut meta) = uleb128(after)?;
    let mut specs = Vec::new();
    for _ in 0..count.min(1024) {
        let (spec, r) = uleb128(meta)?;
        let (len, r) = uleb128(r)?;
        specs.push((spec, usize::try_from(len).ok()?));
        meta = r;
    }
    let mut data = meta;
    let mut most = 0;
    for (spec, len) in specs {
        let column = data.get(..len)?;
        data = &data[len..];
        let deflated = spec & 0b1000 != 0;
        if !deflated {
            most = most.max(column_rows(spec & 0b111, column)?);
        }
    }
    Some(most)
}

/// The rows a column claims: run lengths summed (boolean columns are runs only); a raw value
/// column claims none by itself.
fn column_rows(kind: u64, mut column: &[u8]) -> Option<u64> {
    const BOOLEAN: u64 = 4;
    const STRING: u64 = 5;
    const RAW: u64 = 7;
    let mut rows: u64 = 0;
    match kind {
        RAW => return Some(0),
        BOOLEAN => {
            while !column.is_empty() {
                let (n, r) = uleb128(column)?;
                rows = rows.saturating_add(n);
                column = r;
            }
        }
        _ => {
            while !column.is_empty() {
                let (n, r) = sleb128(column)?;
                column = r;
                let values = match n {
                    0 => {
                        let (nulls, r) = uleb128(column)?;
                        column = r;
                        rows = rows.saturating_add(nulls);
                        0
                    }
                    n if n > 0 => {
                        rows = rows.saturating_add(n.unsigned_abs());
                        1
                    }
                    n => {
                        rows = rows.saturating_add(n.unsigned_abs());
                        n.unsigned_abs()
                    }
                };
                for _ in 0..values {
                    column = if kind == STRING {
                        skip_bytes(column)?
                    } else {
                        uleb128(column)?.1
                    };
                }
            }
        }
    }
    Some(rows)
}

/// Skips a length-prefixed byte string.
fn skip_bytes(bytes: &[u8]) -> Option<&[u8]> {
    let (len, rest) = uleb128(bytes)?;
    rest.get(usize::try_from(len).ok()?..)
}

/// A signed LEB128 of at most 10 bytes, and the bytes after it.
fn sleb128(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let mut value: i64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let shift = 7 * u32::try_from(i).ok()?;
        value |= i64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b & 0x80 == 0 {
            if shift + 7 < 64 && b & 0x40 != 0 {
                value |= -1_i64 << (shift + 7);
            }
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// An unsigned LEB128 of at most 10 bytes (a `u64`), and the bytes after it.
fn uleb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        let shift = 7 * u32::try_from(i).ok()?;
        if shift == 63 && part > 1 {
            return None;
        }
        value |= part << shift;
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([1, 2, 3, 4, kind]);
        let mut n = body.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend(body);
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_real_change_passes_compressed_or_not() {
        let mut doc = automerge::AutoCommit::new();
        automerge::transaction::Transactable::put(
            &mut doc,
            automerge::ROOT,
            "name",
            "x".repeat(2_000),
        )
        .unwrap();
        let hash = doc.commit().unwrap();
        let mut change = doc.get_change_by_hash(&hash).unwrap().clone();
        let plain = change.raw_bytes().to_vec();
        assert_eq!(plain[8], CHANGE);
        assert!(check_change(&plain, 1 << 20).is_ok());
        let compressed = change.bytes().to_vec();
        assert_eq!(
            compressed[8], COMPRESSED_CHANGE,
            "2 KB of one letter compresses"
        );
        let n = check_change(&compressed, 1 << 20).unwrap();
        assert!(n > compressed.len(), "the content size is the inflated one");
    }

    #[test]
    fn a_bomb_is_refused_at_the_bound() {
        let bomb = chunk(COMPRESSED_CHANGE, &deflate(&vec![0u8; 16 << 20]));
        assert!(bomb.len() < 50_000, "16 MiB of zeros deflates small");
        assert_eq!(
            check_change(&bomb, 1 << 20),
            Err(ChunkError::TooLarge { max: 1 << 20 })
        );
        let exact = chunk(COMPRESSED_CHANGE, &deflate(&vec![7u8; 1000]));
        assert_eq!(check_change(&exact, 1000), Ok(1000));
        assert!(check_change(&exact, 999).is_err());
    }

    #[test]
    fn other_shapes_are_refused() {
        assert_eq!(check_change(b"", 10), Err(ChunkError::NotAChunk));
        assert_eq!(
            check_change(b"LPK\x01hello", 10),
            Err(ChunkError::NotAChunk)
        );
        assert_eq!(
            check_change(&chunk(0, b"doc"), 10),
            Err(ChunkError::WrongType(0))
        );
        assert_eq!(
            check_change(&chunk(3, b"x"), 10),
            Err(ChunkError::WrongType(3))
        );
        let mut two = chunk(CHANGE, b"abc");
        two.extend(chunk(CHANGE, b"def"));
        assert!(matches!(
            check_change(&two, 100),
            Err(ChunkError::Length { declared: 3, .. })
        ));
        let mut short = chunk(CHANGE, b"abcdef");
        short.truncate(short.len() - 2);
        assert!(matches!(
            check_change(&short, 100),
            Err(ChunkError::Length {
                declared: 6,
                present: 4
            })
        ));
        assert_eq!(
            check_change(&chunk(COMPRESSED_CHANGE, b"\xff\xff\xff"), 100),
            Err(ChunkError::Deflate)
        );
        let mut endless = MAGIC.to_vec();
        endless.extend([0, 0, 0, 0, CHANGE]);
        endless.extend([0xff; 11]);
        assert_eq!(check_change(&endless, 100), Err(ChunkError::NotAChunk));
    }

    /// The operations a real change holds, as Automerge counts them, equal what its columns
    /// claim; compressed or not.
    #[test]
    fn claimed_operations_of_real_changes_are_their_operations() {
        use automerge::transaction::Transactable as _;
        use automerge::{AutoCommit, ObjType, ROOT};
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"ab".repeat(600)).unwrap();
        let list = doc.put_object(ROOT, "lines", ObjType::List).unwrap();
        for i in 0..50 {
            let item = doc.insert_object(&list, i, ObjType::Map).unwrap();
            doc.put(&item, "sku", format!("SKU-{i}")).unwrap();
            doc.put(&item, "qty", i64::try_from(i).unwrap() - 25)
                .unwrap();
        }
        doc.put(ROOT, "name", "Toko").unwrap();
        doc.commit();
        let mut change = doc.get_last_local_change().unwrap();
        let ops = u64::try_from(change.len()).unwrap();
        assert!(ops > 1_300);
        let raw = change.raw_bytes().to_vec();
        assert_eq!(claimed_ops(&raw, 1 << 20).unwrap(), Some(ops));
        let compressed = change.bytes().to_vec();
        assert_eq!(claimed_ops(&compressed, 1 << 20).unwrap(), Some(ops));
        doc.put(ROOT, "name", "Toko Baru").unwrap();
        doc.commit();
        let one = doc.get_last_local_change().unwrap();
        assert_eq!(claimed_ops(one.raw_bytes(), 1 << 20).unwrap(), Some(1));
    }

    /// A change of a few dozen bytes whose action column claims 10^8 operations: counted, not
    /// decoded.
    #[test]
    fn a_run_length_bomb_is_counted_without_decoding() {
        let mut body = vec![0, 1, 0xaa, 1, 1, 0, 0, 0]; // no deps, actor aa, seq, start, time, no message, no other actors
        let mut column = Vec::new();
        // A run of 100,000,000 of the value 1, as a signed LEB128 count then the value.
        let mut n: i64 = 100_000_000;
        loop {
            let byte = u8::try_from(n & 0x7f).unwrap();
            n >>= 7;
            if n == 0 && byte & 0x40 == 0 {
                column.push(byte);
                break;
            }
            column.push(byte | 0x80);
        }
        column.push(1);
        body.extend([1, 0x42, u8::try_from(column.len()).unwrap()]);
        body.extend(&column);
        let bytes = chunk(CHANGE, &body);
        assert!(bytes.len() < 40);
        assert_eq!(claimed_ops(&bytes, 1 << 20).unwrap(), Some(100_000_000));
        assert_eq!(claimed_ops(&chunk(CHANGE, &[7]), 1 << 20).unwrap(), None);
    }
}
