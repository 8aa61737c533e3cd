//! Convergence under any interleaving: four replicas (three in branch A, one in branch B) make
//! random offline edits (creations of one id on several devices, field sets, text splices, list
//! inserts/removes/updates, moves between branches, deletes, ledger appends) while the back office edits reference data, then exchange
//! them through the reference sequencer in random order, with lost answers, duplicated pushes and
//! redelivered or stale pull batches. At the end every replica holds exactly the server's
//! documents of its branch (no more: moved-away records are gone), the plain tables equal what
//! the documents say (also after every step), and every ledger entry is either accepted exactly
//! once and present on every device of its branch, or rejected on the device that wrote it.

use std::collections::{BTreeMap, BTreeSet};

use lapak_core::protocol::PullResponse;
use lapak_core::testkit::{MemoryServer, sample_schema, sync_fully};
use lapak_core::{Edit, Error, Query, Record, Store, Value, Verdict, item, record};
use proptest::prelude::*;

const DEVICES: usize = 4;

/// The branch a device follows: the last device is the one in branch B.
fn branch_of(device: usize) -> &'static str {
    if device == DEVICES - 1 { "B" } else { "A" }
}
const SLOTS: u8 = 4;

#[derive(Clone, Debug)]
enum Action {
    Create {
        slot: u8,
    },
    SetPhone {
        slot: u8,
        phone: u8,
    },
    SetCredit {
        slot: u8,
        credit: i64,
    },
    Splice {
        slot: u8,
        at: u16,
        delete: u8,
        text: String,
    },
    InsertLine {
        slot: u8,
        at: u8,
        sku: u8,
    },
    RemoveLine {
        slot: u8,
        at: u8,
    },
    UpdateLine {
        slot: u8,
        at: u8,
        qty: i64,
    },
    ReplaceNotes {
        slot: u8,
        text: String,
    },
    Delete {
        slot: u8,
    },
    Move {
        slot: u8,
        to_b: bool,
    },
    Append {
        total: i64,
    },
}

#[derive(Clone, Debug)]
enum Step {
    Local {
        device: usize,
        action: Action,
    },
    Push {
        device: usize,
        lose_answer: bool,
    },
    PushTwice {
        device: usize,
    },
    Pull {
        device: usize,
        limit: u32,
        redeliver: bool,
    },
    ReplayOldPull {
        device: usize,
        pick: usize,
    },
    /// The back office edits master data (reference rows) on the server.
    BackOffice {
        sku: u8,
        price: Option<i64>,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let slot = 0..SLOTS;
    prop_oneof![
        2 => slot.clone().prop_map(|slot| Action::Create { slot }),
        2 => (slot.clone(), any::<u8>()).prop_map(|(slot, phone)| Action::SetPhone { slot, phone }),
        1 => (slot.clone(), -5i64..100).prop_map(|(slot, credit)| Action::SetCredit { slot, credit }),
        4 => (slot.clone(), any::<u16>(), 0u8..4, "[a-z ]{0,4}").prop_map(|(slot, at, delete, text)| Action::Splice { slot, at, delete, text }),
        3 => (slot.clone(), any::<u8>(), 0u8..5).prop_map(|(slot, at, sku)| Action::InsertLine { slot, at, sku }),
        2 => (slot.clone(), any::<u8>()).prop_map(|(slot, at)| Action::RemoveLine { slot, at }),
        2 => (slot.clone(), any::<u8>(), 1i64..9).prop_map(|(slot, at, qty)| Action::UpdateLine { slot, at, qty }),
        1 => (slot.clone(), "[a-z]{0,6}").prop_map(|(slot, text)| Action::ReplaceNotes { slot, text }),
        1 => slot.clone().prop_map(|slot| Action::Delete { slot }),
        2 => (slot, any::<bool>()).prop_map(|(slot, to_b)| Action::Move { slot, to_b }),
        3 => (-20i64..1000).prop_map(|total| Action::Append { total }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let device = 0..DEVICES;
    prop_oneof![
        8 => (device.clone(), action()).prop_map(|(device, action)| Step::Local { device, action }),
        3 => (device.clone(), any::<bool>()).prop_map(|(device, lose_answer)| Step::Push { device, lose_answer }),
        1 => device.clone().prop_map(|device| Step::PushTwice { device }),
        3 => (device.clone(), 1u32..8, any::<bool>()).prop_map(|(device, limit, redeliver)| Step::Pull { device, limit, redeliver }),
        1 => (device, any::<usize>()).prop_map(|(device, pick)| Step::ReplayOldPull { device, pick }),
        2 => (0u8..4, proptest::option::weighted(0.8, 0i64..1000)).prop_map(|(sku, price)| Step::BackOffice { sku, price }),
    ]
}

fn server() -> MemoryServer {
    let mut server = MemoryServer::new(sample_schema());
    server.set_rule(Box::new(|collection, record| match collection {
        "sales"
            if record
                .get("total")
                .and_then(Value::as_int)
                .is_some_and(|t| t < 0) =>
        {
            Some((
                "negative_total".into(),
                "a sale cannot total less than zero".into(),
            ))
        }
        "outlets"
            if record
                .get("credit_limit")
                .and_then(Value::as_int)
                .is_some_and(|c| c < 0) =>
        {
            Some((
                "negative_credit".into(),
                "a credit limit cannot be negative".into(),
            ))
        }
        _ => None,
    }));
    server
}

/// Runs a local action; errors that a real app would show the user (record gone, position out of
/// range) are fine, anything else fails the test.
fn local(
    store: &mut Store,
    device: usize,
    action: &Action,
    appended: &mut Vec<(usize, String, i64)>,
) {
    let id = |slot: u8| format!("o{slot}");
    let lines = |store: &Store, slot: u8| -> usize {
        store
            .get("outlets", &id(slot))
            .unwrap()
            .and_then(|r| r.fields["lines"].as_list().map(<[_]>::len))
            .unwrap_or(0)
    };
    let result = match action {
        // Any device may create any slot it does not hold, as records keyed by a natural code
        // are: two devices creating one id offline must merge like concurrent edits.
        Action::Create { slot } => {
            store.create_with_id(
                "outlets",
                &id(*slot),
                record! {"name" => format!("Toko {slot}"), "branch" => branch_of(device),
                    "notes" => format!("<{device}>"),
                    "lines" => Value::List(vec![item! {"sku" => format!("NEW{device}"), "qty" => 1}])},
            )
        }
        Action::SetPhone { slot, phone } => {
            store.set("outlets", &id(*slot), "phone", format!("08{phone}"))
        }
        Action::SetCredit { slot, credit } => {
            store.set("outlets", &id(*slot), "credit_limit", *credit)
        }
        Action::Splice {
            slot,
            at,
            delete,
            text,
        } => {
            let len = store.get("outlets", &id(*slot)).unwrap().map_or(0, |r| {
                r.fields["notes"].as_text().map_or(0, |t| t.chars().count())
            });
            let index = usize::from(*at) % (len + 1);
            let delete = usize::from(*delete).min(len - index);
            store.edit(
                "outlets",
                &id(*slot),
                vec![Edit::SpliceText {
                    field: "notes".into(),
                    index,
                    delete,
                    insert: text.clone(),
                }],
            )
        }
        Action::InsertLine { slot, at, sku } => {
            let index = usize::from(*at) % (lines(store, *slot) + 1);
            store.edit(
                "outlets",
                &id(*slot),
                vec![Edit::InsertItem {
                    field: "lines".into(),
                    index,
                    item: item! {"sku" => format!("SKU{sku}").as_str(), "qty" => 1},
                }],
            )
        }
        Action::RemoveLine { slot, at } => match lines(store, *slot) {
            0 => Ok(()),
            n => store.edit(
                "outlets",
                &id(*slot),
                vec![Edit::RemoveItem {
                    field: "lines".into(),
                    index: usize::from(*at) % n,
                }],
            ),
        },
        Action::UpdateLine { slot, at, qty } => match lines(store, *slot) {
            0 => Ok(()),
            n => store.edit(
                "outlets",
                &id(*slot),
                vec![Edit::UpdateItem {
                    field: "lines".into(),
                    index: usize::from(*at) % n,
                    values: item! {"qty" => *qty},
                }],
            ),
        },
        Action::ReplaceNotes { slot, text } => {
            store.set("outlets", &id(*slot), "notes", text.as_str())
        }
        Action::Delete { slot } => store.delete("outlets", &id(*slot)),
        Action::Move { slot, to_b } => {
            store.set("outlets", &id(*slot), "branch", if *to_b { "B" } else { "A" })
        }
        Action::Append { total } => store
            .append(
                "sales",
                record! {"branch" => branch_of(device), "total" => *total, "terminal" => format!("pos-{device}")},
            )
            .map(|entry| appended.push((device, entry, *total))),
    };
    match result {
        Ok(()) | Err(Error::NotFound { .. } | Error::AlreadyExists { .. }) => {}
        Err(e) => panic!("device {device}: {action:?} failed: {e}"),
    }
}

/// The plain table says what the documents say: every live document has its row with its
/// fields, and no row lacks a live document.
fn assert_rows_match_documents(store: &Store, context: &str) {
    let docs = documents(store);
    for (id, (fields, deleted)) in &docs {
        let row = store.get("outlets", id).unwrap().map(|r| r.fields);
        let expected = (!deleted).then(|| fields.clone());
        assert_eq!(
            row, expected,
            "{context}: row of {id} differs from its document"
        );
    }
    for row in store.query("outlets", &Query::new()).unwrap() {
        assert!(
            docs.contains_key(&row.id),
            "{context}: row {} has no document",
            row.id
        );
    }
}

fn documents(store: &Store) -> BTreeMap<String, (Record, bool)> {
    store
        .document_ids("outlets")
        .unwrap()
        .into_iter()
        .map(|id| {
            let doc = store.document_fields("outlets", &id).unwrap().unwrap();
            (id, doc)
        })
        .collect()
}

fn run(steps: &[Step]) {
    let mut server = server();
    let mut stores: Vec<Store> = (0..DEVICES)
        .map(|d| {
            let mut s = Store::open_in_memory(sample_schema()).unwrap();
            s.set_scopes(&[format!("branch:{}", branch_of(d)), "org".into()])
                .unwrap();
            s
        })
        .collect();
    let mut history: Vec<Vec<PullResponse>> = vec![Vec::new(); DEVICES];
    let mut appended = Vec::new();

    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Local { device, action } => {
                local(&mut stores[*device], *device, action, &mut appended)
            }
            Step::Push {
                device,
                lose_answer,
            } => {
                if let Some(push) = stores[*device].next_push(5).unwrap() {
                    let answer = server.push(&push);
                    if !lose_answer {
                        stores[*device].apply_push_response(&answer).unwrap();
                    }
                }
            }
            Step::PushTwice { device } => {
                if let Some(push) = stores[*device].next_push(5).unwrap() {
                    let first = server.push(&push);
                    let second = server.push(&push);
                    stores[*device].apply_push_response(&second).unwrap();
                    let again = stores[*device].apply_push_response(&first).unwrap();
                    assert_eq!(
                        again.accepted + again.rejected,
                        0,
                        "a repeated answer changes nothing"
                    );
                }
            }
            Step::Pull {
                device,
                limit,
                redeliver,
            } => {
                let store = &mut stores[*device];
                let response = server.pull(&store.pull_request(*limit).unwrap());
                store.apply_pull(&response).unwrap();
                if *redeliver {
                    let report = store.apply_pull(&response).unwrap();
                    assert_eq!(report.applied, 0, "a redelivered batch applies nothing");
                }
                history[*device].push(response);
            }
            Step::BackOffice { sku, price } => {
                let id = format!("SKU{sku}");
                match price {
                    Some(price) => {
                        server.put_reference(
                            "items",
                            &id,
                            record! {"sku" => id.as_str(), "price" => *price},
                        );
                    }
                    None => server.delete_reference("items", &id),
                }
            }
            Step::ReplayOldPull { device, pick } => {
                if !history[*device].is_empty() {
                    let old = history[*device][pick % history[*device].len()].clone();
                    let report = stores[*device].apply_pull(&old).unwrap();
                    assert_eq!(report.applied, 0, "a stale batch applies nothing");
                }
            }
        }
        for (d, store) in stores.iter().enumerate() {
            assert_rows_match_documents(store, &format!("after step {n} ({step:?}), device {d}"));
        }
    }

    // Back online for good: everyone syncs until nothing moves.
    for _ in 0..8 {
        let head = server.head();
        for s in &mut stores {
            sync_fully(s, &mut server).unwrap();
        }
        let pending: u64 = stores.iter().map(|s| s.pending_count().unwrap()).sum();
        if pending == 0 && server.head() == head {
            break;
        }
    }
    for (i, s) in stores.iter().enumerate() {
        assert_eq!(
            s.pending_count().unwrap(),
            0,
            "device {i} still has pending changes"
        );
    }

    // Documents: each device holds exactly the server's documents of its branch, the same on
    // every device of the branch; nothing of the other branch (moved-away records are gone).
    let server_docs: BTreeMap<String, (Record, bool)> = (0..SLOTS)
        .filter_map(|slot| {
            let id = format!("o{slot}");
            server.document("outlets", &id).map(|doc| (id, doc))
        })
        .collect();
    for (i, s) in stores.iter().enumerate() {
        let expected: BTreeMap<String, (Record, bool)> = server_docs
            .iter()
            .filter(|(_, (fields, _))| fields["branch"] == Value::from(branch_of(i)))
            .map(|(id, doc)| (id.clone(), doc.clone()))
            .collect();
        assert_eq!(
            documents(s),
            expected,
            "device {i} (branch {})",
            branch_of(i)
        );
        assert_rows_match_documents(s, &format!("at the end, device {i}"));
        assert_eq!(
            s.count("outlets").unwrap(),
            expected.values().filter(|(_, d)| !d).count() as u64
        );
    }

    // Reference data: every device holds exactly the server's current rows.
    let expected: BTreeMap<String, Record> = server.reference_rows("items");
    for (i, s) in stores.iter().enumerate() {
        let held: BTreeMap<String, Record> = s
            .query("items", &Query::new())
            .unwrap()
            .into_iter()
            .map(|r| {
                let fields = r
                    .fields
                    .into_iter()
                    .filter(|(_, v)| *v != Value::Null)
                    .collect();
                (r.id, fields)
            })
            .collect();
        assert_eq!(
            held, expected,
            "device {i} reference rows differ from the server's"
        );
    }

    // Ledger: accepted entries once, on every device of their branch; rejected ones only on
    // their writer, with the reason.
    let accepted: BTreeSet<String> = server.ledger().keys().cloned().collect();
    for id in &accepted {
        assert_eq!(
            server.ledger_log_count(id),
            1,
            "entry {id} sequenced more than once"
        );
    }
    for (device, id, total) in &appended {
        assert_eq!(
            accepted.contains(id),
            *total >= 0,
            "entry {id} (total {total}) judged wrongly"
        );
        for (i, s) in stores.iter().enumerate() {
            let row = s.get("sales", id).unwrap();
            let same_branch = branch_of(i) == branch_of(*device);
            match (total >= &0, i == *device) {
                (true, _) if same_branch => assert!(
                    matches!(row.and_then(|r| r.verdict), Some(Verdict::Accepted { .. })),
                    "device {i} lacks accepted {id}"
                ),
                (true, _) => assert!(row.is_none(), "device {i} received {id} of another branch"),
                (false, true) => assert!(
                    matches!(row.and_then(|r| r.verdict), Some(Verdict::Rejected { code, .. }) if code == "negative_total"),
                    "writer lacks the rejection of {id}"
                ),
                (false, false) => assert!(row.is_none(), "device {i} received rejected {id}"),
            }
        }
    }
    for (i, s) in stores.iter().enumerate() {
        let in_branch = appended
            .iter()
            .filter(|(d, _, t)| branch_of(*d) == branch_of(i) && *t >= 0)
            .count() as u64;
        let rejected_here = appended
            .iter()
            .filter(|(d, _, t)| *d == i && *t < 0)
            .count() as u64;
        assert_eq!(
            s.count("sales").unwrap(),
            in_branch + rejected_here,
            "device {i} ledger size"
        );
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    // 64 cases by default; PROPTEST_CASES=1000 for a longer run.
    #![proptest_config(ProptestConfig { cases: cases(64), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge(steps in proptest::collection::vec(step(), 1..120)) {
        run(&steps);
    }
}

#[test]
fn rejected_document_change_is_rebuilt_from_confirmed_state() {
    let mut server = server();
    let mut a = Store::open_in_memory(sample_schema()).unwrap();
    a.set_scopes(&["branch:A".into()]).unwrap();
    a.create_with_id(
        "outlets",
        "o1",
        record! {"name" => "Toko", "branch" => "A", "notes" => "ab"},
    )
    .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    // Offline: an invalid credit limit, then a valid note edit that builds on it.
    a.set("outlets", "o1", "credit_limit", -1).unwrap();
    a.edit(
        "outlets",
        "o1",
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 2,
            delete: 0,
            insert: "c".into(),
        }],
    )
    .unwrap();
    let push = a.next_push(10).unwrap().unwrap();
    let answer = server.push(&push);
    let report = a.apply_push_response(&answer).unwrap();
    assert_eq!(
        (report.rejected, report.deferred, report.rebuilt_documents),
        (1, 1, 1)
    );
    let row = a.get("outlets", "o1").unwrap().unwrap();
    assert_eq!(
        row.fields["credit_limit"],
        Value::Null,
        "the rejected value is gone"
    );
    assert_eq!(
        row.fields["notes"],
        "abc".into(),
        "the pending edit survives"
    );
    assert_eq!(a.rejections().unwrap()[0].code, "negative_credit");
    sync_fully(&mut a, &mut server).unwrap();
    assert_eq!(a.pending_count().unwrap(), 0);
    assert_eq!(
        server.document("outlets", "o1").unwrap().0["notes"],
        "abc".into()
    );
}
