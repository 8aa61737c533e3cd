//! The terminal's shift: `shifts` entries open and close it; the drawer it should hold is
//! `lapak_core::commerce::drawer::Drawer` over the cash of the shift's invoices and the refunds
//! of its returns, as the server's drawer tally moves.

use lapak_core::commerce::drawer::Drawer;
use lapak_core::{Query, Record, Row, Store, Value};

use super::catalog_reads::{int, payments, text};
use super::{Pos, Seat, now_ms};
use crate::api::{ErrorCode, ShiftIntent, ShiftState, ShiftView};
use crate::error::{Message, PosError, Result};

/// The terminal's open shift: its opening entry, when the newest shift entry opens one.
pub(super) fn open_shift(store: &Store, seat: &Seat) -> lapak_core::Result<Option<Row>> {
    let last = last_entries(store, seat, 1)?.pop();
    Ok(last.filter(|r| text(r, "kind") == "open"))
}

fn last_entries(store: &Store, seat: &Seat, n: u64) -> lapak_core::Result<Vec<Row>> {
    store.query(
        "shifts",
        &Query::new()
            .eq("branch", seat.branch.as_str())
            .eq("terminal", seat.terminal.as_str())
            .order_by("at", true)
            .order_by("id", true)
            .limit(n),
    )
}

/// The drawer of the shift `open` began: cash taken by its invoices and refunded by its
/// returns at this terminal; and how many sales it made.
fn drawer_of(store: &Store, seat: &Seat, open: &Row) -> lapak_core::Result<(Drawer, u32)> {
    let shift_id = open.id.as_str();
    let invoices = store.query("sales_invoices", &Query::new().eq("shift", shift_id))?;
    let returns = store.query("sales_returns", &Query::new().eq("shift", shift_id))?;
    let live = |r: &Row| !matches!(r.verdict, Some(lapak_core::Verdict::Rejected { .. }));
    let cash_sales: i64 = invoices
        .iter()
        .filter(|r| live(r))
        .flat_map(payments)
        .filter(|p| p.method == "cash")
        .map(|p| p.amount)
        .sum();
    let refunds: i64 = returns
        .iter()
        .filter(|r| live(r) && text(r, "terminal") == seat.terminal)
        .filter_map(|r| int(r, "refund"))
        .sum();
    let sales = invoices.iter().filter(|r| live(r)).count();
    Ok((
        Drawer {
            opening_cash: int(open, "opening_cash").unwrap_or(0),
            cash_sales,
            refunds,
        },
        u32::try_from(sales).unwrap_or(u32::MAX),
    ))
}

fn shift_view(
    store: &Store,
    seat: &Seat,
    open: &Row,
    close: Option<&Row>,
) -> lapak_core::Result<ShiftView> {
    let (drawer, sales) = drawer_of(store, seat, open)?;
    let counted = close.and_then(|c| int(c, "counted_cash"));
    Ok(ShiftView {
        id: open.id.clone(),
        opened_at: int(open, "at").unwrap_or(0),
        opening_cash: drawer.opening_cash,
        cash_sales: drawer.cash_sales,
        refunds: drawer.refunds,
        expected_cash: drawer.expected(),
        sales,
        counted_cash: counted,
        difference: counted.map(|c| drawer.difference(c)),
        closed_at: close.and_then(|c| int(c, "at")),
    })
}

/// The open shift and the last closed one.
fn state(store: &Store, seat: &Seat) -> lapak_core::Result<ShiftState> {
    let entries = last_entries(store, seat, 3)?;
    let mut out = ShiftState::default();
    match entries.first() {
        Some(first) if text(first, "kind") == "open" => {
            out.current = Some(shift_view(store, seat, first, None)?);
            if let (Some(close), Some(open)) = (entries.get(1), entries.get(2))
                && text(close, "kind") == "close"
            {
                out.last_closed = Some(shift_view(store, seat, open, Some(close))?);
            }
        }
        Some(close) if text(close, "kind") == "close" => {
            if let Some(open) = entries.get(1).filter(|o| text(o, "kind") == "open") {
                out.last_closed = Some(shift_view(store, seat, open, Some(close))?);
            }
        }
        _ => {}
    }
    Ok(out)
}

fn shift_entry(seat: &Seat, kind: &str, cash_field: &str, cash: i64) -> Record {
    let mut r = Record::new();
    r.insert("branch".into(), Value::Text(seat.branch.clone()));
    r.insert("terminal".into(), Value::Text(seat.terminal.clone()));
    r.insert("cashier".into(), Value::Text(seat.cashier.clone()));
    r.insert("kind".into(), Value::Text(kind.into()));
    r.insert("at".into(), Value::Int(now_ms()));
    r.insert(cash_field.into(), Value::Int(cash));
    r
}

impl Pos {
    /// The shift now.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn shift_state(&self) -> Result<ShiftState> {
        let seat = self.terminal().await?;
        Ok(self.client.with_store(move |s| state(s, &seat)).await?)
    }

    /// Opens or closes the shift (checked and written under one store lock).
    ///
    /// # Errors
    /// `shift_open` when opening twice, `no_shift` when closing none, `invalid` for an
    /// amount out of range.
    pub async fn shift(&self, intent: ShiftIntent) -> Result<ShiftState> {
        let seat = self.terminal().await?;
        if matches!(intent, ShiftIntent::Show) {
            return self.shift_state().await;
        }
        self.client
            .write_with(move |store| Ok(change(store, &seat, intent)))
            .await?
    }
}

/// Opens or closes the shift, and answers the shift state after.
fn change(store: &mut Store, seat: &Seat, intent: ShiftIntent) -> Result<ShiftState> {
    let open = open_shift(store, seat)?.is_some();
    let entry = match intent {
        ShiftIntent::Show => None,
        ShiftIntent::Open { .. } if open => {
            return Err(PosError::refused(
                ErrorCode::ShiftOpen,
                Message::new("the shift is already open", "shift sudah dibuka"),
            ));
        }
        ShiftIntent::Close { .. } if !open => {
            return Err(PosError::refused(
                ErrorCode::NoShift,
                Message::new("no shift is open", "belum ada shift yang dibuka"),
            ));
        }
        ShiftIntent::Open { opening_cash } => {
            check_cash(opening_cash)?;
            Some(shift_entry(seat, "open", "opening_cash", opening_cash))
        }
        ShiftIntent::Close { counted_cash } => {
            check_cash(counted_cash)?;
            Some(shift_entry(seat, "close", "counted_cash", counted_cash))
        }
    };
    if let Some(entry) = entry {
        store.append("shifts", entry)?;
    }
    Ok(state(store, seat)?)
}

fn check_cash(amount: i64) -> Result<()> {
    lapak_core::commerce::bounds::check_amount("the cash", i128::from(amount))
        .map(|_| ())
        .map_err(PosError::from_refusal)
}
