//! `cargo bench -p lapak-desktop --bench pos`: the POS's figures (docs/benchmarks.md), on the
//! full demo business (20,000 items, 100,000 customers) with a real server on port 0.
//!
//! - In the real window (release build, WebKitGTK under Xvfb, driven through tauri-driver):
//!   app start to a usable sell screen; a 500-sale day of two scans and an exact cash payment
//!   each, timing every scan from the Enter key to the next frame after the line changed; item
//!   search through the page's IPC; the app's memory after the day.
//! - In process (`pos::Pos`, no window): checkout committed (invoice, payments, voucher and
//!   the held bill's removal in one transaction).
//!
//! The cashier is granted every branch for reading, so the store holds all 100,000 customers,
//! not only JKT-01's. `LAPAK_BENCH_QUICK=1` for 50 sales instead of 500;
//! `LAPAK_BENCH_ONLY=window` or `checkout` for one part.

#[path = "../../client-sdk/tests/common/mod.rs"]
mod common;
#[path = "../tests/window/rig.rs"]
mod rig;
#[path = "../tests/window/till.rs"]
#[allow(dead_code)]
mod till;
use lapak_webdriver as webdriver;

use std::path::Path;
use std::time::Instant;

use common::{Catalog, Env, PASSWORD};
use lapak_desktop::Pos;
use lapak_desktop::api::{CartIntent, PaymentMethod, ShiftIntent, Tender};
use lapak_server::Accounts as _;
use lapak_server::auth::Grant;
use serde_json::json;
use till::{Till, id};

const CASHIER: &str = "c-jkt01-1";

fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

async fn run() {
    let quick = std::env::var_os("LAPAK_BENCH_QUICK").is_some();
    let sales = if quick { 50 } else { 500 };
    let t = Instant::now();
    let env = Env::sqlite_with(Catalog::Business).await;
    let summary = env.seed(&lapak_server::demo::DemoSize::default()).await;
    println!(
        "demo seeded in {:.1} s: {} reference rows",
        t.elapsed().as_secs_f64(),
        summary.reference_rows
    );
    grant_every_branch(&env).await;
    let codes = stocked_barcodes(&env).await;
    let vouchers = vouchers_at_jkt01(&env).await;

    let only = std::env::var("LAPAK_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "checkout" {
        checkout_in_process(&env, &codes, &vouchers, sales).await;
    }
    if only.is_empty() || only == "window" {
        window(&env, &codes, sales).await;
    }
}

/// The cashier may read every branch (so the store holds every customer), write JKT-01.
async fn grant_every_branch(env: &Env) {
    let rows = env
        .storage()
        .query_text("SELECT id FROM branches")
        .await
        .unwrap();
    let mut grants = vec![
        Grant {
            scope: "branch:JKT-01".into(),
            write: true,
        },
        Grant {
            scope: "org".into(),
            write: false,
        },
    ];
    for r in rows {
        let b = r[0].clone().unwrap();
        if b != "JKT-01" {
            grants.push(Grant {
                scope: format!("branch:{b}"),
                write: false,
            });
        }
    }
    env.storage().set_grants(CASHIER, &grants).await.unwrap();
    // The second cashier keeps JKT-01 only: it runs the in-process checkout.
}

/// Barcodes of items stocked at JKT-01 (the demo stocks each branch's first items).
async fn stocked_barcodes(env: &Env) -> Vec<String> {
    env.storage()
        .query_text(
            "SELECT i.barcode FROM items i JOIN stock_levels s ON s.sku = i.id \
             WHERE s.branch = 'JKT-01' AND s.qty > 10 ORDER BY i.id",
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

async fn vouchers_at_jkt01(env: &Env) -> Vec<String> {
    env.storage()
        .query_text("SELECT id FROM vouchers WHERE redeem_at = 'JKT-01' AND verified ORDER BY id")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

/// Percentiles of `samples` in milliseconds: (p50, p95, p99, max).
fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples[i]
    };
    (at(0.50), at(0.95), at(0.99), *samples.last().unwrap())
}

fn report(what: &str, samples: Vec<f64>) {
    let n = samples.len();
    let (p50, p95, p99, max) = percentiles(samples);
    println!("{what}: n={n} p50={p50:.2} ms p95={p95:.2} ms p99={p99:.2} ms max={max:.2} ms");
}

/// Checkout of a resumed held bill with a voucher (while vouchers last) and a split payment,
/// timed around `Pos::checkout` only.
async fn checkout_in_process(env: &Env, codes: &[String], vouchers: &[String], sales: usize) {
    let dir = env.dir.path().join("in-process");
    let pos = Pos::open(&dir, false).await.unwrap();
    pos.sign_in(&env.base, "c-jkt01-2", PASSWORD).await.unwrap();
    pos.pick_terminal("JKT-01", "POS-2").await.unwrap();
    pos.sync_now().await.unwrap();
    pos.shift(ShiftIntent::Open {
        opening_cash: 500_000,
    })
    .await
    .unwrap();
    let mut samples = Vec::with_capacity(sales);
    let mut with_voucher = 0;
    for n in 0..sales {
        for k in 0..2 {
            let code = codes[(2 * n + k) % codes.len()].clone();
            pos.cart(CartIntent::Scan { code }).await.unwrap();
        }
        let held = pos.hold(None).await.unwrap();
        pos.resume(&held.id).await.unwrap();
        let mut total = pos.cart(CartIntent::Show).await.unwrap().total;
        if let Some(v) = vouchers.get(n) {
            // A voucher the terminal refuses (spent, expired) is skipped, and so is one that
            // leaves too little to split between two tenders.
            let code = Some(v.clone());
            if let Ok(cart) = pos.cart(CartIntent::Voucher { code }).await {
                total = cart.total;
                with_voucher += 1;
                if total < 2 {
                    total = pos
                        .cart(CartIntent::Voucher { code: None })
                        .await
                        .unwrap()
                        .total;
                    with_voucher -= 1;
                }
            }
        }
        let card = total / 2;
        let tenders = vec![
            Tender {
                method: PaymentMethod::Card,
                amount: card,
            },
            Tender {
                method: PaymentMethod::Cash,
                amount: total - card,
            },
        ];
        let t = Instant::now();
        pos.checkout(tenders).await.unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report(
        &format!("checkout committed (in process; {with_voucher} with a voucher)"),
        samples,
    );
    pos.shutdown().await;
}

async fn window(env: &Env, codes: &[String], sales: usize) {
    let rig = rig::Rig::start();
    let dir = env.dir.path().join("POS-1");
    let till = Till {
        window: rig.open(&dir).await,
        name: "POS-1",
    };
    let t = Instant::now();
    till.sign_in(&env.base, CASHIER, PASSWORD).await;
    till.pick_terminal("POS-1").await;
    till.sync().await;
    println!(
        "first sign-in and bootstrap: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!("store: {}", store_counts(&dir));
    till.open_shift(500_000).await;
    till.window.close().await;

    let mut starts = Vec::new();
    let mut till = None;
    for _ in 0..5 {
        drop(till.take());
        let t = Instant::now();
        let w = rig.open(&dir).await;
        w.page
            .find(&format!("{} {}", id("sell"), id("scan-input")))
            .await;
        starts.push(t.elapsed().as_secs_f64() * 1e3);
        till = Some(Till {
            window: w,
            name: "POS-1",
        });
    }
    report(
        "app start to a usable sell screen (driver start included)",
        starts,
    );
    let till = till.unwrap();

    record_scans(&till).await;
    let t = Instant::now();
    for n in 0..sales {
        till.scan(&codes[(2 * n) % codes.len()]).await;
        till.scan(&codes[(2 * n + 1) % codes.len()]).await;
        till.pay(&[("cash", None)], None).await;
        till.new_sale().await;
    }
    println!(
        "{sales} sales through the window in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let scans: Vec<f64> = serde_json::from_value(
        till.page()
            .script("return window.__lapakScans.samples", json!([]))
            .await,
    )
    .unwrap();
    report("scan to line shown (Enter to the next frame)", scans);
    report(
        "item search through the page's IPC",
        search_times(&till).await,
    );
    println!("memory after the day: {}", memory_of(&dir));
    till.window.close().await;
}

/// Counts of the rows the terminal's store holds (with Debian's `sqlite3` when installed).
fn store_counts(dir: &Path) -> String {
    let db = dir.join("device").join("store.sqlite3");
    let sql = "SELECT 'items ' || (SELECT count(*) FROM items) || ', prices ' || \
               (SELECT count(*) FROM prices) || ', customers ' || (SELECT count(*) FROM customers)";
    match std::process::Command::new("sqlite3")
        .arg(&db)
        .arg(sql)
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => format!("(install sqlite3 to count the rows of {})", db.display()),
    }
}

/// Installs the scan timer in the page: Enter in the scan box starts it; the first change of
/// the cart's total quantity after that stops it at the next animation frame.
async fn record_scans(till: &Till) {
    till.page()
        .script(
            "const qty = () => [...document.querySelectorAll('[data-testid=line-qty]')]\
               .reduce((s, e) => s + Number(e.value || 0), 0);\
             const rec = window.__lapakScans = { start: null, last: qty(), samples: [] };\
             document.addEventListener('keydown', (e) => {\
               if (e.key === 'Enter' && e.target?.dataset?.testid === 'scan-input') rec.start = performance.now();\
             }, true);\
             new MutationObserver(() => {\
               const q = qty();\
               if (q === rec.last) return;\
               rec.last = q;\
               if (rec.start === null) return;\
               const start = rec.start; rec.start = null;\
               requestAnimationFrame(() => rec.samples.push(performance.now() - start));\
             }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });",
            json!([]),
        )
        .await;
}

/// `search_items` as the scan box calls it, for words and SKU prefixes, timed in the page.
async fn search_times(till: &Till) -> Vec<f64> {
    let queries: Vec<String> = [
        "sehat", "makmur", "milk", "shampoo", "kopi", "indo", "gula", "sabun", "teh", "beras",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain((1..=100).map(|i| format!("SKU-0{:02}", i % 100)))
    .chain((1..=90).map(|i| format!("sku-00{i:02}")))
    .collect();
    let v = till
        .page()
        .script(
            "return (async () => {\
               const invoke = window.__TAURI_INTERNALS__.invoke;\
               const out = [];\
               for (const query of arguments[0]) {\
                 const t = performance.now();\
                 await invoke('search_items', { request: { query, limit: 8 } });\
                 out.push(performance.now() - t);\
               }\
               return out;\
             })()",
            json!([queries]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

/// The app's resident memory, and with its WebKit processes (proportional set size).
fn memory_of(dir: &Path) -> String {
    let needle = dir.to_str().unwrap();
    let Some(app) = pids().into_iter().find(|p| cmdline(*p).contains(needle)) else {
        return "(the app process was not found)".into();
    };
    let children: Vec<u32> = pids()
        .into_iter()
        .filter(|p| parent(*p) == Some(app))
        .collect();
    let kb = |pid: u32, key: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let web_pss: u64 = children.iter().map(|c| kb(*c, "Pss:")).sum();
    format!(
        "app RSS {} MB (PSS {} MB); with its {} WebKit processes PSS {} MB",
        kb(app, "Rss:") / 1024,
        kb(app, "Pss:") / 1024,
        children.len(),
        (kb(app, "Pss:") + web_pss) / 1024
    )
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
