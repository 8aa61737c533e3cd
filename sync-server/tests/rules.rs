//! The business rules of `rules::business()`, each case on SQLite and on real Postgres:
//! vouchers redeemed once, prices checked against the list in force, stock derived from
//! movements, returns bounded by what was sold, check-ins within territory, credit dues, the
//! cash drawer, held bills merging, exceptions listed and resolved, and one event per fact.

mod common;

use common::{
    Harness, business_device, cashier, count, entry, principal, push, reference, sync_storage,
};
use lapak_core::Edit;
use lapak_core::protocol::Outcome;
use lapak_server::Storage;
use lapak_server::auth::{Principal, Role};
use lapak_server::rules::{DEFERRAL_LIMIT_MS, MAX_AMOUNT, MAX_QUANTITY};
use lapak_server::storage::{ExceptionFilter, Exceptions, StorageError, WriteContext};
use serde_json::json;

crate::on_both_backends!(
    business_sqlite, business_postgres;
    a_voucher_is_redeemed_once_where_and_before_it_may_be,
    concurrent_redemptions_of_one_voucher_accept_exactly_one,
    invoice_prices_are_checked_against_the_list_in_force,
    stock_is_derived_from_movements,
    returns_never_exceed_what_was_sold,
    check_ins_are_kept_within_territory_and_flag_implausible_gps,
    credit_dues_and_the_cash_drawer_follow_the_facts,
    every_fact_emits_its_event_once,
    a_held_bill_edited_on_two_terminals_converges,
    rule_arithmetic_is_checked_and_bounded,
    credit_acts_only_on_customers_of_the_writers_scopes,
    returns_and_vouchers_reveal_nothing_of_another_branch,
    an_outlet_profile_lives_only_in_its_outlets_scopes,
    a_return_whose_invoice_never_arrives_is_refused_after_the_deferral_limit,
);

/// 2026-06-01T00:00:00Z.
const T0: i64 = 1_780_272_000_000;
const DAY: i64 = 86_400_000;

fn salesperson(territory: &str, name: &str) -> Principal {
    let mut p = principal(
        Role::Salesperson,
        &[(&format!("territory:{territory}"), true), ("org", false)],
    );
    p.username = name.into();
    p
}

/// Two branches, a territory, three items (one that may not go below zero), prices that change
/// on T0 + 10 days, a wholesale customer, vouchers.
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
        "territories",
        &[(
            "T-1",
            json!({"name": "Menteng", "branch": "JKT-01", "lat": -6.2, "lng": 106.83, "radius_m": 5000}),
        )],
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
            (
                "RICE",
                json!({"name": "Rice 5 kg", "negative_stock": "reject"}),
            ),
            ("SOAP", json!({"name": "Soap"})),
        ],
    )
    .await;
    let mut prices = Vec::new();
    for (list, sku, old, new) in [
        ("retail", "TEA", 5_000, 5_500),
        ("retail", "RICE", 70_000, 70_000),
        ("retail", "SOAP", 3_000, 3_000),
        ("wholesale", "TEA", 4_500, 4_500),
    ] {
        prices.push((
            format!("{list}/{sku}/1"),
            json!({"price_list": list, "sku": sku, "price": old, "effective_from": T0 - 100 * DAY, "effective_to": T0 + 10 * DAY}),
        ));
        prices.push((
            format!("{list}/{sku}/2"),
            json!({"price_list": list, "sku": sku, "price": new, "effective_from": T0 + 10 * DAY}),
        ));
    }
    let prices: Vec<(&str, serde_json::Value)> = prices
        .iter()
        .map(|(i, v)| (i.as_str(), v.clone()))
        .collect();
    reference(s, "prices", &prices).await;
    reference(
        s,
        "customers",
        &[
            (
                "OUT-1",
                json!({"name": "Grosir Jaya", "customer_group": "wholesale", "price_list": "wholesale", "branch": "JKT-01", "territory": "T-1", "credit_limit": 10_000}),
            ),
            ("OUT-2", json!({"name": "Warung Bu Sri", "branch": "JKT-01", "territory": "T-1"})),
        ],
    )
    .await;
    reference(
        s,
        "vouchers",
        &[
            ("V-1", json!({"campaign": "PAYDAY", "discount": 5_000, "expires_at": T0 + 30 * DAY, "redeem_at": "JKT-01", "verified": true})),
            ("V-OLD", json!({"campaign": "PAYDAY", "discount": 5_000, "expires_at": T0 - DAY, "redeem_at": "JKT-01", "verified": true})),
            ("V-UNVERIFIED", json!({"campaign": "PAYDAY", "discount": 5_000, "expires_at": T0 + 30 * DAY, "redeem_at": "JKT-01", "verified": false})),
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

/// An invoice of `lines` (`(sku, qty, price)`) paid in cash.
fn invoice(branch: &str, at: i64, lines: &[(&str, i64, i64)]) -> lapak_core::protocol::Change {
    invoice_paid(branch, at, lines, None, "cash")
}

fn invoice_paid(
    branch: &str,
    at: i64,
    lines: &[(&str, i64, i64)],
    customer: Option<&str>,
    method: &str,
) -> lapak_core::protocol::Change {
    let total: i64 = lines.iter().map(|(_, q, p)| q * p).sum();
    let mut f = json!({
        "number": "INV-1",
        "branch": branch,
        "terminal": "POS-1",
        "sold_at": at,
        "total": total,
        "lines": lines.iter().map(|(s, q, p)| json!({"sku": s, "qty": q, "price": p, "discount": 0, "tax": 0})).collect::<Vec<_>>(),
        "payments": [{"method": method, "amount": total}],
    });
    if let Some(c) = customer {
        f["customer"] = json!(c);
    }
    entry("sales_invoices", f)
}

/// Pushes `changes` as `who` with the server's clock at `now_ms`.
async fn push_at(
    s: &dyn Storage,
    who: &Principal,
    changes: Vec<lapak_core::protocol::Change>,
    now_ms: i64,
) -> Vec<Outcome> {
    let ctx = WriteContext {
        now_ms,
        trace_id: "test".into(),
    };
    let request = lapak_core::protocol::PushRequest {
        device_id: who.device_id,
        changes,
    };
    let plan = s.push(&ctx, who, &request).await.unwrap();
    plan.results.into_iter().map(|r| r.outcome).collect()
}

/// A sales return of `lines` (`(sku, qty)`) against `invoice`.
fn sales_return(
    branch: &str,
    invoice: &str,
    at: i64,
    lines: &[(&str, i64)],
    refund: i64,
) -> lapak_core::protocol::Change {
    entry(
        "sales_returns",
        json!({"branch": branch, "invoice": invoice, "terminal": "POS-1", "returned_at": at, "refund": refund,
               "lines": lines.iter().map(|(s, q)| json!({"sku": s, "qty": q, "price": 5_000})).collect::<Vec<_>>()}),
    )
}

fn rejected(o: &Outcome) -> (&str, &str) {
    match o {
        Outcome::Rejected { code, message } => (code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn accepted(o: &Outcome) {
    assert!(
        matches!(o, Outcome::Accepted { .. }),
        "expected acceptance, got {o:?}"
    );
}

async fn tally(h: &Harness, key: &str) -> i64 {
    h.storage
        .tallies(key, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == key)
        .map_or(0, |(_, t)| t.value)
}

async fn open_exceptions(h: &Harness, kind: &str) -> Vec<lapak_server::storage::ExceptionRecord> {
    h.storage
        .exceptions(&ExceptionFilter {
            open: Some(true),
            kind: Some(kind.into()),
            limit: 100,
            ..ExceptionFilter::default()
        })
        .await
        .unwrap()
}

fn redemption(
    voucher: &str,
    branch: &str,
    terminal: &str,
    at: i64,
) -> lapak_core::protocol::Change {
    entry(
        "voucher_redemptions",
        json!({"voucher": voucher, "branch": branch, "terminal": terminal, "redeemed_at": at}),
    )
}

async fn a_voucher_is_redeemed_once_where_and_before_it_may_be(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    let budi = cashier("JKT-01", "budi");
    let out = push(s, &ani, vec![redemption("V-1", "JKT-01", "POS-1", T0)]).await;
    accepted(&out[0]);
    // The second redemption names where and when the first one happened.
    let out = push(
        s,
        &budi,
        vec![redemption("V-1", "JKT-01", "POS-2", T0 + 1000)],
    )
    .await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "voucher_already_redeemed");
    assert!(message.contains("branch JKT-01"), "{message}");
    assert!(message.contains("terminal POS-1"), "{message}");
    assert!(message.contains("2026-06-01 00:00 UTC"), "{message}");
    assert!(message.contains("by ani"), "{message}");
    // Twice in one push: the second is rejected too.
    let out = push(
        s,
        &budi,
        vec![
            redemption("V-1", "JKT-01", "POS-2", T0),
            redemption("V-1", "JKT-01", "POS-2", T0),
        ],
    )
    .await;
    assert_eq!(rejected(&out[0]).0, "voucher_already_redeemed");
    assert_eq!(rejected(&out[1]).0, "voucher_already_redeemed");
    let out = push(
        s,
        &ani,
        vec![
            redemption("V-OLD", "JKT-01", "POS-1", T0),
            redemption("V-UNVERIFIED", "JKT-01", "POS-1", T0),
            redemption("V-NOPE", "JKT-01", "POS-1", T0),
        ],
    )
    .await;
    assert_eq!(rejected(&out[0]).0, "voucher_expired");
    assert_eq!(rejected(&out[1]).0, "voucher_not_verified");
    assert_eq!(rejected(&out[2]).0, "unknown_voucher");
    // Only where the voucher may be redeemed: a writer of both branches is told where...
    let mut both = cashier("BDG-01", "dedi");
    both.grants.push(lapak_server::auth::Grant {
        scope: "branch:JKT-01".into(),
        write: true,
    });
    let out = push(
        s,
        &both,
        vec![redemption("V-UNVERIFIED", "BDG-01", "POS-1", T0)],
    )
    .await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "voucher_not_redeemable_here");
    assert!(message.contains("JKT-01"), "{message}");
    // ...a writer of another branch only that there is no such voucher for their branch.
    let bdg = cashier("BDG-01", "cici");
    let out = push(
        s,
        &bdg,
        vec![redemption("V-UNVERIFIED", "BDG-01", "POS-1", T0)],
    )
    .await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "unknown_voucher");
    assert!(!message.contains("JKT-01"), "{message}");
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM voucher_redemptions"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type = 'voucher.redeemed'"
        )
        .await,
        1
    );
}

async fn concurrent_redemptions_of_one_voucher_accept_exactly_one(h: Harness) {
    let s = h.storage.clone();
    business(s.as_ref()).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let who = cashier("JKT-01", &format!("cashier-{i}"));
            push(
                s.as_ref(),
                &who,
                vec![redemption("V-1", "JKT-01", &format!("POS-{i}"), T0)],
            )
            .await
        }));
    }
    let mut accepted_n = 0;
    for t in tasks {
        let out = t.await.unwrap();
        match &out[0] {
            Outcome::Accepted { .. } => accepted_n += 1,
            o => assert_eq!(rejected(o).0, "voucher_already_redeemed"),
        }
    }
    assert_eq!(accepted_n, 1);
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM voucher_redemptions"
        )
        .await,
        1
    );
}

async fn invoice_prices_are_checked_against_the_list_in_force(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    push(
        s,
        &ani,
        vec![receipt("JKT-01", "TEA", 100), receipt("JKT-01", "SOAP", 10)],
    )
    .await;
    // Before the change, 5,000 is the list price; after it, 5,500.
    let before = invoice("JKT-01", T0, &[("TEA", 2, 5_000)]);
    let after = invoice(
        "JKT-01",
        T0 + 11 * DAY,
        &[("TEA", 1, 5_000), ("SOAP", 1, 3_000)],
    );
    let after_id = after.record_id.clone();
    // A wholesale customer's invoice is checked against the wholesale list.
    let wholesale = invoice_paid("JKT-01", T0, &[("TEA", 1, 4_500)], Some("OUT-1"), "cash");
    for o in push(s, &ani, vec![before, after, wholesale]).await {
        accepted(&o);
    }
    let raised = open_exceptions(&h, "price_mismatch").await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let x = &raised[0];
    assert_eq!(x.record_id, after_id);
    assert_eq!(x.collection, "sales_invoices");
    assert_eq!(x.scopes, vec!["branch:JKT-01".to_owned()]);
    assert_eq!(x.details["lines"][0]["sku"], "TEA");
    assert_eq!(x.details["lines"][0]["charged"], 5_000);
    assert_eq!(x.details["lines"][0]["list_price"], 5_500);
    assert_eq!(x.details["lines"].as_array().unwrap().len(), 1);
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type = 'exception.raised'"
        )
        .await,
        1
    );
    // The back office resolves it once.
    let done = h
        .storage
        .resolve_exception(
            &x.id,
            None,
            "admin",
            "charged the old price by mistake; refunded 500",
            1,
        )
        .await
        .unwrap();
    assert_eq!(done.resolved_by.as_deref(), Some("admin"));
    assert!(open_exceptions(&h, "price_mismatch").await.is_empty());
    assert!(matches!(
        h.storage
            .resolve_exception(&x.id, None, "admin", "again", 2)
            .await,
        Err(StorageError::Conflict(_))
    ));
    assert!(matches!(
        h.storage
            .resolve_exception("no-such", None, "admin", "x", 2)
            .await,
        Err(StorageError::NotFound(_))
    ));
    // A wrong total is rejected outright.
    let mut bad = invoice("JKT-01", T0, &[("TEA", 2, 5_000)]);
    if let lapak_core::protocol::ChangeBody::Ledger { entry } = &mut bad.body {
        entry.insert("total".into(), lapak_core::Value::Int(9_000));
    }
    assert_eq!(
        rejected(&push(s, &ani, vec![bad]).await[0]).0,
        "total_mismatch"
    );
}

async fn stock_is_derived_from_movements(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    let budi = cashier("JKT-01", "budi");
    let bdg = cashier("BDG-01", "cici");
    for o in push(
        s,
        &ani,
        vec![receipt("JKT-01", "TEA", 10), receipt("JKT-01", "RICE", 3)],
    )
    .await
    {
        accepted(&o);
    }
    // Two terminals sell at once; neither overwrites the other's effect.
    let (a, b) = tokio::join!(
        push(s, &ani, vec![invoice("JKT-01", T0, &[("TEA", 4, 5_000)])]),
        push(s, &budi, vec![invoice("JKT-01", T0, &[("TEA", 3, 5_000)])]),
    );
    accepted(&a[0]);
    accepted(&b[0]);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 3);
    // Below zero: accepted with an exception for an item that allows it...
    accepted(&push(s, &ani, vec![invoice("JKT-01", T0, &[("TEA", 5, 5_000)])]).await[0]);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, -2);
    let neg = open_exceptions(&h, "negative_stock").await;
    assert_eq!(neg.len(), 1);
    assert_eq!(neg[0].details["before"], 3);
    assert_eq!(neg[0].details["after"], -2);
    // ...rejected for one configured so, and then the stock does not move.
    let out = push(s, &ani, vec![invoice("JKT-01", T0, &[("RICE", 4, 70_000)])]).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "out_of_stock");
    assert!(message.contains("only 3"), "{message}");
    assert_eq!(tally(&h, "stock:JKT-01/RICE").await, 3);
    // Transfers and adjustments move it too.
    let out = push(
        s,
        &ani,
        vec![
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "RICE", "kind": "transfer_out", "qty": 2, "transfer": "TR-1", "counterpart": "BDG-01", "moved_at": T0})),
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "TEA", "kind": "adjustment", "qty": 7, "reason": "count", "moved_at": T0})),
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "TEA", "kind": "spoiled", "qty": 1, "moved_at": T0})),
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "TEA", "kind": "receipt", "qty": -1, "moved_at": T0})),
        ],
    )
    .await;
    accepted(&out[0]);
    accepted(&out[1]);
    assert_eq!(rejected(&out[2]).0, "invalid_kind");
    assert_eq!(rejected(&out[3]).0, "invalid_quantity");
    accepted(
        &push(
            s,
            &bdg,
            vec![entry("stock_movements", json!({"branch": "BDG-01", "sku": "RICE", "kind": "transfer_in", "qty": 2, "transfer": "TR-1", "counterpart": "JKT-01", "moved_at": T0}))],
        )
        .await[0],
    );
    assert_eq!(tally(&h, "stock:JKT-01/RICE").await, 1);
    assert_eq!(tally(&h, "stock:BDG-01/RICE").await, 2);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 5);
    // The tally is what the plain tables of movements add up to.
    for (branch, sku) in [("JKT-01", "TEA"), ("JKT-01", "RICE"), ("BDG-01", "RICE")] {
        let derived = count(
            &h.storage,
            &format!(
                "SELECT CAST(COALESCE((SELECT SUM(CASE WHEN kind = 'transfer_out' THEN -qty ELSE qty END) FROM stock_movements WHERE branch = '{branch}' AND sku = '{sku}'), 0)
                 - COALESCE((SELECT SUM(l.qty) FROM sales_invoices_lines l JOIN sales_invoices i ON i.id = l.parent_id WHERE i.branch = '{branch}' AND l.sku = '{sku}'), 0)
                 + COALESCE((SELECT SUM(l.qty) FROM sales_returns_lines l JOIN sales_returns r ON r.id = l.parent_id WHERE r.branch = '{branch}' AND l.sku = '{sku}'), 0) AS TEXT)"
            ),
        )
        .await;
        assert_eq!(
            derived,
            tally(&h, &format!("stock:{branch}/{sku}")).await,
            "{branch} {sku}"
        );
    }
}

async fn returns_never_exceed_what_was_sold(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    let sale = invoice("JKT-01", T0, &[("TEA", 3, 5_000), ("SOAP", 1, 3_000)]);
    let inv = sale.record_id.clone();
    let ret = |lines: &[(&str, i64)], refund: i64| {
        entry(
            "sales_returns",
            json!({"branch": "JKT-01", "invoice": inv, "terminal": "POS-1", "returned_at": T0 + 1, "refund": refund,
                   "lines": lines.iter().map(|(s, q)| json!({"sku": s, "qty": q, "price": 5_000})).collect::<Vec<_>>()}),
        )
    };
    // A return pushed before its invoice reaches the server waits (is deferred, not stored).
    let early = push_at(s, &ani, vec![ret(&[("TEA", 1)], 5_000)], T0 + DAY).await;
    assert!(
        matches!(&early[0], Outcome::Deferred { reason } if reason.contains("has not reached the server")),
        "{early:?}"
    );
    // The invoice and a return against it in one push.
    let out = push(s, &ani, vec![sale, ret(&[("TEA", 2)], 10_000)]).await;
    accepted(&out[0]);
    accepted(&out[1]);
    let out = push(s, &ani, vec![ret(&[("TEA", 2)], 10_000)]).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "return_exceeds_sale");
    assert!(
        message.contains("sold 3")
            && message.contains("2 were already returned")
            && message.contains("at most 1"),
        "{message}"
    );
    assert_eq!(
        rejected(&push(s, &ani, vec![ret(&[("RICE", 1)], 1)]).await[0]).0,
        "return_exceeds_sale"
    );
    assert_eq!(
        rejected(&push(s, &ani, vec![ret(&[("TEA", 1)], 9_000)]).await[0]).0,
        "refund_exceeds_sale"
    );
    accepted(&push(s, &ani, vec![ret(&[("TEA", 1)], 5_000)]).await[0]);
    assert_eq!(tally(&h, &format!("returned:{inv}/TEA")).await, 3);
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type = 'return.processed'"
        )
        .await,
        2
    );
}

async fn check_ins_are_kept_within_territory_and_flag_implausible_gps(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let dina = salesperson("T-1", "dina");
    let check = |user: &str, at: i64, lat: f64, lng: f64| {
        entry(
            "attendance",
            json!({"user": user, "territory": "T-1", "kind": "check_in", "at": at, "lat": lat, "lng": lng, "accuracy_m": 20.0}),
        )
    };
    accepted(&push(s, &dina, vec![check("dina", T0, -6.21, 106.84)]).await[0]);
    // 60 km away: outside the territory.
    let out = push(s, &dina, vec![check("dina", T0 + 3_600_000, -6.6, 106.8)]).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "outside_territory");
    assert!(
        message.contains("km from the centre of territory T-1"),
        "{message}"
    );
    // (0, 0) is what a GPS says without a fix: accepted and flagged.
    accepted(&push(s, &dina, vec![check("dina", T0 + 2 * 3_600_000, 0.0, 0.0)]).await[0]);
    // 300 km from the previous position five minutes earlier: flagged.
    accepted(
        &push(
            s,
            &dina,
            vec![check("dina", T0 + 3 * 3_600_000, -6.20, 106.83)],
        )
        .await[0],
    );
    accepted(
        &push(
            s,
            &dina,
            vec![check("dina", T0 + 3 * 3_600_000 + 300_000, -7.9, 110.4)],
        )
        .await[0],
    );
    let flags = open_exceptions(&h, "gps_implausible").await;
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert!(flags.iter().any(|f| f.message.contains("(0, 0)")));
    assert!(flags.iter().any(|f| f.message.contains("km/h")));
    // Nobody checks in for someone else, nor in a territory not theirs.
    assert_eq!(
        rejected(&push(s, &dina, vec![check("eko", T0, -6.21, 106.84)]).await[0]).0,
        "not_your_attendance"
    );
    let eko = salesperson("T-2", "eko");
    assert_eq!(
        rejected(&push(s, &eko, vec![check("eko", T0, -6.21, 106.84)]).await[0]).0,
        "forbidden_scope"
    );
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE event_type = 'attendance.marked'"
        )
        .await,
        4
    );
}

async fn credit_dues_and_the_cash_drawer_follow_the_facts(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    push(s, &ani, vec![receipt("JKT-01", "TEA", 100)]).await;
    let shift = |kind: &str, cash: i64| {
        let f = if kind == "open" {
            "opening_cash"
        } else {
            "counted_cash"
        };
        entry(
            "shifts",
            json!({"branch": "JKT-01", "terminal": "POS-1", "cashier": "ani", "kind": kind, "at": T0, f: cash}),
        )
    };
    accepted(&push(s, &ani, vec![shift("open", 100_000)]).await[0]);
    // A credit sale needs a known customer; dues grow past the limit with an exception.
    let out = push(
        s,
        &ani,
        vec![
            invoice_paid("JKT-01", T0, &[("TEA", 2, 4_500)], Some("OUT-1"), "credit"),
            invoice_paid("JKT-01", T0, &[("TEA", 1, 4_500)], Some("OUT-1"), "credit"),
            invoice_paid("JKT-01", T0, &[("TEA", 1, 5_000)], None, "credit"),
            invoice_paid("JKT-01", T0, &[("TEA", 1, 5_000)], None, "barter"),
            invoice("JKT-01", T0, &[("TEA", 4, 5_000)]),
        ],
    )
    .await;
    accepted(&out[0]);
    accepted(&out[1]);
    assert_eq!(rejected(&out[2]).0, "unknown_customer");
    assert_eq!(rejected(&out[3]).0, "invalid_payment");
    accepted(&out[4]);
    assert_eq!(tally(&h, "due:OUT-1").await, 13_500);
    assert_eq!(open_exceptions(&h, "credit_limit_exceeded").await.len(), 1);
    let pay = |amount: i64| {
        entry(
            "credit_payments",
            json!({"branch": "JKT-01", "customer": "OUT-1", "amount": amount, "method": "cash", "paid_at": T0}),
        )
    };
    accepted(&push(s, &ani, vec![pay(10_000)]).await[0]);
    accepted(&push(s, &ani, vec![pay(5_000)]).await[0]);
    assert_eq!(tally(&h, "due:OUT-1").await, -1_500);
    assert_eq!(open_exceptions(&h, "overpayment").await.len(), 1);
    // Closing: 100,000 opening + 20,000 cash sales expected; 119,000 counted.
    accepted(&push(s, &ani, vec![shift("close", 119_000)]).await[0]);
    let short = open_exceptions(&h, "cash_discrepancy").await;
    assert_eq!(short.len(), 1);
    assert_eq!(short[0].details["expected"], 120_000);
    assert_eq!(short[0].details["difference"], -1_000);
}

async fn every_fact_emits_its_event_once(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    let dina = salesperson("T-1", "dina");
    push(s, &ani, vec![receipt("JKT-01", "TEA", 100)]).await;
    let sale = invoice("JKT-01", T0, &[("TEA", 1, 5_000)]);
    let inv = sale.record_id.clone();
    let cashier_changes = vec![
        entry(
            "shifts",
            json!({"branch": "JKT-01", "terminal": "POS-1", "kind": "open", "at": T0, "opening_cash": 0}),
        ),
        sale,
        entry(
            "sales_returns",
            json!({"branch": "JKT-01", "invoice": inv, "returned_at": T0, "refund": 5_000, "lines": [{"sku": "TEA", "qty": 1, "price": 5_000}]}),
        ),
        redemption("V-1", "JKT-01", "POS-1", T0),
        // The return was refunded away from the till: the drawer holds the sale's cash.
        entry(
            "shifts",
            json!({"branch": "JKT-01", "terminal": "POS-1", "kind": "close", "at": T0, "counted_cash": 5_000}),
        ),
    ];
    let field_changes = vec![
        entry(
            "attendance",
            json!({"user": "dina", "territory": "T-1", "kind": "check_in", "at": T0, "lat": -6.2, "lng": 106.83}),
        ),
        entry(
            "activities",
            json!({"salesperson": "dina", "territory": "T-1", "kind": "sell_out", "outlet": "OUT-2", "at": T0, "lines": [{"sku": "TEA", "qty": 5, "amount": 25_000}]}),
        ),
        entry(
            "activities",
            json!({"salesperson": "dina", "territory": "T-1", "kind": "program", "at": T0}),
        ),
        entry(
            "order_submissions",
            json!({"territory": "T-1", "outlet": "OUT-2", "salesperson": "dina", "submitted_at": T0, "total": 10_000, "lines": [{"sku": "TEA", "qty": 2, "price": 5_000}]}),
        ),
    ];
    // Sent twice: the second time changes nothing.
    for _ in 0..2 {
        let out = push(s, &ani, cashier_changes.clone()).await;
        out.iter().for_each(accepted);
        let out = push(s, &dina, field_changes.clone()).await;
        accepted(&out[0]);
        accepted(&out[1]);
        assert_eq!(rejected(&out[2]).0, "missing_program");
        accepted(&out[3]);
    }
    let events = h
        .storage
        .query_text("SELECT event_type, CAST(COUNT(*) AS TEXT) FROM lapak_outbox GROUP BY event_type ORDER BY event_type")
        .await
        .unwrap();
    let events: Vec<(String, String)> = events
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .filter(|(t, _)| t.contains('.') && !t.ends_with(".updated"))
        .collect();
    let expect = [
        ("activity.submitted", "1"),
        ("attendance.marked", "1"),
        ("invoice.issued", "1"),
        ("order.created", "1"),
        ("return.processed", "1"),
        ("shift.closed", "1"),
        ("shift.opened", "1"),
        ("stock.adjusted", "1"),
        ("voucher.redeemed", "1"),
    ];
    assert_eq!(
        events,
        expect
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    );
}

async fn a_held_bill_edited_on_two_terminals_converges(h: Harness) {
    let s = h.storage.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let ani = cashier("JKT-01", "ani");
    let budi = cashier("JKT-01", "budi");
    let mut pos1 = business_device(dir.path(), "pos1", &["branch:JKT-01", "org"]);
    let mut pos2 = business_device(dir.path(), "pos2", &["branch:JKT-01", "org"]);
    let line = |sku: &str, qty: i64| {
        lapak_core::item! {"sku" => sku, "qty" => qty, "price" => 5_000, "discount" => 0}
    };
    let bill = pos1
        .create(
            "held_bills",
            lapak_core::record! {
                "branch" => "JKT-01", "terminal" => "POS-1", "cashier" => "ani", "note" => "customer went to the ATM",
                "lines" => lapak_core::Value::List(vec![line("TEA", 1)]),
            },
        )
        .unwrap();
    sync_storage(&mut pos1, s, &ani).await;
    sync_storage(&mut pos2, s, &budi).await;
    // Both terminals work on the bill at once, offline from each other.
    pos1.edit(
        "held_bills",
        &bill,
        vec![
            Edit::InsertItem {
                field: "lines".into(),
                index: 1,
                item: line("SOAP", 2),
            },
            Edit::UpdateItem {
                field: "lines".into(),
                index: 0,
                values: lapak_core::item! {"qty" => 3},
            },
        ],
    )
    .unwrap();
    pos2.edit(
        "held_bills",
        &bill,
        vec![
            Edit::InsertItem {
                field: "lines".into(),
                index: 1,
                item: line("RICE", 1),
            },
            Edit::UpdateItem {
                field: "lines".into(),
                index: 0,
                values: lapak_core::item! {"discount" => 500},
            },
            Edit::SpliceText {
                field: "note".into(),
                index: 0,
                delete: 0,
                insert: "back soon; ".into(),
            },
            Edit::Set {
                field: "terminal".into(),
                value: lapak_core::Value::Text("POS-2".into()),
            },
        ],
    )
    .unwrap();
    sync_storage(&mut pos1, s, &ani).await;
    sync_storage(&mut pos2, s, &budi).await;
    sync_storage(&mut pos1, s, &ani).await;
    let fields =
        |st: &lapak_core::Store| st.document_fields("held_bills", &bill).unwrap().unwrap().0;
    let (a, b) = (fields(&pos1), fields(&pos2));
    assert_eq!(a, b, "the terminals differ");
    let lines = a["lines"].as_list().unwrap();
    let skus: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| match &l["sku"] {
            lapak_core::Scalar::Text(t) => t.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(skus, ["RICE", "SOAP", "TEA"].into_iter().collect());
    let tea = lines
        .iter()
        .find(|l| l["sku"] == lapak_core::Scalar::Text("TEA".into()))
        .unwrap();
    assert_eq!(
        tea["qty"],
        lapak_core::Scalar::Int(3),
        "pos1's quantity was lost"
    );
    assert_eq!(
        tea["discount"],
        lapak_core::Scalar::Int(500),
        "pos2's discount was lost"
    );
    assert_eq!(
        a["note"],
        lapak_core::Value::Text("back soon; customer went to the ATM".into())
    );
    // The server's plain tables hold the merged bill.
    assert_eq!(
        count(
            &h.storage,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM held_bills_lines WHERE parent_id = '{bill}'"
            )
        )
        .await,
        3
    );
    let row = h
        .storage
        .query_text(&format!(
            "SELECT terminal, note FROM held_bills WHERE id = '{bill}'"
        ))
        .await
        .unwrap();
    assert_eq!(row[0][0].as_deref(), Some("POS-2"));
    assert_eq!(
        row[0][1].as_deref(),
        Some("back soon; customer went to the ATM")
    );
}

/// An invoice entry with the given lines `(sku, qty, price)`, total and cash payment, written
/// as is (no arithmetic in the test: the values may be past what an `i64` sum holds).
fn raw_invoice(
    lines: &[(&str, i64, i64)],
    total: i64,
    paid: &[i64],
) -> lapak_core::protocol::Change {
    entry(
        "sales_invoices",
        json!({
            "number": "INV-X", "branch": "JKT-01", "terminal": "POS-1", "sold_at": T0, "total": total,
            "lines": lines.iter().map(|(s, q, p)| json!({"sku": s, "qty": q, "price": p, "discount": 0, "tax": 0})).collect::<Vec<_>>(),
            "payments": paid.iter().map(|a| json!({"method": "cash", "amount": a})).collect::<Vec<_>>(),
        }),
    )
}

async fn rule_arithmetic_is_checked_and_bounded(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    push(s, &ani, vec![receipt("JKT-01", "TEA", 100)]).await;
    accepted(&push(s, &ani, vec![entry("shifts", json!({"branch": "JKT-01", "terminal": "POS-1", "kind": "open", "at": T0, "opening_cash": 0}))]).await[0]);
    let sale = invoice("JKT-01", T0, &[("TEA", 3, 5_000)]);
    let inv = sale.record_id.clone();
    accepted(&push(s, &ani, vec![sale]).await[0]);
    let big = 1_i64 << 62;
    // Two lines of 2^62 units (their sum wraps an i64 to below zero) and a refund of i64::MAX.
    let out = push(
        s,
        &ani,
        vec![
            sales_return("JKT-01", &inv, T0, &[("TEA", big), ("TEA", big)], i64::MAX),
            sales_return("JKT-01", &inv, T0, &[("TEA", 1)], i64::MAX),
            sales_return("JKT-01", &inv, T0, &[("TEA", 1)], -1),
        ],
    )
    .await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "quantity_out_of_range");
    assert!(message.contains(&MAX_QUANTITY.to_string()), "{message}");
    let (code, message) = rejected(&out[1]);
    assert_eq!(code, "amount_out_of_range");
    assert!(message.contains(&MAX_AMOUNT.to_string()), "{message}");
    assert_eq!(rejected(&out[2]).0, "amount_out_of_range");
    // Invoices whose qty × price, or whose sum of lines or payments, pass an i64.
    let out = push(
        s,
        &ani,
        vec![
            raw_invoice(&[("TEA", 4, big)], 0, &[0]),
            raw_invoice(&[("TEA", 1_000_000, MAX_AMOUNT)], MAX_AMOUNT, &[MAX_AMOUNT]),
            raw_invoice(&[("TEA", 1, 5_000)], 5_000, &[i64::MAX, i64::MAX, 5_002]),
            raw_invoice(
                &[("TEA", MAX_QUANTITY + 1, 1)],
                MAX_QUANTITY + 1,
                &[MAX_QUANTITY + 1],
            ),
        ],
    )
    .await;
    assert_eq!(rejected(&out[0]).0, "amount_out_of_range");
    assert_eq!(rejected(&out[1]).0, "total_mismatch");
    assert_eq!(rejected(&out[2]).0, "payment_mismatch");
    assert_eq!(rejected(&out[3]).0, "quantity_out_of_range");
    // Dues, stock and the drawer: out-of-range amounts and quantities change nothing.
    let out = push(
        s,
        &ani,
        vec![
            entry("credit_payments", json!({"branch": "JKT-01", "customer": "OUT-1", "amount": i64::MAX, "paid_at": T0})),
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "TEA", "kind": "adjustment", "qty": i64::MIN, "moved_at": T0})),
            entry("stock_movements", json!({"branch": "JKT-01", "sku": "TEA", "kind": "receipt", "qty": i64::MAX, "moved_at": T0})),
            entry("shifts", json!({"branch": "JKT-01", "terminal": "POS-1", "kind": "close", "at": T0, "counted_cash": i64::MIN})),
        ],
    )
    .await;
    assert_eq!(rejected(&out[0]).0, "amount_out_of_range");
    assert_eq!(rejected(&out[1]).0, "quantity_out_of_range");
    assert_eq!(rejected(&out[2]).0, "quantity_out_of_range");
    assert_eq!(rejected(&out[3]).0, "amount_out_of_range");
    assert_eq!(tally(&h, &format!("returned:{inv}/TEA")).await, 0);
    assert_eq!(tally(&h, &format!("refunded:{inv}")).await, 0);
    assert_eq!(tally(&h, "drawer:JKT-01/POS-1").await, 15_000);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 97);
    assert_eq!(tally(&h, "due:OUT-1").await, 0);
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM sales_returns"
        )
        .await,
        0
    );
}

/// BDG-01's wholesale customer, with a credit limit BDG-01's credit sales rely on.
async fn bandung_customer(s: &dyn Storage) {
    reference(
        s,
        "customers",
        &[(
            "OUT-B",
            json!({"name": "Toko Bandung", "branch": "BDG-01", "credit_limit": 50_000}),
        )],
    )
    .await;
}

async fn credit_acts_only_on_customers_of_the_writers_scopes(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    bandung_customer(s).await;
    let ani = cashier("JKT-01", "ani");
    push(s, &ani, vec![receipt("JKT-01", "TEA", 100)]).await;
    let out = push(
        s,
        &ani,
        vec![
            invoice_paid("JKT-01", T0, &[("TEA", 1, 5_000)], Some("OUT-B"), "credit"),
            invoice_paid("JKT-01", T0, &[("TEA", 1, 5_000)], Some("OUT-NOPE"), "credit"),
            entry("credit_payments", json!({"branch": "JKT-01", "customer": "OUT-B", "amount": 40_000, "paid_at": T0})),
            entry("credit_payments", json!({"branch": "JKT-01", "customer": "OUT-NOPE", "amount": 40_000, "paid_at": T0})),
        ],
    )
    .await;
    // Another branch's customer gets the very answer of one that does not exist.
    let (code, other) = rejected(&out[0]);
    assert_eq!(code, "unknown_customer");
    let (_, none) = rejected(&out[1]);
    assert_eq!(other.replace("OUT-B", "X"), none.replace("OUT-NOPE", "X"));
    assert!(
        other.contains("branch JKT-01") && !other.contains("BDG"),
        "{other}"
    );
    let (code, other) = rejected(&out[2]);
    assert_eq!(code, "unknown_customer");
    let (_, none) = rejected(&out[3]);
    assert_eq!(other.replace("OUT-B", "X"), none.replace("OUT-NOPE", "X"));
    // BDG-01's dues did not move, so its credit-limit check still holds.
    assert_eq!(tally(&h, "due:OUT-B").await, 0);
    let cici = cashier("BDG-01", "cici");
    push(s, &cici, vec![receipt("BDG-01", "TEA", 100)]).await;
    accepted(
        &push(
            s,
            &cici,
            vec![invoice_paid(
                "BDG-01",
                T0,
                &[("TEA", 2, 5_000)],
                Some("OUT-B"),
                "credit",
            )],
        )
        .await[0],
    );
    assert_eq!(tally(&h, "due:OUT-B").await, 10_000);
}

async fn returns_and_vouchers_reveal_nothing_of_another_branch(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    reference(
        s,
        "vouchers",
        &[
            ("V-B-OLD", json!({"campaign": "PAYDAY", "discount": 5_000, "expires_at": T0 - DAY, "redeem_at": "BDG-01", "verified": true})),
            ("V-B", json!({"campaign": "PAYDAY", "discount": 5_000, "expires_at": T0 + DAY, "redeem_at": "BDG-01", "verified": true})),
        ],
    )
    .await;
    let ani = cashier("JKT-01", "ani");
    let cici = cashier("BDG-01", "cici");
    push(s, &cici, vec![receipt("BDG-01", "TEA", 100)]).await;
    let sale = invoice("BDG-01", T0, &[("TEA", 3, 5_000)]);
    let inv = sale.record_id.clone();
    accepted(
        &push(
            s,
            &cici,
            vec![sale, redemption("V-B", "BDG-01", "POS-9", T0)],
        )
        .await[0],
    );
    // JKT-01 returns against BDG-01's invoice: to JKT-01 it is an invoice that has not come.
    let out = push_at(
        s,
        &ani,
        vec![
            sales_return("JKT-01", &inv, T0, &[("TEA", 1)], 5_000),
            sales_return("JKT-01", &inv, T0, &[("TEA", 9)], 5_000),
            sales_return("JKT-01", "INV-NOPE", T0, &[("TEA", 1)], 5_000),
        ],
        T0 + DAY,
    )
    .await;
    let reason = |o: &Outcome| match o {
        Outcome::Deferred { reason } => reason.clone(),
        other => panic!("expected a deferral, got {other:?}"),
    };
    let (a, b, none) = (reason(&out[0]), reason(&out[1]), reason(&out[2]));
    assert_eq!(a, b);
    assert_eq!(a.replace(&inv, "X"), none.replace("INV-NOPE", "X"));
    assert!(!a.contains("BDG") && !a.contains("sold"), "{a}");
    assert_eq!(tally(&h, &format!("returned:{inv}/TEA")).await, 0);
    assert_eq!(tally(&h, "stock:JKT-01/TEA").await, 0);
    // A writer of both branches may take the return back at JKT-01.
    let mut both = cashier("JKT-01", "dedi");
    both.grants.push(lapak_server::auth::Grant {
        scope: "branch:BDG-01".into(),
        write: true,
    });
    accepted(
        &push(
            s,
            &both,
            vec![sales_return("JKT-01", &inv, T0, &[("TEA", 1)], 5_000)],
        )
        .await[0],
    );
    // BDG-01's vouchers: expired, or redeemed by cici, are just unknown to JKT-01.
    let out = push(
        s,
        &ani,
        vec![
            redemption("V-B-OLD", "JKT-01", "POS-1", T0),
            redemption("V-B", "JKT-01", "POS-1", T0),
            redemption("V-NOPE", "JKT-01", "POS-1", T0),
        ],
    )
    .await;
    let (_, none) = rejected(&out[2]);
    for (o, code) in [(&out[0], "V-B-OLD"), (&out[1], "V-B")] {
        let (c, m) = rejected(o);
        assert_eq!(c, "unknown_voucher");
        assert_eq!(m.replace(code, "X"), none.replace("V-NOPE", "X"));
        assert!(
            !m.contains("BDG") && !m.contains("cici") && !m.contains("2026"),
            "{m}"
        );
    }
}

/// The pending changes of `device`, pushed as `who`.
async fn push_device(
    s: &dyn Storage,
    who: &Principal,
    device: &mut lapak_core::Store,
) -> Vec<Outcome> {
    let request = device.next_push(500).unwrap().unwrap();
    let plan = s.push(&common::ctx(), who, &request).await.unwrap();
    device.apply_push_response(&plan.response()).unwrap();
    plan.results.into_iter().map(|r| r.outcome).collect()
}

async fn an_outlet_profile_lives_only_in_its_outlets_scopes(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    reference(
        s,
        "territories",
        &[("T-2", json!({"name": "Dago", "branch": "BDG-01", "lat": -6.89, "lng": 107.61, "radius_m": 5000}))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let profile = |outlet: &str, territory: &str| {
        lapak_core::record! {"outlet" => outlet, "territory" => territory, "phone" => "0812"}
    };
    // Eko of T-2 tries to squat T-1's outlet OUT-1, and an outlet that does not exist.
    let eko = salesperson("T-2", "eko");
    let mut eko_phone = business_device(dir.path(), "eko", &["territory:T-2", "org"]);
    eko_phone
        .create_with_id("outlet_profiles", "OUT-1", profile("OUT-1", "T-2"))
        .unwrap();
    let out = push_device(s, &eko, &mut eko_phone).await;
    let (code, squat) = rejected(&out[0]);
    assert_eq!(code, "outlet_out_of_scope");
    eko_phone
        .create_with_id("outlet_profiles", "OUT-NOPE", profile("OUT-NOPE", "T-2"))
        .unwrap();
    let out = push_device(s, &eko, &mut eko_phone).await;
    let (code, none) = rejected(&out[0]);
    assert_eq!(code, "outlet_out_of_scope");
    assert_eq!(squat.replace("OUT-1", "X"), none.replace("OUT-NOPE", "X"));
    // A profile's id is its outlet's code.
    eko_phone
        .create_with_id("outlet_profiles", "P-1", profile("OUT-1", "T-2"))
        .unwrap();
    assert_eq!(
        rejected(&push_device(s, &eko, &mut eko_phone).await[0]).0,
        "outlet_mismatch"
    );
    // Dina of T-1 keeps OUT-1's profile; a writer of T-1 and BDG-01 cannot move it to BDG-01.
    let dina = salesperson("T-1", "dina");
    let mut dina_phone = business_device(dir.path(), "dina", &["territory:T-1", "org"]);
    dina_phone
        .create_with_id("outlet_profiles", "OUT-1", profile("OUT-1", "T-1"))
        .unwrap();
    accepted(&push_device(s, &dina, &mut dina_phone).await[0]);
    let mut sup = salesperson("T-1", "sup");
    sup.grants.push(lapak_server::auth::Grant {
        scope: "branch:BDG-01".into(),
        write: true,
    });
    let mut sup_phone = business_device(
        dir.path(),
        "sup",
        &["territory:T-1", "branch:BDG-01", "org"],
    );
    sync_storage(&mut sup_phone, s, &sup).await;
    sup_phone
        .edit(
            "outlet_profiles",
            "OUT-1",
            vec![Edit::Set {
                field: "branch".into(),
                value: lapak_core::Value::Text("BDG-01".into()),
            }],
        )
        .unwrap();
    let out = push_device(s, &sup, &mut sup_phone).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "outlet_out_of_scope");
    assert!(message.contains("branch:JKT-01"), "{message}");
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM outlet_profiles"
        )
        .await,
        1
    );
}

async fn a_return_whose_invoice_never_arrives_is_refused_after_the_deferral_limit(h: Harness) {
    let s = h.storage.as_ref();
    business(s).await;
    let ani = cashier("JKT-01", "ani");
    let ret = sales_return("JKT-01", "INV-LOST", T0, &[("TEA", 1)], 5_000);
    // Within the limit (by the server's clock, from the return's own time): deferred, saying until when.
    let out = push_at(s, &ani, vec![ret.clone()], T0 + DEFERRAL_LIMIT_MS).await;
    assert!(
        matches!(&out[0], Outcome::Deferred { reason } if reason.contains("2026-06-08 00:00 UTC")),
        "{out:?}"
    );
    // Past it: refused, with what to do, and the refusal is the change's verdict for good.
    let out = push_at(s, &ani, vec![ret.clone()], T0 + DEFERRAL_LIMIT_MS + 1).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "invoice_never_arrived");
    assert!(
        message.contains("7 days") && message.contains("record the return again"),
        "{message}"
    );
    let out = push_at(s, &ani, vec![ret], T0).await;
    assert_eq!(rejected(&out[0]).0, "invoice_never_arrived");
    // A return dated more than the limit ahead of the server's clock would wait for ever.
    let ahead = sales_return(
        "JKT-01",
        "INV-LOST",
        T0 + DEFERRAL_LIMIT_MS + 1,
        &[("TEA", 1)],
        5_000,
    );
    let out = push_at(s, &ani, vec![ahead], T0).await;
    let (code, message) = rejected(&out[0]);
    assert_eq!(code, "returned_at_in_future");
    assert!(message.contains("set the device's clock"), "{message}");
    let ahead = sales_return(
        "JKT-01",
        "INV-LOST",
        T0 + DEFERRAL_LIMIT_MS,
        &[("TEA", 1)],
        5_000,
    );
    assert!(matches!(
        &push_at(s, &ani, vec![ahead], T0).await[0],
        Outcome::Deferred { .. }
    ));
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM sales_returns"
        )
        .await,
        0
    );
}
