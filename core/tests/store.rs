//! The local store on its own: local writes and their errors, queries, notifications, opening,
//! upgrading and refusing databases.

use lapak_core::schema::{Collection, ScalarType, Schema};
use lapak_core::store::FORMAT_VERSION;
use lapak_core::testkit::{sample_schema, sample_schema_v2};
use lapak_core::{Edit, Error, Op, Origin, Query, Store, Value, Verdict, item, record};

fn store() -> Store {
    let mut s = Store::open_in_memory(sample_schema()).unwrap();
    s.set_scopes(&["branch:A".into(), "org".into()]).unwrap();
    s
}

#[test]
fn writes_persist_across_reopen_with_the_same_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let (device, outlet, sale) = {
        let mut s = Store::open(&path, sample_schema()).unwrap();
        let outlet = s
            .create("outlets", record! {"name" => "Toko", "branch" => "A"})
            .unwrap();
        let sale = s
            .append("sales", record! {"branch" => "A", "total" => 10})
            .unwrap();
        (s.device_id(), outlet, sale)
    };
    let s = Store::open(&path, sample_schema()).unwrap();
    assert_eq!(s.device_id(), device);
    assert_eq!(
        s.get("outlets", &outlet).unwrap().unwrap().fields["name"],
        "Toko".into()
    );
    assert_eq!(
        s.get("sales", &sale).unwrap().unwrap().verdict,
        Some(Verdict::Pending)
    );
    assert_eq!(s.pending_count().unwrap(), 2);
}

#[test]
fn wrong_kinds_and_bad_values_are_refused_and_change_nothing() {
    let mut s = store();
    let kind = |e: Error| matches!(e, Error::WrongKind { .. });
    assert!(kind(
        s.append("outlets", record! {"name" => "x"}).unwrap_err()
    ));
    assert!(kind(
        s.create("sales", record! {"branch" => "A", "total" => 1})
            .unwrap_err()
    ));
    assert!(kind(s.create("items", record! {"sku" => "A"}).unwrap_err()));
    assert!(matches!(
        s.create("nope", record! {}),
        Err(Error::UnknownCollection(_))
    ));
    assert!(
        matches!(
            s.create("outlets", record! {"branch" => "A"}),
            Err(Error::InvalidValue { .. })
        ),
        "name is required"
    );
    assert!(matches!(
        s.create("outlets", record! {"name" => 5}),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        s.create("outlets", record! {"name" => "x", "color" => "red"}),
        Err(Error::UnknownField { .. })
    ));
    let id = s
        .create(
            "outlets",
            record! {"name" => "Toko", "branch" => "A", "notes" => "abc"},
        )
        .unwrap();
    let splice = |index, delete| {
        vec![Edit::SpliceText {
            field: "notes".into(),
            index,
            delete,
            insert: "x".into(),
        }]
    };
    assert!(matches!(
        s.edit("outlets", &id, splice(4, 0)),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        s.edit("outlets", &id, splice(2, 5)),
        Err(Error::InvalidValue { .. })
    ));
    assert!(
        matches!(
            s.edit(
                "outlets",
                &id,
                vec![Edit::SpliceText {
                    field: "phone".into(),
                    index: 0,
                    delete: 0,
                    insert: "1".into()
                }]
            ),
            Err(Error::InvalidValue { .. })
        ),
        "splice needs a merge_text field"
    );
    assert!(matches!(
        s.edit(
            "outlets",
            &id,
            vec![Edit::RemoveItem {
                field: "lines".into(),
                index: 0
            }]
        ),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        s.edit(
            "outlets",
            &id,
            vec![Edit::InsertItem {
                field: "lines".into(),
                index: 0,
                item: item! {"qty" => "two"}
            }]
        ),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        s.create_with_id("outlets", &id, record! {"name" => "again"}),
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(
        s.pending_count().unwrap(),
        1,
        "refused writes queue nothing"
    );
    assert_eq!(
        s.get("outlets", &id).unwrap().unwrap().fields["notes"],
        "abc".into()
    );
    s.delete("outlets", &id).unwrap();
    assert!(s.get("outlets", &id).unwrap().is_none());
    assert!(matches!(
        s.set("outlets", &id, "phone", "1"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.delete("outlets", &id),
        Err(Error::NotFound { .. })
    ));
    let huge = "x".repeat(lapak_core::protocol::MAX_CHANGE_BYTES + 1);
    assert!(matches!(
        s.create("outlets", record! {"name" => huge.as_str()}),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        s.append(
            "sales",
            record! {"branch" => "A", "total" => 1, "terminal" => huge.as_str()}
        ),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        s.create("outlets", record! {"name" => "x", "branch" => "A\nB"}),
        Err(Error::InvalidValue { .. })
    ));
}

#[test]
fn documents_edit_fields_text_and_lists() {
    let mut s = store();
    let id = s
        .create(
            "outlets",
            record! {"name" => "Toko", "branch" => "A", "notes" => "hello"},
        )
        .unwrap();
    s.edit(
        "outlets",
        &id,
        vec![
            Edit::SpliceText {
                field: "notes".into(),
                index: 5,
                delete: 0,
                insert: " world".into(),
            },
            Edit::InsertItem {
                field: "lines".into(),
                index: 0,
                item: item! {"sku" => "A", "qty" => 1},
            },
            Edit::InsertItem {
                field: "lines".into(),
                index: 1,
                item: item! {"sku" => "B", "qty" => 2},
            },
            Edit::UpdateItem {
                field: "lines".into(),
                index: 0,
                values: item! {"qty" => 5, "note" => "promo"},
            },
            Edit::Set {
                field: "credit_limit".into(),
                value: Value::Int(1_000_000),
            },
            Edit::Set {
                field: "lat".into(),
                value: Value::Real(-6.2),
            },
            Edit::Set {
                field: "active".into(),
                value: Value::Bool(true),
            },
        ],
    )
    .unwrap();
    s.edit(
        "outlets",
        &id,
        vec![
            Edit::RemoveItem {
                field: "lines".into(),
                index: 1,
            },
            Edit::Set {
                field: "notes".into(),
                value: "hello there world".into(),
            },
        ],
    )
    .unwrap();
    let row = s.get("outlets", &id).unwrap().unwrap();
    assert_eq!(row.fields["notes"], "hello there world".into());
    assert_eq!(
        row.fields["lines"],
        Value::List(vec![item! {"sku" => "A", "qty" => 5, "note" => "promo"}])
    );
    assert_eq!(row.fields["credit_limit"], Value::Int(1_000_000));
    assert_eq!(row.fields["lat"], Value::Real(-6.2));
    assert_eq!(row.fields["active"], Value::Bool(true));
    assert_eq!(
        s.document_fields("outlets", &id).unwrap().unwrap(),
        (row.fields, false)
    );
    s.set("outlets", &id, "phone", Value::Null).unwrap();
    assert_eq!(
        s.get("outlets", &id).unwrap().unwrap().fields["phone"],
        Value::Null
    );
}

#[test]
fn queries_filter_order_and_page() {
    let mut s = store();
    for (name, credit) in [("Bakti", 5), ("Abadi", 10), ("Cahaya", 1), ("Dewi", 10)] {
        let id = s
            .create("outlets", record! {"name" => name, "branch" => "A"})
            .unwrap();
        s.set("outlets", &id, "credit_limit", credit).unwrap();
    }
    let names = |rows: Vec<lapak_core::Row>| {
        rows.into_iter()
            .map(|r| r.fields["name"].as_text().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let q = Query::new()
        .filter("credit_limit", Op::Ge, 5)
        .order_by("credit_limit", true)
        .order_by("name", false);
    assert_eq!(
        names(s.query("outlets", &q).unwrap()),
        ["Abadi", "Dewi", "Bakti"]
    );
    assert_eq!(
        names(s.query("outlets", &q.clone().limit(1).offset(1)).unwrap()),
        ["Dewi"]
    );
    assert_eq!(
        names(
            s.query(
                "outlets",
                &Query::new()
                    .filter("name", Op::Like, "%a%")
                    .order_by("name", false)
            )
            .unwrap()
        ),
        ["Abadi", "Bakti", "Cahaya"],
        "LIKE ignores ASCII case"
    );
    assert_eq!(
        s.query("outlets", &Query::new().eq("phone", Value::Null))
            .unwrap()
            .len(),
        4
    );
    assert!(matches!(
        s.query("outlets", &Query::new().eq("nope", 1)),
        Err(Error::UnknownField { .. })
    ));
    assert!(matches!(
        s.query("outlets", &Query::new().eq("credit_limit", "ten")),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        s.query(
            "outlets",
            &Query::new().order_by("x\"; DROP TABLE outlets; --", false)
        ),
        Err(Error::UnknownField { .. })
    ));
    assert_eq!(s.count("outlets").unwrap(), 4);
}

#[test]
fn listeners_hear_local_and_remote_changes() {
    let mut s = store();
    let rx = s.subscribe();
    let id = s
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    let got = rx.try_recv().unwrap();
    assert_eq!(
        (got.collection.as_str(), got.ids.clone(), got.origin),
        ("outlets", vec![id], Origin::Local)
    );
    let mut server = lapak_core::testkit::MemoryServer::new(sample_schema());
    server.put_reference("items", "SKU1", record! {"sku" => "SKU1"});
    lapak_core::testkit::sync_fully(&mut s, &mut server).unwrap();
    let all: Vec<_> = rx.try_iter().collect();
    assert!(
        all.iter()
            .any(|c| c.collection == "items" && c.ids == ["SKU1"] && c.origin == Origin::Remote),
        "{all:?}"
    );
    drop(rx);
    s.create("outlets", record! {"name" => "Toko 2", "branch" => "A"})
        .unwrap(); // no listener left: fine
}

#[test]
fn newer_schema_upgrades_in_place_and_older_apps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let id = {
        let mut s = Store::open(&path, sample_schema()).unwrap();
        s.set_scopes(&["branch:A".into()]).unwrap();
        s.create("outlets", record! {"name" => "Toko", "branch" => "A"})
            .unwrap()
    };
    // Simulate a pulled position, to see the upgrade reset it for a full re-pull.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE lapak_cursors SET position = 42", [])
        .unwrap();
    {
        let mut s = Store::open(&path, sample_schema_v2()).unwrap();
        let row = s.get("outlets", &id).unwrap().unwrap();
        assert_eq!(row.fields["name"], "Toko".into());
        assert_eq!(row.fields["owner"], Value::Null);
        assert_eq!(
            s.cursors().unwrap()[0].position,
            0,
            "cursors reset so new fields are pulled"
        );
        s.set("outlets", &id, "owner", "Bu Sari").unwrap();
        s.append("visits", record! {"branch" => "A"}).unwrap();
        assert_eq!(
            s.query("outlets", &Query::new().eq("owner", "Bu Sari"))
                .unwrap()
                .len(),
            1
        );
    }
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path, sample_schema()) {
        Err(Error::SchemaTooNew {
            found: 2,
            supported: 1,
        }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused open leaves the file untouched"
    );
    let changed = Schema::builder(2)
        .collection(
            Collection::document("outlets")
                .required("name", ScalarType::Text)
                .scope_org(),
        )
        .build()
        .unwrap();
    assert!(matches!(
        Store::open(&path, changed),
        Err(Error::SchemaChangedWithoutVersion { version: 2, .. })
    ));
    let retyped = Schema::builder(3)
        .collection(Collection::document("outlets").int("name").scope_org())
        .build()
        .unwrap();
    assert!(matches!(
        Store::open(&path, retyped),
        Err(Error::IncompatibleSchemaChange { .. })
    ));
    let rekinded = Schema::builder(3)
        .collection(Collection::ledger("outlets").text("name").scope_org())
        .build()
        .unwrap();
    assert!(matches!(
        Store::open(&path, rekinded),
        Err(Error::IncompatibleSchemaChange { .. })
    ));
    // Still opens with v2 after all the refusals.
    assert_eq!(
        Store::open(&path, sample_schema_v2())
            .unwrap()
            .count("visits")
            .unwrap(),
        1
    );
}

#[test]
fn a_database_of_a_newer_format_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    drop(Store::open(&path, sample_schema()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", FORMAT_VERSION + 1)
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, sample_schema()).unwrap_err();
    assert!(matches!(err, Error::DatabaseTooNew { .. }));
    assert!(err.to_string().contains("Update the app"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn two_connections_to_one_file_never_overwrite_each_other() {
    // The app and the CLI may open the same file; each keeps recently written documents loaded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let mut app = Store::open(&path, sample_schema()).unwrap();
    let mut cli = Store::open(&path, sample_schema()).unwrap();
    let id = app
        .create(
            "outlets",
            record! {"name" => "Toko", "branch" => "A", "notes" => "a"},
        )
        .unwrap();
    app.set("outlets", &id, "phone", "1").unwrap(); // now loaded in the app's cache
    cli.set("outlets", &id, "credit_limit", 7).unwrap();
    app.edit(
        "outlets",
        &id,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 1,
            delete: 0,
            insert: "b".into(),
        }],
    )
    .unwrap();
    let row = cli.get("outlets", &id).unwrap().unwrap();
    assert_eq!(
        row.fields["credit_limit"],
        Value::Int(7),
        "the CLI's edit survived the app's next write"
    );
    assert_eq!(row.fields["phone"], "1".into());
    assert_eq!(row.fields["notes"], "ab".into());
    assert_eq!(app.pending_count().unwrap(), 4);
}

#[test]
fn a_failed_edit_leaves_no_trace_in_later_writes() {
    let mut s = store();
    let id = s
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    // The first edit applies in memory, the second is out of range: the whole write fails.
    let bad = vec![
        Edit::Set {
            field: "phone".into(),
            value: "999".into(),
        },
        Edit::RemoveItem {
            field: "lines".into(),
            index: 3,
        },
    ];
    assert!(s.edit("outlets", &id, bad).is_err());
    s.set("outlets", &id, "credit_limit", 1).unwrap();
    let row = s.get("outlets", &id).unwrap().unwrap();
    assert_eq!(
        row.fields["phone"],
        Value::Null,
        "the failed write's first edit is not resurrected"
    );
    assert_eq!(
        s.document_fields("outlets", &id).unwrap().unwrap().0["phone"],
        Value::Null
    );
}

#[cfg(unix)]
#[test]
fn the_store_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.sqlite");
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
    };
    let mut s = Store::open(&path, sample_schema()).unwrap();
    s.create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    for name in ["pos.sqlite", "pos.sqlite-wal", "pos.sqlite-shm"] {
        assert_eq!(mode(name) & 0o077, 0, "{name}: {:o}", mode(name));
    }
    drop(s);
    // A store an older app left readable by others is narrowed when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _s = Store::open(&path, sample_schema()).unwrap();
    assert_eq!(mode("pos.sqlite") & 0o077, 0);
}

#[test]
fn ledger_entries_filter_by_their_verdict() {
    let mut s = store();
    let mut server = lapak_core::testkit::MemoryServer::new(sample_schema());
    let sale = |total: i64| record! {"branch" => "A", "total" => total};
    let accepted = s.append("sales", sale(10)).unwrap();
    lapak_core::testkit::sync_fully(&mut s, &mut server).unwrap();
    let pending = s.append("sales", sale(20)).unwrap();
    let ids = |status: &str| -> Vec<String> {
        s.query("sales", &Query::new().eq(lapak_core::STATUS, status))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids("pending"), vec![pending]);
    assert_eq!(ids("accepted"), vec![accepted]);
    assert!(ids("rejected").is_empty());
    // Not a field of a document collection.
    assert!(matches!(
        s.query("outlets", &Query::new().eq(lapak_core::STATUS, "pending")),
        Err(Error::UnknownField { .. })
    ));
}

/// An open store keeps SQLite's lock on its file: another process reading it (the `sqlite3`
/// shell, a backup) must never take it for unused and delete its write-ahead log. Setting the
/// file's mode after opening once dropped that lock (closing any descriptor of a file drops
/// the process's POSIX locks on it).
#[cfg(target_os = "linux")]
#[test]
fn an_open_store_keeps_its_lock_on_the_file() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let store = Store::open(&path, sample_schema()).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino().to_string();
    let pid = std::process::id().to_string();
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    let held = locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 5 && f[4] == pid && f[5].rsplit(':').next() == Some(inode.as_str())
    });
    drop(store);
    assert!(held, "the open store held no lock on its file:\n{locks}");
}
