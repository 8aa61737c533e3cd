//! Held bills: a cart put on hold becomes a `held_bills` document every terminal of the branch
//! sees; resuming one makes it the cart (edited in place, see `cart`) until its checkout
//! removes it.

use lapak_core::{Query, Record, Store, Value};

use super::cart::{CartState, LineState, line_item};
use super::catalog_reads::{self as reads, text};
use super::{Pos, Seat, now_ms};
use crate::api::{CartIntent, CartView, ErrorCode, HeldBillView};
use crate::error::{Message, PosError, Result};

/// The lines of a held bill document.
pub(super) fn held_lines(store: &Store, id: &str) -> Result<Vec<LineState>> {
    let Some(row) = store.get("held_bills", id)? else {
        return Err(PosError::refused(
            ErrorCode::HeldBillGone,
            Message::new(
                "this held bill was paid or removed on another terminal: start a new sale",
                "tagihan ditahan ini sudah dibayar atau dihapus di terminal lain: mulai penjualan baru",
            ),
        ));
    };
    Ok(reads::lines(&row, "lines")
        .into_iter()
        .map(|l| LineState {
            sku: l.sku,
            qty: l.qty,
            discount: l.discount,
        })
        .collect())
}

/// Holds `cart`: a new document, or the note of the held bill it already is.
fn hold(
    store: &mut Store,
    seat: &Seat,
    cart: &CartState,
    note: Option<String>,
) -> Result<HeldBillView> {
    let lines = cart.current_lines(store)?;
    if lines.is_empty() {
        return Err(PosError::refused(
            ErrorCode::EmptyCart,
            Message::new("the cart is empty", "keranjang masih kosong"),
        ));
    }
    let note = note.filter(|n| !n.is_empty());
    let id = match &cart.held {
        Some(id) => {
            if let Some(note) = note {
                store.set("held_bills", id, "note", Value::Text(note))?;
            }
            id.clone()
        }
        None => {
            let priced = cart.price(store, &seat.branch, now_ms())?;
            let mut r = Record::new();
            r.insert("branch".into(), Value::Text(seat.branch.clone()));
            r.insert("terminal".into(), Value::Text(seat.terminal.clone()));
            r.insert("cashier".into(), Value::Text(seat.cashier.clone()));
            if let Some(c) = &cart.customer {
                r.insert("customer".into(), Value::Text(c.clone()));
            }
            r.insert("note".into(), Value::Text(note.unwrap_or_default()));
            let items = lines
                .iter()
                .zip(&priced.bill.lines)
                .map(|(l, b)| line_item(l, b.price))
                .collect();
            r.insert("lines".into(), Value::List(items));
            store.create("held_bills", r)?
        }
    };
    match store.get("held_bills", &id)? {
        Some(row) => held_view(store, seat, &row),
        None => Err(PosError::refused(
            ErrorCode::NotFound,
            Message::new("no such held bill", "tagihan ditahan itu tidak ada"),
        )),
    }
}

/// A held bill's customer, if it has one.
fn customer_of(r: &lapak_core::Row) -> Option<String> {
    Some(text(r, "customer").to_owned()).filter(|c| !c.is_empty())
}

fn held_view(store: &Store, seat: &Seat, r: &lapak_core::Row) -> Result<HeldBillView> {
    let cart = CartState::of_held(&r.id, customer_of(r));
    let priced = cart.price(store, &seat.branch, now_ms())?;
    Ok(HeldBillView {
        id: r.id.clone(),
        terminal: text(r, "terminal").to_owned(),
        cashier: reads::staff_name(store, text(r, "cashier"))?,
        customer: cart.customer,
        note: text(r, "note").to_owned(),
        lines: u32::try_from(priced.lines.len()).unwrap_or(u32::MAX),
        total: priced.bill.total,
    })
}

impl Pos {
    /// Puts the cart on hold and starts a new cart.
    ///
    /// # Errors
    /// `empty_cart`.
    pub async fn hold(&self, note: Option<String>) -> Result<HeldBillView> {
        let seat = self.terminal().await?;
        let mut state = self.state.lock().await;
        let cart = state.cart.clone();
        let view = self
            .client
            .write_with(move |store| Ok(hold(store, &seat, &cart, note)))
            .await??;
        state.cart = CartState::default();
        Ok(view)
    }

    /// The branch's held bills, newest first.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn held_bills(&self) -> Result<Vec<HeldBillView>> {
        let seat = self.terminal().await?;
        self.client
            .with_store(move |store| {
                let rows = store.query(
                    "held_bills",
                    &Query::new()
                        .eq("branch", seat.branch.as_str())
                        .order_by("id", true)
                        .limit(200),
                )?;
                Ok(rows
                    .iter()
                    .map(|r| held_view(store, &seat, r))
                    .collect::<Result<Vec<_>>>())
            })
            .await?
    }

    /// Makes a held bill the cart (it stays held until its checkout).
    ///
    /// # Errors
    /// `not_found` for a bill paid or removed meanwhile, or of another branch.
    pub async fn resume(&self, id: &str) -> Result<CartView> {
        let seat = self.terminal().await?;
        let row = self.client.get("held_bills", id).await?;
        let Some(row) = row.filter(|r| text(r, "branch") == seat.branch) else {
            return Err(PosError::refused(
                ErrorCode::NotFound,
                Message::new(
                    "this held bill was paid or removed on another terminal",
                    "tagihan ditahan ini sudah dibayar atau dihapus di terminal lain",
                ),
            ));
        };
        self.state.lock().await.cart = CartState::of_held(id, customer_of(&row));
        self.cart(CartIntent::Show).await
    }
}
