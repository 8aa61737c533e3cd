//! Protocol messages between devices and the server: push, pull and live.
//!
//! Every message has two encodings:
//! - **binary** (the wire format): the magic bytes `LPK`, the protocol version as a little-endian
//!   `u16`, then the [`Message`] in [postcard](https://docs.rs/postcard) encoding;
//! - **JSON** (for debugging and hand-written tests): `{"v":1,"msg":{...}}`, with byte strings as
//!   base64.
//!
//! Decoding never panics and never allocates more than a small multiple of the input's size:
//! lengths inside the message are checked against the bytes actually present, values are at
//! most two levels deep, and [`MAX_MESSAGE_BYTES`] bounds the input itself. The full
//! specification lives in `docs/protocol.md`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::value::Record;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// The largest encoded message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// The most changes one push may carry.
pub const MAX_PUSH_CHANGES: usize = 10_000;
/// The most log entries one pull response may carry, over all its batches.
pub const MAX_PULL_ENTRIES: usize = 200_000;
/// The largest single change (one Automerge change or one ledger entry), in bytes.
pub const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// The most content bytes (inflated, for compressed changes) of the document changes one push
/// may make a server parse; changes past it wait for a later push.
pub const MAX_PUSH_CHANGE_CONTENT_BYTES: usize = 16 * 1024 * 1024;
/// The largest stored document a change may grow: its saved bytes plus the changes added to it.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;
/// The magic bytes that open every binary message.
pub const MAGIC: &[u8; 3] = b"LPK";

/// A device's pending changes, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The device sending them.
    pub device_id: Uuid,
    /// Changes in the order they were made.
    pub changes: Vec<Change>,
}

/// One local change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Unique per change, made on the device; the server stores each id once.
    pub change_id: Uuid,
    /// The collection written.
    pub collection: String,
    /// The record written.
    pub record_id: String,
    /// What was written.
    pub body: ChangeBody,
}

/// The content of a change, by collection kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ChangeBody {
    /// One Automerge change to the record's document.
    Document {
        /// The change's bytes (`automerge::Change::raw_bytes`).
        #[serde(with = "bytes")]
        change: Vec<u8>,
    },
    /// A new ledger entry (its id is the change id).
    Ledger {
        /// The entry's fields.
        entry: Record,
    },
}

/// The server's answer to a push: one result per change it looked at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Results, in the order of the request's changes.
    pub results: Vec<ChangeResult>,
}

/// The verdict on one change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeResult {
    /// The change judged.
    pub change_id: Uuid,
    /// The verdict.
    pub outcome: Outcome,
}

/// A verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Stored at this position of the server's log.
    Accepted {
        /// Server log position.
        position: u64,
    },
    /// Refused by a rule or by permissions; final.
    Rejected {
        /// Machine-readable code (`voucher_already_redeemed`, `forbidden_scope`, ...).
        code: String,
        /// Message for the person who made the change.
        message: String,
    },
    /// Not judged this time (it depends on a rejected change, or the batch was cut short); send
    /// it again.
    Deferred {
        /// Why.
        reason: String,
    },
}

/// A device asking for what is past its cursors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// One cursor per scope the device follows.
    pub cursors: Vec<Cursor>,
    /// The most entries wanted, over all scopes.
    pub limit: u32,
}

/// A position in one scope's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The scope (`branch:JKT-01`).
    pub scope: String,
    /// The last position seen.
    pub position: u64,
}

/// What the server has past a device's cursors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// One batch per scope that has news.
    pub batches: Vec<ScopeBatch>,
}

/// A contiguous slice of one scope's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScopeBatch {
    /// The scope.
    pub scope: String,
    /// The cursor this batch continues from (exclusive).
    pub after: u64,
    /// The cursor after applying it (inclusive): every entry of the scope in `(after, upto]` is
    /// in `entries`.
    pub upto: u64,
    /// The entries, in position order.
    pub entries: Vec<LogEntry>,
    /// Whether the scope has more past `upto`.
    pub has_more: bool,
}

/// One entry of a scope's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the log.
    pub position: u64,
    /// Collection of the record.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// What happened to it.
    pub op: LogOp,
}

/// What happened to a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LogOp {
    /// Document data to merge: Automerge changes, or a whole saved document.
    Document {
        /// Bytes accepted by `automerge::AutoCommit::load_incremental`.
        #[serde(with = "bytes")]
        data: Vec<u8>,
    },
    /// An accepted ledger entry.
    Ledger {
        /// The entry's fields.
        entry: Record,
    },
    /// A reference row, new or changed.
    Upsert {
        /// Server version of the row; older versions never overwrite newer ones.
        version: u64,
        /// All the row's fields.
        fields: Record,
    },
    /// A reference row deleted.
    Delete {
        /// Server version of the deletion.
        version: u64,
    },
    /// The record left this scope: drop it unless another followed scope still holds it.
    Evict,
}

/// Messages on the live WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LiveMessage {
    /// The device opens the conversation.
    Hello {
        /// The device.
        device_id: Uuid,
        /// Its cursors, so the server can tell at once what is already new.
        cursors: Vec<Cursor>,
    },
    /// The server has news in these scopes, up to these positions: pull.
    News {
        /// Scopes and their newest positions.
        heads: Vec<Cursor>,
    },
    /// Keep-alive; the other side answers with `Pong` of the same number.
    Ping(u64),
    /// Answer to `Ping`.
    Pong(u64),
    /// The sender closes the socket, saying why.
    Close {
        /// Machine-readable code (`shutdown`, `token_expired`, `revoked`).
        code: String,
        /// Human-readable reason.
        reason: String,
    },
    /// The server's news with the entries themselves (small writes): the device applies the
    /// batches as it applies a pull answer's; when a batch starts past its cursor (it missed
    /// something), it pulls instead.
    Entries {
        /// One batch per scope, each complete for its `(after, upto]`.
        batches: Vec<ScopeBatch>,
    },
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// Device to server.
    PushRequest(PushRequest),
    /// Server to device.
    PushResponse(PushResponse),
    /// Device to server.
    PullRequest(PullRequest),
    /// Server to device.
    PullResponse(PullResponse),
    /// Either way, on the live socket.
    Live(LiveMessage),
}

/// Why bytes could not be decoded into a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is larger than [`MAX_MESSAGE_BYTES`].
    #[error("message of {len} bytes is larger than the limit of {max} bytes: send smaller batches")]
    TooLarge {
        /// Input size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input does not start with `LPK` and a version.
    #[error("not a Lapak message (it must start with the bytes `LPK` and a version)")]
    BadMagic,
    /// A protocol version this build does not speak.
    #[error(
        "protocol version {found} is not supported (this side speaks {supported}): update the older side"
    )]
    UnsupportedVersion {
        /// The version in the message.
        found: u16,
        /// The version spoken here.
        supported: u16,
    },
    /// The body is not a valid message.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A valid message followed by extra bytes.
    #[error("malformed message: {0} unexpected bytes after its end")]
    TrailingBytes(usize),
    /// The message is valid but past a protocol limit.
    #[error("message exceeds a protocol limit: {0}")]
    LimitExceeded(String),
}

#[derive(Serialize)]
struct JsonEnvelopeRef<'a> {
    v: u16,
    msg: &'a Message,
}

#[derive(Deserialize)]
struct JsonVersion {
    v: u16,
}

#[derive(Deserialize)]
struct JsonEnvelope {
    msg: Message,
}

impl Message {
    /// Encodes to the binary wire format.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        // Serializing these plain data types into a Vec cannot fail.
        postcard::to_extend(self, out).unwrap_or_default()
    }

    /// Decodes the binary wire format.
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong with the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_MESSAGE_BYTES,
            });
        }
        if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[3], bytes[4]]);
        check_version(version)?;
        let (msg, rest): (Message, _) = postcard::take_from_bytes(&bytes[5..])
            .map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes(rest.len()));
        }
        msg.check_limits()?;
        Ok(msg)
    }

    /// Encodes to the JSON debugging form.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&JsonEnvelopeRef {
            v: PROTOCOL_VERSION,
            msg: self,
        })
        .unwrap_or_default()
    }

    /// Decodes the JSON debugging form.
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong with the text.
    pub fn from_json(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge {
                len: text.len(),
                max: MAX_MESSAGE_BYTES,
            });
        }
        // The version first, so that a message of another version says so instead of failing to
        // parse as this version's.
        let head: JsonVersion =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        check_version(head.v)?;
        let env: JsonEnvelope =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        env.msg.check_limits()?;
        Ok(env.msg)
    }

    fn check_limits(&self) -> Result<(), DecodeError> {
        match self {
            Message::PushRequest(p) if p.changes.len() > MAX_PUSH_CHANGES => {
                Err(DecodeError::LimitExceeded(format!(
                    "a push carries {} changes, at most {MAX_PUSH_CHANGES} are allowed",
                    p.changes.len()
                )))
            }
            Message::PullResponse(PullResponse { batches })
            | Message::Live(LiveMessage::Entries { batches }) => {
                let n: usize = batches.iter().map(|b| b.entries.len()).sum();
                if n > MAX_PULL_ENTRIES {
                    return Err(DecodeError::LimitExceeded(format!(
                        "a message carries {n} log entries, at most {MAX_PULL_ENTRIES} are allowed"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn check_version(found: u16) -> Result<(), DecodeError> {
    if found == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(DecodeError::UnsupportedVersion {
            found,
            supported: PROTOCOL_VERSION,
        })
    }
}

/// Byte strings: raw bytes in binary formats, base64 text in JSON.
mod bytes {
    use std::fmt;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    struct BytesVisitor;

    impl Visitor<'_> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes, or a base64 string")
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            STANDARD
                .decode(v)
                .map_err(|e| E::custom(format!("invalid base64: {e}")))
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(BytesVisitor)
        } else {
            d.deserialize_bytes(BytesVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{item, record};

    fn sample_push() -> Message {
        Message::PushRequest(PushRequest {
            device_id: Uuid::now_v7(),
            changes: vec![
                Change {
                    change_id: Uuid::now_v7(),
                    collection: "sales".into(),
                    record_id: "r1".into(),
                    body: ChangeBody::Ledger {
                        entry: record! {"total" => 12_500, "lines" => crate::Value::List(vec![item!{"sku" => "A", "qty" => 2}])},
                    },
                },
                Change {
                    change_id: Uuid::now_v7(),
                    collection: "outlets".into(),
                    record_id: "o1".into(),
                    body: ChangeBody::Document {
                        change: vec![0, 1, 2, 255],
                    },
                },
            ],
        })
    }

    #[test]
    fn binary_and_json_round_trip() {
        let m = sample_push();
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        let json = m.to_json();
        assert!(
            json.contains("\"AAEC/w==\""),
            "bytes are base64 in JSON: {json}"
        );
        assert_eq!(Message::from_json(&json).unwrap(), m);
    }

    #[test]
    fn live_entries_round_trip() {
        let m = Message::Live(LiveMessage::Entries {
            batches: vec![ScopeBatch {
                scope: "branch:A".into(),
                after: 3,
                upto: 9,
                entries: vec![LogEntry {
                    position: 9,
                    collection: "sales".into(),
                    record_id: "r".into(),
                    op: LogOp::Ledger {
                        entry: record! {"total" => 5},
                    },
                }],
                has_more: false,
            }],
        });
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        assert_eq!(Message::from_json(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn refuses_bad_envelopes() {
        let m = sample_push().encode();
        assert_eq!(Message::decode(b"xx"), Err(DecodeError::BadMagic));
        assert_eq!(Message::decode(b"NOPE!!"), Err(DecodeError::BadMagic));
        let mut v2 = m.clone();
        v2[3] = 2;
        assert!(matches!(
            Message::decode(&v2),
            Err(DecodeError::UnsupportedVersion { found: 2, .. })
        ));
        let mut trailing = m.clone();
        trailing.push(0);
        assert_eq!(
            Message::decode(&trailing),
            Err(DecodeError::TrailingBytes(1))
        );
        for cut in 5..m.len() {
            assert!(Message::decode(&m[..cut]).is_err(), "truncated at {cut}");
        }
    }

    #[test]
    fn huge_length_prefix_does_not_allocate() {
        // Message::PushRequest, a uuid, then a vec length of u32::MAX-ish: must fail fast.
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        b.push(0); // variant PushRequest
        b.push(16);
        b.extend_from_slice(&[7; 16]);
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(
            Message::decode(&b),
            Err(DecodeError::Malformed(_))
        ));
    }
}
