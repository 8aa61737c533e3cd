//! Documents begin with their collection's genesis: records created with the same id on several
//! devices merge field by field, a document that starts a history of its own is refused, and so
//! is a value of the wrong type. Each case on SQLite and Postgres, with real device stores.

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use common::{Harness, count, ctx, device, principal, sync_storage};
use lapak_core::protocol::{Change, ChangeBody, Outcome, PushRequest};
use lapak_core::{Edit, Store, Value, item, record};
use lapak_server::Storage;
use lapak_server::auth::{Principal, Role};
use uuid::Uuid;

crate::on_both_backends!(
    sqlite, postgres;
    two_creations_of_one_id_merge_field_by_field,
    three_creations_then_edits_and_a_delete_converge,
    a_document_with_a_history_of_its_own_is_refused,
    values_of_the_wrong_type_are_refused_naming_the_field,
);

fn supervisor() -> Principal {
    principal(Role::Supervisor, &[("branch:A", true)])
}

fn fields(store: &Store, id: &str) -> lapak_core::Record {
    store.get("outlets", id).unwrap().unwrap().fields
}

/// The salesperson fills the address (notes) and a line, the supervisor the phone, a note and
/// another line, both offline, under one id: nothing of either is lost.
async fn two_creations_of_one_id_merge_field_by_field(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = supervisor();
    let mut sales = device(dir.path(), "sales", &["branch:A"]);
    let mut sup = device(dir.path(), "sup", &["branch:A"]);
    let id = "OUT-0001";
    sales
        .create_with_id(
            "outlets",
            id,
            record! {"name" => "Toko Maju", "branch" => "A", "notes" => "Jl. Melati 5",
            "lines" => Value::List(vec![item! {"sku" => "PHOTO-1"}])},
        )
        .unwrap();
    sup.create_with_id(
        "outlets",
        id,
        record! {"name" => "Toko Maju", "branch" => "A", "phone" => "0812", "notes" => "pays cash",
        "lines" => Value::List(vec![item! {"sku" => "PHOTO-2"}])},
    )
    .unwrap();
    sync_storage(&mut sales, s, &who).await;
    sync_storage(&mut sup, s, &who).await;
    sync_storage(&mut sales, s, &who).await;
    assert_eq!(sales.rejections().unwrap(), vec![], "nothing refused");
    assert_eq!(sup.rejections().unwrap(), vec![], "nothing refused");
    let merged = fields(&sales, id);
    assert_eq!(merged, fields(&sup, id));
    assert_eq!(merged["phone"], Value::Text("0812".into()));
    let Value::Text(notes) = &merged["notes"] else {
        panic!("notes are text")
    };
    assert!(
        notes.contains("Jl. Melati 5") && notes.contains("pays cash"),
        "{notes}"
    );
    let Value::List(lines) = &merged["lines"] else {
        panic!("lines are a list")
    };
    let mut skus: Vec<_> = lines.iter().map(|l| l["sku"].clone()).collect();
    skus.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(skus, vec!["PHOTO-1".into(), "PHOTO-2".into()]);
    let row = h
        .storage
        .query_text(&format!(
            "SELECT phone, notes FROM outlets WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    assert_eq!(row[0][0].as_deref(), Some("0812"));
    assert_eq!(row[0][1].as_deref(), Some(notes.as_str()));
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM outlets_lines"
        )
        .await,
        2
    );
}

/// Three devices create one id with overlapping fields, then edit text and lists and one
/// deletes: every device and the server end equal, every concurrent insertion kept.
async fn three_creations_then_edits_and_a_delete_converge(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let who = supervisor();
    let mut devices: Vec<Store> = (0..3)
        .map(|i| device(dir.path(), &format!("d{i}"), &["branch:A"]))
        .collect();
    let id = "OUT-0002";
    for (i, d) in devices.iter_mut().enumerate() {
        d.create_with_id(
            "outlets",
            id,
            record! {"name" => format!("name {i}"), "branch" => "A", "notes" => format!("<{i}>"),
            "credit_limit" => i64::try_from(i).unwrap(),
            "lines" => Value::List(vec![item! {"sku" => format!("S{i}"), "qty" => 1}])},
        )
        .unwrap();
    }
    for order in [[2, 0, 1], [0, 1, 2]] {
        for i in order {
            sync_storage(&mut devices[i], s, &who).await;
        }
    }
    let first = fields(&devices[0], id);
    for d in &devices {
        assert_eq!(fields(d, id), first, "every device holds the same record");
    }
    let Value::Text(notes) = &first["notes"] else {
        panic!()
    };
    for i in 0..3 {
        assert!(notes.contains(&format!("<{i}>")), "{notes}");
    }
    assert!(matches!(&first["lines"], Value::List(l) if l.len() == 3));
    // Offline again: each appends a line and types into the notes.
    for (i, d) in devices.iter_mut().enumerate() {
        d.edit(
            "outlets",
            id,
            vec![
                Edit::InsertItem {
                    field: "lines".into(),
                    index: 3,
                    item: item! {"sku" => format!("T{i}"), "qty" => 2},
                },
                Edit::SpliceText {
                    field: "notes".into(),
                    index: 0,
                    delete: 0,
                    insert: format!("[{i}]"),
                },
            ],
        )
        .unwrap();
    }
    for order in [[1, 2, 0], [0, 1, 2]] {
        for i in order {
            sync_storage(&mut devices[i], s, &who).await;
        }
    }
    let after = fields(&devices[2], id);
    for d in &devices {
        assert_eq!(fields(d, id), after);
    }
    assert!(matches!(&after["lines"], Value::List(l) if l.len() == 6));
    // One deletes while another edits: the delete wins everywhere.
    devices[0].delete("outlets", id).unwrap();
    devices[1].set("outlets", id, "phone", "0813").unwrap();
    for order in [[1, 0, 2], [0, 1, 2]] {
        for i in order {
            sync_storage(&mut devices[i], s, &who).await;
        }
    }
    for d in &devices {
        assert!(
            d.get("outlets", id).unwrap().is_none(),
            "deleted everywhere"
        );
    }
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM outlets").await,
        0
    );
}

/// A document change pushed as a device of `who` would; returns its outcome.
async fn push_doc(h: &Harness, who: &Principal, id: &str, change: Vec<u8>) -> Outcome {
    let change_id = Uuid::now_v7();
    let plan = h
        .storage
        .push(
            &ctx(),
            who,
            &PushRequest {
                device_id: who.device_id,
                changes: vec![Change {
                    change_id,
                    collection: "outlets".into(),
                    record_id: id.into(),
                    body: ChangeBody::Document { change },
                }],
            },
        )
        .await
        .unwrap();
    plan.results[0].outcome.clone()
}

fn last_change(doc: &mut AutoCommit) -> Vec<u8> {
    doc.commit();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// A client that makes the text and list objects itself (or leaves them out) starts a history
/// the other devices do not share: refused, and nothing stored.
async fn a_document_with_a_history_of_its_own_is_refused(h: Harness) {
    let who = supervisor();
    let mut doc = lapak_core::document::new_doc(&ActorId::random());
    doc.put(ROOT, "name", "Own history").unwrap();
    doc.put(ROOT, "branch", "A").unwrap();
    doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
    let outcome = push_doc(&h, &who, "OUT-3", last_change(&mut doc)).await;
    let Outcome::Rejected { code, message } = outcome else {
        panic!("refused, got {outcome:?}")
    };
    assert_eq!(code, "genesis_required");
    assert!(message.contains("genesis"), "{message}");
    // Without any object at all: the same.
    let mut bare = lapak_core::document::new_doc(&ActorId::random());
    bare.put(ROOT, "name", "No objects").unwrap();
    bare.put(ROOT, "branch", "A").unwrap();
    let outcome = push_doc(&h, &who, "OUT-4", last_change(&mut bare)).await;
    assert!(matches!(outcome, Outcome::Rejected { ref code, .. } if code == "genesis_required"));
    assert_eq!(h.storage.head().await.unwrap(), 0, "nothing stored");
}

/// The genesis document of `outlets` with a name and branch set, ready for one more edit.
fn genesis_outlet() -> AutoCommit {
    let schema = lapak_core::catalog::starter();
    let c = schema.collection("outlets").unwrap();
    let mut doc = lapak_core::document::genesis::new_doc(c, &ActorId::random());
    doc.put(ROOT, "name", "Typed").unwrap();
    doc.put(ROOT, "branch", "A").unwrap();
    doc
}

/// What is wrong, the edit making it, the field the refusal must name.
type Case = (&'static str, fn(&mut AutoCommit), &'static str);

async fn values_of_the_wrong_type_are_refused_naming_the_field(h: Harness) {
    let who = supervisor();
    let cases: [Case; 4] = [
        (
            "an int in a text field",
            |d| d.put(ROOT, "phone", 812_i64).unwrap(),
            "outlets.phone",
        ),
        (
            "a plain string in a merge_text field",
            |d| d.put(ROOT, "notes", "plain").unwrap(),
            "outlets.notes",
        ),
        (
            "text in an int field",
            |d| d.put(ROOT, "credit_limit", "5").unwrap(),
            "outlets.credit_limit",
        ),
        (
            "text in a list item's int key",
            |d| {
                let (_, lines) = d.get(ROOT, "lines").unwrap().unwrap();
                let line = d.insert_object(&lines, 0, ObjType::Map).unwrap();
                d.put(&line, "qty", "two").unwrap();
            },
            "outlets.lines[0].qty",
        ),
    ];
    for (i, (what, edit, field)) in cases.into_iter().enumerate() {
        let mut doc = genesis_outlet();
        edit(&mut doc);
        let outcome = push_doc(&h, &who, &format!("OUT-T{i}"), last_change(&mut doc)).await;
        let Outcome::Rejected { code, message } = outcome else {
            panic!("{what}: refused, got {outcome:?}")
        };
        assert_eq!(code, "invalid", "{what}");
        assert!(
            message.contains(field) && message.contains("expected"),
            "{what}: {message}"
        );
    }
    // A well-typed creation passes, and a later change with a wrong type is refused too.
    let mut doc = genesis_outlet();
    let outcome = push_doc(&h, &who, "OUT-OK", last_change(&mut doc)).await;
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    doc.put(ROOT, "active", "yes").unwrap();
    let outcome = push_doc(&h, &who, "OUT-OK", last_change(&mut doc)).await;
    assert!(
        matches!(&outcome, Outcome::Rejected { code, message } if code == "invalid" && message.contains("outlets.active")),
        "{outcome:?}"
    );
    let stored = h
        .storage
        .query_text("SELECT active FROM outlets WHERE id = 'OUT-OK'")
        .await
        .unwrap();
    assert_eq!(stored[0][0], None, "the refused value is not stored");
    let _ = doc.get(ROOT, "name");
}
