//! Reads of the terminal's store that selling needs, run inside one store lock each: items by
//! code or by search, the price in force on a list, the local stock estimate, customers with
//! their dues, vouchers.
//!
//! Stock and dues are server-derived rows (`stock_levels`, `customer_dues`) as of the last sync;
//! the estimate adds what this terminal did since that the server has not counted yet (its
//! pending sales, returns and credit).

use std::collections::HashMap;

use lapak_core::commerce::lines::Line;
use lapak_core::commerce::payment::{Payment, payments_of};
use lapak_core::commerce::price::{self, PriceRow};
use lapak_core::{Op, Query, Row, STATUS, Store, Value};

use crate::api::{CustomerView, ItemHit};

/// The name on a cashier's `staff` row, or their login when the terminal holds no such row.
pub(super) fn staff_name(store: &Store, login: &str) -> lapak_core::Result<String> {
    Ok(store
        .get("staff", login)?
        .map(|r| text(&r, "name").to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| login.to_owned()))
}

/// A text field of a row, or `""`.
pub(super) fn text<'a>(row: &'a Row, key: &str) -> &'a str {
    row.fields.get(key).and_then(Value::as_text).unwrap_or("")
}

/// An integer field of a row.
pub(super) fn int(row: &Row, key: &str) -> Option<i64> {
    row.fields.get(key).and_then(Value::as_int)
}

/// A list field's lines.
pub(super) fn lines(row: &Row, key: &str) -> Vec<Line> {
    Line::from_items(row.fields.get(key).and_then(Value::as_list).unwrap_or(&[]))
}

/// The payments of an invoice row.
pub(super) fn payments(row: &Row) -> Vec<Payment> {
    payments_of(
        row.fields
            .get("payments")
            .and_then(Value::as_list)
            .unwrap_or(&[]),
    )
}

fn some_text(row: &Row, key: &str) -> Option<String> {
    Some(text(row, key))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The price list of a sale at `branch` to `customer` (theirs when they have one).
pub(super) fn list_for(
    store: &Store,
    branch: &str,
    customer: Option<&str>,
) -> lapak_core::Result<String> {
    let branch_list = store
        .get("branches", branch)?
        .map(|r| text(&r, "price_list").to_owned())
        .unwrap_or_default();
    let customer_list = match customer {
        Some(c) => store
            .get("customers", c)?
            .map(|r| text(&r, "price_list").to_owned()),
        None => None,
    };
    Ok(price::list_for(customer_list.as_deref(), &branch_list).to_owned())
}

/// The price of `sku` on `list` in force at `at`.
pub(super) fn price_of(
    store: &Store,
    list: &str,
    sku: &str,
    at: i64,
) -> lapak_core::Result<Option<i64>> {
    let rows = store.query(
        "prices",
        &Query::new().eq("price_list", list).eq("sku", sku),
    )?;
    Ok(price::in_force(
        rows.iter().filter_map(|r| {
            Some(PriceRow {
                id: &r.id,
                price: int(r, "price")?,
                effective_from: int(r, "effective_from")?,
                effective_to: int(r, "effective_to"),
            })
        }),
        at,
    ))
}

/// An item by barcode or SKU, exactly.
pub(super) fn item_by_code(store: &Store, code: &str) -> lapak_core::Result<Option<Row>> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    if let Some(row) = store
        .query("items", &Query::new().eq("barcode", code).limit(1))?
        .pop()
    {
        return Ok(Some(row));
    }
    store.get("items", code)
}

/// A word for a LIKE pattern: the store's LIKE has no escape, so `%` and `_` are dropped
/// rather than matched as wildcards.
pub(super) fn like_word(w: &str) -> String {
    w.chars().filter(|c| *c != '%' && *c != '_').collect()
}

/// Items whose barcode or SKU is the query, then whose SKU starts with it, then whose name has
/// every word of it; at most `limit`.
pub(super) fn search_items(store: &Store, q: &str, limit: usize) -> lapak_core::Result<Vec<Row>> {
    let q = q.trim();
    let mut out: Vec<Row> = Vec::new();
    if q.is_empty() {
        return Ok(out);
    }
    let push = |rows: Vec<Row>, out: &mut Vec<Row>| {
        for r in rows {
            if out.len() < limit && !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    };
    if let Some(exact) = item_by_code(store, q)? {
        push(vec![exact], &mut out);
    }
    let word = like_word(q);
    if !q.contains(' ') && !word.is_empty() {
        let rows = store.query(
            "items",
            &Query::new()
                .filter("id", Op::Like, format!("{word}%"))
                .limit(limit as u64),
        )?;
        push(rows, &mut out);
    }
    if out.len() < limit {
        let mut query = Query::new();
        for w in q
            .split_whitespace()
            .map(like_word)
            .filter(|w| !w.is_empty())
        {
            query = query.filter("name", Op::Like, format!("%{w}%"));
        }
        let rows = store.query("items", &query.order_by("name", false).limit(limit as u64))?;
        push(rows, &mut out);
    }
    Ok(out)
}

/// Units of each item this terminal sold (less returned) at `branch` that the server has not
/// counted yet.
pub(super) fn unsynced_sold(
    store: &Store,
    branch: &str,
) -> lapak_core::Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for (collection, sign) in [("sales_invoices", 1), ("sales_returns", -1)] {
        let rows = store.query(
            collection,
            &Query::new().eq(STATUS, "pending").eq("branch", branch),
        )?;
        for r in &rows {
            for l in lines(r, "lines") {
                *out.entry(l.sku).or_insert(0) += sign * l.qty;
            }
        }
    }
    Ok(out)
}

/// The stock estimate of `sku` at `branch`: the delivered level less unsynced sales.
pub(super) fn stock_of(
    store: &Store,
    branch: &str,
    sku: &str,
    unsynced: &HashMap<String, i64>,
) -> lapak_core::Result<Option<i64>> {
    if store.schema().collection("stock_levels").is_err() {
        return Ok(None);
    }
    let level = store
        .get("stock_levels", &format!("{branch}/{sku}"))?
        .and_then(|r| int(&r, "qty"));
    Ok(level.map(|l| l - unsynced.get(sku).copied().unwrap_or(0)))
}

/// An item as a search hit, priced on `list` now.
pub(super) fn item_hit(
    store: &Store,
    row: &Row,
    list: &str,
    branch: &str,
    unsynced: &HashMap<String, i64>,
    at: i64,
) -> lapak_core::Result<ItemHit> {
    Ok(ItemHit {
        sku: row.id.clone(),
        name: text(row, "name").to_owned(),
        barcode: some_text(row, "barcode"),
        unit: some_text(row, "unit"),
        price: price_of(store, list, &row.id, at)?,
        stock: stock_of(store, branch, &row.id, unsynced)?,
    })
}

/// A customer with their dues: the delivered dues plus this terminal's unsynced credit.
pub(super) fn customer_view(store: &Store, row: &Row) -> lapak_core::Result<CustomerView> {
    let delivered = if store.schema().collection("customer_dues").is_ok() {
        store
            .get("customer_dues", &row.id)?
            .and_then(|r| int(&r, "due"))
    } else {
        None
    };
    let pending: i64 = store
        .query(
            "sales_invoices",
            &Query::new()
                .eq(STATUS, "pending")
                .eq("customer", row.id.as_str()),
        )?
        .iter()
        .flat_map(payments)
        .filter(|p| p.method == "credit")
        .map(|p| p.amount)
        .sum();
    let due = match delivered {
        Some(d) => Some(d + pending),
        None if pending > 0 => Some(pending),
        None => None,
    };
    Ok(CustomerView {
        code: row.id.clone(),
        name: text(row, "name").to_owned(),
        price_list: some_text(row, "price_list"),
        credit_limit: int(row, "credit_limit"),
        due,
    })
}

/// The branch's customers whose code or name matches, at most `limit`.
pub(super) fn search_customers(
    store: &Store,
    branch: &str,
    q: &str,
    limit: usize,
) -> lapak_core::Result<Vec<CustomerView>> {
    let q = like_word(q.trim());
    let mut rows = Vec::new();
    if let Some(exact) = store.get("customers", &q)? {
        rows.push(exact);
    }
    let by_name = store.query(
        "customers",
        &Query::new()
            .eq("branch", branch)
            .filter("name", Op::Like, format!("%{q}%"))
            .order_by("name", false)
            .limit(limit as u64),
    )?;
    for r in by_name {
        if rows.len() < limit && !rows.iter().any(|o: &Row| o.id == r.id) {
            rows.push(r);
        }
    }
    rows.iter().map(|r| customer_view(store, r)).collect()
}

impl super::Pos {
    /// Items by barcode, SKU or name, priced on the cart's list now, with stock estimates.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn search_items(
        &self,
        query: String,
        limit: Option<u32>,
    ) -> crate::error::Result<Vec<ItemHit>> {
        let seat = self.terminal().await?;
        let customer = self.state.lock().await.cart.customer.clone();
        let limit = limit.unwrap_or(30).clamp(1, 100) as usize;
        Ok(self
            .client
            .with_store(move |store| {
                let list = list_for(store, &seat.branch, customer.as_deref())?;
                let unsynced = unsynced_sold(store, &seat.branch)?;
                let at = super::now_ms();
                search_items(store, &query, limit)?
                    .iter()
                    .map(|r| item_hit(store, r, &list, &seat.branch, &unsynced, at))
                    .collect()
            })
            .await?)
    }

    /// The branch's customers by code or name.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn search_customers(
        &self,
        query: String,
        limit: Option<u32>,
    ) -> crate::error::Result<Vec<CustomerView>> {
        let seat = self.terminal().await?;
        let limit = limit.unwrap_or(20).clamp(1, 100) as usize;
        Ok(self
            .client
            .with_store(move |store| search_customers(store, &seat.branch, &query, limit))
            .await?)
    }
}
