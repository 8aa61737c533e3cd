//! A business day offline, end to end, on SQLite and on real Postgres: the demo business is
//! seeded; two cashiers of one branch and a salesperson log in and sync; the server goes away;
//! the cashiers sell, return, open and close a shift and both redeem the same voucher, the
//! salesperson checks in, records activities and submits an order, all offline; then the
//! server comes back and everyone syncs. The server's plain tables must give the expected
//! sales per branch and stock per item (and the tills the same stock levels, derived by the
//! server), exactly one redemption is accepted, the other cashier
//! sees the rejection with its reason, and the outbox holds each event once.
//!
//! And the till's checkout as one batch of local writes (`Client::write_batch`): the invoice,
//! its voucher redemption and the deletion of the held bill it came from are stored and pushed
//! together, each reaching the server once; a checkout whose last write fails stores nothing.

mod common;

use std::collections::BTreeMap;

use common::{Catalog, Env};
use lapak_client::Client;
use lapak_client::ClientError;
use lapak_core::store::Write;
use lapak_core::{Op, Query, Record, Value, Verdict};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkout_batch_reaches_the_server_once_on_sqlite() {
    a_checkout_batch_reaches_the_server_once(Env::sqlite_with(Catalog::Business).await).await;
}

#[sqlx::test(migrations = false)]
async fn a_checkout_batch_reaches_the_server_once_on_postgres(pool: sqlx::PgPool) {
    a_checkout_batch_reaches_the_server_once(Env::postgres_with(pool, Catalog::Business).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_day_offline_on_sqlite() {
    a_day_offline(Env::sqlite_with(Catalog::Business).await).await;
}

#[sqlx::test(migrations = false)]
async fn a_day_offline_on_postgres(pool: sqlx::PgPool) {
    a_day_offline(Env::postgres_with(pool, Catalog::Business).await).await;
}

/// 2026-11-21T08:00:00Z: after the demo's price change of 2026-11-01.
const MORNING: i64 = 1_795_248_000_000;
const MINUTE: i64 = 60_000;

fn record(collection: &str, v: serde_json::Value) -> Record {
    lapak_core::catalog::business()
        .collection(collection)
        .unwrap()
        .record_from_json(v.as_object().unwrap())
        .unwrap()
}

/// The retail price in force of `sku`, read from the device's own store (offline).
async fn price(c: &Client, sku: &str, at: i64) -> i64 {
    let rows = c
        .query(
            "prices",
            Query::new()
                .filter("price_list", Op::Eq, "retail")
                .filter("sku", Op::Eq, sku)
                .filter("effective_from", Op::Le, at),
        )
        .await
        .unwrap();
    rows.iter()
        .filter(|r| !matches!(r.fields.get("effective_to"), Some(Value::Int(t)) if *t <= at))
        .max_by_key(|r| r.fields["effective_from"].as_int())
        .and_then(|r| r.fields["price"].as_int())
        .unwrap_or_else(|| panic!("no price of {sku} on the device"))
}

/// Sells `lines` (`(sku, qty)`) at list price, paid in cash; returns the invoice id and total.
async fn sell(c: &Client, terminal: &str, at: i64, lines: &[(&str, i64)]) -> (String, i64) {
    let mut items = Vec::new();
    let mut total = 0;
    for (sku, qty) in lines {
        let p = price(c, sku, at).await;
        total += p * qty;
        items.push(json!({"sku": sku, "qty": qty, "price": p, "discount": 0, "tax": 0}));
    }
    let id = c
        .append(
            "sales_invoices",
            record(
                "sales_invoices",
                json!({"branch": "JKT-01", "terminal": terminal, "sold_at": at, "total": total,
                       "lines": items, "payments": [{"method": "cash", "amount": total}]}),
            ),
        )
        .await
        .unwrap();
    (id, total)
}

#[allow(clippy::too_many_lines)]
async fn a_day_offline(mut env: Env) {
    let voucher = env.seed_small().await;
    let opening: BTreeMap<String, i64> = env
        .storage()
        .query_text("SELECT sku, CAST(qty AS TEXT) FROM stock_movements WHERE branch = 'JKT-01'")
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_deref().unwrap().parse().unwrap(),
            )
        })
        .collect();

    let ani = env.client("pos-1", "c-jkt01-1").await;
    let budi = env.client("pos-2", "c-jkt01-2").await;
    let dina = env.client("phone", "s-jkt01001").await;
    for c in [&ani, &budi, &dina] {
        c.sync_once().await.unwrap();
    }
    assert_eq!(
        ani.query("items", Query::new()).await.unwrap().len(),
        12,
        "the cashier's device has the catalogue"
    );
    // ...and its branch's opening stock, derived by the server, and no other branch's.
    let levels = ani.query("stock_levels", Query::new()).await.unwrap();
    assert_eq!(levels.len(), opening.len());
    for l in &levels {
        assert_eq!(l.fields["branch"], Value::Text("JKT-01".into()));
        let sku = l.fields["sku"].as_text().unwrap();
        assert_eq!(l.fields["qty"].as_int(), Some(opening[sku]), "{sku}");
    }
    assert!(
        dina.query("stock_levels", Query::new())
            .await
            .unwrap()
            .is_empty(),
        "a salesperson's device holds no branch stock"
    );

    // The network goes away for the day.
    env.stop_server().await;
    let shift = |kind: &str, cash: i64| {
        let f = if kind == "open" {
            "opening_cash"
        } else {
            "counted_cash"
        };
        record(
            "shifts",
            json!({"branch": "JKT-01", "terminal": "POS-1", "cashier": "c-jkt01-1", "kind": kind, "at": MORNING, f: cash}),
        )
    };
    ani.append("shifts", shift("open", 200_000)).await.unwrap();
    let (inv1, t1) = sell(
        &ani,
        "POS-1",
        MORNING + MINUTE,
        &[("SKU-000001", 2), ("SKU-000002", 1)],
    )
    .await;
    let (_, t2) = sell(&ani, "POS-1", MORNING + 2 * MINUTE, &[("SKU-000003", 4)]).await;
    let (_, t3) = sell(
        &budi,
        "POS-2",
        MORNING + 3 * MINUTE,
        &[("SKU-000001", 1), ("SKU-000004", 3)],
    )
    .await;
    let (_, t4) = sell(&budi, "POS-2", MORNING + 4 * MINUTE, &[("SKU-000002", 2)]).await;
    // A customer brings one of invoice 1's first item back; the refund comes from the till.
    let p1 = price(&ani, "SKU-000001", MORNING).await;
    ani.append(
        "sales_returns",
        record("sales_returns", json!({"branch": "JKT-01", "invoice": inv1, "terminal": "POS-1", "returned_at": MORNING + 5 * MINUTE, "refund": p1, "reason": "damaged",
               "lines": [{"sku": "SKU-000001", "qty": 1, "price": p1}]})),
    )
    .await
    .unwrap();
    // The same voucher, redeemed at both terminals while they cannot know of each other.
    for (c, terminal, at) in [
        (&ani, "POS-1", MORNING + 6 * MINUTE),
        (&budi, "POS-2", MORNING + 7 * MINUTE),
    ] {
        c.append(
            "voucher_redemptions",
            record("voucher_redemptions", json!({"voucher": voucher, "branch": "JKT-01", "terminal": terminal, "redeemed_at": at})),
        )
        .await
        .unwrap();
    }
    ani.append("shifts", shift("close", 200_000 + t1 + t2 - p1))
        .await
        .unwrap();
    // The salesperson's day in the field.
    let centre = env_territory_centre(&dina).await;
    for (kind, at) in [("check_in", MORNING), ("check_out", MORNING + 480 * MINUTE)] {
        dina.append(
            "attendance",
            record("attendance", json!({"user": "s-jkt01001", "territory": "T-JKT01-001", "kind": kind, "at": at, "lat": centre.0, "lng": centre.1, "accuracy_m": 15.0})),
        )
        .await
        .unwrap();
    }
    dina.append(
        "activities",
        record("activities", json!({"salesperson": "s-jkt01001", "territory": "T-JKT01-001", "kind": "sell_out", "outlet": "OUT-000001", "at": MORNING + 60 * MINUTE,
               "lines": [{"sku": "SKU-000005", "qty": 12, "amount": 120_000}]})),
    )
    .await
    .unwrap();
    dina.append(
        "activities",
        record("activities", json!({"salesperson": "s-jkt01001", "territory": "T-JKT01-001", "kind": "program", "program": "display contest", "outlet": "OUT-000001", "at": MORNING + 70 * MINUTE})),
    )
    .await
    .unwrap();
    dina.append(
        "order_submissions",
        record("order_submissions", json!({"territory": "T-JKT01-001", "outlet": "OUT-000001", "salesperson": "s-jkt01001", "submitted_at": MORNING + 90 * MINUTE, "total": 150_000,
               "lines": [{"sku": "SKU-000006", "qty": 10, "price": 15_000}]})),
    )
    .await
    .unwrap();
    for c in [&ani, &budi, &dina] {
        assert!(c.sync_once().await.is_err(), "the server is away");
    }

    // The network comes back: everyone syncs, the first cashier first, then again to hear
    // of the others.
    env.start_server().await;
    for c in [&ani, &budi, &dina, &ani, &budi, &dina] {
        c.sync_once().await.unwrap();
    }

    // Sales per branch.
    assert_eq!(
        env.count("SELECT CAST(COALESCE(SUM(total), 0) AS TEXT) FROM sales_invoices WHERE branch = 'JKT-01'").await,
        t1 + t2 + t3 + t4
    );
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales_invoices WHERE branch = 'BDG-01'")
            .await,
        0
    );
    // Stock per item: opening stock, less what was sold, plus what came back.
    let sold: BTreeMap<&str, i64> = [
        ("SKU-000001", 3 - 1),
        ("SKU-000002", 3),
        ("SKU-000003", 4),
        ("SKU-000004", 3),
    ]
    .into();
    for (sku, net) in sold {
        let from_tables = env
            .count(&format!(
                "SELECT CAST((SELECT SUM(qty) FROM stock_movements WHERE branch = 'JKT-01' AND sku = '{sku}')
                 - (SELECT SUM(l.qty) FROM sales_invoices_lines l JOIN sales_invoices i ON i.id = l.parent_id WHERE i.branch = 'JKT-01' AND l.sku = '{sku}')
                 + COALESCE((SELECT SUM(l.qty) FROM sales_returns_lines l JOIN sales_returns r ON r.id = l.parent_id WHERE r.branch = 'JKT-01' AND l.sku = '{sku}'), 0) AS TEXT)"
            ))
            .await;
        assert_eq!(
            from_tables,
            opening[sku] - net,
            "stock of {sku} from the plain tables"
        );
        let tally = env
            .count(&format!(
                "SELECT CAST(value AS TEXT) FROM lapak_tallies WHERE key = 'stock:JKT-01/{sku}'"
            ))
            .await;
        assert_eq!(
            tally,
            opening[sku] - net,
            "stock of {sku} as the rules keep it"
        );
        // Both tills show it offline, as the server derived it.
        for c in [&ani, &budi] {
            let level = c
                .query("stock_levels", Query::new().filter("sku", Op::Eq, sku))
                .await
                .unwrap();
            assert_eq!(level.len(), 1, "{sku}");
            assert_eq!(level[0].id, format!("JKT-01/{sku}"));
            assert_eq!(
                level[0].fields["qty"].as_int(),
                Some(opening[sku] - net),
                "stock of {sku} on a till"
            );
        }
    }
    // Exactly one redemption; the other cashier hears why.
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM voucher_redemptions")
            .await,
        1
    );
    let r = budi.rejections().await.unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].code, "voucher_already_redeemed");
    assert!(r[0].message.contains("terminal POS-1"), "{}", r[0].message);
    assert!(r[0].message.contains("by c-jkt01-1"), "{}", r[0].message);
    assert!(ani.rejections().await.unwrap().is_empty());
    assert!(dina.rejections().await.unwrap().is_empty());
    assert!(
        budi.status()
            .borrow()
            .rejected
            .iter()
            .any(|x| x.code == "voucher_already_redeemed")
    );
    // The drawer was counted right: no discrepancy, and no exception at all today.
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_exceptions")
            .await,
        0
    );
    // Each cashier sees the other's sales; the salesperson sees no branch sales.
    assert_eq!(
        budi.query("sales_invoices", Query::new())
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        dina.query("sales_invoices", Query::new())
            .await
            .unwrap()
            .is_empty()
    );
    // Each event once (the seeding's opening stock is 24 receipts, 12 per branch).
    let events: BTreeMap<String, i64> = env
        .storage()
        .query_text("SELECT event_type, CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type NOT LIKE '%.updated' GROUP BY event_type")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].as_deref().unwrap().parse().unwrap()))
        .collect();
    let expected: BTreeMap<String, i64> = [
        ("invoice.issued", 4),
        ("return.processed", 1),
        ("voucher.redeemed", 1),
        ("shift.opened", 1),
        ("shift.closed", 1),
        ("attendance.marked", 2),
        ("activity.submitted", 2),
        ("order.created", 1),
        ("stock.adjusted", 24),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(events, expected);
    // Every event names a distinct record.
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type NOT LIKE '%.updated'").await,
        env.count("SELECT CAST(COUNT(DISTINCT position) AS TEXT) FROM lapak_outbox WHERE event_type NOT LIKE '%.updated'").await
    );
}

/// The centre of the salesperson's territory, from the device's reference data.
async fn env_territory_centre(c: &Client) -> (f64, f64) {
    let t = c
        .get("territories", "T-JKT01-001")
        .await
        .unwrap()
        .expect("the territory is on the device");
    let real = |f: &str| match t.fields.get(f) {
        Some(Value::Real(v)) => *v,
        other => panic!("{f}: {other:?}"),
    };
    (real("lat"), real("lng"))
}

/// The till's checkout: the invoice, its voucher redemption and the deletion of the held bill
/// it came from, in one batch.
async fn a_checkout_batch_reaches_the_server_once(mut env: Env) {
    let voucher = env.seed_small().await;
    let ani = env.client("pos-1", "c-jkt01-1").await;
    ani.sync_once().await.unwrap();
    let unit = price(&ani, "SKU-000001", MORNING).await;
    let bill = ani
        .create(
            "held_bills",
            record(
                "held_bills",
                json!({"branch": "JKT-01", "terminal": "POS-1", "cashier": "c-jkt01-1",
                       "lines": [{"sku": "SKU-000001", "qty": 2, "price": unit, "discount": 0}]}),
            ),
        )
        .await
        .unwrap();
    ani.sync_once().await.unwrap();
    let count = |sql: &'static str| {
        let env = &env;
        async move {
            env.count(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {sql}"))
                .await
        }
    };
    assert_eq!(count("held_bills").await, 1);

    let total = 2 * unit;
    let checkout = |bill: &str| {
        vec![
            Write::append(
                "sales_invoices",
                record(
                    "sales_invoices",
                    json!({"number": "POS-1-0001", "branch": "JKT-01", "terminal": "POS-1", "cashier": "c-jkt01-1",
                           "sold_at": MORNING, "total": total,
                           "lines": [{"sku": "SKU-000001", "qty": 2, "price": unit, "discount": 0, "tax": 0}],
                           "payments": [{"method": "cash", "amount": total}]}),
                ),
            ),
            Write::append(
                "voucher_redemptions",
                record(
                    "voucher_redemptions",
                    json!({"voucher": voucher, "branch": "JKT-01", "terminal": "POS-1", "cashier": "c-jkt01-1",
                           "invoice": "POS-1-0001", "redeemed_at": MORNING}),
                ),
            ),
            Write::delete("held_bills", bill),
        ]
    };
    // A held bill that is not there (another terminal took it): nothing of the checkout stays.
    match ani.write_batch(checkout("no-such-bill")).await {
        Err(ClientError::Store(lapak_core::Error::BatchWrite {
            index: 2,
            collection,
            ..
        })) if collection == "held_bills" => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(ani.status().borrow().pending, 0);
    assert!(
        ani.query("sales_invoices", Query::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        ani.query("voucher_redemptions", Query::new())
            .await
            .unwrap()
            .is_empty()
    );

    let ids = ani.write_batch(checkout(&bill)).await.unwrap();
    assert_eq!(ids[2], bill);
    assert_eq!(ani.status().borrow().pending, 3);
    assert!(ani.get("held_bills", &bill).await.unwrap().is_none());
    for _ in 0..2 {
        ani.sync_once().await.unwrap(); // the second finds nothing to push
    }
    assert_eq!(ani.status().borrow().pending, 0);
    assert!(ani.rejections().await.unwrap().is_empty());
    for (collection, id) in [
        ("sales_invoices", &ids[0]),
        ("voucher_redemptions", &ids[1]),
    ] {
        let row = ani.get(collection, id).await.unwrap().unwrap();
        assert!(
            matches!(row.verdict, Some(Verdict::Accepted { .. })),
            "{collection}: {row:?}"
        );
    }
    // On the server: each entry once, the bill gone, each event once.
    assert_eq!(count("sales_invoices").await, 1);
    assert_eq!(count("voucher_redemptions").await, 1);
    assert_eq!(count("held_bills").await, 0);
    let once = format!(
        "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log WHERE record_id IN ('{}', '{}')",
        ids[0], ids[1]
    );
    assert_eq!(env.count(&once).await, 2);
    let bill_changes = format!(
        "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_changes WHERE record_id = '{bill}' AND status = 'accepted'"
    );
    assert_eq!(env.count(&bill_changes).await, 2, "created, then deleted");
    assert_eq!(
        count("lapak_outbox WHERE event_type IN ('invoice.issued', 'voucher.redeemed')").await,
        2
    );
    assert_eq!(
        env.count(&format!(
            "SELECT CAST(total AS TEXT) FROM sales_invoices WHERE id = '{}'",
            ids[0]
        ))
        .await,
        total
    );
    env.stop_server().await;
}
