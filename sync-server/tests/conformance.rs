//! The storage conformance suite: every case runs against SQLite (a temporary file) and
//! against real Postgres (a fresh database per case, from `DATABASE_URL`), through the
//! `Storage` trait, with real device stores where devices are involved.

mod common;

use lapak_server::Accounts as _;
use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Harness, cashier, count, ctx, device, principal, sale, sync_storage};
use lapak_core::protocol::{ChangeBody, Cursor, LogOp, Outcome, PushRequest};
use lapak_core::{Edit, Value, record};
use lapak_server::Storage;
use lapak_server::auth::{self, Role};
use lapak_server::storage::{BackOffice, Refresh, StorageError};
use uuid::Uuid;

crate::on_both_backends!(
    sqlite, postgres;
    exactly_once_sequential_and_concurrent,
    sequencing_never_skips_a_commit,
    pull_is_bounded_and_resumes,
    documents_merge_move_between_scopes_and_materialize,
    rejected_document_change_defers_the_rest_of_its_document,
    missing_dependencies_are_deferred,
    reference_rows_supersede_their_history,
    scopes_and_kinds_are_enforced_on_push,
    ledger_entries_materialize_with_lines_and_events,
    cursor_past_the_head_is_refused,
    newer_database_is_refused,
    an_older_database_is_upgraded_in_place,
    refresh_tokens_rotate_and_reuse_revokes_the_device,
    a_refresh_retried_late_or_with_another_successor_gets_nothing,
    a_new_login_ends_the_devices_earlier_sessions,
    records_in_no_scope_and_hidden_records_are_refused,
    unstorable_text_and_borrowed_change_ids_are_rejected,
    pull_answers_are_bounded_in_bytes,
    change_bombs_are_refused_before_parsing,
    a_change_that_panics_automerge_is_rejected,
);

async fn exactly_once_sequential_and_concurrent(h: Harness) {
    let s = &h.storage;
    let who = cashier("A", "cashier-user");
    let req = PushRequest {
        device_id: who.device_id,
        changes: (0..20).map(|i| sale("A", 100 + i)).collect(),
    };
    let first = s.push(&ctx(), &who, &req).await.unwrap().response();
    for _ in 0..2 {
        assert_eq!(s.push(&ctx(), &who, &req).await.unwrap().response(), first);
    }
    assert!(
        first
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Accepted { .. }))
    );
    // The same push three times at once.
    let req2 = PushRequest {
        device_id: who.device_id,
        changes: (0..20).map(|i| sale("A", 200 + i)).collect(),
    };
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (s, who, req2) = (s.clone(), who.clone(), req2.clone());
        tasks.push(tokio::spawn(async move {
            s.push(&ctx(), &who, &req2).await.unwrap().response()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every copy gets the same verdicts"
    );
    for (table, n) in [
        ("lapak_changes", 40),
        ("lapak_log", 40),
        ("sales", 40),
        ("sales_lines", 40),
        ("lapak_outbox", 40),
    ] {
        assert_eq!(
            count(s, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await,
            n,
            "{table}"
        );
    }
    assert_eq!(s.head().await.unwrap(), 40);
}

async fn sequencing_never_skips_a_commit(h: Harness) {
    const WRITERS: usize = 6;
    const PUSHES: usize = 15;
    const READERS: usize = 3;
    let s = h.storage.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (s, done) = (s.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let resp = s
                    .pull(
                        &[Cursor {
                            scope: "branch:S".into(),
                            position: cursor,
                        }],
                        7,
                    )
                    .await
                    .unwrap();
                let mut more = false;
                for b in resp.batches {
                    assert_eq!(b.after, cursor);
                    seen.extend(b.entries.iter().map(|e| e.position));
                    cursor = b.upto;
                    more |= b.has_more;
                }
                if finished && !more {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let s = s.clone();
        writers.push(tokio::spawn(async move {
            let who = principal(Role::Cashier, &[("branch:S", true)]);
            let mut positions = Vec::new();
            for _ in 0..PUSHES {
                let req = PushRequest {
                    device_id: who.device_id,
                    changes: (0..3).map(|i| sale("S", 10 + i)).collect(),
                };
                for r in s.push(&ctx(), &who, &req).await.unwrap().results {
                    let Outcome::Accepted { position } = r.outcome else {
                        panic!("not accepted: {r:?}")
                    };
                    positions.push(position);
                }
            }
            positions
        }));
    }
    let mut committed = BTreeSet::new();
    for w in writers {
        committed.extend(w.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(committed.len(), WRITERS * PUSHES * 3);
    for r in readers {
        let seen = r.await.unwrap();
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "positions arrive in order, once"
        );
        let seen: BTreeSet<u64> = seen.into_iter().collect();
        assert_eq!(seen, committed, "a reader saw every committed change");
    }
}

async fn pull_is_bounded_and_resumes(h: Harness) {
    let s = &h.storage;
    let who = cashier("A", "cashier-user");
    let req = PushRequest {
        device_id: who.device_id,
        changes: (0..50).map(|i| sale("A", 1 + i)).collect(),
    };
    s.push(&ctx(), &who, &req).await.unwrap();
    // Another scope's entries in between do not show.
    let b = principal(Role::Cashier, &[("branch:B", true)]);
    s.push(
        &ctx(),
        &b,
        &PushRequest {
            device_id: b.device_id,
            changes: vec![sale("B", 5)],
        },
    )
    .await
    .unwrap();
    let mut cursor = 0;
    let mut got = Vec::new();
    loop {
        let resp = s
            .pull(
                &[Cursor {
                    scope: "branch:A".into(),
                    position: cursor,
                }],
                7,
            )
            .await
            .unwrap();
        let batch = &resp.batches[0];
        assert!(batch.entries.len() <= 7);
        got.extend(batch.entries.iter().map(|e| e.record_id.clone()));
        cursor = batch.upto;
        if !batch.has_more {
            break;
        }
    }
    let sent: Vec<String> = req.changes.iter().map(|c| c.record_id.clone()).collect();
    assert_eq!(got, sent, "every entry once, in push order");
    assert_eq!(cursor, 51, "the last batch reaches the head");
    let again = s
        .pull(
            &[Cursor {
                scope: "branch:A".into(),
                position: cursor,
            }],
            7,
        )
        .await
        .unwrap();
    assert!(again.batches.is_empty(), "nothing new: no batch");
}

async fn documents_merge_move_between_scopes_and_materialize(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let sup = principal(Role::Supervisor, &[("branch:A", true), ("branch:B", true)]);
    let who_a = cashier("A", "cashier-user");
    let who_b = principal(Role::Cashier, &[("branch:B", true)]);
    let mut d1 = device(dir.path(), "d1", &["branch:A", "branch:B"]);
    let mut d2 = device(dir.path(), "d2", &["branch:A"]);
    let mut d3 = device(dir.path(), "d3", &["branch:B"]);
    let id = d1
        .create(
            "outlets",
            record! {"name" => "Toko Maju", "branch" => "A", "notes" => "open 7"},
        )
        .unwrap();
    sync_storage(&mut d1, s, &sup).await;
    sync_storage(&mut d2, s, &who_a).await;
    assert!(d2.get("outlets", &id).unwrap().is_some());
    // Concurrent offline edits of the notes on two devices merge.
    d1.edit(
        "outlets",
        &id,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 0,
            delete: 0,
            insert: "Pak Budi: ".into(),
        }],
    )
    .unwrap();
    d2.edit(
        "outlets",
        &id,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 6,
            delete: 0,
            insert: " am".into(),
        }],
    )
    .unwrap();
    sync_storage(&mut d1, s, &sup).await;
    sync_storage(&mut d2, s, &who_a).await;
    sync_storage(&mut d1, s, &sup).await;
    let notes = |st: &lapak_core::Store| {
        st.document_fields("outlets", &id).unwrap().unwrap().0["notes"].clone()
    };
    assert_eq!(notes(&d1), Value::Text("Pak Budi: open 7 am".into()));
    assert_eq!(notes(&d2), notes(&d1));
    let row = h
        .storage
        .query_text(&format!(
            "SELECT notes, branch, _scopes FROM outlets WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    assert_eq!(row[0][0].as_deref(), Some("Pak Budi: open 7 am"));
    assert_eq!(row[0][2].as_deref(), Some("[\"branch:A\"]"));
    // The outlet moves to branch B: branch A's devices drop it, branch B's receive it whole.
    d1.set("outlets", &id, "branch", "B").unwrap();
    sync_storage(&mut d1, s, &sup).await;
    sync_storage(&mut d2, s, &who_a).await;
    sync_storage(&mut d3, s, &who_b).await;
    assert!(
        d2.get("outlets", &id).unwrap().is_none(),
        "evicted from branch A"
    );
    assert_eq!(notes(&d3), Value::Text("Pak Budi: open 7 am".into()));
    let row = h
        .storage
        .query_text(&format!("SELECT branch FROM outlets WHERE id = '{id}'"))
        .await
        .unwrap();
    assert_eq!(row[0][0].as_deref(), Some("B"));
    // Deleting removes the plain row.
    d3.delete("outlets", &id).unwrap();
    sync_storage(&mut d3, s, &who_b).await;
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM outlets").await,
        0
    );
    let kinds: Vec<String> = h
        .storage
        .outbox(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.event_type)
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("outlets.created"));
    assert_eq!(kinds.last().map(String::as_str), Some("outlets.deleted"));
}

async fn rejected_document_change_defers_the_rest_of_its_document(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = cashier("A", "cashier-user");
    let mut d = device(dir.path(), "d", &["branch:A", "branch:B"]);
    // A cashier of branch A creates an outlet in branch B, then edits it.
    let id = d
        .create("outlets", record! {"name" => "Elsewhere", "branch" => "B"})
        .unwrap();
    d.set("outlets", &id, "phone", "0812").unwrap();
    let push = d.next_push(10).unwrap().unwrap();
    assert_eq!(push.changes.len(), 2);
    let plan = s.push(&ctx(), &who, &push).await.unwrap();
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "forbidden_scope")
    );
    assert!(matches!(plan.results[1].outcome, Outcome::Deferred { .. }));
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_documents"
        )
        .await,
        0,
        "a rejected change is never stored"
    );
    let report = d.apply_push_response(&plan.response()).unwrap();
    assert_eq!(report.rejected, 1);
    assert!(
        d.get("outlets", &id).unwrap().is_none(),
        "the refused record leaves the device"
    );
    assert_eq!(d.pending_count().unwrap(), 0, "its edit went with it");
}

async fn missing_dependencies_are_deferred(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = cashier("A", "cashier-user");
    let mut d = device(dir.path(), "d", &["branch:A"]);
    let id = d
        .create("outlets", record! {"name" => "Dep", "branch" => "A"})
        .unwrap();
    d.set("outlets", &id, "phone", "1").unwrap();
    let push = d.next_push(10).unwrap().unwrap();
    let second_only = PushRequest {
        device_id: push.device_id,
        changes: vec![push.changes[1].clone()],
    };
    let plan = s.push(&ctx(), &who, &second_only).await.unwrap();
    assert!(matches!(plan.results[0].outcome, Outcome::Deferred { .. }));
    assert_eq!(s.head().await.unwrap(), 0, "nothing stored");
    let plan = s.push(&ctx(), &who, &push).await.unwrap();
    assert!(
        plan.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Accepted { .. }))
    );
}

async fn reference_rows_supersede_their_history(h: Harness) {
    let s = h.storage.as_ref();
    for price in [100, 200, 300] {
        s.put_reference(
            &ctx(),
            "items",
            &[(
                "SKU-1".into(),
                Some(record! {"sku" => "SKU-1", "price" => price}),
            )],
        )
        .await
        .unwrap();
    }
    s.put_reference(
        &ctx(),
        "items",
        &[("SKU-2".into(), Some(record! {"sku" => "SKU-2"}))],
    )
    .await
    .unwrap();
    let org = [Cursor {
        scope: "org".into(),
        position: 0,
    }];
    let resp = s.pull(&org, 100).await.unwrap();
    let entries = &resp.batches[0].entries;
    assert_eq!(entries.len(), 2, "one entry per row, not its history");
    assert!(
        matches!(&entries[0].op, LogOp::Upsert { fields, .. } if fields["price"] == Value::Int(300))
    );
    // A device that had seen version 1 still gets the newest.
    let resp = s
        .pull(
            &[Cursor {
                scope: "org".into(),
                position: 1,
            }],
            100,
        )
        .await
        .unwrap();
    assert_eq!(resp.batches[0].entries.len(), 2);
    s.put_reference(&ctx(), "items", &[("SKU-1".into(), None)])
        .await
        .unwrap();
    let resp = s.pull(&org, 100).await.unwrap();
    assert!(matches!(
        resp.batches[0].entries[1].op,
        LogOp::Delete { .. }
    ));
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        1
    );
    // Written again after its deletion, twice in one batch: still one entry per row.
    s.put_reference(
        &ctx(),
        "items",
        &[
            (
                "SKU-1".into(),
                Some(record! {"sku" => "SKU-1", "price" => 1}),
            ),
            (
                "SKU-1".into(),
                Some(record! {"sku" => "SKU-1", "price" => 2}),
            ),
        ],
    )
    .await
    .unwrap();
    let resp = s.pull(&org, 100).await.unwrap();
    let ids: Vec<&str> = resp.batches[0]
        .entries
        .iter()
        .map(|e| e.record_id.as_str())
        .collect();
    assert_eq!(ids, ["SKU-2", "SKU-1"]);
    assert!(
        matches!(&resp.batches[0].entries[1].op, LogOp::Upsert { fields, .. } if fields["price"] == Value::Int(2))
    );
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        2
    );
    // Bad rows are refused whole.
    let err = s
        .put_reference(
            &ctx(),
            "items",
            &[
                ("SKU-3".into(), Some(record! {"sku" => "SKU-3"})),
                ("SKU-4".into(), Some(record! {"price" => 5})),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Reference(_)), "{err}");
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        2
    );
    // An id a device could not push is refused to the back office too.
    for id in ["", "SKU\n5", &"x".repeat(201)] {
        let err = s
            .put_reference(
                &ctx(),
                "items",
                &[(id.into(), Some(record! {"price" => 5}))],
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("control characters"),
            "{id:?}: {err}"
        );
    }
    assert!(matches!(
        s.put_reference(&ctx(), "sales", &[]).await,
        Err(StorageError::Reference(_))
    ));
}

async fn scopes_and_kinds_are_enforced_on_push(h: Harness) {
    let s = h.storage.as_ref();
    let who = cashier("A", "cashier-user");
    let mut wrong_id = sale("A", 10);
    wrong_id.record_id = "not-the-change-id".into();
    let mut wrong_kind = sale("A", 10);
    wrong_kind.collection = "items".into();
    let mut unknown = sale("A", 10);
    unknown.collection = "nope".into();
    let req = PushRequest {
        device_id: who.device_id,
        changes: vec![
            sale("B", 10),
            wrong_id,
            wrong_kind,
            unknown,
            sale("A", 0),
            sale("A", 10),
        ],
    };
    let codes: Vec<String> = s
        .push(&ctx(), &who, &req)
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|r| match r.outcome {
            Outcome::Rejected { code, .. } => code,
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "forbidden_scope",
            "invalid",
            "wrong_kind",
            "unknown_collection",
            "invalid_total",
            "Accepted { position: 1 }"
        ]
    );
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        1
    );
    let rows = h
        .storage
        .query_text("SELECT DISTINCT scope FROM lapak_log")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![Some("branch:A".to_owned())]],
        "nothing reached branch B"
    );
    // A read-only grant does not allow writing.
    let reader = principal(Role::Cashier, &[("branch:A", false)]);
    let plan = s
        .push(
            &ctx(),
            &reader,
            &PushRequest {
                device_id: reader.device_id,
                changes: vec![sale("A", 10)],
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "forbidden_scope")
    );
}

async fn ledger_entries_materialize_with_lines_and_events(h: Harness) {
    let s = h.storage.as_ref();
    let who = cashier("A", "cashier-user");
    let mut ch = sale("A", 0);
    ch.body = ChangeBody::Ledger {
        entry: record! {
            "branch" => "A",
            "terminal" => "POS-2",
            "total" => 25_000,
            "sold_at" => 1_700_000_000_000i64,
            "lines" => Value::List(vec![
                lapak_core::item! {"sku" => "KOPI", "qty" => 2, "price" => 5_000},
                lapak_core::item! {"sku" => "GULA", "qty" => 1, "price" => 15_000},
            ]),
        },
    };
    let id = ch.record_id.clone();
    s.push(
        &ctx(),
        &who,
        &PushRequest {
            device_id: who.device_id,
            changes: vec![ch],
        },
    )
    .await
    .unwrap();
    let row = h
        .storage
        .query_text(&format!("SELECT terminal, CAST(total AS TEXT), CAST(sold_at AS TEXT), _device_id FROM sales WHERE id = '{id}'"))
        .await
        .unwrap();
    assert_eq!(
        row,
        vec![vec![
            Some("POS-2".into()),
            Some("25000".into()),
            Some("1700000000000".into()),
            Some(who.device_id.to_string())
        ]]
    );
    let lines = h
        .storage
        .query_text(&format!(
            "SELECT sku, CAST(qty AS TEXT) FROM sales_lines WHERE parent_id = '{id}' ORDER BY idx"
        ))
        .await
        .unwrap();
    assert_eq!(
        lines,
        vec![
            vec![Some("KOPI".into()), Some("2".into())],
            vec![Some("GULA".into()), Some("1".into())]
        ]
    );
    let events = s.outbox(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0].1;
    assert_eq!(e.event_type, "invoice.issued");
    assert_eq!(e.version, "v1");
    assert_eq!(e.source, "lapak-server");
    let payload = e.payload.value();
    assert_eq!(payload["id"], serde_json::json!(id));
    assert_eq!(payload["record"]["lines"][1]["sku"], "GULA");
}

async fn cursor_past_the_head_is_refused(h: Harness) {
    let err = h
        .storage
        .pull(
            &[Cursor {
                scope: "branch:A".into(),
                position: 99,
            }],
            10,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::CursorAhead { .. }), "{err}");
    assert!(err.to_string().contains("reset the device"));
}

async fn newer_database_is_refused(h: Harness) {
    assert!(h.reopen().await.is_ok(), "reopening the same version works");
    h.raw_execute(
        "INSERT INTO lapak_schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .await;
    let err = h.reopen().await.unwrap_err();
    assert!(
        matches!(err, StorageError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
    assert!(h.storage.ready().await.is_err(), "readiness reports it too");
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_device(h: Harness) {
    let s = h.storage.as_ref();
    let user = s
        .create_user(
            "kasir",
            &auth::hash_password("password-1").unwrap(),
            Role::Cashier,
            &[],
            0,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.create_user("kasir", "x", Role::Cashier, &[], 0).await,
        Err(StorageError::Conflict(_))
    ));
    let dev = Uuid::now_v7();
    let now = chrono::Utc::now().timestamp_millis();
    let generation = s.register_device(dev, &user.id, "POS", now).await.unwrap();
    s.store_refresh("t1", dev, generation, now, now + 60_000)
        .await
        .unwrap();
    let exp = now + 60_000;
    assert!(matches!(
        s.rotate_refresh("t1", "s1", now, exp).await.unwrap(),
        Refresh::Rotated { .. }
    ));
    // The answer was lost: t1 again at once, s1 never used. A retry, not a theft: the same
    // successor (the caller derives it from t1), and nothing new is stored.
    assert!(matches!(
        s.rotate_refresh("t1", "s1", now + 1_000, exp)
            .await
            .unwrap(),
        Refresh::Rotated { retry: true, .. }
    ));
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_refresh_tokens WHERE revoked_at IS NULL"
        )
        .await,
        2,
        "no second successor"
    );
    // Whoever holds s1 moves the one chain on.
    assert!(matches!(
        s.rotate_refresh("s1", "s2", now + 2_000, exp)
            .await
            .unwrap(),
        Refresh::Rotated { retry: false, .. }
    ));
    // t1 once more, after its successor was used: a copy. The device's sessions end, s2 too.
    assert_eq!(
        s.rotate_refresh("t1", "y", now + 3_000, exp).await.unwrap(),
        Refresh::Reused { device_id: dev }
    );
    assert_eq!(
        s.rotate_refresh("s2", "z", now + 3_000, exp).await.unwrap(),
        Refresh::Invalid
    );
    let session = s.session(&user.id, dev).await.unwrap().unwrap();
    assert_eq!(
        session.generation,
        generation + 1,
        "old access tokens stop working"
    );
    // Another user cannot take the device over.
    let other = s
        .create_user("other", "x", Role::Cashier, &[], 0)
        .await
        .unwrap();
    assert!(matches!(
        s.register_device(dev, &other.id, "x", now).await,
        Err(StorageError::Conflict(_))
    ));
    s.revoke_device(dev, now).await.unwrap();
    assert!(s.session(&user.id, dev).await.unwrap().unwrap().blocked);
    assert!(matches!(
        s.register_device(dev, &user.id, "POS", now).await,
        Err(StorageError::Forbidden(_))
    ));
    // Expired tokens are refused.
    let dev2 = Uuid::now_v7();
    let g = s
        .register_device(dev2, &user.id, "POS 2", now)
        .await
        .unwrap();
    s.store_refresh("old", dev2, g, now - 10, now - 1)
        .await
        .unwrap();
    assert_eq!(
        s.rotate_refresh("old", "new", now, exp).await.unwrap(),
        Refresh::Invalid
    );
}

async fn records_in_no_scope_and_hidden_records_are_refused(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = cashier("A", "cashier-user");
    let mut d = device(dir.path(), "d", &["branch:A"]);
    let id = d
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    sync_storage(&mut d, s, &who).await;
    // Emptying the scope field would hide the record from everybody.
    d.set("outlets", &id, "branch", "").unwrap();
    let plan = s
        .push(&ctx(), &who, &d.next_push(10).unwrap().unwrap())
        .await
        .unwrap();
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "no_scope"),
        "{:?}",
        plan.results
    );
    // A record the back office keeps in no scope cannot be claimed by a branch's device.
    let admin = principal(Role::Admin, &[]);
    let mut back = device(dir.path(), "back", &[]);
    back.create_with_id("outlets", "HQ-1", record! {"name" => "Head office"})
        .unwrap();
    sync_storage(&mut back, s, &admin).await;
    let b = principal(Role::Cashier, &[("branch:B", true)]);
    let mut db = device(dir.path(), "db", &["branch:B"]);
    db.create_with_id(
        "outlets",
        "HQ-1",
        record! {"name" => "Mine now", "branch" => "B"},
    )
    .unwrap();
    let plan = s
        .push(&ctx(), &b, &db.next_push(10).unwrap().unwrap())
        .await
        .unwrap();
    match &plan.results[0].outcome {
        Outcome::Rejected { code, message } => {
            assert_eq!(code, "forbidden_scope");
            assert!(
                !message.contains("branch:A"),
                "no scope names leak: {message}"
            );
        }
        other => panic!("accepted a hidden record: {other:?}"),
    }
    // Nor can a cashier of B touch branch A's outlet.
    let mut db2 = device(dir.path(), "db2", &["branch:B"]);
    db2.create_with_id("outlets", &id, record! {"name" => "Taken", "branch" => "B"})
        .unwrap();
    let plan = s
        .push(&ctx(), &b, &db2.next_push(10).unwrap().unwrap())
        .await
        .unwrap();
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "forbidden_scope")
    );
    let rows = h
        .storage
        .query_text("SELECT name, branch FROM outlets ORDER BY name")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Some("Head office".into()), None],
            vec![Some("Toko".into()), Some("A".into())]
        ]
    );
}

async fn unstorable_text_and_borrowed_change_ids_are_rejected(h: Harness) {
    let s = h.storage.as_ref();
    let who = cashier("A", "cashier-user");
    let mut nul = sale("A", 10);
    if let ChangeBody::Ledger { entry } = &mut nul.body {
        entry.insert("terminal".into(), Value::Text("POS\u{0}1".into()));
    }
    let mut long = sale("A", 10);
    long.collection = "sales".into();
    let mut bad_id = sale("A", 10);
    bad_id.record_id = "line\nbreak".into();
    let mut weird_collection = sale("A", 10);
    weird_collection.collection = "x\u{0}y".into();
    let plan = s
        .push(
            &ctx(),
            &who,
            &PushRequest {
                device_id: who.device_id,
                changes: vec![nul, bad_id, weird_collection],
            },
        )
        .await
        .unwrap();
    let codes: Vec<&str> = plan
        .results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Rejected { code, .. } => code.as_str(),
            _ => "not rejected",
        })
        .collect();
    assert_eq!(codes, ["invalid", "invalid", "unknown_collection"]);
    // Another device reusing a change id learns nothing and stores nothing.
    let taken = long;
    let first = s
        .push(
            &ctx(),
            &who,
            &PushRequest {
                device_id: who.device_id,
                changes: vec![taken.clone()],
            },
        )
        .await
        .unwrap();
    assert!(matches!(first.results[0].outcome, Outcome::Accepted { .. }));
    let thief = cashier("A", "cashier-user");
    let plan = s
        .push(
            &ctx(),
            &thief,
            &PushRequest {
                device_id: thief.device_id,
                changes: vec![taken],
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "change_id_taken")
    );
    assert_eq!(s.head().await.unwrap(), 1);
}

async fn pull_answers_are_bounded_in_bytes(h: Harness) {
    let s = h.storage.as_ref();
    let who = cashier("A", "cashier-user");
    // Twelve entries of about 900 KB: more than one answer's byte budget.
    let changes: Vec<_> = (0..12)
        .map(|i| {
            let mut c = sale("A", 10 + i);
            if let ChangeBody::Ledger { entry } = &mut c.body {
                entry.insert("terminal".into(), Value::Text("x".repeat(900_000)));
            }
            c
        })
        .collect();
    let plan = s
        .push(
            &ctx(),
            &who,
            &PushRequest {
                device_id: who.device_id,
                changes,
            },
        )
        .await
        .unwrap();
    assert!(
        plan.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Accepted { .. }))
    );
    let mut cursor = 0;
    let mut answers = 0;
    let mut got = 0;
    loop {
        let resp = s
            .pull(
                &[Cursor {
                    scope: "branch:A".into(),
                    position: cursor,
                }],
                1_000,
            )
            .await
            .unwrap();
        answers += 1;
        let encoded = lapak_core::protocol::Message::PullResponse(resp.clone()).encode();
        assert!(encoded.len() <= 9 * 1024 * 1024, "{} bytes", encoded.len());
        let b = &resp.batches[0];
        got += b.entries.len();
        cursor = b.upto;
        if !b.has_more {
            break;
        }
    }
    assert_eq!(got, 12);
    assert!(answers >= 2, "the byte budget split the pull");
}

async fn an_older_database_is_upgraded_in_place(h: Harness) {
    let s = h.storage.as_ref();
    let who = cashier("A", "cashier-user");
    s.push(
        &ctx(),
        &who,
        &PushRequest {
            device_id: who.device_id,
            changes: vec![sale("A", 10)],
        },
    )
    .await
    .unwrap();
    // Take the database back to migration 1, as the first release left it.
    h.raw_execute("ALTER TABLE lapak_refresh_tokens DROP COLUMN replaced_by")
        .await;
    h.raw_execute("DROP TABLE lapak_tallies").await;
    h.raw_execute("DROP TABLE lapak_exceptions").await;
    h.raw_execute("DROP TABLE lapak_device_cursors").await;
    h.raw_execute("DROP INDEX lapak_changes_rejected").await;
    h.raw_execute("ALTER TABLE lapak_devices DROP COLUMN app_version")
        .await;
    for statement in [
        "DROP TABLE lapak_report_state",
        "DROP TABLE lapak_report_sales",
        "DROP TABLE lapak_report_payments",
        "DROP TABLE lapak_report_items_day",
        "DROP TABLE lapak_report_items_block",
        "DROP TABLE lapak_report_items_day_all",
        "DROP TABLE lapak_report_items_block_all",
        "DROP TABLE lapak_relay_sinks",
        "DROP INDEX lapak_reference_version",
        "ALTER TABLE lapak_reference DROP COLUMN imported_by",
        "ALTER TABLE lapak_reference DROP COLUMN import_print",
    ] {
        h.raw_execute(statement).await;
    }
    h.raw_execute("DELETE FROM lapak_schema_migrations WHERE version >= 2")
        .await;
    assert!(s.ready().await.is_err(), "an old schema is not ready");
    let upgraded = h.reopen().await.unwrap();
    upgraded.ready().await.unwrap();
    // Migration 3's tables are back.
    assert!(
        lapak_server::storage::Exceptions::exceptions(
            &upgraded,
            &lapak_server::storage::ExceptionFilter {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(upgraded.head().await.unwrap(), 1, "the data survived");
    let user = upgraded
        .create_user("u", "x", Role::Cashier, &[], 0)
        .await
        .unwrap();
    let dev = Uuid::now_v7();
    let g = upgraded
        .register_device(dev, &user.id, "d", 0)
        .await
        .unwrap();
    // Migrations 5 and 6: the reports' rollups and the relay's sinks are back.
    assert_eq!(
        count(
            &upgraded,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_report_state"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &upgraded,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_relay_sinks"
        )
        .await,
        0
    );
    // Migration 4's column and table are back.
    BackOffice::record_app_version(&upgraded, dev, Some("lapak-pos/0.1.0"))
        .await
        .unwrap();
    BackOffice::record_pulled(
        &upgraded,
        dev,
        &[Cursor {
            scope: "branch:A".into(),
            position: 1,
        }],
        0,
    )
    .await
    .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    upgraded
        .store_refresh("r1", dev, g, now, now + 60_000)
        .await
        .unwrap();
    assert!(matches!(
        upgraded
            .rotate_refresh("r1", "r2", now, now + 60_000)
            .await
            .unwrap(),
        Refresh::Rotated { .. }
    ));
}

async fn a_new_login_ends_the_devices_earlier_sessions(h: Harness) {
    let s = h.storage.as_ref();
    let user = s
        .create_user("kasir", "x", Role::Cashier, &[], 0)
        .await
        .unwrap();
    let (dev, other_dev) = (Uuid::now_v7(), Uuid::now_v7());
    let now = chrono::Utc::now().timestamp_millis();
    let first = s.register_device(dev, &user.id, "POS", now).await.unwrap();
    let other = s
        .register_device(other_dev, &user.id, "POS 2", now)
        .await
        .unwrap();
    s.store_refresh("first", dev, first, now, now + 60_000)
        .await
        .unwrap();
    s.store_refresh("other", other_dev, other, now, now + 60_000)
        .await
        .unwrap();
    // The same device logs in again.
    let second = s.register_device(dev, &user.id, "POS", now).await.unwrap();
    assert_ne!(second, first, "a new session generation");
    assert_eq!(
        s.session(&user.id, dev).await.unwrap().unwrap().generation,
        second,
        "access tokens of the earlier session stop working"
    );
    assert_eq!(
        s.rotate_refresh("first", "next", now, now + 60_000)
            .await
            .unwrap(),
        Refresh::Invalid,
        "the earlier refresh token is revoked"
    );
    // Another device of the same user keeps its session.
    assert!(matches!(
        s.rotate_refresh("other", "other-next", now, now + 60_000)
            .await
            .unwrap(),
        Refresh::Rotated { .. }
    ));
    assert_eq!(
        s.session(&user.id, other_dev)
            .await
            .unwrap()
            .unwrap()
            .generation,
        other
    );
}

async fn a_refresh_retried_late_or_with_another_successor_gets_nothing(h: Harness) {
    let s = h.storage.as_ref();
    let user = s
        .create_user("kasir", "x", Role::Cashier, &[], 0)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let exp = now + 60_000;
    let (late, rekeyed) = (Uuid::now_v7(), Uuid::now_v7());
    for (dev, token) in [(late, "late"), (rekeyed, "rekeyed")] {
        let g = s.register_device(dev, &user.id, "POS", now).await.unwrap();
        s.store_refresh(token, dev, g, now, exp).await.unwrap();
        assert!(matches!(
            s.rotate_refresh(token, &format!("{token}-next"), now, exp)
                .await
                .unwrap(),
            Refresh::Rotated { retry: false, .. }
        ));
    }
    // Past the grace period, an unused successor does not make it a retry: a copy.
    assert_eq!(
        s.rotate_refresh(
            "late",
            "late-next",
            now + lapak_server::storage::REFRESH_RETRY_GRACE_MS + 1,
            exp
        )
        .await
        .unwrap(),
        Refresh::Reused { device_id: late }
    );
    assert_eq!(
        s.rotate_refresh("late-next", "x", now + 1, exp)
            .await
            .unwrap(),
        Refresh::Invalid,
        "the device's sessions are revoked"
    );
    // Within it, but naming another successor (the server's key changed): refused, and the
    // successor already handed out still works.
    assert_eq!(
        s.rotate_refresh("rekeyed", "other", now + 1_000, exp)
            .await
            .unwrap(),
        Refresh::Invalid
    );
    assert!(matches!(
        s.rotate_refresh("rekeyed-next", "y", now + 2_000, exp)
            .await
            .unwrap(),
        Refresh::Rotated { retry: false, .. }
    ));
}

/// A compressed change inflating past `MAX_CHANGE_BYTES` (a DEFLATE bomb) and bytes that are not
/// one change chunk are refused with their own verdicts, and the rest of the push is accepted.
async fn change_bombs_are_refused_before_parsing(h: Harness) {
    use std::io::Write as _;
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = cashier("A", "cashier-user");
    let mut d = device(dir.path(), "d", &["branch:A"]);
    d.create("outlets", record! {"name" => "Real", "branch" => "A"})
        .unwrap();
    let mut push = d.next_push(10).unwrap().unwrap();
    let good = push.changes[0].clone();
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; 4 << 20]).unwrap();
    let body = e.finish().unwrap();
    let mut bomb_bytes = lapak_core::chunk::MAGIC.to_vec();
    bomb_bytes.extend([0, 0, 0, 0, 2]);
    let mut n = body.len();
    while n >= 0x80 {
        bomb_bytes.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    bomb_bytes.push(n as u8);
    bomb_bytes.extend(&body);
    let with = |bytes: Vec<u8>| {
        let mut c = good.clone();
        c.change_id = Uuid::now_v7();
        c.record_id = Uuid::now_v7().to_string();
        c.body = ChangeBody::Document { change: bytes };
        c
    };
    let ChangeBody::Document { change: real } = &good.body else {
        panic!("an outlet is a document")
    };
    let mut trailing = real.clone();
    trailing.extend(real.iter().copied());
    push.changes = vec![with(bomb_bytes), with(trailing), good];
    let plan = s.push(&ctx(), &who, &push).await.unwrap();
    let codes: Vec<&str> = plan
        .results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Rejected { code, .. } => code.as_str(),
            Outcome::Accepted { .. } => "accepted",
            Outcome::Deferred { .. } => "deferred",
        })
        .collect();
    assert_eq!(codes, ["too_large", "malformed", "accepted"]);
}

/// A change the fuzzer found (`push_document_change`): Automerge parses it, then panics while
/// applying it (an actor index out of range). It is rejected `malformed` on its own, and the
/// rest of the push is accepted; before, the panic failed the push on every retry.
async fn a_change_that_panics_automerge_is_rejected(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = cashier("A", "cashier-user");
    let mut d = device(dir.path(), "d", &["branch:A"]);
    d.create("outlets", record! {"name" => "Real", "branch" => "A"})
        .unwrap();
    let mut push = d.next_push(10).unwrap().unwrap();
    let good = push.changes[0].clone();
    let mut bad = good.clone();
    bad.change_id = Uuid::now_v7();
    bad.record_id = Uuid::now_v7().to_string();
    let mut bytes = lapak_core::chunk::MAGIC.to_vec();
    bytes.extend([0, 0, 0, 0, 1, 10, 0, 1, 0, 0x58, 0x6b, 0, 0, 0, 0, 0]);
    bad.body = ChangeBody::Document { change: bytes };
    push.changes = vec![bad, good];
    let plan = s.push(&ctx(), &who, &push).await.unwrap();
    // It starts a history of its own, so genesis refuses it before it is applied; on a record
    // with a history it would reach Automerge, whose panic is caught (engine::bounds unit test).
    assert!(
        matches!(&plan.results[0].outcome, Outcome::Rejected { code, .. } if code == "malformed" || code == "genesis_required"),
        "{:?}",
        plan.results[0].outcome
    );
    assert!(matches!(plan.results[1].outcome, Outcome::Accepted { .. }));
}
