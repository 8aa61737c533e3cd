//! Protocol decoding against random and hostile input, and encode/decode round trips of
//! arbitrary messages in both encodings.

use lapak_core::protocol::{
    Change, ChangeBody, ChangeResult, Cursor, LiveMessage, LogEntry, LogOp, MAGIC, Message,
    Outcome, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, ScopeBatch,
};
use lapak_core::{Item, Record, Scalar, Value};
use proptest::prelude::*;
use uuid::Uuid;

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Null),
        any::<bool>().prop_map(Scalar::Bool),
        any::<i64>().prop_map(Scalar::Int),
        (-1e12f64..1e12).prop_map(Scalar::Real),
        ".{0,12}".prop_map(Scalar::Text),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        scalar().prop_map(Value::from),
        proptest::collection::vec(
            proptest::collection::btree_map("[a-z]{1,6}", scalar(), 0..4),
            0..4
        )
        .prop_map(|items: Vec<Item>| Value::List(items)),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    proptest::collection::btree_map("[a-z_]{1,8}", value(), 0..5)
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn message() -> impl Strategy<Value = Message> {
    let change = (
        uuid(),
        "[a-z]{1,8}",
        ".{1,20}",
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|change| ChangeBody::Document { change }),
            record().prop_map(|entry| ChangeBody::Ledger { entry }),
        ],
    )
        .prop_map(|(change_id, collection, record_id, body)| Change {
            change_id,
            collection,
            record_id,
            body,
        });
    let outcome = prop_oneof![
        any::<u64>().prop_map(|position| Outcome::Accepted { position }),
        (".{0,10}", ".{0,30}").prop_map(|(code, message)| Outcome::Rejected { code, message }),
        ".{0,10}".prop_map(|reason| Outcome::Deferred { reason }),
    ];
    let cursor =
        ("[a-z:0-9]{1,12}", any::<u64>()).prop_map(|(scope, position)| Cursor { scope, position });
    let op = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|data| LogOp::Document { data }),
        record().prop_map(|entry| LogOp::Ledger { entry }),
        (any::<u64>(), record()).prop_map(|(version, fields)| LogOp::Upsert { version, fields }),
        any::<u64>().prop_map(|version| LogOp::Delete { version }),
        Just(LogOp::Evict),
    ];
    let entry = (any::<u64>(), "[a-z]{1,8}", ".{1,12}", op).prop_map(
        |(position, collection, record_id, op)| LogEntry {
            position,
            collection,
            record_id,
            op,
        },
    );
    let batch = (
        "[a-z:]{1,10}",
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(entry, 0..4),
        any::<bool>(),
    )
        .prop_map(|(scope, after, upto, entries, has_more)| ScopeBatch {
            scope,
            after,
            upto,
            entries,
            has_more,
        });
    prop_oneof![
        (uuid(), proptest::collection::vec(change, 0..4)).prop_map(|(device_id, changes)| {
            Message::PushRequest(PushRequest { device_id, changes })
        }),
        proptest::collection::vec(
            (uuid(), outcome).prop_map(|(change_id, outcome)| ChangeResult { change_id, outcome }),
            0..4
        )
        .prop_map(|results| Message::PushResponse(PushResponse { results })),
        (
            proptest::collection::vec(cursor.clone(), 0..4),
            any::<u32>()
        )
            .prop_map(|(cursors, limit)| Message::PullRequest(PullRequest { cursors, limit })),
        proptest::collection::vec(batch, 0..3)
            .prop_map(|batches| Message::PullResponse(PullResponse { batches })),
        (uuid(), proptest::collection::vec(cursor.clone(), 0..3)).prop_map(
            |(device_id, cursors)| Message::Live(LiveMessage::Hello { device_id, cursors })
        ),
        proptest::collection::vec(cursor, 0..3)
            .prop_map(|heads| Message::Live(LiveMessage::News { heads })),
        any::<u64>().prop_map(|n| Message::Live(LiveMessage::Ping(n))),
        (".{0,8}", ".{0,20}")
            .prop_map(|(code, reason)| Message::Live(LiveMessage::Close { code, reason })),
    ]
}

fn header() -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
        let mut framed = header();
        framed.extend_from_slice(&bytes);
        if let Ok(msg) = Message::decode(&framed) {
            // Whatever is accepted re-encodes to a message that decodes the same way.
            let again = msg.encode();
            prop_assert_eq!(Message::decode(&again).unwrap().encode(), again);
        }
    }

    #[test]
    fn corrupted_messages_never_panic(msg in message(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = msg.encode();
        for (at, xor) in flips {
            let i = at % bytes.len();
            bytes[i] ^= xor.max(1);
        }
        let _ = Message::decode(&bytes);
        let _ = Message::decode(&bytes[..bytes.len() / 2]);
    }

    #[test]
    fn messages_round_trip_in_both_encodings(msg in message()) {
        prop_assert_eq!(&Message::decode(&msg.encode()).unwrap(), &msg);
        prop_assert_eq!(&Message::from_json(&msg.to_json()).unwrap(), &msg);
    }

    #[test]
    fn random_text_never_panics_the_json_decoder(text in ".{0,200}") {
        let _ = Message::from_json(&text);
        let _ = Message::from_json(&format!("{{\"v\":1,\"msg\":{text}}}"));
    }
}

#[test]
fn a_huge_declared_length_fails_fast_without_allocating() {
    // PushRequest with a device id, then a change count of 2^63: must be refused quickly.
    let mut bytes = header();
    bytes.push(0);
    bytes.push(16);
    bytes.extend_from_slice(&[1; 16]);
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    let started = std::time::Instant::now();
    assert!(Message::decode(&bytes).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn a_foreign_json_version_says_so() {
    let err = Message::from_json(r#"{"v":9,"msg":{"SomethingNew":{}}}"#).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
}
