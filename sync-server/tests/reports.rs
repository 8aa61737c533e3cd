//! The reports that read the rollups (sales by day, top items, payments) answer exactly what
//! the invoices themselves say, for any period (partial days at its ends, whole days, whole
//! 28-day blocks), for an administrator and for a supervisor of some branches, after invoices
//! arrive between reports, and after the business's UTC offset changes. The expected answers
//! are computed here, in Rust, from the invoices as generated.

mod common;

use std::collections::BTreeMap;

use common::Harness;
use lapak_server::storage::reports::{ReportKind, ReportQuery};
use lapak_server::storage::{BackOffice as _, Visibility};
use serde_json::{Value, json};

on_both_backends!(business_sqlite, business_postgres;
    rollups_answer_as_the_invoices_do,
);

const DAY_MS: i64 = 86_400_000;
/// 2026-09-01T00:00Z.
const START: i64 = 1_788_220_800_000;
const BRANCHES: [&str; 3] = ["JKT-01", "BDG-01", "SBY-01"];
const METHODS: [&str; 3] = ["cash", "qris", "card"];

struct Invoice {
    id: String,
    branch: &'static str,
    sold_at: i64,
    total: i64,
    /// sku, qty, price, discount.
    lines: Vec<(String, i64, i64, i64)>,
    /// method, amount.
    payments: Vec<(&'static str, i64)>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

/// `n` invoices over 150 days from [`START`], numbered from `first`.
fn invoices(rng: &mut Rng, first: usize, n: usize) -> Vec<Invoice> {
    (first..first + n)
        .map(|i| {
            let lines: Vec<_> = (0..1 + rng.below(3))
                .map(|_| {
                    let qty = 1 + rng.below(5);
                    let price = 1_000 * (1 + rng.below(40));
                    (
                        format!("SKU-{:03}", rng.below(30)),
                        qty,
                        price,
                        rng.below(2) * 500,
                    )
                })
                .collect();
            let total: i64 = lines.iter().map(|(_, q, p, d)| q * p - d).sum();
            let split = rng.below(2) == 0;
            let method = METHODS[usize::try_from(rng.below(3)).unwrap()];
            let payments = if split {
                vec![(method, total / 2), ("cash", total - total / 2)]
            } else {
                vec![(method, total)]
            };
            Invoice {
                id: format!("INV-{i:05}"),
                branch: BRANCHES[usize::try_from(rng.below(3)).unwrap()],
                sold_at: START + rng.below(150 * DAY_MS),
                total,
                lines,
                payments,
            }
        })
        .collect()
}

/// Stores `list` as pushes would have: rows in the plain tables, at the next log positions.
async fn store(h: &Harness, list: &[Invoice]) {
    let mut sql = String::new();
    for (k, inv) in list.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO sales_invoices (id, number, branch, terminal, sold_at, total, _scopes, _position, _device_id) \
             VALUES ('{}', '{}', '{}', 'POS-1', {}, {}, '[]', (SELECT position FROM lapak_head WHERE id = 1) + {}, 'test');\n",
            inv.id, inv.id, inv.branch, inv.sold_at, inv.total, k + 1
        ));
        for (idx, (sku, qty, price, discount)) in inv.lines.iter().enumerate() {
            sql.push_str(&format!(
                "INSERT INTO sales_invoices_lines (parent_id, idx, sku, qty, price, discount, tax) \
                 VALUES ('{}', {idx}, '{sku}', {qty}, {price}, {discount}, 0);\n",
                inv.id
            ));
        }
        for (idx, (method, amount)) in inv.payments.iter().enumerate() {
            sql.push_str(&format!(
                "INSERT INTO sales_invoices_payments (parent_id, idx, method, amount) \
                 VALUES ('{}', {idx}, '{method}', {amount});\n",
                inv.id
            ));
        }
    }
    sql.push_str(&format!(
        "UPDATE lapak_head SET position = position + {} WHERE id = 1;\n",
        list.len()
    ));
    h.raw_script(sql).await;
}

/// What report `kind` must answer, from the invoices themselves.
fn expected(
    kind: ReportKind,
    all: &[Invoice],
    (from, to): (i64, i64),
    offset_ms: i64,
    visible: Option<&[&str]>,
) -> Vec<Vec<Value>> {
    let seen = all.iter().filter(|i| {
        i.sold_at >= from && i.sold_at < to && visible.is_none_or(|v| v.contains(&i.branch))
    });
    match kind {
        ReportKind::SalesByDay => {
            let mut per: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
            for i in seen {
                let day = (i.sold_at + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
                let e = per.entry((day, i.branch)).or_default();
                e.0 += 1;
                e.1 += i.total;
            }
            per.into_iter()
                .map(|((day, b), (n, t))| vec![json!(day), json!(b), json!(n), json!(t)])
                .collect()
        }
        ReportKind::TopItems => {
            let mut per: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for (sku, qty, price, discount) in seen.flat_map(|i| &i.lines) {
                let e = per.entry(sku).or_default();
                e.0 += qty;
                e.1 += qty * price - discount;
            }
            let mut rows: Vec<_> = per.into_iter().collect();
            rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
            rows.truncate(20);
            rows.into_iter()
                .map(|(sku, (q, r))| vec![json!(sku), Value::Null, json!(q), json!(r)])
                .collect()
        }
        ReportKind::Payments => {
            let mut per: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for (method, amount) in seen.flat_map(|i| &i.payments) {
                let e = per.entry(method).or_default();
                e.0 += 1;
                e.1 += amount;
            }
            let mut rows: Vec<_> = per.into_iter().collect();
            rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
            rows.into_iter()
                .map(|(m, (n, a))| vec![json!(m), json!(n), json!(a)])
                .collect()
        }
        other => unreachable!("{other:?}"),
    }
}

/// Periods: partial days, whole days, a year-like span of blocks, and random ones.
fn periods(rng: &mut Rng, offset_ms: i64) -> Vec<(i64, i64)> {
    let midnight = START + 10 * DAY_MS - offset_ms;
    let mut out = vec![
        (START - DAY_MS, START + 200 * DAY_MS),
        (midnight, midnight + 7 * DAY_MS),
        (midnight + 3_600_000, midnight + 90 * DAY_MS - 1),
        (midnight + 1, midnight + DAY_MS / 2),
    ];
    for _ in 0..12 {
        let from = START + rng.below(150 * DAY_MS);
        out.push((from, from + 1 + rng.below(120 * DAY_MS)));
    }
    out
}

async fn check(h: &Harness, all: &[Invoice], rng: &mut Rng, offset_seconds: i32) {
    let offset_ms = i64::from(offset_seconds) * 1000;
    let supervisor = ["JKT-01", "SBY-01"];
    for period in periods(rng, offset_ms) {
        for kind in [
            ReportKind::SalesByDay,
            ReportKind::TopItems,
            ReportKind::Payments,
        ] {
            for (visibility, visible) in [
                (Visibility::Everything, None),
                (
                    Visibility::Only {
                        branches: supervisor.iter().map(|b| (*b).to_owned()).collect(),
                        territories: Vec::new(),
                    },
                    Some(&supervisor[..]),
                ),
            ] {
                let q = ReportQuery {
                    kind,
                    from: period.0,
                    to: period.1,
                    utc_offset_seconds: offset_seconds,
                    visibility,
                };
                let got = h.storage.report(&q).await.unwrap();
                let want = expected(kind, all, period, offset_ms, visible);
                assert_eq!(
                    got.rows, want,
                    "{kind:?} over {period:?}, {visible:?}, offset {offset_seconds}"
                );
            }
        }
    }
}

async fn rollups_answer_as_the_invoices_do(h: Harness) {
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    // More than one fold's chunk (5,000), so the first fold takes two.
    let mut all = invoices(&mut rng, 0, 6_000);
    store(&h, &all).await;
    check(&h, &all, &mut rng, 7 * 3600).await;
    // More arrive (among them, sales of days long folded): the next reports count them.
    let more = invoices(&mut rng, 6_000, 700);
    store(&h, &more).await;
    all.extend(more);
    check(&h, &all, &mut rng, 7 * 3600).await;
    // The business moves its day's start: everything is folded again by the new days.
    check(&h, &all, &mut rng, -5 * 3600).await;
    // The server's own fold finds nothing left to do and changes nothing.
    h.storage.fold_reports(-5 * 3600).await.unwrap();
    check(&h, &all, &mut rng, -5 * 3600).await;
}
