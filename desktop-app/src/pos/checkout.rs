//! Checkout: the cart's bill settled with the tenders taken, numbered, checked with the
//! server's own invoice check, and committed with its voucher redemption and the removal of
//! the held bill it came from in one local transaction (`Client::write_batch`): a crash leaves
//! all three or none.

use lapak_core::commerce::invoice::{self, InvoiceHeader};
use lapak_core::commerce::numbering::InvoiceNumber;
use lapak_core::commerce::payment::{Payment, settle};
use lapak_core::{Op, Query, Record, StoreWrite, Value};

use super::{Pos, Seat, local_offset_s, now_ms, shift};
use crate::api::{ErrorCode, PaymentMethod, Receipt, Tender};
use crate::error::{Message, PosError, Result};

/// The wire name of a payment method.
pub(super) fn method_name(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "cash",
        PaymentMethod::Card => "card",
        PaymentMethod::Qris => "qris",
        PaymentMethod::Transfer => "transfer",
        PaymentMethod::Ewallet => "ewallet",
        PaymentMethod::Credit => "credit",
    }
}

/// The next number of this terminal's local day. Sequence numbers are zero-padded to four
/// digits, so the greatest of them is the last in text order: one seek in the `number` index,
/// however long the day. Past 9,999 the width grows and text order no longer follows the
/// sequence; then every number of the day is read.
fn next_number(store: &lapak_core::Store, seat: &Seat, at: i64) -> lapak_core::Result<String> {
    let day = InvoiceNumber::day_of(at, local_offset_s());
    let prefix = InvoiceNumber::day_prefix(&seat.branch, &seat.terminal, &day);
    // Every number of the day sorts between `prefix` and `prefix` followed by U+FFFF.
    let of_the_day = Query::new()
        .filter("number", Op::Ge, prefix.as_str())
        .filter("number", Op::Lt, format!("{prefix}\u{ffff}"));
    let last = store.query(
        "sales_invoices",
        &of_the_day.clone().order_by("number", true).limit(1),
    )?;
    let numbers_of = |rows: &[lapak_core::Row]| -> Vec<String> {
        rows.iter()
            .filter_map(|r| r.fields.get("number").and_then(Value::as_text))
            .map(str::to_owned)
            .collect()
    };
    let mut numbers = numbers_of(&last);
    if numbers.iter().any(|n| n.ends_with("/9999")) {
        numbers = numbers_of(&store.query("sales_invoices", &of_the_day)?);
    }
    Ok(InvoiceNumber::next(
        &seat.branch,
        &seat.terminal,
        &day,
        numbers.iter().map(String::as_str),
    )
    .to_string())
}

/// What checkout commits, and what the receipt shows of the tenders.
struct Prepared {
    writes: Vec<StoreWrite>,
    cash_tendered: i64,
    change: i64,
}

impl Pos {
    /// Pays the cart with `tenders` and answers its receipt.
    ///
    /// # Errors
    /// `no_shift`, `empty_cart`, `payment` (tenders that do not settle the bill), `credit`
    /// (credit without a customer), `voucher` (no longer redeemable here); nothing is written.
    pub async fn checkout(&self, tenders: Vec<Tender>) -> Result<Receipt> {
        let seat = self.terminal().await?;
        let mut state = self.state.lock().await;
        let cart = state.cart.clone();
        // Numbering, checking and writing under one store lock: the number is the next one
        // when it is written.
        let (invoice, cash_tendered, change) = self
            .client
            .write_with(move |store| {
                Ok(prepare(store, &seat, &cart, &tenders).and_then(|p| {
                    let ids = store.write_batch(p.writes)?;
                    Ok((ids[0].clone(), p.cash_tendered, p.change))
                }))
            })
            .await??;
        state.cart = super::CartState::default();
        drop(state);
        let mut receipt = self.receipt(&invoice).await?;
        receipt.cash_tendered = cash_tendered;
        receipt.change = change;
        Ok(receipt)
    }
}

fn prepare(
    store: &lapak_core::Store,
    seat: &Seat,
    cart: &super::CartState,
    tenders: &[Tender],
) -> Result<Prepared> {
    let Some(open) = shift::open_shift(store, seat)? else {
        return Err(PosError::refused(
            ErrorCode::NoShift,
            Message::new(
                "open the shift before selling",
                "buka shift sebelum berjualan",
            ),
        ));
    };
    let at = now_ms();
    let priced = cart.price(store, &seat.branch, at)?;
    if priced.lines.is_empty() {
        return Err(PosError::refused(
            ErrorCode::EmptyCart,
            Message::new("the cart is empty", "keranjang masih kosong"),
        ));
    }
    if tenders.iter().any(|t| t.method == PaymentMethod::Credit) && cart.customer.is_none() {
        return Err(PosError::refused(
            ErrorCode::Credit,
            Message::new(
                "a credit sale needs a customer: pick the customer first",
                "penjualan kredit perlu pelanggan: pilih pelanggannya dulu",
            ),
        ));
    }
    let payments: Vec<Payment> = tenders
        .iter()
        .map(|t| Payment::new(method_name(t.method), t.amount))
        .collect();
    let settled = settle(priced.bill.total, &payments).map_err(PosError::from_refusal)?;
    if let Some(code) = &cart.voucher {
        super::cart::precheck_voucher(store, seat, code)?;
    }
    let header = InvoiceHeader {
        number: next_number(store, seat, at)?,
        branch: seat.branch.clone(),
        terminal: seat.terminal.clone(),
        shift: open.id,
        cashier: seat.cashier.clone(),
        customer: cart.customer.clone(),
        sold_at: at,
    };
    let record = invoice::record(&header, &priced.bill, &settled);
    invoice::check(&record).map_err(PosError::from_refusal)?;
    let mut writes = vec![StoreWrite::append("sales_invoices", record)];
    if let Some(code) = &cart.voucher {
        let mut r = Record::new();
        for (k, v) in [
            ("voucher", code.as_str()),
            ("branch", &seat.branch),
            ("terminal", &seat.terminal),
            ("cashier", &seat.cashier),
            ("invoice", &header.number),
        ] {
            r.insert(k.into(), Value::Text(v.to_owned()));
        }
        r.insert("redeemed_at".into(), Value::Int(at));
        writes.push(StoreWrite::append("voucher_redemptions", r));
    }
    if let Some(id) = &cart.held {
        writes.push(StoreWrite::delete("held_bills", id.clone()));
    }
    Ok(Prepared {
        writes,
        cash_tendered: settled.cash_tendered,
        change: settled.change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapak_core::{Store, catalog};

    fn invoice(number: &str, at: i64) -> Record {
        let mut r = Record::new();
        r.insert("number".into(), Value::Text(number.into()));
        r.insert("branch".into(), Value::Text("JKT-01".into()));
        r.insert("sold_at".into(), Value::Int(at));
        r.insert("total".into(), Value::Int(1));
        r
    }

    #[test]
    fn numbers_follow_the_days_greatest_even_past_four_digits() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("s.sqlite3"), catalog::business()).unwrap();
        let seat = Seat {
            branch: "JKT-01".into(),
            terminal: "POS-1".into(),
            cashier: "c".into(),
        };
        let at = now_ms();
        let day = InvoiceNumber::day_of(at, local_offset_s());
        let number = |seq: &str| format!("JKT-01/POS-1/{day}/{seq}");
        assert_eq!(next_number(&store, &seat, at).unwrap(), number("0001"));
        // Another terminal's and another day's numbers do not count.
        store
            .append("sales_invoices", invoice("JKT-01/POS-2/000101/0500", at))
            .unwrap();
        store
            .append("sales_invoices", invoice("JKT-01/POS-1/000101/0700", at))
            .unwrap();
        for seq in ["0002", "0007", "0003"] {
            store
                .append("sales_invoices", invoice(&number(seq), at))
                .unwrap();
        }
        assert_eq!(next_number(&store, &seat, at).unwrap(), number("0008"));
        for seq in ["9999", "10000", "10001"] {
            store
                .append("sales_invoices", invoice(&number(seq), at))
                .unwrap();
        }
        assert_eq!(next_number(&store, &seat, at).unwrap(), number("10002"));
    }
}
