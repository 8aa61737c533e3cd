//! Several local writes in one transaction (`Store::write_batch`): all of a batch is stored,
//! queued in order and told once, or none of it is stored, queued, cached or told.

use lapak_core::store::Write;
use lapak_core::testkit::{MemoryServer, sample_schema, sync_fully};
use lapak_core::{ChangeSet, Edit, Error, Origin, Query, Store, Value, Verdict, item, record};

fn store_at(path: &std::path::Path) -> Store {
    let mut s = Store::open(path, sample_schema()).unwrap();
    s.set_scopes(&["branch:A".into()]).unwrap();
    s
}

/// The queue, oldest first: (collection, record id, op JSON).
fn queue(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT collection, record_id, op FROM lapak_queue ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn sale(total: i64) -> lapak_core::Record {
    record! {"branch" => "A", "total" => total}
}

#[test]
fn a_checkout_stores_and_queues_every_write_and_reaches_the_server_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let mut s = store_at(&path);
    let mut server = MemoryServer::new(sample_schema());
    let held = s
        .create(
            "outlets",
            record! {"name" => "held bill", "branch" => "A", "lines" => Value::List(vec![item! {"sku" => "KOPI", "qty" => 2}])},
        )
        .unwrap();
    sync_fully(&mut s, &mut server).unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);

    let ids = s
        .write_batch(vec![
            Write::append("sales", sale(30_000)),
            Write::create("outlets", record! {"name" => "receipt", "branch" => "A"}),
            Write::delete("outlets", held.as_str()),
        ])
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(uuid::Uuid::parse_str(&ids[0]).is_ok(), "{ids:?}");
    assert!(uuid::Uuid::parse_str(&ids[1]).is_ok(), "{ids:?}");
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[2], held, "a write to a known record returns its id");
    assert_eq!(s.pending_count().unwrap(), 3);
    assert_eq!(
        s.get("sales", &ids[0]).unwrap().unwrap().verdict,
        Some(Verdict::Pending)
    );
    assert_eq!(
        s.get("outlets", &ids[1]).unwrap().unwrap().fields["name"],
        "receipt".into()
    );
    assert!(s.get("outlets", &held).unwrap().is_none());
    assert_eq!(
        queue(&path)
            .into_iter()
            .map(|(c, id, _)| (c, id))
            .collect::<Vec<_>>(),
        [
            ("sales".to_owned(), ids[0].clone()),
            ("outlets".to_owned(), ids[1].clone()),
            ("outlets".to_owned(), held.clone()),
        ]
    );

    sync_fully(&mut s, &mut server).unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(s.rejections().unwrap().is_empty());
    assert_eq!(server.ledger_log_count(&ids[0]), 1);
    assert!(server.document("outlets", &held).unwrap().1);
    assert_eq!(
        server.document("outlets", &ids[1]).unwrap().0["name"],
        "receipt".into()
    );
    assert!(matches!(
        s.get("sales", &ids[0]).unwrap().unwrap().verdict,
        Some(Verdict::Accepted { .. })
    ));
}

/// Whether an error is the one expected.
type Expected = fn(&Error) -> bool;

/// A third write that fails: planning (schema) or staging (against the store).
fn bad_third_writes(outlet: &str) -> Vec<(Write, Expected)> {
    vec![
        (
            Write::edit(
                "outlets",
                outlet,
                vec![Edit::RemoveItem {
                    field: "lines".into(),
                    index: 3,
                }],
            ),
            |e| matches!(e, Error::InvalidValue { .. }),
        ),
        (Write::delete("outlets", "no-such-outlet"), |e| {
            matches!(e, Error::NotFound { .. })
        }),
        (
            Write::create_with_id("outlets", outlet, record! {"name" => "again"}),
            |e| matches!(e, Error::AlreadyExists { .. }),
        ),
        (Write::append("outlets", record! {"name" => "x"}), |e| {
            matches!(e, Error::WrongKind { .. })
        }),
        (
            Write::create("outlets", record! {"name" => "x", "color" => "red"}),
            |e| matches!(e, Error::UnknownField { .. }),
        ),
        (
            Write::set(
                "outlets",
                outlet,
                "name",
                "x".repeat(lapak_core::protocol::MAX_CHANGE_BYTES + 1),
            ),
            |e| matches!(e, Error::TooLarge { .. }),
        ),
    ]
}

#[test]
fn a_batch_whose_third_write_fails_stores_queues_caches_and_tells_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let mut s = store_at(&path);
    let outlet = s
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    s.set("outlets", &outlet, "phone", "1").unwrap(); // the document is now cached
    let rx = s.subscribe();
    for (limit, (third, expected)) in (1..).zip(bad_third_writes(&outlet)) {
        let pending = s.pending_count().unwrap();
        let err = s
            .write_batch(vec![
                Write::set("outlets", outlet.as_str(), "phone", "2"),
                Write::append("sales", sale(10)),
                third.clone(),
                Write::append("sales", sale(20)),
            ])
            .unwrap_err();
        match &err {
            Error::BatchWrite {
                index: 2,
                collection,
                source,
            } if collection == "outlets" && expected(source) => {}
            other => panic!("{third:?}: {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("write 2") && message.contains("`outlets`"),
            "{message}"
        );
        assert_eq!(s.pending_count().unwrap(), pending, "{third:?}");
        assert_eq!(s.count("sales").unwrap(), 0, "{third:?}");
        assert_eq!(
            s.get("outlets", &outlet).unwrap().unwrap().fields["phone"],
            "1".into()
        );
        assert_eq!(
            s.document_fields("outlets", &outlet).unwrap().unwrap().0["phone"],
            "1".into()
        );
        assert!(
            rx.try_recv().is_err(),
            "{third:?}: a failed batch tells nothing"
        );
        // The next write starts from the stored document, not from the failed batch's.
        s.set("outlets", &outlet, "credit_limit", limit).unwrap();
        assert_eq!(
            s.document_fields("outlets", &outlet).unwrap().unwrap().0["phone"],
            "1".into(),
            "{third:?}: the failed batch's first write is not resurrected"
        );
        assert_eq!(
            s.get("outlets", &outlet).unwrap().unwrap().fields["phone"],
            "1".into()
        );
        assert_eq!(rx.try_iter().count(), 1);
    }
    // Every write above edited one outlet: its queue holds the creation and the single writes.
    assert_eq!(queue(&path).len(), 2 + bad_third_writes(&outlet).len());
    let mut server = MemoryServer::new(sample_schema());
    sync_fully(&mut s, &mut server).unwrap();
    assert_eq!(
        server.document("outlets", &outlet).unwrap().0["phone"],
        "1".into()
    );
}

#[test]
fn writes_of_one_batch_see_the_writes_before_them_and_queue_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let mut s = store_at(&path);
    let ids = s
        .write_batch(vec![
            Write::create_with_id(
                "outlets",
                "bill-1",
                record! {"name" => "Meja 4", "branch" => "A", "notes" => "pedas"},
            ),
            Write::edit(
                "outlets",
                "bill-1",
                vec![
                    Edit::InsertItem {
                        field: "lines".into(),
                        index: 0,
                        item: item! {"sku" => "KOPI", "qty" => 1},
                    },
                    Edit::SpliceText {
                        field: "notes".into(),
                        index: 5,
                        delete: 0,
                        insert: " sekali".into(),
                    },
                ],
            ),
            Write::set("outlets", "bill-1", "phone", "0812"),
            Write::create_with_id(
                "outlets",
                "bill-2",
                record! {"name" => "Meja 5", "branch" => "A"},
            ),
            Write::set("outlets", "bill-2", "credit_limit", 3),
            Write::delete("outlets", "bill-2"),
        ])
        .unwrap();
    assert_eq!(
        ids,
        ["bill-1", "bill-1", "bill-1", "bill-2", "bill-2", "bill-2"]
    );
    let row = s.get("outlets", "bill-1").unwrap().unwrap();
    assert_eq!(row.fields["notes"], "pedas sekali".into());
    assert_eq!(row.fields["phone"], "0812".into());
    assert_eq!(
        row.fields["lines"],
        Value::List(vec![item! {"sku" => "KOPI", "qty" => 1}])
    );
    assert_eq!(
        s.document_fields("outlets", "bill-1").unwrap().unwrap(),
        (row.fields.clone(), false)
    );
    assert!(s.get("outlets", "bill-2").unwrap().is_none());
    assert!(s.document_fields("outlets", "bill-2").unwrap().unwrap().1);
    let ops: Vec<(String, String)> = queue(&path)
        .into_iter()
        .map(|(_, id, op)| {
            let op = op.unwrap();
            let kind = op.trim_start_matches(['{', '"']).split('"').next().unwrap();
            (id, kind.to_owned())
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("bill-1", "Create"),
            ("bill-1", "Edit"),
            ("bill-1", "Edit"),
            ("bill-2", "Create"),
            ("bill-2", "Edit"),
            ("bill-2", "Delete"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // A later batch edits the cached document again, past a whole save of its bytes.
    let many: Vec<Write> = (0..40)
        .map(|i| Write::set("outlets", "bill-1", "credit_limit", i))
        .collect();
    s.write_batch(many).unwrap();
    drop(s);
    let mut s = store_at(&path);
    assert_eq!(
        s.document_fields("outlets", "bill-1").unwrap().unwrap().0["credit_limit"],
        Value::Int(39)
    );
    let mut server = MemoryServer::new(sample_schema());
    sync_fully(&mut s, &mut server).unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(s.rejections().unwrap().is_empty());
    assert_eq!(
        server.document("outlets", "bill-1").unwrap(),
        s.document_fields("outlets", "bill-1").unwrap().unwrap()
    );
    assert!(server.document("outlets", "bill-2").unwrap().1);

    // Writes that the writes before them make impossible.
    let err = s
        .write_batch(vec![
            Write::delete("outlets", "bill-1"),
            Write::set("outlets", "bill-1", "phone", "1"),
        ])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchWrite { index: 1, source, .. } if matches!(**source, Error::NotFound { .. })),
        "{err:?}"
    );
    let err = s
        .write_batch(vec![
            Write::create_with_id("outlets", "bill-3", record! {"name" => "a"}),
            Write::create_with_id("outlets", "bill-3", record! {"name" => "b"}),
        ])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchWrite { index: 1, source, .. } if matches!(**source, Error::AlreadyExists { .. })),
        "{err:?}"
    );
    assert!(s.get("outlets", "bill-1").unwrap().is_some());
    assert!(s.document_fields("outlets", "bill-3").unwrap().is_none());
    assert_eq!(s.pending_count().unwrap(), 0);
}

#[test]
fn listeners_hear_a_batch_once_after_it_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store_at(&dir.path().join("pos.sqlite"));
    let rx = s.subscribe();
    assert_eq!(s.write_batch(Vec::new()).unwrap(), Vec::<String>::new());
    assert!(rx.try_recv().is_err(), "an empty batch tells nothing");
    let ids = s
        .write_batch(vec![
            Write::create_with_id("outlets", "a", record! {"name" => "A", "branch" => "A"}),
            Write::append("sales", sale(1)),
            Write::set("outlets", "a", "phone", "1"),
            Write::create_with_id("outlets", "b", record! {"name" => "B", "branch" => "A"}),
            Write::append("sales", sale(2)),
        ])
        .unwrap();
    let mut got: Vec<ChangeSet> = rx.try_iter().collect();
    got.sort_by(|x, y| x.collection.cmp(&y.collection));
    assert_eq!(
        got,
        [
            ChangeSet {
                collection: "outlets".into(),
                ids: vec!["a".into(), "b".into()],
                origin: Origin::Local,
            },
            ChangeSet {
                collection: "sales".into(),
                ids: vec![ids[1].clone(), ids[4].clone()],
                origin: Origin::Local,
            },
        ]
    );
    assert_eq!(s.query("sales", &Query::new()).unwrap().len(), 2);
}
