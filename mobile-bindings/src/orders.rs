//! A draft order for an outlet, edited over several visits (a `draft_orders` document: lines
//! edited one by one, so the supervisor's change to another line survives), then submitted as
//! an `order_submissions` entry and the draft deleted, in one transaction. The lines carry the
//! price in force on the outlet's list when they were set; the total is checked with the
//! server's own rule before anything is stored.

use lapak_core::field::order::{check_order, total_of};
use lapak_core::{Edit, Query, Record, Row, Scalar, Store, StoreWrite, Value};

use crate::catalog::{list_of, outlet_row, price_of};
use crate::rows::{item, item_int, item_text, items, text};
use crate::types::{Uuid, now_ms};
use crate::{LapakClient, LapakError};

/// A line of an order.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct OrderLine {
    /// The item.
    pub sku: String,
    /// How many.
    pub qty: i64,
    /// The unit price, minor units.
    pub price: i64,
}

/// An outlet's open draft order.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DraftOrder {
    /// The draft's id.
    pub id: String,
    /// The outlet.
    pub outlet: String,
    /// Its lines.
    pub lines: Vec<OrderLine>,
    /// Notes (merge by character).
    pub notes: String,
    /// The sum of `qty × price`.
    pub total: i64,
}

fn draft_row(store: &Store, outlet: &str) -> lapak_core::Result<Option<Row>> {
    Ok(store
        .query("draft_orders", &Query::new().eq("outlet", outlet).limit(1))?
        .pop())
}

fn lines_of(row: &Row) -> Vec<OrderLine> {
    items(row, "lines")
        .iter()
        .map(|l| OrderLine {
            sku: item_text(l, "sku"),
            qty: item_int(l, "qty"),
            price: item_int(l, "price"),
        })
        .collect()
}

fn draft_of(row: &Row) -> DraftOrder {
    let lines = lines_of(row);
    DraftOrder {
        id: row.id.clone(),
        outlet: text(row, "outlet"),
        total: total_of(items(row, "lines")).unwrap_or(i64::MAX),
        notes: text(row, "notes"),
        lines,
    }
}

/// The outlet's draft, made (in the outlet's territory) when there is none.
fn draft_or_new(s: &mut Store, outlet: &str, me: &str) -> Result<Row, LapakError> {
    if let Some(row) = draft_row(s, outlet)? {
        return Ok(row);
    }
    let o = outlet_row(s, outlet)?;
    let mut fields = Record::new();
    fields.insert("territory".into(), Value::Text(text(&o, "territory")));
    fields.insert("outlet".into(), Value::Text(outlet.to_owned()));
    fields.insert("salesperson".into(), Value::Text(me.to_owned()));
    let id = s.create("draft_orders", fields)?;
    s.get("draft_orders", &id)?
        .ok_or_else(|| LapakError::not_found("the draft could not be read back"))
}

fn set_line(
    s: &mut Store,
    outlet: &str,
    me: &str,
    sku: &str,
    qty: i64,
) -> Result<DraftOrder, LapakError> {
    if s.get("items", sku)?.is_none() {
        return Err(LapakError::not_found(format!(
            "item `{sku}` is not on this device: sync, or pick the item from the list"
        )));
    }
    let draft = draft_or_new(s, outlet, me)?;
    let index = items(&draft, "lines")
        .iter()
        .position(|l| item_text(l, "sku") == sku);
    let edit = match (index, qty) {
        (Some(index), q) if q <= 0 => Edit::RemoveItem {
            field: "lines".into(),
            index,
        },
        (None, q) if q <= 0 => return Ok(draft_of(&draft)),
        (Some(index), q) => Edit::UpdateItem {
            field: "lines".into(),
            index,
            values: item([("qty", Scalar::Int(q))]),
        },
        (None, q) => {
            let o = outlet_row(s, outlet)?;
            let list = list_of(s, &o)?;
            let price = price_of(s, &list, sku, now_ms())?.ok_or_else(|| LapakError::Refused {
                code: "no_price".into(),
                reason: format!(
                    "item `{sku}` has no price in force on list `{list}`: ask the back office"
                ),
            })?;
            Edit::InsertItem {
                field: "lines".into(),
                index: items(&draft, "lines").len(),
                item: item([
                    ("sku", Scalar::Text(sku.to_owned())),
                    ("qty", Scalar::Int(q)),
                    ("price", Scalar::Int(price)),
                ]),
            }
        }
    };
    s.edit("draft_orders", &draft.id, vec![edit])?;
    let row = s
        .get("draft_orders", &draft.id)?
        .ok_or_else(|| LapakError::not_found("the draft could not be read back"))?;
    Ok(draft_of(&row))
}

fn submit(s: &mut Store, outlet: &str, me: &str) -> Result<Uuid, LapakError> {
    let draft = draft_row(s, outlet)?.ok_or_else(|| {
        LapakError::not_found(format!(
            "outlet `{outlet}` has no draft order: add a line first"
        ))
    })?;
    let lines = items(&draft, "lines").to_vec();
    let total = total_of(&lines)?;
    check_order(&lines, total)?;
    let mut entry = Record::new();
    entry.insert("territory".into(), Value::Text(text(&draft, "territory")));
    entry.insert("outlet".into(), Value::Text(outlet.to_owned()));
    entry.insert("salesperson".into(), Value::Text(me.to_owned()));
    entry.insert("draft".into(), Value::Text(draft.id.clone()));
    entry.insert("submitted_at".into(), Value::Int(now_ms()));
    entry.insert("total".into(), Value::Int(total));
    entry.insert("lines".into(), Value::List(lines));
    let ids = s.write_batch(vec![
        StoreWrite::Append {
            collection: "order_submissions".into(),
            entry,
        },
        StoreWrite::Delete {
            collection: "draft_orders".into(),
            id: draft.id,
        },
    ])?;
    crate::types::parse_id(ids.first().map_or("", String::as_str))
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// The outlet's open draft order, or `null`.
    ///
    /// # Errors
    /// `Storage`.
    pub async fn draft_order(&self, outlet: String) -> Result<Option<DraftOrder>, LapakError> {
        Ok(self
            .client
            .with_store(move |s| Ok(draft_row(s, &outlet)?.as_ref().map(draft_of)))
            .await?)
    }

    /// Sets how many of `sku` the outlet orders (0 removes the line), starting a draft when the
    /// outlet has none; a new line takes the price in force on the outlet's list.
    ///
    /// # Errors
    /// `NotFound` for an outlet or item not on this device; `Refused` (`no_price`) for an item
    /// with no price in force.
    pub async fn set_order_line(
        &self,
        outlet: String,
        sku: String,
        qty: i64,
    ) -> Result<DraftOrder, LapakError> {
        let me = self.username().await?;
        self.client
            .write_with(move |s| Ok(set_line(s, &outlet, &me, &sku, qty)))
            .await?
    }

    /// Replaces the draft's notes (only the characters that changed are written).
    ///
    /// # Errors
    /// `NotFound` for an outlet not on this device.
    pub async fn set_order_notes(
        &self,
        outlet: String,
        notes: String,
    ) -> Result<DraftOrder, LapakError> {
        let me = self.username().await?;
        self.client
            .write_with(move |s| {
                Ok((|| {
                    let draft = draft_or_new(s, &outlet, &me)?;
                    s.set("draft_orders", &draft.id, "notes", Value::Text(notes))?;
                    let row = s
                        .get("draft_orders", &draft.id)?
                        .ok_or_else(|| LapakError::not_found("the draft could not be read back"))?;
                    Ok(draft_of(&row))
                })())
            })
            .await?
    }

    /// Submits the outlet's draft: an order entry with its lines and total, and the draft
    /// deleted, in one transaction. Returns the order's id.
    ///
    /// # Errors
    /// `NotFound` when the outlet has no draft; `Refused` with the server rule's code
    /// (`no_lines`, `invalid_line`, `quantity_out_of_range`, ...) when the order would be
    /// refused; nothing is stored then.
    pub async fn submit_order(&self, outlet: String) -> Result<Uuid, LapakError> {
        let me = self.username().await?;
        self.client
            .write_with(move |s| Ok(submit(s, &outlet, &me)))
            .await?
    }
}
