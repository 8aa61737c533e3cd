//! The POS in its real window (WebKitGTK under Xvfb, driven through `tauri-driver` and
//! `WebKitWebDriver`), two terminals of one branch against a real `lapak-server` on port 0
//! with the small demo business.
//!
//! The first shift is online: scanning, a bill held on one terminal and resumed on the
//! other, the same held bill edited on both at once (each window shows the merged cart),
//! a voucher, a split payment, a credit sale, a return on the other terminal, both shifts
//! closed. The second shift is the same day with the server stopped before the apps start and
//! started only after both shifts closed. At the end every sale is on the server exactly once,
//! and the drawer and stock tallies are what the plain tables add up to.
//!
//! `LAPAK_SCREENSHOTS=docs/screenshots` saves a picture of every screen (docs/pos.md).

mod rig;
mod till;
use lapak_webdriver as webdriver;

#[path = "../../../client-sdk/tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Catalog, Env, PASSWORD};
use rig::Rig;
use till::{Paid, Till, id};

/// What the demo gives the scenario: items with stock at JKT-01, vouchers redeemable there
/// and a customer there with a credit limit.
struct Shop {
    /// (sku, barcode) of items that are priced and stocked at JKT-01.
    items: Vec<(String, String)>,
    /// The name of the third item, to search for.
    name: String,
    vouchers: Vec<String>,
    credit_customer: String,
}

async fn shop(env: &Env) -> Shop {
    let storage = env.storage();
    let rows = storage
        .query_text(
            "SELECT i.id, i.barcode FROM items i JOIN stock_levels s ON s.sku = i.id \
             WHERE s.branch = 'JKT-01' AND s.qty > 20 AND i.negative_stock = 'allow' \
             ORDER BY i.id LIMIT 3",
        )
        .await
        .unwrap();
    let items: Vec<(String, String)> = rows
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(items.len(), 3, "three stocked items at JKT-01");
    let name = storage
        .query_text(&format!(
            "SELECT name FROM items WHERE id = '{}'",
            items[2].0
        ))
        .await
        .unwrap()[0][0]
        .clone()
        .unwrap();
    let vouchers = storage
        .query_text(
            "SELECT id FROM vouchers WHERE redeem_at = 'JKT-01' AND verified ORDER BY id LIMIT 2",
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    let customer = storage
        .query_text(
            "SELECT name FROM customers WHERE branch = 'JKT-01' AND credit_limit > 0 \
             ORDER BY id LIMIT 1",
        )
        .await
        .unwrap();
    Shop {
        items,
        name,
        vouchers,
        credit_customer: customer[0][0].clone().expect("a credit customer at JKT-01"),
    }
}

/// The server's running tally `key` (`stock:<branch>/<sku>`, `drawer:<branch>/<terminal>`).
async fn tally(env: &Env, key: &str) -> i64 {
    env.count(&format!(
        "SELECT CAST(value AS TEXT) FROM lapak_tallies WHERE key = '{key}'"
    ))
    .await
}

/// The stock tallies of the shop's items before any sale.
async fn stock_tallies(env: &Env, shop: &Shop) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (sku, _) in &shop.items {
        out.insert(
            sku.clone(),
            tally(env, &format!("stock:JKT-01/{sku}")).await,
        );
    }
    out
}

async fn open_till(rig: &Rig, env: &Env, name: &'static str) -> Till {
    Till {
        window: rig.open(&env.dir.path().join(name)).await,
        name,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_windows_sell_a_day_online_then_a_day_offline_and_every_sale_lands_once() {
    let mut env = Env::sqlite_with(Catalog::Business).await;
    env.seed_small().await;
    let shop = shop(&env).await;
    let stock_before = stock_tallies(&env, &shop).await;
    let rig = Rig::start();

    let one = open_till(&rig, &env, "POS-1").await;
    let two = open_till(&rig, &env, "POS-2").await;
    let mut receipts = online_shift(&env, &shop, &one, &two).await;

    // The same day, the server is down before the apps start and until both shifts closed.
    one.window.close().await;
    two.window.close().await;
    env.stop_server().await;
    let one = open_till(&rig, &env, "POS-1").await;
    let two = open_till(&rig, &env, "POS-2").await;
    receipts.extend(offline_shift(&shop, &one, &two).await);
    env.start_server().await;
    for till in [&one, &two] {
        till.sync().await;
        till.page()
            .wait_text(&id("sync-rejected"), "no rejections", |t| t.contains('0'))
            .await;
    }

    every_sale_once(&env, &receipts).await;
    tallies_match_the_plain_tables(&env, &shop, &stock_before).await;
    one.window.close().await;
    two.window.close().await;
}

/// The online shift; returns the receipts.
async fn online_shift(env: &Env, shop: &Shop, one: &Till, two: &Till) -> Vec<Paid> {
    let (a, b, c) = (&shop.items[0], &shop.items[1], &shop.items[2]);
    one.page().find(&id("sign-in")).await;
    one.screenshot("sign-in").await;
    one.sign_in(&env.base, "c-jkt01-1", PASSWORD).await;
    two.sign_in(&env.base, "c-jkt01-2", PASSWORD).await;
    one.screenshot("pick-terminal").await;
    one.pick_terminal("POS-1").await;
    two.pick_terminal("POS-2").await;
    one.page().find(&id("shift-required")).await;
    one.screenshot("shift-open").await;
    one.open_shift(200_000).await;
    two.open_shift(200_000).await;

    // POS-1 scans A twice and holds the bill; POS-2 resumes it.
    one.scan(&a.1).await;
    one.scan(&a.1).await;
    one.wait_cart(&[(&a.0, 2)]).await;
    one.screenshot("sell").await;
    one.hold("meja 4").await;
    one.sync().await;
    two.sync().await;
    two.go("held").await;
    two.page().find(&id("held-bill")).await;
    two.screenshot("held").await;
    two.resume("meja 4").await;
    two.wait_cart(&[(&a.0, 2)]).await;
    one.resume("meja 4").await;

    // Both edit it at once: POS-1 adds B, POS-2 makes A three. Each window shows the merge.
    one.scan(&b.1).await;
    two.set_qty(0, 3).await;
    for till in [one, two, one] {
        till.sync().await;
    }
    one.wait_cart(&[(&a.0, 3), (&b.0, 1)]).await;
    two.wait_cart(&[(&a.0, 3), (&b.0, 1)]).await;

    // POS-2 takes a voucher and a split payment: half by card, the rest in cash with change.
    two.voucher(&shop.vouchers[0]).await;
    let total = two.total().await;
    let card = total / 2;
    let split = two
        .pay(
            &[("card", Some(card)), ("cash", Some(total - card + 10_000))],
            Some("checkout"),
        )
        .await;
    assert_eq!(split.total, total);
    assert!(split.number.starts_with("JKT-01/POS-2/") && split.number.ends_with("/0001"));
    two.page()
        .wait_text(&id("receipt-change"), "the change", |t| {
            till::rupiah(t) == 10_000
        })
        .await;
    two.screenshot("receipt").await;
    two.new_sale().await;
    two.sync().await;
    one.sync().await;
    // POS-1 was showing the bill POS-2 just paid: its cart empties.
    one.page().find(&id("cart-empty")).await;

    // POS-1 sells C on credit to a known customer.
    one.pick_customer(&shop.credit_customer).await;
    one.screenshot("customer").await;
    one.search_and_add(&shop.name, &c.0).await;
    let credit = one.pay(&[("credit", None)], None).await;
    one.new_sale().await;

    // POS-1 takes one A back against POS-2's invoice, found in the history.
    one.open_in_history(&split.number).await;
    one.screenshot("history").await;
    let refund = one.return_from_receipt(0, 1, "rusak").await;
    assert!(refund > 0);
    one.screenshot("returns").await;

    one.close_shift().await;
    one.screenshot("shift").await;
    two.close_shift().await;
    for till in [one, two] {
        till.sync().await;
    }
    one.go("rejections").await;
    one.page().find(&id("rejections")).await;
    one.screenshot("rejections").await;
    vec![split, credit]
}

/// The shift with the server down from the start; returns the receipts.
async fn offline_shift(shop: &Shop, one: &Till, two: &Till) -> Vec<Paid> {
    let (a, b, c) = (&shop.items[0], &shop.items[1], &shop.items[2]);
    for till in [one, two] {
        // Signed in from the first run: straight to the shift gate, offline.
        till.page().find(&id("shift-required")).await;
        till.wait_connection(&["offline"]).await;
        till.open_shift(150_000).await;
    }
    one.screenshot("offline").await;

    // POS-1: a held bill resumed on the same terminal, a voucher, QRIS and cash.
    one.scan(&a.1).await;
    one.scan(&b.1).await;
    one.hold("meja 7").await;
    one.resume("meja 7").await;
    one.wait_cart(&[(&a.0, 1), (&b.0, 1)]).await;
    one.voucher(&shop.vouchers[1]).await;
    let total = one.total().await;
    let qris = one
        .pay(&[("qris", Some(total / 3)), ("cash", None)], None)
        .await;
    one.new_sale().await;

    // POS-2: a credit sale and a cash sale, then one C back from the credit sale.
    two.pick_customer(&shop.credit_customer).await;
    two.scan(&c.1).await;
    two.scan(&c.1).await;
    let credit = two.pay(&[("credit", None)], None).await;
    two.new_sale().await;
    two.scan(&a.1).await;
    let cash = two.pay(&[("cash", None)], None).await;
    two.new_sale().await;
    two.open_in_history(&credit.number).await;
    two.return_from_receipt(0, 1, "salah ambil").await;

    one.close_shift().await;
    two.close_shift().await;
    for till in [one, two] {
        till.wait_connection(&["offline"]).await;
        let pending = till.page().read(&id("sync-pending")).await;
        assert!(
            pending.parse::<i64>().unwrap() > 0,
            "{}: work waits to upload",
            till.name
        );
    }
    vec![qris, credit, cash]
}

/// Every receipt the windows printed is on the server once, accepted, and nothing else is.
async fn every_sale_once(env: &Env, receipts: &[Paid]) {
    let rows = env
        .storage()
        .query_text("SELECT number, CAST(total AS TEXT) FROM sales_invoices ORDER BY number")
        .await
        .unwrap();
    let on_server: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_deref().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut printed: Vec<(String, i64)> = receipts
        .iter()
        .map(|p| (p.number.clone(), p.total))
        .collect();
    printed.sort();
    assert_eq!(
        on_server, printed,
        "the server holds exactly the receipts printed"
    );
    let distinct: BTreeSet<_> = printed.iter().map(|p| &p.0).collect();
    assert_eq!(distinct.len(), printed.len(), "invoice numbers are unique");
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM voucher_redemptions")
            .await,
        2
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM sales_returns")
            .await,
        2
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM held_bills")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM lapak_exceptions")
            .await,
        0,
        "no exception: prices, vouchers, credit and drawers all as the server sees them"
    );
}

/// The server's drawer and stock tallies are what its plain tables add up to.
async fn tallies_match_the_plain_tables(
    env: &Env,
    shop: &Shop,
    stock_before: &BTreeMap<String, i64>,
) {
    // Stock: before, minus what the invoices sold, plus what the returns took back.
    for (sku, _) in &shop.items {
        let sold = env
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(qty), 0) AS TEXT) FROM sales_invoices_lines \
                 WHERE sku = '{sku}'"
            ))
            .await;
        let back = env
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(qty), 0) AS TEXT) FROM sales_returns_lines \
                 WHERE sku = '{sku}'"
            ))
            .await;
        let stock = tally(env, &format!("stock:JKT-01/{sku}")).await;
        let level = env
            .count(&format!(
                "SELECT CAST(qty AS TEXT) FROM stock_levels \
                 WHERE branch = 'JKT-01' AND sku = '{sku}'"
            ))
            .await;
        let expected = stock_before[sku] - sold + back;
        assert_eq!((stock, level), (expected, expected), "stock of {sku}");
    }
    // Drawers: each terminal's last shift opened with its cash, took its invoices' cash
    // payments (net of change), paid its returns' refunds, and was closed counting exactly that.
    for terminal in ["POS-1", "POS-2"] {
        let shifts = env
            .storage()
            .query_text(&format!(
                "SELECT id, kind, CAST(opening_cash AS TEXT), CAST(counted_cash AS TEXT) \
                 FROM shifts WHERE terminal = '{terminal}' ORDER BY at"
            ))
            .await
            .unwrap();
        let kinds: Vec<_> = shifts.iter().map(|r| r[1].as_deref().unwrap()).collect();
        assert_eq!(
            kinds,
            ["open", "close", "open", "close"],
            "{terminal}: two shifts"
        );
        let (open, close) = (&shifts[2], &shifts[3]);
        let shift = open[0].as_deref().unwrap();
        let opening: i64 = open[2].as_deref().unwrap().parse().unwrap();
        let cash_in = env
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(p.amount), 0) AS TEXT) FROM sales_invoices_payments p \
                 JOIN sales_invoices i ON i.id = p.parent_id \
                 WHERE i.shift = '{shift}' AND p.method = 'cash'"
            ))
            .await;
        let refunds = env
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(refund), 0) AS TEXT) FROM sales_returns \
                 WHERE shift = '{shift}'"
            ))
            .await;
        let drawer = tally(env, &format!("drawer:JKT-01/{terminal}")).await;
        // The count the window closed with is what the plain tables add up to; the server's
        // tally held the same at the close (it raises `cash_discrepancy` otherwise, and
        // `every_sale_once` saw no exception) and is emptied by it.
        let counted: i64 = close[3].as_deref().unwrap().parse().unwrap();
        assert_eq!(
            counted,
            opening + cash_in - refunds,
            "{terminal}: the drawer"
        );
        assert_eq!(drawer, 0, "{terminal}: the closed drawer is emptied");
    }
}
