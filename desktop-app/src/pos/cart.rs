//! The cart: the lines being rung up, the customer, discounts and voucher, and the intents
//! that change them. A new cart lives in memory; a resumed held bill (`held`) is the
//! `held_bills` document itself: its line edits go to the document as list-item edits, so two
//! terminals editing it at once merge line by line, and the cart is read back from the
//! document.

use lapak_core::commerce::MAX_QUANTITY;
use lapak_core::commerce::cart::{Bill, Cart, CartLine};
use lapak_core::commerce::voucher::{VoucherTerms, check_redeemable};
use lapak_core::{Edit, Item, Query, Record, Scalar, Store, Value};

use super::catalog_reads::{self as reads, int, text};
use super::{Pos, Seat, now_ms};
use crate::api::{CartIntent, CartLineView, CartView, ErrorCode, VoucherView};
use crate::error::{Message, PosError, Result};

/// The cart in memory.
#[derive(Clone, Debug, Default)]
pub struct CartState {
    /// Lines of a cart that is not a held bill.
    lines: Vec<LineState>,
    /// Rupiah off the whole bill.
    pub(super) bill_discount: i64,
    /// The customer's code.
    pub(super) customer: Option<String>,
    /// The voucher's code.
    pub(super) voucher: Option<String>,
    /// The held bill this cart is.
    pub(super) held: Option<String>,
}

/// One line: what the cashier chose; the price comes from the list in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LineState {
    pub(super) sku: String,
    pub(super) qty: i64,
    pub(super) discount: i64,
}

/// The cart priced: its lines with names and rates, the bill, and what it was priced on.
pub(super) struct Priced {
    pub(super) lines: Vec<(LineState, Record)>,
    pub(super) list: String,
    pub(super) bill: Bill,
    pub(super) voucher: Option<(String, Record)>,
    pub(super) unpriced: Vec<bool>,
}

fn bad_line(line: u32) -> PosError {
    PosError::refused(
        ErrorCode::Invalid,
        Message::new(
            format!("the cart has no line {}", line + 1),
            format!("keranjang tidak punya baris {}", line + 1),
        ),
    )
}

fn check_qty(qty: i64) -> Result<()> {
    if (1..=MAX_QUANTITY).contains(&qty) {
        Ok(())
    } else {
        Err(PosError::refused(
            ErrorCode::Invalid,
            Message::new(
                format!("a quantity must be from 1 to {MAX_QUANTITY}"),
                format!("jumlah harus dari 1 sampai {MAX_QUANTITY}"),
            ),
        ))
    }
}

pub(super) fn line_item(l: &LineState, price: i64) -> Item {
    let mut item = Item::new();
    item.insert("sku".into(), Scalar::Text(l.sku.clone()));
    item.insert("qty".into(), Scalar::Int(l.qty));
    item.insert("price".into(), Scalar::Int(price));
    item.insert("discount".into(), Scalar::Int(l.discount));
    item
}

fn one(key: &str, value: Scalar) -> Item {
    let mut item = Item::new();
    item.insert(key.into(), value);
    item
}

impl CartState {
    /// The cart that is held bill `id`, sold to `customer`.
    pub(super) fn of_held(id: &str, customer: Option<String>) -> CartState {
        CartState {
            held: Some(id.to_owned()),
            customer,
            ..CartState::default()
        }
    }

    /// The lines now (a held bill's from its document).
    pub(super) fn current_lines(&self, store: &Store) -> Result<Vec<LineState>> {
        match &self.held {
            Some(id) => super::held::held_lines(store, id),
            None => Ok(self.lines.clone()),
        }
    }

    /// Prices the cart on the list in force for its customer at `branch`, at `at`.
    pub(super) fn price(&self, store: &Store, branch: &str, at: i64) -> Result<Priced> {
        let list = reads::list_for(store, branch, self.customer.as_deref())?;
        let mut cart = Cart {
            bill_discount: self.bill_discount,
            ..Cart::default()
        };
        let mut lines = Vec::new();
        let mut unpriced = Vec::new();
        for l in self.current_lines(store)? {
            let item = store
                .get("items", &l.sku)?
                .map(|r| r.fields)
                .unwrap_or_default();
            let price = reads::price_of(store, &list, &l.sku, at)?;
            unpriced.push(price.is_none());
            cart.lines.push(CartLine {
                sku: l.sku.clone(),
                qty: l.qty,
                price: price.unwrap_or(0),
                discount: l.discount,
                tax_rate_bp: item.get("tax_rate_bp").and_then(Value::as_int).unwrap_or(0),
            });
            lines.push((l, item));
        }
        let voucher = match &self.voucher {
            Some(code) => store
                .get("vouchers", code)?
                .map(|r| (code.clone(), r.fields)),
            None => None,
        };
        cart.voucher = voucher
            .as_ref()
            .and_then(|(_, v)| v.get("discount").and_then(Value::as_int))
            .unwrap_or(0);
        // A discount left from before lines were removed may exceed the bill now: cap it.
        let net: i64 = cart
            .lines
            .iter()
            .map(|l| l.qty * l.price - l.discount)
            .sum();
        cart.bill_discount = cart.bill_discount.min(net.max(0));
        let bill = cart.bill().map_err(PosError::from_refusal)?;
        Ok(Priced {
            lines,
            list,
            bill,
            voucher,
            unpriced,
        })
    }
}

impl Pos {
    /// Applies one intent to the cart and answers the cart. On a held bill the intent is read,
    /// checked and written as document edits under one store lock, so an edit arriving from
    /// another terminal cannot slip between them.
    ///
    /// # Errors
    /// `not_found` for an unknown code, `invalid` for a bad line or amount, `stale_cart` for a
    /// line that is no longer the one the page showed, `voucher` for a voucher that cannot be
    /// redeemed here now; the cart is unchanged then. `held_bill_gone` when the held bill this
    /// cart was is paid or removed elsewhere: the cart is empty then.
    pub async fn cart(&self, intent: CartIntent) -> Result<CartView> {
        let seat = self.terminal().await?;
        let mut state = self.state.lock().await;
        let writes = state.cart.held.is_some() && !matches!(intent, CartIntent::Show);
        let before = state.cart.clone();
        let step = move |store: &mut Store| {
            Ok(apply(store, &seat, before, intent)
                .and_then(|next| view(store, &seat, &next).map(|v| (next, v))))
        };
        let stepped = if writes {
            self.client.write_with(step).await?
        } else {
            self.client.with_store(step).await?
        };
        match stepped {
            Ok((next, view)) => {
                state.cart = next;
                Ok(view)
            }
            Err(e) => {
                if is_gone(&e) && state.cart.held.is_some() {
                    // The held bill was paid or removed elsewhere: the cart empties.
                    state.cart = CartState::default();
                }
                Err(e)
            }
        }
    }
}

fn is_gone(e: &PosError) -> bool {
    matches!(
        e,
        PosError::Refused {
            code: ErrorCode::HeldBillGone,
            ..
        }
    )
}

/// The cart after one intent; a held bill's document is edited to match.
fn apply(
    store: &mut Store,
    seat: &Seat,
    mut cart: CartState,
    intent: CartIntent,
) -> Result<CartState> {
    let mut lines = cart.current_lines(store)?;
    let mut edits = Vec::new();
    let field = || "lines".to_owned();
    // The line the page showed: its position, and its item as a check that it still is.
    let at = |line: u32, sku: &str, lines: &[LineState]| {
        let i = usize::try_from(line)
            .ok()
            .filter(|i| *i < lines.len())
            .ok_or_else(|| bad_line(line))?;
        if lines[i].sku == sku {
            Ok(i)
        } else {
            Err(PosError::refused(
                ErrorCode::StaleCart,
                Message::new(
                    "another terminal changed this bill just now: look at the cart again and repeat",
                    "terminal lain baru saja mengubah tagihan ini: lihat keranjang lagi lalu ulangi",
                ),
            ))
        }
    };
    match intent {
        CartIntent::Show => {}
        CartIntent::Scan { code } => {
            let Some(item) = reads::item_by_code(store, &code)? else {
                return Err(PosError::refused(
                    ErrorCode::NotFound,
                    Message::new(
                        format!(
                            "no item has barcode or SKU `{}`: search by name instead",
                            code.trim()
                        ),
                        format!(
                            "tidak ada barang dengan barcode atau SKU `{}`: cari dengan nama",
                            code.trim()
                        ),
                    ),
                ));
            };
            add(&mut lines, &mut edits, &item.id, 1)?;
        }
        CartIntent::Add { sku, qty } => {
            if store.get("items", &sku)?.is_none() {
                return Err(PosError::refused(
                    ErrorCode::NotFound,
                    Message::new(
                        format!("item `{sku}` is not in the catalogue: sync and search again"),
                        format!("barang `{sku}` tidak ada di katalog: sinkronkan lalu cari lagi"),
                    ),
                ));
            }
            add(&mut lines, &mut edits, &sku, qty.unwrap_or(1))?;
        }
        CartIntent::SetQty { line, sku, qty } => {
            let i = at(line, &sku, &lines)?;
            if qty == 0 {
                lines.remove(i);
                edits.push(Edit::RemoveItem {
                    field: field(),
                    index: i,
                });
            } else {
                check_qty(qty)?;
                lines[i].qty = qty;
                edits.push(Edit::UpdateItem {
                    field: field(),
                    index: i,
                    values: one("qty", Scalar::Int(qty)),
                });
            }
        }
        CartIntent::RemoveLine { line, sku } => {
            let i = at(line, &sku, &lines)?;
            lines.remove(i);
            edits.push(Edit::RemoveItem {
                field: field(),
                index: i,
            });
        }
        CartIntent::LineDiscount { line, sku, amount } => {
            let i = at(line, &sku, &lines)?;
            if amount < 0 {
                return Err(PosError::refused(
                    ErrorCode::Invalid,
                    Message::new(
                        "a discount cannot be negative",
                        "diskon tidak boleh negatif",
                    ),
                ));
            }
            lines[i].discount = amount;
            edits.push(Edit::UpdateItem {
                field: field(),
                index: i,
                values: one("discount", Scalar::Int(amount)),
            });
        }
        CartIntent::BillDiscount { amount } => {
            if amount < 0 {
                return Err(PosError::refused(
                    ErrorCode::Invalid,
                    Message::new(
                        "a discount cannot be negative",
                        "diskon tidak boleh negatif",
                    ),
                ));
            }
            cart.bill_discount = amount;
        }
        CartIntent::Customer { code } => {
            let code = code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            if let Some(c) = &code
                && store.get("customers", c)?.is_none()
            {
                return Err(PosError::refused(
                    ErrorCode::NotFound,
                    Message::new(
                        format!(
                            "customer `{c}` is not known at this branch: pick one from the list"
                        ),
                        format!("pelanggan `{c}` tidak dikenal di cabang ini: pilih dari daftar"),
                    ),
                ));
            }
            edits.push(Edit::Set {
                field: "customer".into(),
                value: code.clone().map_or(Value::Null, Value::Text),
            });
            cart.customer = code;
        }
        CartIntent::Voucher { code } => {
            let code = code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            if let Some(c) = &code {
                precheck_voucher(store, seat, c)?;
            }
            cart.voucher = code;
        }
        CartIntent::Clear => return Ok(CartState::default()),
    }
    // The new lines must still price (a discount past its line is refused) before a held
    // bill's document is edited.
    let priced_as = CartState {
        lines: lines.clone(),
        held: None,
        ..cart.clone()
    };
    priced_as.price(store, &seat.branch, now_ms())?;
    match &cart.held {
        None => cart.lines = lines,
        Some(_) if edits.is_empty() => {}
        Some(id) => store.edit("held_bills", id, edits)?,
    }
    Ok(cart)
}

fn add(lines: &mut Vec<LineState>, edits: &mut Vec<Edit>, sku: &str, qty: i64) -> Result<()> {
    check_qty(qty)?;
    if let Some(i) = lines.iter().position(|l| l.sku == sku) {
        let next = lines[i].qty + qty;
        check_qty(next)?;
        lines[i].qty = next;
        edits.push(Edit::UpdateItem {
            field: "lines".into(),
            index: i,
            values: one("qty", Scalar::Int(next)),
        });
    } else {
        let l = LineState {
            sku: sku.to_owned(),
            qty,
            discount: 0,
        };
        edits.push(Edit::InsertItem {
            field: "lines".into(),
            index: lines.len(),
            item: line_item(&l, 0),
        });
        lines.push(l);
    }
    Ok(())
}

/// A voucher may be redeemed here now, as far as this terminal knows: the server's terms
/// (`lapak_core::commerce::voucher`), and no redemption of it in this store that the server
/// has not refused.
pub(super) fn precheck_voucher(store: &Store, seat: &Seat, code: &str) -> Result<Record> {
    let Some(v) = store.get("vouchers", code)? else {
        return Err(PosError::refused(
            ErrorCode::Voucher,
            Message::new(
                format!(
                    "there is no voucher `{code}` for branch {}: check the code",
                    seat.branch
                ),
                format!(
                    "tidak ada voucher `{code}` untuk cabang {}: periksa kodenya",
                    seat.branch
                ),
            ),
        ));
    };
    let terms = VoucherTerms {
        code,
        expires_at: int(&v, "expires_at"),
        redeem_at: text(&v, "redeem_at"),
        verified: v.fields.get("verified").and_then(|b| match b {
            Value::Bool(b) => Some(*b),
            _ => None,
        }),
    };
    check_redeemable(&terms, &seat.branch, now_ms()).map_err(PosError::from_refusal)?;
    let used = store
        .query("voucher_redemptions", &Query::new().eq("voucher", code))?
        .into_iter()
        .any(|r| !matches!(r.verdict, Some(lapak_core::Verdict::Rejected { .. })));
    if used {
        return Err(PosError::refused(
            ErrorCode::Voucher,
            Message::new(
                format!("voucher `{code}` was already redeemed: take it back from the customer"),
                format!("voucher `{code}` sudah dipakai: kembalikan ke pelanggan"),
            ),
        ));
    }
    Ok(v.fields)
}

fn view(store: &Store, seat: &Seat, cart: &CartState) -> Result<CartView> {
    let priced = cart.price(store, &seat.branch, now_ms())?;
    let unsynced = reads::unsynced_sold(store, &seat.branch)?;
    let mut lines = Vec::with_capacity(priced.lines.len());
    let mut notices = Vec::new();
    for (i, ((l, item), b)) in priced.lines.iter().zip(&priced.bill.lines).enumerate() {
        let name = item
            .get("name")
            .and_then(Value::as_text)
            .unwrap_or(&l.sku)
            .to_owned();
        let stock = reads::stock_of(store, &seat.branch, &l.sku, &unsynced)?;
        if priced.unpriced[i] {
            notices.push(format!(
                "{name} has no price on list {}: it sells at 0 until the office sets one",
                priced.list
            ));
        }
        if stock.is_some_and(|s| s < l.qty) {
            notices.push(format!("only {} of {name} in stock", stock.unwrap_or(0)));
        }
        lines.push(CartLineView {
            sku: l.sku.clone(),
            name,
            qty: l.qty,
            price: b.price,
            discount: l.discount,
            tax: b.tax,
            amount: l.qty * b.price - l.discount,
            stock,
            unpriced: priced.unpriced[i],
        });
    }
    let customer = match &cart.customer {
        Some(c) => store
            .get("customers", c)?
            .map(|r| reads::customer_view(store, &r))
            .transpose()?,
        None => None,
    };
    let voucher = priced.voucher.as_ref().map(|(code, v)| VoucherView {
        code: code.clone(),
        campaign: v
            .get("campaign")
            .and_then(Value::as_text)
            .unwrap_or("")
            .to_owned(),
        discount: priced.bill.voucher_discount,
    });
    Ok(CartView {
        lines,
        price_list: priced.list,
        customer,
        voucher,
        subtotal: priced.bill.subtotal,
        line_discounts: priced.bill.line_discounts,
        bill_discount: priced.bill.bill_discount,
        voucher_discount: priced.bill.voucher_discount,
        tax: priced.bill.tax,
        total: priced.bill.total,
        held_bill: cart.held.clone(),
        notices,
    })
}
