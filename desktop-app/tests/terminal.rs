//! Two POS terminals of one branch (`pos::Pos`, each with its own directory and store)
//! against a real `lapak-server` on port 0 with the small demo business: shift, scanning,
//! holding on one terminal and resuming on the other, editing the held bill on both at once,
//! a stale line refused, checkout with a voucher and split tenders, a return on the other
//! terminal, closing the shift. The server ends with each fact once and a balanced drawer.

#[path = "../../client-sdk/tests/common/mod.rs"]
mod common;

use common::{Catalog, Env, PASSWORD};
use lapak_desktop::Pos;
use lapak_desktop::api::{
    CartIntent, ErrorCode, PaymentMethod, Phase, ReturnLineRequest, ServerVerdict, ShiftIntent,
    Tender,
};
use lapak_desktop::error::PosError;

async fn terminal(env: &Env, user: &str, code: &str) -> Pos {
    let pos = Pos::open(&env.dir.path().join(code), false).await.unwrap();
    let state = pos.sign_in(&env.base, user, PASSWORD).await.unwrap();
    assert_eq!(state.phase, Phase::PickTerminal);
    assert_eq!(
        state.branches[0].code, "JKT-01",
        "the staff row's branch first"
    );
    let state = pos.pick_terminal("JKT-01", code).await.unwrap();
    assert_eq!(state.phase, Phase::Ready);
    pos.shift(ShiftIntent::Open {
        opening_cash: 200_000,
    })
    .await
    .unwrap();
    pos
}

fn code_of(e: PosError) -> ErrorCode {
    e.to_command_error(lapak_desktop::api::Locale::En).code
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn two_terminals_sell_hold_merge_and_pay_exactly_once() {
    let env = Env::sqlite_with(Catalog::Business).await;
    let voucher = env.seed_small().await;
    let pos1 = terminal(&env, "c-jkt01-1", "POS-1").await;
    let pos2 = terminal(&env, "c-jkt01-2", "POS-2").await;

    // Two priced items with stock, found by search as a cashier would.
    let hits = pos1.search_items("SKU".into(), Some(5)).await.unwrap();
    let priced: Vec<_> = hits.iter().filter(|h| h.price.is_some()).collect();
    assert!(priced.len() >= 2, "{hits:?}");
    let (a, b) = (priced[0].clone(), priced[1].clone());
    assert!(a.stock.is_some_and(|s| s > 3), "delivered stock: {a:?}");

    // POS-1 scans A twice (by barcode when it has one) and holds the bill.
    let scan = a.barcode.clone().unwrap_or_else(|| a.sku.clone());
    pos1.cart(CartIntent::Scan { code: scan.clone() })
        .await
        .unwrap();
    let cart = pos1.cart(CartIntent::Scan { code: scan }).await.unwrap();
    assert_eq!(cart.lines[0].qty, 2);
    assert_eq!(cart.total, cart.lines[0].amount + cart.tax);
    let held = pos1.hold(Some("meja 4".into())).await.unwrap();
    assert!(pos1.cart(CartIntent::Show).await.unwrap().lines.is_empty());
    pos1.sync_now().await.unwrap();
    pos2.sync_now().await.unwrap();

    // Both terminals resume it and edit it at once: POS-1 adds B, POS-2 sets A's quantity.
    let bills = pos2.held_bills().await.unwrap();
    assert_eq!(bills.iter().map(|b| &b.id).collect::<Vec<_>>(), [&held.id]);
    let name = env
        .storage()
        .query_text("SELECT name FROM staff WHERE id = 'c-jkt01-1'")
        .await
        .unwrap()[0][0]
        .clone()
        .unwrap();
    assert_eq!(
        bills[0].cashier, name,
        "the cashier's name, not their login"
    );
    pos2.resume(&held.id).await.unwrap();
    pos1.resume(&held.id).await.unwrap();
    pos1.cart(CartIntent::Add {
        sku: b.sku.clone(),
        qty: Some(1),
    })
    .await
    .unwrap();
    pos2.cart(CartIntent::SetQty {
        line: 0,
        sku: a.sku.clone(),
        qty: 3,
    })
    .await
    .unwrap();
    for p in [&pos1, &pos2, &pos1] {
        p.sync_now().await.unwrap();
    }
    let one = pos1.cart(CartIntent::Show).await.unwrap();
    let two = pos2.cart(CartIntent::Show).await.unwrap();
    let lines = |c: &lapak_desktop::api::CartView| {
        c.lines
            .iter()
            .map(|l| (l.sku.clone(), l.qty))
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&one), [(a.sku.clone(), 3), (b.sku.clone(), 1)]);
    assert_eq!(lines(&one), lines(&two));
    assert_eq!(one.total, two.total);

    // A line the page showed as A but is now B is refused, and changes nothing.
    let stale = pos1
        .cart(CartIntent::SetQty {
            line: 1,
            sku: a.sku.clone(),
            qty: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(code_of(stale), ErrorCode::StaleCart);
    assert_eq!(
        lines(&pos1.cart(CartIntent::Show).await.unwrap()),
        lines(&one)
    );

    // A code no item has is refused, and the cart is still the held bill.
    let unknown = pos1
        .cart(CartIntent::Scan {
            code: "0000000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(code_of(unknown), ErrorCode::NotFound);
    let still = pos1.cart(CartIntent::Show).await.unwrap();
    assert_eq!(still.held_bill.as_deref(), Some(held.id.as_str()));
    assert_eq!(lines(&still), lines(&one));

    // POS-2 takes the voucher and a split payment: card, then cash past what is due.
    let cart = pos2
        .cart(CartIntent::Voucher {
            code: Some(voucher.clone()),
        })
        .await
        .unwrap();
    assert!(cart.voucher_discount > 0 && cart.total < two.total);
    let card = cart.total / 2;
    let receipt = pos2
        .checkout(vec![
            Tender {
                method: PaymentMethod::Card,
                amount: card,
            },
            Tender {
                method: PaymentMethod::Cash,
                amount: cart.total - card + 10_000,
            },
        ])
        .await
        .unwrap();
    assert_eq!(receipt.change, 10_000);
    assert_eq!(receipt.total, cart.total);
    assert!(
        receipt.number.starts_with("JKT-01/POS-2/"),
        "{}",
        receipt.number
    );
    assert!(receipt.number.ends_with("/0001"), "{}", receipt.number);
    assert!(
        pos2.held_bills().await.unwrap().is_empty(),
        "removed with the sale"
    );
    // The voucher is spent as far as this terminal knows.
    let again = pos2
        .cart(CartIntent::Voucher {
            code: Some(voucher.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(code_of(again), ErrorCode::Voucher);

    for p in [&pos2, &pos1, &pos2] {
        p.sync_now().await.unwrap();
    }
    let receipt = pos2.receipt(&receipt.number).await.unwrap();
    assert_eq!(receipt.verdict, ServerVerdict::Accepted);
    assert_eq!(receipt.change, 10_000, "a reprint shows the change given");
    assert_eq!(
        receipt.voucher.as_ref().map(|v| v.verdict.clone()),
        Some(ServerVerdict::Accepted)
    );
    // The held bill POS-1 was editing was paid: its cart empties.
    let gone = pos1.cart(CartIntent::Show).await.unwrap_err();
    assert_eq!(code_of(gone), ErrorCode::HeldBillGone);
    assert!(pos1.cart(CartIntent::Show).await.unwrap().lines.is_empty());

    // POS-1 takes one A back against POS-2's invoice, found by its number.
    let back = pos1
        .return_items(
            &receipt.number,
            vec![ReturnLineRequest {
                sku: a.sku.clone(),
                qty: 1,
            }],
            Some("rusak".into()),
        )
        .await
        .unwrap();
    let a_line = receipt.lines.iter().find(|l| l.sku == a.sku).unwrap();
    assert_eq!(back.refund, a_line.total / a_line.qty);
    let too_many = pos1
        .return_items(
            &receipt.number,
            vec![ReturnLineRequest {
                sku: a.sku.clone(),
                qty: 3,
            }],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(too_many), ErrorCode::Return);
    // The receipt now shows what came back, on A's line only.
    let after = pos1.receipt(&receipt.number).await.unwrap();
    let returned: Vec<_> = after
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.returned))
        .collect();
    assert_eq!(returned, [(a.sku.clone(), 1), (b.sku.clone(), 0)]);

    // Both close their shift counting what the drawer should hold.
    let s2 = pos2
        .shift(ShiftIntent::Show)
        .await
        .unwrap()
        .current
        .unwrap();
    assert_eq!(s2.expected_cash, 200_000 + cart.total - card);
    let s1 = pos1
        .shift(ShiftIntent::Show)
        .await
        .unwrap()
        .current
        .unwrap();
    assert_eq!(s1.expected_cash, 200_000 - back.refund);
    for (p, s) in [(&pos1, &s1), (&pos2, &s2)] {
        let closed = p
            .shift(ShiftIntent::Close {
                counted_cash: s.expected_cash,
            })
            .await
            .unwrap();
        assert_eq!(closed.last_closed.unwrap().difference, Some(0));
        p.sync_now().await.unwrap();
    }

    // The server holds each fact once, everything accepted, the drawers balanced.
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM sales_invoices")
            .await,
        1
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM voucher_redemptions")
            .await,
        1
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM sales_returns")
            .await,
        1
    );
    assert_eq!(
        env.count("SELECT CAST(count(*) AS TEXT) FROM held_bills")
            .await,
        0
    );
    assert_eq!(
        env.count(
            "SELECT CAST(count(*) AS TEXT) FROM lapak_exceptions WHERE kind = 'cash_discrepancy'"
        )
        .await,
        0
    );
    assert!(pos1.rejections().await.unwrap().is_empty());
    assert!(pos2.rejections().await.unwrap().is_empty());
    // POS-1's stock estimate of A, after syncing, is the server's count.
    let now = pos1.search_items(a.sku.clone(), Some(1)).await.unwrap();
    assert_eq!(now[0].stock, Some(a.stock.unwrap() - 3 + 1));
    pos1.shutdown().await;
    pos2.shutdown().await;
}
