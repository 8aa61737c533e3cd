//! Returns against an invoice of the branch: partial quantities, never more than was sold net
//! of earlier returns, refunded in cash at the line's price after its discounts and with its
//! tax (per unit, rounded down, so refunds never add up to more than was paid).

use std::collections::BTreeMap;

use lapak_core::commerce::lines::{Line, qty_by_sku};
use lapak_core::{Item, Query, Record, Scalar, Store, Value, Verdict};

use super::catalog_reads::{self as reads, text};
use super::history::{find_invoice, receipt_line};
use super::{Pos, Seat, now_ms, shift};
use crate::api::{ErrorCode, ReceiptLine, ReturnLineRequest, ReturnReceipt};
use crate::error::{Message, PosError, Result};

/// What `qty` units of `sku` refund: each sold line's total per unit, rounded down.
fn refund_for(sold: &[Line], sku: &str, mut qty: i64) -> i64 {
    let mut refund = 0_i128;
    for l in sold.iter().filter(|l| l.sku == sku && l.qty > 0) {
        let take = qty.min(l.qty);
        refund += l.total() * i128::from(take) / i128::from(l.qty);
        qty -= take;
        if qty == 0 {
            break;
        }
    }
    i64::try_from(refund).unwrap_or(0)
}

/// The return entry of `wanted` against `invoice`, checked against what it sold and what came
/// back before: the entry, the invoice's number, and the lines as the receipt shows them.
fn prepare(
    store: &Store,
    seat: &Seat,
    invoice: &str,
    wanted: &[ReturnLineRequest],
    reason: Option<String>,
) -> Result<(Record, String, Vec<ReceiptLine>)> {
    let Some(open) = shift::open_shift(store, seat)? else {
        return Err(PosError::refused(
            ErrorCode::NoShift,
            Message::new("open the shift first", "buka shift dulu"),
        ));
    };
    let inv = find_invoice(store, seat, invoice)?;
    let number = text(&inv, "number").to_owned();
    let sold = reads::lines(&inv, "lines");
    let sold_by = qty_by_sku(&sold);
    let returned = returned_of(store, &inv.id)?;
    let wanted: Vec<Line> = wanted
        .iter()
        .filter(|l| l.qty > 0)
        .map(|l| Line {
            sku: l.sku.clone(),
            qty: l.qty,
            ..Line::default()
        })
        .collect();
    if wanted.is_empty() {
        return Err(PosError::refused(
            ErrorCode::Return,
            Message::new(
                "choose what comes back: a quantity above zero",
                "pilih barang yang kembali: jumlah di atas nol",
            ),
        ));
    }
    let mut back = Vec::new();
    let mut refund = 0;
    for (sku, qty) in qty_by_sku(&wanted) {
        let had = sold_by.get(sku).copied().unwrap_or(0);
        let before = i128::from(returned.get(sku).copied().unwrap_or(0));
        if qty + before > had {
            return Err(PosError::refused(
                ErrorCode::Return,
                Message::new(
                    format!(
                        "invoice {number} sold {had} of {sku} and {before} came back already: at most {} more",
                        (had - before).max(0)
                    ),
                    format!(
                        "faktur {number} menjual {had} {sku} dan {before} sudah kembali: paling banyak {} lagi",
                        (had - before).max(0)
                    ),
                ),
            ));
        }
        let qty = i64::try_from(qty).unwrap_or(0);
        let line_refund = refund_for(&sold, sku, qty);
        refund += line_refund;
        back.push(Line {
            sku: sku.to_owned(),
            qty,
            price: line_refund / qty.max(1),
            ..Line::default()
        });
    }
    let mut r = Record::new();
    for (k, v) in [
        ("branch", seat.branch.as_str()),
        ("invoice", inv.id.as_str()),
        ("terminal", &seat.terminal),
        ("shift", &open.id),
        ("cashier", &seat.cashier),
    ] {
        r.insert(k.into(), Value::Text(v.to_owned()));
    }
    if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
        r.insert("reason".into(), Value::Text(reason));
    }
    r.insert("returned_at".into(), Value::Int(now_ms()));
    r.insert("refund".into(), Value::Int(refund));
    r.insert(
        "lines".into(),
        Value::List(back.iter().map(return_item).collect()),
    );
    let shown = back
        .iter()
        .map(|l| receipt_line(store, l))
        .collect::<lapak_core::Result<Vec<_>>>()?;
    Ok((r, number, shown))
}

/// A return line as recorded: item, quantity, and the refund per unit as its price.
fn return_item(l: &Line) -> Item {
    let mut item = Item::new();
    item.insert("sku".into(), Scalar::Text(l.sku.clone()));
    item.insert("qty".into(), Scalar::Int(l.qty));
    item.insert("price".into(), Scalar::Int(l.price));
    item
}

impl Pos {
    /// Records a return of `lines` against `invoice` with its cash refund.
    ///
    /// # Errors
    /// `no_shift`, `not_found` (invoice), `return` (more than sold net of earlier returns).
    pub async fn return_items(
        &self,
        invoice: &str,
        lines: Vec<ReturnLineRequest>,
        reason: Option<String>,
    ) -> Result<ReturnReceipt> {
        let seat = self.terminal().await?;
        let invoice = invoice.to_owned();
        self.client
            .write_with(move |store| {
                Ok(prepare(store, &seat, &invoice, &lines, reason).and_then(
                    |(entry, invoice_number, lines)| {
                        let refund = entry.get("refund").and_then(Value::as_int).unwrap_or(0);
                        let id = store.append("sales_returns", entry)?;
                        Ok(ReturnReceipt {
                            id,
                            invoice_number,
                            refund,
                            lines,
                        })
                    },
                ))
            })
            .await?
    }
}

/// Units of each item already returned against an invoice (refused returns do not count).
/// What came back by the returns against `invoice` that the server did not reject, per item.
pub(super) fn returned_of(
    store: &Store,
    invoice: &str,
) -> lapak_core::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for r in store.query("sales_returns", &Query::new().eq("invoice", invoice))? {
        if matches!(r.verdict, Some(Verdict::Rejected { .. })) {
            continue;
        }
        for l in reads::lines(&r, "lines") {
            *out.entry(l.sku).or_insert(0) += l.qty;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunds_follow_the_lines_net_and_never_exceed_it() {
        let sold = vec![Line {
            sku: "A".into(),
            qty: 3,
            price: 1_000,
            discount: 100,
            tax: 319,
        }];
        // The line came to 3,219 for 3 units: one back refunds 1,073.
        assert_eq!(refund_for(&sold, "A", 1), 1_073);
        assert_eq!(refund_for(&sold, "A", 3), 3_219);
        assert_eq!(refund_for(&sold, "B", 1), 0);
    }
}
