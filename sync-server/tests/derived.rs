//! Rows the server derives from its tallies (`stock_levels`, `customer_dues`), each case on
//! SQLite and on real Postgres: written with the facts that move them, once per push, reaching
//! the devices of their scopes and no others, following a customer the back office moves,
//! refused to every writer, and backfilled at start on a database that has tallies without them.

mod common;

use common::{
    Harness, TestServer, business_device, cashier, count, entry, principal, push, reference,
    sync_storage,
};
use lapak_core::protocol::{LogOp, Outcome};
use lapak_core::{Store, Value};
use lapak_server::Storage;
use lapak_server::auth::{Principal, Role};
use lapak_server::engine::ReferenceError;
use lapak_server::storage::StorageError;
use serde_json::json;
use uuid::Uuid;

crate::on_both_backends!(
    business_sqlite, business_postgres;
    stock_levels_follow_the_facts_and_reach_only_their_branch,
    customer_dues_reach_the_customers_scopes_and_follow_the_customer,
    nobody_writes_a_derived_collection,
    a_database_with_tallies_and_no_derived_rows_gets_them_at_start,
);

/// 2026-06-01T00:00:00Z.
const T0: i64 = 1_780_272_000_000;

async fn business(s: &dyn Storage) {
    reference(
        s,
        "branches",
        &[
            (
                "JKT-01",
                json!({"name": "Jakarta 01", "price_list": "retail"}),
            ),
            (
                "BDG-01",
                json!({"name": "Bandung 01", "price_list": "retail"}),
            ),
        ],
    )
    .await;
    reference(
        s,
        "items",
        &[
            (
                "TEA",
                json!({"name": "Sari Tea", "negative_stock": "allow"}),
            ),
            ("SOAP", json!({"name": "Soap"})),
        ],
    )
    .await;
    reference(
        s,
        "prices",
        &[
            (
                "retail/TEA",
                json!({"price_list": "retail", "sku": "TEA", "price": 5_000, "effective_from": 0}),
            ),
            (
                "retail/SOAP",
                json!({"price_list": "retail", "sku": "SOAP", "price": 3_000, "effective_from": 0}),
            ),
        ],
    )
    .await;
    reference(
        s,
        "customers",
        &[
            ("OUT-1", json!({"name": "Grosir Jaya", "branch": "JKT-01", "territory": "T-1", "credit_limit": 1_000_000})),
            ("OUT-2", json!({"name": "Warung Bu Sri", "branch": "JKT-01", "territory": "T-1"})),
        ],
    )
    .await;
}

fn receipt(branch: &str, sku: &str, qty: i64) -> lapak_core::protocol::Change {
    entry(
        "stock_movements",
        json!({"branch": branch, "sku": sku, "kind": "receipt", "qty": qty, "moved_at": T0}),
    )
}

/// An invoice of `lines` (`(sku, qty, price)`), paid by `method`, of `customer` when given.
fn invoice(
    branch: &str,
    lines: &[(&str, i64, i64)],
    customer: Option<&str>,
    method: &str,
) -> lapak_core::protocol::Change {
    let total: i64 = lines.iter().map(|(_, q, p)| q * p).sum();
    let mut f = json!({
        "branch": branch,
        "terminal": "POS-1",
        "sold_at": T0,
        "total": total,
        "lines": lines.iter().map(|(s, q, p)| json!({"sku": s, "qty": q, "price": p, "discount": 0, "tax": 0})).collect::<Vec<_>>(),
        "payments": [{"method": method, "amount": total}],
    });
    if let Some(c) = customer {
        f["customer"] = json!(c);
    }
    entry("sales_invoices", f)
}

fn all_accepted(out: &[Outcome]) {
    for o in out {
        assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
    }
}

async fn tally(h: &Harness, key: &str) -> i64 {
    count(
        &h.storage,
        &format!("SELECT CAST(value AS TEXT) FROM lapak_tallies WHERE key = '{key}'"),
    )
    .await
}

/// The stock of `sku` at `branch` as the plain tables of movements, invoices and returns add
/// it up (docs/domain.md, "Tallies").
async fn stock_from_plain_tables(h: &Harness, branch: &str, sku: &str) -> i64 {
    count(
        &h.storage,
        &format!(
            "SELECT CAST(COALESCE((SELECT SUM(CASE WHEN kind = 'transfer_out' THEN -qty ELSE qty END) FROM stock_movements WHERE branch = '{branch}' AND sku = '{sku}'), 0)
             - COALESCE((SELECT SUM(l.qty) FROM sales_invoices_lines l JOIN sales_invoices i ON i.id = l.parent_id WHERE i.branch = '{branch}' AND l.sku = '{sku}'), 0)
             + COALESCE((SELECT SUM(l.qty) FROM sales_returns_lines l JOIN sales_returns r ON r.id = l.parent_id WHERE r.branch = '{branch}' AND l.sku = '{sku}'), 0) AS TEXT)"
        ),
    )
    .await
}

/// An integer field of a row a device holds, or `None` when it holds no such row.
fn held(store: &Store, collection: &str, id: &str, field: &str) -> Option<i64> {
    store
        .get(collection, id)
        .unwrap()
        .map(|r| r.fields.get(field).and_then(Value::as_int).unwrap())
}

async fn stock_levels_follow_the_facts_and_reach_only_their_branch(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let jkt = cashier("JKT-01", "cashier-user");
    let bdg = cashier("BDG-01", "cashier-user");
    all_accepted(&push(s, &jkt, vec![receipt("JKT-01", "TEA", 20)]).await);
    all_accepted(&push(s, &bdg, vec![receipt("BDG-01", "TEA", 5)]).await);
    // Two invoices and a receipt moving the same stock in one push: one derived write.
    let plan = s
        .push(
            &common::ctx(),
            &jkt,
            &lapak_core::protocol::PushRequest {
                device_id: jkt.device_id,
                changes: vec![
                    invoice("JKT-01", &[("TEA", 3, 5_000)], None, "cash"),
                    invoice(
                        "JKT-01",
                        &[("TEA", 2, 5_000), ("SOAP", 1, 3_000)],
                        None,
                        "cash",
                    ),
                    receipt("JKT-01", "SOAP", 4),
                ],
            },
        )
        .await
        .unwrap();
    all_accepted(
        &plan
            .results
            .iter()
            .map(|r| r.outcome.clone())
            .collect::<Vec<_>>(),
    );
    let written: Vec<&str> = plan
        .references
        .iter()
        .map(|((_, id), _)| id.as_str())
        .collect();
    assert_eq!(written, ["JKT-01/SOAP", "JKT-01/TEA"]);
    // Each derived write has its own position after the facts, and goes live to the branch.
    let last_fact = plan
        .results
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Accepted { position } => Some(position),
            _ => None,
        })
        .max()
        .unwrap();
    assert!(plan.references.iter().all(|(_, r)| r.version > last_fact));
    let live = plan.live_batches();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].scope, "branch:JKT-01");
    assert!(live[0].entries.iter().any(|e| e.collection == "stock_levels"
        && e.record_id == "JKT-01/TEA"
        && matches!(&e.op, LogOp::Upsert { fields, .. } if fields.get("qty") == Some(&Value::Int(15)))));

    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 15);
    assert_eq!(stock_from_plain_tables(&h, "JKT-01", "TEA").await, 15);
    // The server's plain table and the log agree: one entry per row, its newest.
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(qty AS TEXT) FROM stock_levels WHERE id = 'JKT-01/TEA'"
        )
        .await,
        15
    );
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log WHERE collection = 'stock_levels' AND record_id = 'JKT-01/TEA'").await,
        1
    );

    let dir = tempfile::tempdir().unwrap();
    let mut at_jkt = business_device(dir.path(), "jkt", &["branch:JKT-01", "org"]);
    let mut at_bdg = business_device(dir.path(), "bdg", &["branch:BDG-01", "org"]);
    sync_storage(&mut at_jkt, s, &jkt).await;
    sync_storage(&mut at_bdg, s, &bdg).await;
    assert_eq!(held(&at_jkt, "stock_levels", "JKT-01/TEA", "qty"), Some(15));
    assert_eq!(held(&at_jkt, "stock_levels", "JKT-01/SOAP", "qty"), Some(3));
    assert_eq!(held(&at_bdg, "stock_levels", "BDG-01/TEA", "qty"), Some(5));
    // No branch sees another's stock.
    assert_eq!(held(&at_jkt, "stock_levels", "BDG-01/TEA", "qty"), None);
    assert_eq!(held(&at_bdg, "stock_levels", "JKT-01/TEA", "qty"), None);
    assert_eq!(at_bdg.count("stock_levels").unwrap(), 1);

    // A later sale updates the row the device holds.
    all_accepted(
        &push(
            s,
            &jkt,
            vec![invoice("JKT-01", &[("TEA", 4, 5_000)], None, "cash")],
        )
        .await,
    );
    sync_storage(&mut at_jkt, s, &jkt).await;
    assert_eq!(held(&at_jkt, "stock_levels", "JKT-01/TEA", "qty"), Some(11));
    assert_eq!(stock_from_plain_tables(&h, "JKT-01", "TEA").await, 11);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 11);
    // A rejected fact moves nothing: no derived write.
    let head = s.head().await.unwrap();
    let out = push(
        s,
        &jkt,
        vec![invoice("JKT-01", &[("TEA", 1, 1)], None, "barter")],
    )
    .await;
    assert!(matches!(&out[0], Outcome::Rejected { .. }), "{out:?}");
    assert_eq!(s.head().await.unwrap(), head);
    // A new device's first pull is a snapshot holding the current level.
    let mut fresh = business_device(dir.path(), "fresh", &["branch:JKT-01"]);
    sync_storage(&mut fresh, s, &jkt).await;
    assert_eq!(held(&fresh, "stock_levels", "JKT-01/TEA", "qty"), Some(11));
}

async fn customer_dues_reach_the_customers_scopes_and_follow_the_customer(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let jkt = cashier("JKT-01", "cashier-user");
    let field = |t: &str| principal(Role::Salesperson, &[(&format!("territory:{t}"), true)]);
    all_accepted(&push(s, &jkt, vec![receipt("JKT-01", "TEA", 100)]).await);
    all_accepted(
        &push(
            s,
            &jkt,
            vec![
                invoice("JKT-01", &[("TEA", 2, 5_000)], Some("OUT-1"), "credit"),
                invoice("JKT-01", &[("TEA", 1, 5_000)], Some("OUT-1"), "credit"),
            ],
        )
        .await,
    );
    assert_eq!(tally(&h, "due:OUT-1").await, 15_000);
    let dir = tempfile::tempdir().unwrap();
    // The till of the customer's branch, salespeople of two territories, another branch's till.
    let mut devices: Vec<(Store, Principal)> = vec![
        (
            business_device(dir.path(), "till", &["branch:JKT-01"]),
            jkt.clone(),
        ),
        (
            business_device(dir.path(), "t1", &["territory:T-1"]),
            field("T-1"),
        ),
        (
            business_device(dir.path(), "t2", &["territory:T-2"]),
            field("T-2"),
        ),
        (
            business_device(dir.path(), "bdg", &["branch:BDG-01"]),
            cashier("BDG-01", "cashier-user"),
        ),
    ];
    // OUT-1's dues as each device holds them, after syncing them all.
    let dues = async |devices: &mut Vec<(Store, Principal)>| {
        for (store, who) in devices.iter_mut() {
            sync_storage(store, s, who).await;
        }
        devices
            .iter()
            .map(|(store, _)| held(store, "customer_dues", "OUT-1", "due"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        dues(&mut devices).await,
        [Some(15_000), Some(15_000), None, None]
    );
    assert_eq!(devices[3].0.count("customer_dues").unwrap(), 0);
    // A customer without dues has no row.
    assert_eq!(held(&devices[0].0, "customer_dues", "OUT-2", "due"), None);

    // A payment lowers the dues on every device of the customer's scopes.
    all_accepted(
        &push(
            s,
            &jkt,
            vec![entry(
                "credit_payments",
                json!({"branch": "JKT-01", "customer": "OUT-1", "amount": 6_000, "method": "cash", "paid_at": T0}),
            )],
        )
        .await,
    );
    assert_eq!(
        dues(&mut devices).await,
        [Some(9_000), Some(9_000), None, None]
    );

    // The back office moves the customer to another territory: its dues row follows.
    reference(
        s,
        "customers",
        &[("OUT-1", json!({"name": "Grosir Jaya", "branch": "JKT-01", "territory": "T-2", "credit_limit": 1_000_000}))],
    )
    .await;
    assert_eq!(
        dues(&mut devices).await,
        [Some(9_000), None, Some(9_000), None]
    );
    // A write that leaves its scopes alone leaves the dues row alone.
    let head = s.head().await.unwrap();
    reference(
        s,
        "customers",
        &[("OUT-1", json!({"name": "Grosir Jaya Baru", "branch": "JKT-01", "territory": "T-2", "credit_limit": 1_000_000}))],
    )
    .await;
    assert_eq!(s.head().await.unwrap(), head + 1);
    // Deleted from the back office, the customer takes its dues row along.
    s.put_reference(&common::ctx(), "customers", &[("OUT-1".into(), None)])
        .await
        .unwrap();
    assert_eq!(dues(&mut devices).await, [None, None, None, None]);
}

async fn nobody_writes_a_derived_collection(h: Harness) {
    business(h.storage.as_ref()).await;
    // The back office, through storage and over HTTP.
    let row = lapak_core::record! {"branch" => "JKT-01", "sku" => "TEA", "qty" => 1_000};
    let err = h
        .storage
        .put_reference(
            &common::ctx(),
            "stock_levels",
            &[("JKT-01/TEA".into(), Some(row.clone()))],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::Reference(ReferenceError::Derived(ref c)) if c == "stock_levels"),
        "{err}"
    );
    let server = TestServer::start(h).await;
    server.user("boss", Role::Admin, &[]).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    for collection in ["stock_levels", "customer_dues"] {
        let resp = server
            .http
            .put(format!("{}/v1/admin/reference/{collection}", server.base))
            .bearer_auth(&boss.access)
            .json(&json!({"rows": [{"id": "X", "deleted": true}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{collection}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "derived_collection");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("derived by the server"), "{message}");
    }
    // A device cannot write one (reference data is read-only on devices)...
    let dir = tempfile::tempdir().unwrap();
    let mut till = business_device(dir.path(), "till", &["branch:JKT-01"]);
    assert!(till.append("stock_levels", row.clone()).is_err());
    assert!(
        till.create_with_id("stock_levels", "JKT-01/TEA", row.clone())
            .is_err()
    );
    // ...and a change sent anyway is refused.
    let jkt = cashier("JKT-01", "cashier-user");
    let id = Uuid::now_v7();
    let out = push(
        server.storage.as_ref(),
        &jkt,
        vec![lapak_core::protocol::Change {
            change_id: id,
            collection: "stock_levels".into(),
            record_id: id.to_string(),
            body: lapak_core::protocol::ChangeBody::Ledger { entry: row },
        }],
    )
    .await;
    assert!(
        matches!(&out[0], Outcome::Rejected { code, .. } if code == "wrong_kind"),
        "{out:?}"
    );
    assert_eq!(
        count(
            &server.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM stock_levels"
        )
        .await,
        0
    );
}

async fn a_database_with_tallies_and_no_derived_rows_gets_them_at_start(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let jkt = cashier("JKT-01", "cashier-user");
    all_accepted(
        &push(
            s,
            &jkt,
            vec![receipt("JKT-01", "TEA", 30), receipt("JKT-01", "SOAP", 2)],
        )
        .await,
    );
    all_accepted(
        &push(
            s,
            &jkt,
            vec![invoice(
                "JKT-01",
                &[("TEA", 4, 5_000)],
                Some("OUT-1"),
                "credit",
            )],
        )
        .await,
    );
    // A database of a server before derived rows: tallies, no rows; and one row gone stale.
    for sql in [
        "DELETE FROM lapak_log WHERE collection IN ('stock_levels', 'customer_dues')",
        "DELETE FROM lapak_reference WHERE collection IN ('stock_levels', 'customer_dues')",
        "DELETE FROM stock_levels WHERE id <> 'JKT-01/SOAP'",
        "DELETE FROM customer_dues",
        "UPDATE lapak_tallies SET value = 7 WHERE key = 'stock:JKT-01/SOAP'",
    ] {
        h.raw_execute(sql).await;
    }
    let head = s.head().await.unwrap();
    let restarted = h.reopen().await.unwrap();
    assert_eq!(restarted.head().await.unwrap(), head + 3);
    assert_eq!(
        count(
            &restarted,
            "SELECT CAST(qty AS TEXT) FROM stock_levels WHERE id = 'JKT-01/TEA'"
        )
        .await,
        26
    );
    assert_eq!(
        count(
            &restarted,
            "SELECT CAST(qty AS TEXT) FROM stock_levels WHERE id = 'JKT-01/SOAP'"
        )
        .await,
        7
    );
    assert_eq!(
        count(
            &restarted,
            "SELECT CAST(due AS TEXT) FROM customer_dues WHERE id = 'OUT-1'"
        )
        .await,
        20_000
    );
    // Once is enough: starting again, or backfilling again, writes nothing.
    let again = h.reopen().await.unwrap();
    assert_eq!(again.head().await.unwrap(), head + 3);
    assert_eq!(again.backfill_derived(0).await.unwrap(), 0);
    // Devices receive the backfilled rows like any other.
    let dir = tempfile::tempdir().unwrap();
    let mut till = business_device(dir.path(), "till", &["branch:JKT-01"]);
    sync_storage(&mut till, &again, &jkt).await;
    assert_eq!(held(&till, "stock_levels", "JKT-01/TEA", "qty"), Some(26));
    assert_eq!(held(&till, "stock_levels", "JKT-01/SOAP", "qty"), Some(7));
    assert_eq!(held(&till, "customer_dues", "OUT-1", "due"), Some(20_000));
    assert_eq!(
        count(
            &again,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log WHERE collection = 'stock_levels'"
        )
        .await,
        2
    );
}
