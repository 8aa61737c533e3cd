//! What a salesperson sells: items, the price in force on an outlet's list (its own list, or
//! its branch's), and stock where the user may see it (the server's `stock_levels` of the
//! branches the device follows; none elsewhere).

use lapak_core::commerce::price::{self, PriceRow};
use lapak_core::{Query, Row, Store};

use crate::rows::{int, text};
use crate::types::now_ms;
use crate::{LapakClient, LapakError};

/// An item with what it costs at one outlet.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct OutletItem {
    /// Its code.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its unit (`pcs`, `box`).
    pub unit: String,
    /// Its category.
    pub category: String,
    /// Its barcode.
    pub barcode: String,
    /// The price in force now on the outlet's list, in minor units; `null` when none is.
    pub price: Option<i64>,
    /// The stock at the outlet's branch as of the last sync, when the user may see it.
    pub stock: Option<i64>,
}

/// The price list of `outlet`: its own, else its branch's.
pub(crate) fn list_of(store: &Store, outlet: &Row) -> lapak_core::Result<String> {
    let branch_list = store
        .get("branches", &text(outlet, "branch"))?
        .map(|b| text(&b, "price_list"))
        .unwrap_or_default();
    let own = text(outlet, "price_list");
    Ok(price::list_for(Some(own.as_str()).filter(|l| !l.is_empty()), &branch_list).to_owned())
}

/// The price of `sku` on `list` in force at `at`.
pub(crate) fn price_of(
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

fn matches(row: &Row, words: &[String]) -> bool {
    let hay = format!("{} {} {}", row.id, text(row, "name"), text(row, "barcode")).to_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

pub(crate) fn outlet_row(store: &Store, outlet: &str) -> Result<Row, LapakError> {
    store.get("customers", outlet)?.ok_or_else(|| {
        LapakError::not_found(format!(
            "outlet `{outlet}` is not on this device: sync, or pick the outlet from the list"
        ))
    })
}

fn items_for(
    store: &Store,
    outlet: &str,
    search: &str,
    limit: u32,
) -> Result<Vec<OutletItem>, LapakError> {
    let o = outlet_row(store, outlet)?;
    let list = list_of(store, &o)?;
    let branch = text(&o, "branch");
    let words: Vec<String> = search.split_whitespace().map(str::to_lowercase).collect();
    let now = now_ms();
    let mut out = Vec::new();
    for r in store.query("items", &Query::new().order_by("name", false))? {
        if out.len() >= limit as usize {
            break;
        }
        if !matches(&r, &words) {
            continue;
        }
        let stock = store
            .get("stock_levels", &format!("{branch}/{}", r.id))?
            .and_then(|s| int(&s, "qty"));
        out.push(OutletItem {
            price: price_of(store, &list, &r.id, now)?,
            stock,
            sku: r.id.clone(),
            name: text(&r, "name"),
            unit: text(&r, "unit"),
            category: text(&r, "category"),
            barcode: text(&r, "barcode"),
        });
    }
    Ok(out)
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// Items whose code, name or barcode hold every word of `search` (all when empty), by
    /// name, at most `limit`, each with its price in force now on `outlet`'s list and the
    /// stock at the outlet's branch where the user may see it.
    ///
    /// # Errors
    /// `NotFound` for an outlet not on this device.
    pub async fn items_for_outlet(
        &self,
        outlet: String,
        search: String,
        limit: u32,
    ) -> Result<Vec<OutletItem>, LapakError> {
        self.client
            .with_store(move |s| Ok(items_for(s, &outlet, &search, limit)))
            .await?
    }
}
