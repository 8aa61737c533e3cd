//! The admin web's reports: SQL aggregations over the plain tables (one per collection, see
//! `ARCHITECTURE.md`), the same statements on both backends, each cut to what the caller may
//! see and to a period. [`REPORT_INDEXES`] are the server-side indexes they lean on, created
//! with the plain tables.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

use super::Result;
use super::back_office::Visibility;
use super::db::{Arg, DbRow, Dialect};
use super::rollups::{Span, day_start};
use super::sql::SqlStorage;

/// Indexes the reports need beyond those the schema declares (which serve devices and
/// pushes): `(table, columns)`, created on the server only.
pub const REPORT_INDEXES: &[(&str, &[&str])] = &[
    ("sales_invoices", &["sold_at"]),
    // The rollups fold invoices in by position (see `rollups`).
    ("sales_invoices", &["_position"]),
    ("voucher_redemptions", &["redeemed_at"]),
    ("activities", &["at"]),
    ("attendance", &["at"]),
];

/// The reports there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Sales by branch by day.
    SalesByDay,
    /// The best-selling items.
    TopItems,
    /// Payments by method.
    Payments,
    /// Vouchers redeemed per campaign.
    Vouchers,
    /// Activities and visits per salesperson.
    FieldActivity,
    /// Stock per branch, now.
    Stock,
}

/// A report's answer: named columns and rows of cells, ready for a table, a chart and CSV.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
pub struct Report {
    /// Which report.
    pub kind: ReportKind,
    /// Its period, ms since the epoch (`to` excluded).
    #[ts(type = "number")]
    pub from: i64,
    /// The end of the period.
    #[ts(type = "number")]
    pub to: i64,
    /// The columns, in order.
    pub columns: Vec<ReportColumn>,
    /// The rows.
    #[ts(type = "Array<Array<string | number | null>>")]
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A report's column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReportColumn {
    /// Its key (`branch`, `total`).
    pub key: String,
    /// What its cells hold: `text`, `count`, `money`, `qty` or `day` (ms of the day's start).
    pub kind: String,
}

fn columns(spec: &[(&str, &str)]) -> Vec<ReportColumn> {
    spec.iter()
        .map(|(key, kind)| ReportColumn {
            key: (*key).into(),
            kind: (*kind).into(),
        })
        .collect()
}

/// A period and what the caller may see: every report's input.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    /// Which report.
    pub kind: ReportKind,
    /// From (ms, included).
    pub from: i64,
    /// To (ms, excluded).
    pub to: i64,
    /// The business's offset from UTC, seconds (where its days begin).
    pub utc_offset_seconds: i32,
    /// What the caller may see.
    pub visibility: Visibility,
}

/// A cell from a text column.
fn text(r: &DbRow, i: usize) -> Result<serde_json::Value> {
    Ok(r.opt_text(i)?.map_or(serde_json::Value::Null, Into::into))
}

/// A cell from an integer column.
fn int(r: &DbRow, i: usize) -> Result<serde_json::Value> {
    Ok(r.opt_int(i)?.map_or(serde_json::Value::Null, Into::into))
}

/// The rows of an aggregation whose columns are `columns`, in order: text for `text` columns,
/// whole numbers for the others.
fn cells(rows: &[DbRow], columns: &[ReportColumn]) -> Result<Rows> {
    rows.iter()
        .map(|r| {
            (0..columns.len())
                .map(|i| match columns[i].kind.as_str() {
                    "text" => text(r, i),
                    _ => int(r, i),
                })
                .collect()
        })
        .collect()
}

impl SqlStorage {
    /// Runs report `q`.
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn run_report(&self, q: &ReportQuery) -> Result<Report> {
        if matches!(
            q.kind,
            ReportKind::SalesByDay | ReportKind::TopItems | ReportKind::Payments
        ) {
            self.fold_rollups(q.utc_offset_seconds).await?;
        }
        let (columns, rows) = match q.kind {
            ReportKind::SalesByDay => self.sales_by_day(q).await?,
            ReportKind::TopItems => self.top_items(q).await?,
            ReportKind::Payments => self.payments(q).await?,
            ReportKind::Vouchers => self.vouchers(q).await?,
            ReportKind::FieldActivity => self.field_activity(q).await?,
            ReportKind::Stock => self.stock(q).await?,
        };
        Ok(Report {
            kind: q.kind,
            from: q.from,
            to: q.to,
            columns,
            rows,
        })
    }

    /// Arguments `$1` = from, `$2` = to, and the condition that `column` is a visible branch.
    fn period_and_branch(&self, q: &ReportQuery, column: &str) -> (Vec<Arg>, String) {
        let mut args = vec![Arg::Int(q.from), Arg::Int(q.to)];
        let visible = q
            .visibility
            .branch_condition(self.pool.dialect(), column, &mut args);
        (args, visible)
    }

    async fn sales_by_day(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let offset_ms = i64::from(q.utc_offset_seconds) * 1000;
        let span = Span::of(q.from, q.to, offset_ms, false);
        let mut b = Parts::new(self.pool.dialect(), q);
        let off = b.arg(Arg::Int(offset_ms));
        for (from, to) in &span.days {
            let visible = b.branches("branch");
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT day, branch, invoices, total FROM lapak_report_sales \
                 WHERE day >= {from} AND day < {to} AND {visible}"
            ));
        }
        for (from, to) in &span.raw {
            let visible = b.branches("s.branch");
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT (s.sold_at + {off}) / 86400000 AS day, s.branch AS branch, 1 AS invoices, s.total AS total FROM sales_invoices s \
                 WHERE s.sold_at >= {from} AND s.sold_at < {to} AND {visible}"
            ));
        }
        let sql = format!(
            "SELECT day, branch, CAST(SUM(invoices) AS BIGINT), CAST(SUM(total) AS BIGINT) \
             FROM ({}) t GROUP BY day, branch ORDER BY day, branch",
            b.union()
        );
        let rows = self.read(&sql, &b.args).await?;
        let out = rows
            .iter()
            .map(|r| {
                Ok(vec![
                    day_start(r.int(0)?, offset_ms).into(),
                    text(r, 1)?,
                    int(r, 2)?,
                    int(r, 3)?,
                ])
            })
            .collect::<Result<_>>()?;
        Ok((
            columns(&[
                ("day", "day"),
                ("branch", "text"),
                ("invoices", "count"),
                ("total", "money"),
            ]),
            out,
        ))
    }

    async fn top_items(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let offset_ms = i64::from(q.utc_offset_seconds) * 1000;
        let span = Span::of(q.from, q.to, offset_ms, true);
        let mut b = Parts::new(self.pool.dialect(), q);
        let everything = matches!(q.visibility, Visibility::Everything);
        let (days, blocks) = if everything {
            ("lapak_report_items_day_all", "lapak_report_items_block_all")
        } else {
            ("lapak_report_items_day", "lapak_report_items_block")
        };
        let rollups = span
            .blocks
            .iter()
            .map(|r| (blocks, "block", r))
            .chain(span.days.iter().map(|r| (days, "day", r)));
        for (table, unit, (from, to)) in rollups {
            let visible = if everything {
                "1 = 1".to_owned()
            } else {
                b.branches("branch")
            };
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT sku, qty, revenue FROM {table} WHERE {unit} >= {from} AND {unit} < {to} AND {visible}"
            ));
        }
        for (from, to) in &span.raw {
            let visible = b.branches("s.branch");
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT COALESCE(l.sku, '?') AS sku, l.qty AS qty, l.qty * l.price - COALESCE(l.discount, 0) AS revenue \
                 FROM sales_invoices s JOIN sales_invoices_lines l ON l.parent_id = s.id \
                 WHERE s.sold_at >= {from} AND s.sold_at < {to} AND {visible}"
            ));
        }
        // Summed first, named after: 20 lookups of an item's name, not one per line.
        let sql = format!(
            "SELECT a.sku, i.name, a.qty, a.revenue FROM (\
             SELECT sku, CAST(SUM(qty) AS BIGINT) AS qty, CAST(SUM(revenue) AS BIGINT) AS revenue \
             FROM ({}) t GROUP BY sku ORDER BY revenue DESC, sku LIMIT 20) a \
             LEFT JOIN items i ON i.id = a.sku ORDER BY a.revenue DESC, a.sku",
            b.union()
        );
        let columns = columns(&[
            ("sku", "text"),
            ("name", "text"),
            ("qty", "qty"),
            ("revenue", "money"),
        ]);
        let rows = self.read(&sql, &b.args).await?;
        let out = cells(&rows, &columns)?;
        Ok((columns, out))
    }

    async fn payments(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let offset_ms = i64::from(q.utc_offset_seconds) * 1000;
        let span = Span::of(q.from, q.to, offset_ms, false);
        let mut b = Parts::new(self.pool.dialect(), q);
        for (from, to) in &span.days {
            let visible = b.branches("branch");
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT method, payments, amount FROM lapak_report_payments \
                 WHERE day >= {from} AND day < {to} AND {visible}"
            ));
        }
        for (from, to) in &span.raw {
            let visible = b.branches("s.branch");
            let (from, to) = (b.arg(Arg::Int(*from)), b.arg(Arg::Int(*to)));
            b.part(format!(
                "SELECT COALESCE(p.method, '?') AS method, 1 AS payments, p.amount AS amount \
                 FROM sales_invoices s JOIN sales_invoices_payments p ON p.parent_id = s.id \
                 WHERE s.sold_at >= {from} AND s.sold_at < {to} AND {visible}"
            ));
        }
        let sql = format!(
            "SELECT method, CAST(SUM(payments) AS BIGINT), CAST(SUM(amount) AS BIGINT) AS amount \
             FROM ({}) t GROUP BY method ORDER BY amount DESC, method",
            b.union()
        );
        let columns = columns(&[
            ("method", "text"),
            ("payments", "count"),
            ("amount", "money"),
        ]);
        let rows = self.read(&sql, &b.args).await?;
        let out = cells(&rows, &columns)?;
        Ok((columns, out))
    }

    async fn vouchers(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let (args, visible) = self.period_and_branch(q, "r.branch");
        let sql = format!(
            "SELECT COALESCE(v.campaign, '?'), COUNT(*), CAST(COALESCE(SUM(v.discount), 0) AS BIGINT) \
             FROM voucher_redemptions r LEFT JOIN vouchers v ON v.id = r.voucher \
             WHERE r.redeemed_at >= $1 AND r.redeemed_at < $2 AND {visible} \
             GROUP BY COALESCE(v.campaign, '?') ORDER BY COUNT(*) DESC"
        );
        let columns = columns(&[
            ("campaign", "text"),
            ("redeemed", "count"),
            ("discount", "money"),
        ]);
        let rows = self.read(&sql, &args).await?;
        let out = cells(&rows, &columns)?;
        Ok((columns, out))
    }

    async fn field_activity(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let d = self.pool.dialect();
        let mut args = vec![Arg::Int(q.from), Arg::Int(q.to)];
        let visible = q.visibility.territory_condition(d, "territory", &mut args);
        let activities = self
            .read(
                &format!(
                    "SELECT salesperson, kind, COUNT(*) FROM activities \
                     WHERE at >= $1 AND at < $2 AND {visible} GROUP BY salesperson, kind"
                ),
                &args,
            )
            .await?;
        let visits = self
            .read(
                &format!(
                    "SELECT \"user\", COUNT(*) FROM attendance \
                     WHERE at >= $1 AND at < $2 AND kind = 'check_in' AND {visible} GROUP BY \"user\""
                ),
                &args,
            )
            .await?;
        // salesperson -> [visits, sell_in, sell_out, branch, program]
        let mut per: BTreeMap<String, [i64; 5]> = BTreeMap::new();
        for r in &visits {
            per.entry(r.text(0)?).or_default()[0] = r.int(1)?;
        }
        for r in &activities {
            let slot = match r.text(1)?.as_str() {
                "sell_in" => 1,
                "sell_out" => 2,
                "branch" => 3,
                _ => 4,
            };
            per.entry(r.text(0)?).or_default()[slot] += r.int(2)?;
        }
        let out = per
            .into_iter()
            .map(|(who, n)| {
                let mut row = vec![serde_json::Value::from(who)];
                row.extend(n.iter().map(|v| serde_json::Value::from(*v)));
                row
            })
            .collect();
        Ok((
            columns(&[
                ("salesperson", "text"),
                ("visits", "count"),
                ("sell_in", "count"),
                ("sell_out", "count"),
                ("branch", "count"),
                ("program", "count"),
            ]),
            out,
        ))
    }

    async fn stock(&self, q: &ReportQuery) -> Result<(Vec<ReportColumn>, Rows)> {
        let mut args = Vec::new();
        let visible = q
            .visibility
            .branch_condition(self.pool.dialect(), "branch", &mut args);
        let sql = format!(
            "SELECT branch, COUNT(*), CAST(SUM(qty) AS BIGINT), SUM(CASE WHEN qty < 0 THEN 1 ELSE 0 END) \
             FROM stock_levels WHERE {visible} GROUP BY branch ORDER BY branch"
        );
        let columns = columns(&[
            ("branch", "text"),
            ("items", "count"),
            ("qty", "qty"),
            ("below_zero", "count"),
        ]);
        let rows = self.read(&sql, &args).await?;
        let out = cells(&rows, &columns)?;
        Ok((columns, out))
    }
}

/// A report's rows.
type Rows = Vec<Vec<serde_json::Value>>;

/// A report's sources, read as one `UNION ALL`, and their arguments.
struct Parts<'a> {
    dialect: Dialect,
    query: &'a ReportQuery,
    parts: Vec<String>,
    args: Vec<Arg>,
}

impl<'a> Parts<'a> {
    fn new(dialect: Dialect, query: &'a ReportQuery) -> Self {
        Parts {
            dialect,
            query,
            parts: Vec::new(),
            args: Vec::new(),
        }
    }

    /// A placeholder for `value`.
    fn arg(&mut self, value: Arg) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    /// The condition that `column` holds a branch the caller may see.
    fn branches(&mut self, column: &str) -> String {
        self.query
            .visibility
            .branch_condition(self.dialect, column, &mut self.args)
    }

    fn part(&mut self, sql: String) {
        self.parts.push(sql);
    }

    /// The sources as one (a [`Span`] always has at least one).
    fn union(&self) -> String {
        self.parts.join(" UNION ALL ")
    }
}
