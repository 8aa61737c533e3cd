//! The sync model's edges: refused pull batches store nothing, lost push answers are recovered
//! by pulls, scopes are followed and dropped, rows evicted, deletions not revived.

use std::collections::BTreeSet;

use lapak_core::protocol::{
    ChangeResult, LogEntry, LogOp, Outcome, PullResponse, PushResponse, ScopeBatch,
};
use lapak_core::testkit::{MemoryServer, sample_schema, sync_fully};
use lapak_core::{Error, Query, Store, Verdict, record};

fn store(scopes: &[&str]) -> Store {
    let mut s = Store::open_in_memory(sample_schema()).unwrap();
    s.set_scopes(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        .unwrap();
    s
}

fn item_entry(position: u64, sku: &str, version: u64) -> LogEntry {
    let fields = record! {"sku" => sku, "price" => i64::try_from(version).unwrap()};
    log(position, "items", sku, LogOp::Upsert { version, fields })
}

fn log(position: u64, collection: &str, record_id: &str, op: LogOp) -> LogEntry {
    LogEntry {
        position,
        collection: collection.into(),
        record_id: record_id.into(),
        op,
    }
}

/// A batch of the first entry of a scope's log.
fn first(scope: &str, collection: &str, record_id: &str, op: LogOp) -> PullResponse {
    batch(scope, 0, 1, vec![log(1, collection, record_id, op)])
}

fn batch(scope: &str, after: u64, upto: u64, entries: Vec<LogEntry>) -> PullResponse {
    PullResponse {
        batches: vec![ScopeBatch {
            scope: scope.into(),
            after,
            upto,
            entries,
            has_more: false,
        }],
    }
}

#[test]
fn refused_pulls_store_nothing() {
    let mut s = store(&["org", "branch:A"]);
    s.apply_pull(&batch(
        "org",
        0,
        2,
        vec![item_entry(1, "A", 1), item_entry(2, "B", 2)],
    ))
    .unwrap();
    let cases = [
        (
            "a gap past the cursor",
            batch("org", 5, 6, vec![item_entry(6, "C", 6)]),
        ),
        (
            "positions out of order",
            batch(
                "org",
                2,
                4,
                vec![item_entry(4, "C", 4), item_entry(3, "D", 3)],
            ),
        ),
        (
            "an entry past upto",
            batch("org", 2, 3, vec![item_entry(4, "C", 4)]),
        ),
        (
            "a scope not followed",
            batch("branch:B", 0, 1, vec![item_entry(1, "C", 1)]),
        ),
        (
            "a ledger entry in a reference collection",
            batch(
                "org",
                2,
                3,
                vec![log(
                    3,
                    "items",
                    "X",
                    LogOp::Ledger {
                        entry: record! {"sku" => "X"},
                    },
                )],
            ),
        ),
        (
            "a value of the wrong type",
            batch(
                "org",
                2,
                3,
                vec![log(
                    3,
                    "items",
                    "X",
                    LogOp::Upsert {
                        version: 3,
                        fields: record! {"sku" => 7},
                    },
                )],
            ),
        ),
        (
            "undecodable document data",
            first(
                "branch:A",
                "outlets",
                "o",
                LogOp::Document {
                    data: vec![1, 2, 3],
                },
            ),
        ),
    ];
    for (what, bad) in cases {
        // A good batch of another scope in the same response must not land either.
        let mut response = bad;
        let other = if response.batches[0].scope == "branch:A" {
            ("org", 2)
        } else {
            ("branch:A", 0)
        };
        response.batches.insert(
            0,
            ScopeBatch {
                scope: other.0.into(),
                after: other.1,
                upto: 9,
                entries: vec![],
                has_more: false,
            },
        );
        let err = s.apply_pull(&response).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{what}: {err}");
        assert_eq!(s.count("items").unwrap(), 2, "{what}");
        assert_eq!(
            s.cursors()
                .unwrap()
                .iter()
                .map(|c| c.position)
                .collect::<Vec<_>>(),
            [0, 2],
            "{what}: cursors moved"
        );
    }
}

#[test]
fn document_changes_must_arrive_after_their_dependencies() {
    let mut writer = store(&["branch:A"]);
    let mut server = MemoryServer::new(sample_schema());
    let id = writer
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut writer, &mut server).unwrap();
    writer.set("outlets", &id, "phone", "1").unwrap();
    let push = writer.next_push(10).unwrap().unwrap();
    let lapak_core::protocol::ChangeBody::Document { change } = &push.changes[0].body else {
        panic!()
    };
    // The edit alone, to a device that never saw the creation: refused, nothing stored.
    let mut reader = store(&["branch:A"]);
    let err = reader
        .apply_pull(&first(
            "branch:A",
            "outlets",
            &id,
            LogOp::Document {
                data: change.clone(),
            },
        ))
        .unwrap_err();
    assert!(err.to_string().contains("depends on"), "{err}");
    assert!(reader.document_ids("outlets").unwrap().is_empty());
}

#[test]
fn a_lost_push_answer_is_recovered_by_pull_and_by_repush() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let sale = a
        .append("sales", record! {"branch" => "A", "total" => 10})
        .unwrap();
    let id = a
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    let push = a.next_push(10).unwrap().unwrap();
    let _lost = server.push(&push);
    // The pull brings the entry back as accepted: it leaves the queue without a second push.
    sync_fully(&mut a, &mut server).unwrap();
    assert!(matches!(
        a.get("sales", &sale).unwrap().unwrap().verdict,
        Some(Verdict::Accepted { .. })
    ));
    assert_eq!(a.pending_count().unwrap(), 0);
    assert_eq!(server.ledger_log_count(&sale), 1);
    assert!(server.document("outlets", &id).is_some());
}

#[test]
fn answers_for_unknown_changes_are_ignored() {
    let mut a = store(&["branch:A"]);
    a.append("sales", record! {"branch" => "A", "total" => 10})
        .unwrap();
    let stray = PushResponse {
        results: vec![ChangeResult {
            change_id: uuid::Uuid::now_v7(),
            outcome: Outcome::Rejected {
                code: "x".into(),
                message: "y".into(),
            },
        }],
    };
    let report = a.apply_push_response(&stray).unwrap();
    assert_eq!(report.already_applied, 1);
    assert_eq!(a.pending_count().unwrap(), 1);
    assert!(a.rejections().unwrap().is_empty());
}

#[test]
fn small_pull_limits_page_through_everything() {
    let mut server = MemoryServer::new(sample_schema());
    for i in 0..57 {
        server.put_reference(
            "items",
            &format!("SKU{i}"),
            record! {"sku" => format!("SKU{i}")},
        );
    }
    let mut a = store(&["org", "branch:A"]);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let report = a
            .apply_pull(&server.pull(&a.pull_request(5).unwrap()))
            .unwrap();
        if !report.has_more {
            break;
        }
    }
    assert_eq!(rounds, 12);
    assert_eq!(a.count("items").unwrap(), 57);
}

#[test]
fn rows_leave_with_their_scope_and_deletions_stay_deleted() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let mut b = store(&["branch:A", "branch:B"]);
    let id = a
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    // The outlet moves to branch B: device A (branch A only) drops it, B keeps it.
    b.set("outlets", &id, "branch", "B").unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    assert!(a.get("outlets", &id).unwrap().is_none());
    assert!(
        a.document_ids("outlets").unwrap().is_empty(),
        "the document bytes left too"
    );
    assert_eq!(
        b.get("outlets", &id).unwrap().unwrap().fields["branch"],
        "B".into()
    );
    // Back to A: device A receives it whole again.
    b.set("outlets", &id, "branch", "A").unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    assert_eq!(
        a.get("outlets", &id).unwrap().unwrap().fields["name"],
        "Toko".into()
    );
    // Dropping a scope drops what was held only through it.
    b.set_scopes(&["branch:B".into()]).unwrap();
    assert!(b.get("outlets", &id).unwrap().is_none());

    // A reference row deleted through one scope is not revived by an older version via another.
    let mut c = store(&["org", "branch:A"]);
    c.apply_pull(&first(
        "branch:A",
        "items",
        "K",
        LogOp::Delete { version: 6 },
    ))
    .unwrap();
    c.apply_pull(&batch("org", 0, 1, vec![item_entry(1, "K", 5)]))
        .unwrap();
    assert!(c.get("items", "K").unwrap().is_none());
    c.apply_pull(&batch("org", 1, 2, vec![item_entry(2, "K", 7)]))
        .unwrap();
    assert_eq!(
        c.get("items", "K").unwrap().unwrap().fields["price"],
        7.into()
    );
    // Nor does an older version overwrite a newer one.
    c.apply_pull(&batch("branch:A", 1, 2, vec![item_entry(2, "K", 6)]))
        .unwrap();
    assert_eq!(
        c.get("items", "K").unwrap().unwrap().fields["price"],
        7.into()
    );
    // Evicted from one scope but still held through the other: kept.
    c.apply_pull(&batch(
        "org",
        2,
        3,
        vec![log(3, "items", "K", LogOp::Evict)],
    ))
    .unwrap();
    assert!(c.get("items", "K").unwrap().is_some());
    c.apply_pull(&batch(
        "branch:A",
        2,
        3,
        vec![log(3, "items", "K", LogOp::Evict)],
    ))
    .unwrap();
    assert!(c.get("items", "K").unwrap().is_none());
}

#[test]
fn a_rejected_creation_leaves_no_record() {
    let mut server = MemoryServer::new(sample_schema());
    server.set_rule(Box::new(|c, r| {
        (c == "outlets" && r.get("name") == Some(&"forbidden".into()))
            .then(|| ("bad_name".into(), "pick another name".into()))
    }));
    let mut a = store(&["branch:A"]);
    let id = a
        .create("outlets", record! {"name" => "forbidden", "branch" => "A"})
        .unwrap();
    // Offline edits that build on the refused creation share its fate and its reason.
    a.set("outlets", &id, "phone", "0812").unwrap();
    a.set("outlets", &id, "credit_limit", 5).unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    assert!(a.get("outlets", &id).unwrap().is_none());
    assert!(a.document_ids("outlets").unwrap().is_empty());
    assert_eq!(a.pending_count().unwrap(), 0);
    let rejections = a.rejections().unwrap();
    assert_eq!(rejections.len(), 3);
    assert!(
        rejections
            .iter()
            .all(|r| r.code == "bad_name" && r.message == "pick another name")
    );
    assert_eq!(a.query("outlets", &Query::new()).unwrap().len(), 0);
    assert!(
        server.document("outlets", &id).is_none(),
        "no orphan on the server"
    );
}

#[test]
fn a_record_with_pending_changes_survives_eviction_until_judged() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let id = a
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    let sale = a
        .append("sales", record! {"branch" => "A", "total" => 10})
        .unwrap();
    a.set("outlets", &id, "phone", "0812").unwrap();
    // The cashier is moved to branch B before the pending work is pushed.
    a.set_scopes(&["branch:B".into()]).unwrap();
    assert!(
        a.get("outlets", &id).unwrap().is_some(),
        "kept while its edit is pending"
    );
    assert!(a.get("sales", &sale).unwrap().is_some());
    // A rejected change of one of them, to see its reason survive the record.
    a.set("outlets", &id, "credit_limit", -1).unwrap();
    server.set_rule(Box::new(|c, r| {
        (c == "outlets" && r.get("credit_limit") == Some(&lapak_core::Value::Int(-1)))
            .then(|| ("negative_credit".into(), "no negative credit".into()))
    }));
    let push = a.next_push(10).unwrap().unwrap();
    let answer = server.push(&push);
    let ui = a.subscribe();
    let report = a.apply_push_response(&answer).unwrap();
    assert_eq!((report.accepted, report.rejected), (2, 1));
    let told: BTreeSet<(String, String)> = ui
        .try_iter()
        .flat_map(|c| c.ids.into_iter().map(move |id| (c.collection.clone(), id)))
        .collect();
    assert!(
        told.contains(&("outlets".into(), id.clone())),
        "the UI hears the outlet leave"
    );
    assert!(
        told.contains(&("sales".into(), sale.clone())),
        "and the sale"
    );
    assert_eq!(
        server.document("outlets", &id).unwrap().0["phone"],
        "0812".into(),
        "the edit reached the server"
    );
    assert_eq!(
        server.ledger_log_count(&sale),
        1,
        "the sale reached the server"
    );
    // Judged, and held through no followed scope: both records leave the device, and the
    // rejection stays listed with its reason.
    assert!(a.get("outlets", &id).unwrap().is_none());
    assert!(a.document_ids("outlets").unwrap().is_empty());
    assert!(a.get("sales", &sale).unwrap().is_none());
    assert_eq!(a.pending_count().unwrap(), 0);
    assert_eq!(a.rejections().unwrap()[0].code, "negative_credit");
}

#[test]
fn moving_a_record_out_of_the_followed_scopes_drops_it() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let id = a
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    a.set("outlets", &id, "branch", "B").unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    assert!(
        a.get("outlets", &id).unwrap().is_none(),
        "branch A's device keeps no branch B record"
    );
    assert!(a.document_ids("outlets").unwrap().is_empty());
    assert_eq!(
        server.document("outlets", &id).unwrap().0["branch"],
        "B".into()
    );
}

#[test]
fn data_of_a_newer_schema_is_accepted_where_it_fits() {
    // A newer app's sale: a list key this app does not know, and an optional-now field left null.
    let mut s = store(&["branch:A"]);
    let lines = lapak_core::Value::List(vec![
        lapak_core::item! {"sku" => "KOPI", "qty" => 2, "unit" => "pcs"},
    ]);
    let entry = record! {"branch" => "A", "total" => lapak_core::Value::Null, "lines" => lines, "loyalty_id" => "L-1"};
    s.apply_pull(&first("branch:A", "sales", "s1", LogOp::Ledger { entry }))
        .unwrap();
    let row = s.get("sales", "s1").unwrap().unwrap();
    assert_eq!(row.fields["total"], lapak_core::Value::Null);
    assert_eq!(
        row.fields["lines"].as_list().unwrap()[0]["sku"],
        lapak_core::Scalar::Text("KOPI".into())
    );
    // A type this app does declare must still fit.
    let bad = record! {"branch" => "A", "total" => "a lot"};
    assert!(
        s.apply_pull(&batch(
            "branch:A",
            1,
            2,
            vec![log(2, "sales", "s2", LogOp::Ledger { entry: bad })]
        ))
        .is_err()
    );
}

#[test]
fn concurrent_list_replacements_keep_one_whole_list() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let mut b = store(&["branch:A"]);
    let id = a
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    let lines = || lapak_core::Value::List(vec![lapak_core::item! {"sku" => "KOPI", "qty" => 2}]);
    a.set("outlets", &id, "lines", lines()).unwrap();
    b.set("outlets", &id, "lines", lines()).unwrap();
    for _ in 0..2 {
        sync_fully(&mut a, &mut server).unwrap();
        sync_fully(&mut b, &mut server).unwrap();
    }
    let got = a.get("outlets", &id).unwrap().unwrap().fields["lines"].clone();
    assert_eq!(got, lines(), "not doubled");
    assert_eq!(b.get("outlets", &id).unwrap().unwrap().fields["lines"], got);
}

#[test]
fn scope_names_are_checked() {
    let mut s = store(&["org"]);
    for bad in ["", "branch:A\nB"] {
        assert!(matches!(
            s.set_scopes(&[bad.to_owned()]),
            Err(Error::InvalidScope(_))
        ));
    }
    assert_eq!(s.cursors().unwrap().len(), 1, "nothing changed");
}

#[test]
fn damaged_or_empty_document_data_is_refused_whole() {
    let mut writer = store(&["branch:A"]);
    let id = writer
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    let push = writer.next_push(10).unwrap().unwrap();
    let lapak_core::protocol::ChangeBody::Document { change } = &push.changes[0].body else {
        panic!("a document change")
    };
    let mut reader = store(&["branch:A"]);
    let mut damaged = change.clone();
    damaged.extend_from_slice(&[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]); // a chunk header, then junk
    for (what, data) in [
        ("a valid change followed by junk", damaged),
        ("no data at all", Vec::new()),
    ] {
        let response = first("branch:A", "outlets", &id, LogOp::Document { data });
        assert!(
            matches!(reader.apply_pull(&response), Err(Error::Protocol(_))),
            "{what}"
        );
        assert!(reader.document_ids("outlets").unwrap().is_empty(), "{what}");
        assert_eq!(
            reader.cursors().unwrap()[0].position,
            0,
            "{what}: the cursor stays"
        );
    }
    // The intact change applies.
    let response = first(
        "branch:A",
        "outlets",
        &id,
        LogOp::Document {
            data: change.clone(),
        },
    );
    reader.apply_pull(&response).unwrap();
    assert_eq!(
        reader.get("outlets", &id).unwrap().unwrap().fields["name"],
        "Toko".into()
    );
}

/// A cache keyed by [`Store::generation`] is stale exactly when the generation moved: a local
/// write, a verdict and a pulled change each move it; reads do not.
#[test]
fn every_kind_of_change_moves_the_generation() {
    fn moved(s: &Store, seen: &mut u64, what: &str) {
        assert!(s.generation() > *seen, "{what} moves the generation");
        *seen = s.generation();
    }
    let mut server = MemoryServer::new(sample_schema());
    let mut a = store(&["branch:A"]);
    let mut b = store(&["branch:A"]);
    let mut seen = a.generation();
    a.append("sales", record! {"branch" => "A", "total" => 10})
        .unwrap();
    moved(&a, &mut seen, "a local append");
    a.query("sales", &Query::new()).unwrap();
    a.pending_count().unwrap();
    assert_eq!(a.generation(), seen, "reads leave it");
    let push = a.next_push(10).unwrap().unwrap();
    let answer = server.push(&push);
    a.apply_push_response(&answer).unwrap();
    moved(&a, &mut seen, "a verdict");
    b.create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    assert_eq!(a.query("outlets", &Query::new()).unwrap().len(), 1);
    moved(&a, &mut seen, "a pulled record");
}
