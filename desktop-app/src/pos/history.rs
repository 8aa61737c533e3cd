//! Receipts and the branch's invoices: what was sold, with the server's verdict on it and on
//! its voucher; found by id or by number.

use std::collections::BTreeMap;

use lapak_core::commerce::invoice;
use lapak_core::commerce::lines::Line;
use lapak_core::{Op, Query, Row, Store, Value, Verdict};

use super::catalog_reads::{self as reads, int, text};
use super::returns::returned_of;
use super::{Pos, Seat};
use crate::api::{
    ErrorCode, InvoiceSummary, PaymentMethod, Receipt, ReceiptLine, ServerVerdict, Tender,
    VoucherOutcome,
};
use crate::error::{Message, PosError, Result};

/// The page's form of a ledger verdict.
pub(super) fn verdict_of(v: Option<&Verdict>) -> ServerVerdict {
    match v {
        Some(Verdict::Accepted { .. }) => ServerVerdict::Accepted,
        Some(Verdict::Rejected { code, message }) => ServerVerdict::Rejected {
            code: code.clone(),
            message: message.clone(),
        },
        Some(Verdict::Pending) | None => ServerVerdict::Pending,
    }
}

fn method_of(m: &str) -> PaymentMethod {
    match m {
        "card" => PaymentMethod::Card,
        "qris" => PaymentMethod::Qris,
        "transfer" => PaymentMethod::Transfer,
        "ewallet" => PaymentMethod::Ewallet,
        "credit" => PaymentMethod::Credit,
        _ => PaymentMethod::Cash,
    }
}

/// An invoice of the branch by id or number.
pub(super) fn find_invoice(store: &Store, seat: &Seat, key: &str) -> Result<Row> {
    let key = key.trim();
    let by_id = store.get("sales_invoices", key)?;
    let found = match by_id {
        Some(r) => Some(r),
        None => store
            .query("sales_invoices", &Query::new().eq("number", key).limit(1))?
            .pop(),
    };
    found
        .filter(|r| text(r, "branch") == seat.branch)
        .ok_or_else(|| {
            PosError::refused(
                ErrorCode::NotFound,
                Message::new(
                    format!(
                        "no invoice `{key}` at branch {}: check the number on the receipt",
                        seat.branch
                    ),
                    format!(
                        "tidak ada faktur `{key}` di cabang {}: periksa nomor di struk",
                        seat.branch
                    ),
                ),
            )
        })
}

fn item_name(store: &Store, sku: &str) -> lapak_core::Result<String> {
    Ok(store
        .get("items", sku)?
        .map(|r| text(&r, "name").to_owned())
        .unwrap_or_else(|| sku.to_owned()))
}

/// A recorded line as the receipt shows it, with its item's name.
pub(super) fn receipt_line(store: &Store, l: &Line) -> lapak_core::Result<ReceiptLine> {
    Ok(ReceiptLine {
        name: item_name(store, &l.sku)?,
        total: i64::try_from(l.total()).unwrap_or(i64::MAX),
        sku: l.sku.clone(),
        qty: l.qty,
        price: l.price,
        discount: l.discount,
        tax: l.tax,
        returned: 0,
    })
}

/// Spreads what came back by earlier returns (per item) over the invoice's lines, in order.
fn mark_returned(lines: &mut [ReceiptLine], mut back: BTreeMap<String, i64>) {
    for line in lines {
        if let Some(left) = back.get_mut(&line.sku) {
            line.returned = (*left).min(line.qty).max(0);
            *left -= line.returned;
        }
    }
}

/// The name of customer `code`, when the terminal holds the customer.
fn customer_name(store: &Store, code: &str) -> lapak_core::Result<Option<String>> {
    if code.is_empty() {
        return Ok(None);
    }
    Ok(store
        .get("customers", code)?
        .map(|c| text(&c, "name").to_owned())
        .filter(|n| !n.is_empty()))
}

fn receipt_of(store: &Store, seat: &Seat, row: &Row) -> Result<Receipt> {
    let mut lines = reads::lines(row, "lines")
        .iter()
        .map(|l| receipt_line(store, l))
        .collect::<lapak_core::Result<Vec<_>>>()?;
    mark_returned(&mut lines, returned_of(store, &row.id)?);
    let number = text(row, "number").to_owned();
    let payments = reads::payments(row);
    let voucher = store
        .query(
            "voucher_redemptions",
            &Query::new().eq("invoice", number.as_str()).limit(1),
        )?
        .pop()
        .map(|r| {
            let code = text(&r, "voucher").to_owned();
            let discount = store
                .get("vouchers", &code)
                .ok()
                .flatten()
                .and_then(|v| int(&v, "discount"))
                .unwrap_or(0);
            VoucherOutcome {
                code,
                discount,
                verdict: verdict_of(r.verdict.as_ref()),
            }
        });
    let refunded = store
        .query(
            "sales_returns",
            &Query::new().eq("invoice", row.id.as_str()),
        )?
        .iter()
        .filter(|r| !matches!(r.verdict, Some(Verdict::Rejected { .. })))
        .filter_map(|r| int(r, "refund"))
        .sum();
    let branch_name = store
        .get("branches", &seat.branch)?
        .map(|b| text(&b, "name").to_owned())
        .unwrap_or_default();
    Ok(Receipt {
        id: row.id.clone(),
        number,
        branch: text(row, "branch").to_owned(),
        branch_name,
        terminal: text(row, "terminal").to_owned(),
        cashier: reads::staff_name(store, text(row, "cashier"))?,
        customer: Some(text(row, "customer").to_owned()).filter(|c| !c.is_empty()),
        customer_name: customer_name(store, text(row, "customer"))?,
        sold_at: int(row, "sold_at").unwrap_or(0),
        subtotal: lines.iter().map(|l| l.qty * l.price).sum(),
        discount: lines.iter().map(|l| l.discount).sum(),
        tax: lines.iter().map(|l| l.tax).sum(),
        total: int(row, "total").unwrap_or(0),
        payments: payments
            .iter()
            .map(|p| Tender {
                method: method_of(&p.method),
                amount: p.amount,
            })
            .collect(),
        cash_tendered: int(row, "cash_tendered").unwrap_or_else(|| {
            payments
                .iter()
                .filter(|p| p.method == "cash")
                .map(|p| p.amount)
                .sum()
        }),
        change: invoice::change_given(&row.fields),
        voucher,
        verdict: verdict_of(row.verdict.as_ref()),
        refunded,
        lines,
    })
}

/// The branch's newest invoices, at most `limit`; with `text`, those whose number or customer
/// code contains it.
fn invoices_matching(
    store: &Store,
    branch: &str,
    text: Option<&str>,
    limit: usize,
) -> lapak_core::Result<Vec<Row>> {
    let newest = |field: Option<(&str, &str)>| {
        let mut q = Query::new().eq("branch", branch);
        if let Some((field, text)) = field {
            q = q.filter(field, Op::Like, format!("%{}%", reads::like_word(text)));
        }
        store.query(
            "sales_invoices",
            &q.order_by("sold_at", true).limit(limit as u64),
        )
    };
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return newest(None);
    };
    let mut rows = newest(Some(("number", text)))?;
    rows.extend(newest(Some(("customer", text)))?);
    rows.sort_by(|a, b| (int(b, "sold_at"), &b.id).cmp(&(int(a, "sold_at"), &a.id)));
    rows.dedup_by(|a, b| a.id == b.id);
    rows.truncate(limit);
    Ok(rows)
}

impl Pos {
    /// The receipt of an invoice of this branch, by id or number.
    ///
    /// # Errors
    /// `not_found`.
    pub async fn receipt(&self, invoice: &str) -> Result<Receipt> {
        let seat = self.terminal().await?;
        let invoice = invoice.to_owned();
        self.client
            .with_store(move |store| {
                Ok(find_invoice(store, &seat, &invoice).and_then(|r| receipt_of(store, &seat, &r)))
            })
            .await?
    }

    /// The branch's invoices, newest first, whose number or customer contains `query`.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn history(
        &self,
        query: Option<String>,
        limit: usize,
    ) -> Result<Vec<InvoiceSummary>> {
        let seat = self.terminal().await?;
        self.client
            .with_store(move |store| {
                let rows = invoices_matching(store, &seat.branch, query.as_deref(), limit)?;
                Ok(rows
                    .iter()
                    .map(|r| InvoiceSummary {
                        id: r.id.clone(),
                        number: text(r, "number").to_owned(),
                        terminal: text(r, "terminal").to_owned(),
                        sold_at: int(r, "sold_at").unwrap_or(0),
                        total: int(r, "total").unwrap_or(0),
                        customer: r
                            .fields
                            .get("customer")
                            .and_then(Value::as_text)
                            .map(str::to_owned),
                        verdict: verdict_of(r.verdict.as_ref()),
                    })
                    .collect())
            })
            .await
            .map_err(PosError::from)
    }
}

#[cfg(test)]
mod tests {
    use lapak_core::{Store, Value, catalog, record};

    use super::invoices_matching;

    #[test]
    fn history_finds_invoices_by_number_or_customer_newest_first() {
        let mut store = Store::open_in_memory(catalog::business()).unwrap();
        store.set_scopes(&["branch:JKT-01".into()]).unwrap();
        for (n, customer, at) in [(1, "X-0001", 10), (2, "", 30), (3, "OUT-1", 20)] {
            let mut r = record! {
                "number" => format!("JKT-01/POS-1/261201/000{n}"), "branch" => "JKT-01",
                "sold_at" => at, "total" => 0,
            };
            if !customer.is_empty() {
                r.insert("customer".into(), Value::Text(customer.into()));
            }
            store.append("sales_invoices", r).unwrap();
        }
        let numbers = |text: Option<&str>, limit| -> Vec<String> {
            invoices_matching(&store, "JKT-01", text, limit)
                .unwrap()
                .iter()
                .map(|r| r.fields["number"].as_text().unwrap()[20..].to_owned())
                .collect()
        };
        assert_eq!(numbers(None, 10), ["0002", "0003", "0001"]);
        assert_eq!(numbers(Some("0003"), 10), ["0003"]);
        assert_eq!(numbers(Some("OUT-"), 10), ["0003"]);
        assert_eq!(numbers(Some("X-"), 10), ["0001"]);
        // A text matching both the number and the customer of one invoice lists it once.
        assert_eq!(numbers(Some("0001"), 10), ["0001"]);
        assert_eq!(numbers(None, 1), ["0002"]);
        assert!(numbers(Some("BDG"), 10).is_empty());
    }
}
