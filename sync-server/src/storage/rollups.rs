//! The reports' rollups of sales invoices (tables `lapak_report_*`, migration 5): sales and
//! payments per branch and day, items sold per branch and over all branches per day and per
//! 28-day block. A year's report sums a few hundred thousand rollup rows instead of joining a
//! million invoices to two million lines.
//!
//! Invoices are folded in by their log position, a chunk per write transaction, when a report
//! asks and every [`FOLD_EVERY`] in the background. Writes are sequenced (`lapak_head`), so the
//! positions a reader sees are a prefix of the log, and one position (`upto`) says exactly which
//! invoices the rollups count. Invoices are ledger entries: they never change once stored.
//!
//! A report's period is cut by [`Span`] into whole blocks, whole days and the partial days at
//! its ends; the last are read from the invoices themselves.

use std::time::Duration;

use super::Result;
use super::db::{Arg, Dialect, Tx};
use super::sql::SqlStorage;

/// A day, in ms.
pub(crate) const DAY_MS: i64 = 86_400_000;
/// Days in a block.
const BLOCK_DAYS: i64 = 28;
/// Invoices folded in per write transaction: small enough that SQLite's write lock (which
/// pushes wait for) is held for some tens of milliseconds.
const FOLD_CHUNK: i64 = 5_000;
/// How often the server folds new invoices in by itself, so a report rarely has many to fold.
pub const FOLD_EVERY: Duration = Duration::from_secs(30);

/// Folds new invoices in every [`FOLD_EVERY`] (the first time at once, so the rollups of a
/// database of an older server are built before the first report asks), until shutdown.
pub async fn fold_in_background(state: crate::app::AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut tick = tokio::time::interval(FOLD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let offset = state.config.utc_offset_seconds;
        if let Err(e) = state.storage.fold_reports(offset).await {
            tracing::warn!(error = %e, "cannot fold new invoices into the reports' rollups; will try again");
        }
    }
}

/// A report's period `[from, to)` cut into what is read from where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    /// Periods of ms read from the invoices themselves (the partial days at the ends).
    pub raw: Vec<(i64, i64)>,
    /// Ranges of whole days read from the day rollups.
    pub days: Vec<(i64, i64)>,
    /// Whole blocks read from the block rollups.
    pub blocks: Option<(i64, i64)>,
}

/// The business day (days since the epoch, local) of `ms`.
pub(crate) fn day_of(ms: i64, offset_ms: i64) -> i64 {
    (ms + offset_ms).div_euclid(DAY_MS)
}

/// When local `day` begins, in ms since the epoch.
pub(crate) fn day_start(day: i64, offset_ms: i64) -> i64 {
    day * DAY_MS - offset_ms
}

impl Span {
    /// Cuts `[from, to)`; with `blocks` false, whole days are never grouped into blocks.
    pub(crate) fn of(from: i64, to: i64, offset_ms: i64, blocks: bool) -> Span {
        let first = {
            let d = day_of(from, offset_ms);
            if day_start(d, offset_ms) < from {
                d + 1
            } else {
                d
            }
        };
        let end = day_of(to, offset_ms);
        if first >= end {
            return Span {
                raw: vec![(from, to)],
                ..Span::default()
            };
        }
        let raw = [
            (from, day_start(first, offset_ms)),
            (day_start(end, offset_ms), to),
        ];
        let (b0, b1) = (
            (first + BLOCK_DAYS - 1).div_euclid(BLOCK_DAYS),
            end.div_euclid(BLOCK_DAYS),
        );
        let (days, blocks) = if blocks && b0 < b1 {
            (
                vec![(first, b0 * BLOCK_DAYS), (b1 * BLOCK_DAYS, end)],
                Some((b0, b1)),
            )
        } else {
            (vec![(first, end)], None)
        };
        Span {
            raw: raw.into_iter().filter(|(a, b)| a < b).collect(),
            days: days.into_iter().filter(|(a, b)| a < b).collect(),
            blocks,
        }
    }
}

/// The statements that fold invoices with positions in `($1, $2]` into the rollups, days
/// beginning at offset `$3` ms.
const FOLDS: &[&str] = &[
    "INSERT INTO lapak_report_sales (day, branch, invoices, total) \
     SELECT (s.sold_at + $3) / 86400000, s.branch, COUNT(*), CAST(SUM(s.total) AS BIGINT) \
     FROM sales_invoices s WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2 \
     ON CONFLICT (branch, day) DO UPDATE SET invoices = lapak_report_sales.invoices + excluded.invoices, \
     total = lapak_report_sales.total + excluded.total",
    "INSERT INTO lapak_report_payments (day, branch, method, payments, amount) \
     SELECT (s.sold_at + $3) / 86400000, s.branch, COALESCE(p.method, '?'), COUNT(*), CAST(SUM(p.amount) AS BIGINT) \
     FROM sales_invoices s JOIN sales_invoices_payments p ON p.parent_id = s.id \
     WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2, 3 \
     ON CONFLICT (branch, day, method) DO UPDATE SET payments = lapak_report_payments.payments + excluded.payments, \
     amount = lapak_report_payments.amount + excluded.amount",
    "INSERT INTO lapak_report_items_day (day, branch, sku, qty, revenue) \
     SELECT (s.sold_at + $3) / 86400000, s.branch, COALESCE(l.sku, '?'), CAST(SUM(l.qty) AS BIGINT), \
     CAST(SUM(l.qty * l.price - COALESCE(l.discount, 0)) AS BIGINT) \
     FROM sales_invoices s JOIN sales_invoices_lines l ON l.parent_id = s.id \
     WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2, 3 \
     ON CONFLICT (branch, day, sku) DO UPDATE SET qty = lapak_report_items_day.qty + excluded.qty, \
     revenue = lapak_report_items_day.revenue + excluded.revenue",
    "INSERT INTO lapak_report_items_block (block, branch, sku, qty, revenue) \
     SELECT (s.sold_at + $3) / 86400000 / 28, s.branch, COALESCE(l.sku, '?'), CAST(SUM(l.qty) AS BIGINT), \
     CAST(SUM(l.qty * l.price - COALESCE(l.discount, 0)) AS BIGINT) \
     FROM sales_invoices s JOIN sales_invoices_lines l ON l.parent_id = s.id \
     WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2, 3 \
     ON CONFLICT (branch, block, sku) DO UPDATE SET qty = lapak_report_items_block.qty + excluded.qty, \
     revenue = lapak_report_items_block.revenue + excluded.revenue",
    "INSERT INTO lapak_report_items_day_all (day, sku, qty, revenue) \
     SELECT (s.sold_at + $3) / 86400000, COALESCE(l.sku, '?'), CAST(SUM(l.qty) AS BIGINT), \
     CAST(SUM(l.qty * l.price - COALESCE(l.discount, 0)) AS BIGINT) \
     FROM sales_invoices s JOIN sales_invoices_lines l ON l.parent_id = s.id \
     WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2 \
     ON CONFLICT (day, sku) DO UPDATE SET qty = lapak_report_items_day_all.qty + excluded.qty, \
     revenue = lapak_report_items_day_all.revenue + excluded.revenue",
    "INSERT INTO lapak_report_items_block_all (block, sku, qty, revenue) \
     SELECT (s.sold_at + $3) / 86400000 / 28, COALESCE(l.sku, '?'), CAST(SUM(l.qty) AS BIGINT), \
     CAST(SUM(l.qty * l.price - COALESCE(l.discount, 0)) AS BIGINT) \
     FROM sales_invoices s JOIN sales_invoices_lines l ON l.parent_id = s.id \
     WHERE s._position > $1 AND s._position <= $2 GROUP BY 1, 2 \
     ON CONFLICT (block, sku) DO UPDATE SET qty = lapak_report_items_block_all.qty + excluded.qty, \
     revenue = lapak_report_items_block_all.revenue + excluded.revenue",
];

/// Empties every rollup (when the business's offset changes, everything is folded again).
const EMPTY_ROLLUPS: &[&str] = &[
    "DELETE FROM lapak_report_sales",
    "DELETE FROM lapak_report_payments",
    "DELETE FROM lapak_report_items_day",
    "DELETE FROM lapak_report_items_block",
    "DELETE FROM lapak_report_items_day_all",
    "DELETE FROM lapak_report_items_block_all",
];

impl SqlStorage {
    /// Whether this server's schema has the invoices the rollups count.
    fn has_invoices(&self) -> bool {
        self.schema.collection("sales_invoices").is_ok_and(|c| {
            ["lines", "payments"]
                .iter()
                .all(|f| c.field_named(f).is_ok())
        })
    }

    /// Folds every stored invoice the rollups do not count yet into them, with days beginning
    /// at `utc_offset_seconds`. Cheap when there is nothing to fold (two indexed reads).
    ///
    /// # Errors
    /// When the database fails; what was folded before stays folded.
    pub(crate) async fn fold_rollups(&self, utc_offset_seconds: i32) -> Result<()> {
        if !self.has_invoices() {
            return Ok(());
        }
        let offset_ms = i64::from(utc_offset_seconds) * 1000;
        if self.reports_current(offset_ms).await? {
            return Ok(());
        }
        while self.fold_chunk(offset_ms).await? {}
        Ok(())
    }

    /// Whether the rollups count every invoice, by today's offset.
    async fn reports_current(&self, offset_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin_read().await?;
        let state = tx
            .fetch_optional(
                "SELECT upto, utc_offset_ms, (SELECT MAX(_position) FROM sales_invoices) \
                 FROM lapak_report_state WHERE id = 1",
                &[],
            )
            .await?;
        tx.commit().await?;
        let Some(state) = state else {
            return Ok(false);
        };
        let head = state.opt_int(2)?.unwrap_or(0);
        Ok(state.int(1)? == offset_ms && state.int(0)? >= head)
    }

    /// Folds the next chunk of invoices in; `false` when there was none.
    async fn fold_chunk(&self, offset_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin_write().await?;
        let state = tx
            .fetch_optional(
                match tx.dialect() {
                    // Two folds at once take turns; the second sees the first's `upto`.
                    Dialect::Postgres => {
                        "SELECT upto, utc_offset_ms FROM lapak_report_state WHERE id = 1 FOR UPDATE"
                    }
                    Dialect::Sqlite => {
                        "SELECT upto, utc_offset_ms FROM lapak_report_state WHERE id = 1"
                    }
                },
                &[],
            )
            .await?
            .ok_or_else(|| super::StorageError::Corrupt("lapak_report_state has no row".into()))?;
        let mut upto = state.int(0)?;
        if state.int(1)? != offset_ms {
            for sql in EMPTY_ROLLUPS {
                tx.execute(*sql, &[]).await?;
            }
            upto = 0;
        }
        let Some(last) = chunk_end(&mut tx, upto).await? else {
            set_state(&mut tx, upto, offset_ms).await?;
            tx.commit().await?;
            return Ok(false);
        };
        let args = [Arg::Int(upto), Arg::Int(last), Arg::Int(offset_ms)];
        for sql in FOLDS {
            tx.execute(*sql, &args).await?;
        }
        set_state(&mut tx, last, offset_ms).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The position of the last invoice of the next chunk after `upto`, if any.
async fn chunk_end(tx: &mut Tx, upto: i64) -> Result<Option<i64>> {
    let nth = tx
        .fetch_optional(
            "SELECT _position FROM sales_invoices WHERE _position > $1 \
             ORDER BY _position LIMIT 1 OFFSET $2",
            &[Arg::Int(upto), Arg::Int(FOLD_CHUNK - 1)],
        )
        .await?;
    if let Some(row) = nth {
        return Ok(Some(row.int(0)?));
    }
    let last = tx
        .fetch_optional(
            "SELECT MAX(_position) FROM sales_invoices WHERE _position > $1",
            &[Arg::Int(upto)],
        )
        .await?;
    Ok(match last {
        Some(row) => row.opt_int(0)?,
        None => None,
    })
}

async fn set_state(tx: &mut Tx, upto: i64, offset_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE lapak_report_state SET upto = $1, utc_offset_ms = $2 WHERE id = 1",
        &[Arg::Int(upto), Arg::Int(offset_ms)],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{DAY_MS, Span, day_start};

    const WIB: i64 = 7 * 3_600_000;

    /// Every ms of the period is read exactly once, from one source.
    fn covered(span: &Span, offset_ms: i64) -> Vec<(i64, i64)> {
        let mut parts: Vec<(i64, i64)> = span.raw.clone();
        for (a, b) in &span.days {
            parts.push((day_start(*a, offset_ms), day_start(*b, offset_ms)));
        }
        if let Some((a, b)) = span.blocks {
            parts.push((day_start(a * 28, offset_ms), day_start(b * 28, offset_ms)));
        }
        parts.sort_unstable();
        parts
    }

    fn contiguous(parts: &[(i64, i64)], from: i64, to: i64) -> bool {
        parts.first().map(|p| p.0) == Some(from)
            && parts.last().map(|p| p.1) == Some(to)
            && parts.windows(2).all(|w| w[0].1 == w[1].0)
            && parts.iter().all(|(a, b)| a < b)
    }

    #[test]
    fn a_period_is_cut_into_raw_ends_whole_days_and_blocks() {
        let day = 20_500;
        let from = day_start(day, WIB) + 3_600_000;
        // A year: blocks, the days around them, and the partial days at the ends.
        let to = from + 365 * DAY_MS;
        let s = Span::of(from, to, WIB, true);
        assert!(s.blocks.is_some());
        assert_eq!(s.raw.len(), 2);
        assert!(contiguous(&covered(&s, WIB), from, to), "{s:?}");
        // Without blocks, the whole days are one range.
        let s = Span::of(from, to, WIB, false);
        assert_eq!((s.blocks, s.days.len()), (None, 1));
        assert!(contiguous(&covered(&s, WIB), from, to), "{s:?}");
        // Less than a whole day: all raw.
        let s = Span::of(from, from + DAY_MS, WIB, true);
        assert_eq!(s.raw, vec![(from, from + DAY_MS)]);
        // Whole days only.
        let (a, b) = (day_start(day, WIB), day_start(day + 3, WIB));
        let s = Span::of(a, b, WIB, true);
        assert!(s.raw.is_empty());
        assert_eq!(s.days, vec![(day, day + 3)]);
    }

    #[test]
    fn every_period_is_covered_once() {
        let start = day_start(20_000, WIB);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let from = start + i64::try_from(x % (400 * 86_400_000)).unwrap();
            let len = 1 + i64::try_from((x >> 20) % (400 * 86_400_000)).unwrap();
            for blocks in [true, false] {
                let s = Span::of(from, from + len, WIB, blocks);
                assert!(contiguous(&covered(&s, WIB), from, from + len), "{s:?}");
            }
        }
    }
}
