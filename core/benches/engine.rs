//! `cargo bench -p lapak-core`: the engine's figures, printed as a table (copied into
//! docs/benchmarks.md). A plain harness, because the targets are percentiles and rates that
//! must be shown beside a raw SQLite baseline measured in the same run.
//!
//! Set `LAPAK_BENCH_QUICK=1` for a fast smoke run with smaller sizes.

use std::time::{Duration, Instant};

use lapak_core::protocol::{LogOp, PullResponse};
use lapak_core::testkit::{MemoryServer, items_batch, sample_schema};
use lapak_core::{Durability, Store, Value, item, record};

struct Sizes {
    writes: usize,
    rows: u64,
    docs: usize,
    edits_per_doc: usize,
}

fn sizes() -> Sizes {
    if std::env::var_os("LAPAK_BENCH_QUICK").is_some() {
        Sizes {
            writes: 500,
            rows: 10_000,
            docs: 100,
            edits_per_doc: 9,
        }
    } else {
        Sizes {
            writes: 5_000,
            rows: 100_000,
            docs: 1_000,
            edits_per_doc: 9,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report_latencies(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<72} n={:<6} p50={:>8.1?} p99={:>8.1?} max={:>8.1?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

fn open(dir: &std::path::Path, name: &str, durability: Durability) -> Store {
    let mut s = Store::open_with(dir.join(name), sample_schema(), durability).unwrap();
    s.set_scopes(&["branch:JKT".into(), "org".into()]).unwrap();
    s
}

fn sale() -> lapak_core::Record {
    let lines = (0..5)
        .map(|i| item! {"sku" => format!("SKU-{i:04}").as_str(), "qty" => 1 + i, "price" => 12_500})
        .collect();
    record! {"branch" => "JKT", "terminal" => "pos-1", "total" => 187_500, "sold_at" => 1_790_000_000_000i64, "lines" => Value::List(lines)}
}

fn bench_local_writes(dir: &std::path::Path, s: &Sizes) {
    for (label, durability) in [("NORMAL", Durability::Normal), ("FULL", Durability::Full)] {
        let mut store = open(dir, &format!("writes-{label}.sqlite"), durability);
        for _ in 0..100 {
            store.append("sales", sale()).unwrap(); // warm-up
        }
        let samples = (0..s.writes)
            .map(|_| {
                let t = Instant::now();
                store.append("sales", sale()).unwrap();
                t.elapsed()
            })
            .collect();
        report_latencies(
            &format!("local write: sale, 5 lines (synchronous={label})"),
            samples,
        );

        let ids: Vec<String> = (0..200)
            .map(|i| {
                store
                    .create("outlets", record! {"name" => format!("Toko {i}"), "branch" => "JKT", "notes" => "Buka jam 7"})
                    .unwrap()
            })
            .collect();
        // Cold: each write picks the next of 200 outlets (more than the store keeps loaded).
        // Hot: 50 writes in a row to one outlet, then the next (a cart being rung up).
        let cold = |i: usize| i % 200;
        let hot = |i: usize| (i / 50) % 200;
        let cases: [(&str, &dyn Fn(usize) -> usize); 2] = [
            ("a document not edited lately", &cold),
            ("the document edited last", &hot),
        ];
        for (what, pick) in cases {
            let samples = (0..s.writes)
                .map(|i| {
                    let id = &ids[pick(i)];
                    let t = Instant::now();
                    store
                        .set("outlets", id, "phone", format!("0812{i:07}"))
                        .unwrap();
                    t.elapsed()
                })
                .collect();
            report_latencies(
                &format!("local write: one-field edit of {what} (synchronous={label})"),
                samples,
            );
        }
    }
}

/// The same rows inserted with a plain prepared statement in one transaction: the ceiling.
fn raw_sqlite_insert(dir: &std::path::Path, batch: &PullResponse) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("raw.sqlite")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "DROP TABLE IF EXISTS items;
         CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, sku TEXT, name TEXT, barcode TEXT, price INTEGER, branch TEXT, _scopes TEXT NOT NULL DEFAULT '', _version INTEGER NOT NULL DEFAULT 0) STRICT;
         CREATE INDEX items_barcode ON items (barcode);",
    )
    .unwrap();
    let t = Instant::now();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO items (id, sku, name, barcode, price, branch, _scopes, _version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .unwrap();
        for e in &batch.batches[0].entries {
            let LogOp::Upsert { version, fields } = &e.op else {
                unreachable!()
            };
            let text = |k: &str| fields[k].as_text().unwrap().to_owned();
            stmt.execute(rusqlite::params![
                e.record_id,
                text("sku"),
                text("name"),
                text("barcode"),
                fields["price"].as_int(),
                text("branch"),
                "org",
                i64::try_from(*version).unwrap()
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    batch.batches[0].entries.len() as f64 / t.elapsed().as_secs_f64()
}

fn bench_reference_pull(dir: &std::path::Path, s: &Sizes) {
    let batch = items_batch(s.rows);
    let mut engine = Vec::new();
    let mut raw = Vec::new();
    for run in 0..3 {
        let mut store = open(dir, &format!("pull-{run}.sqlite"), Durability::Normal);
        let t = Instant::now();
        store.apply_pull(&batch).unwrap();
        engine.push(s.rows as f64 / t.elapsed().as_secs_f64());
        assert_eq!(store.count("items").unwrap(), s.rows);
        raw.push(raw_sqlite_insert(dir, &batch));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (e, r) = (median(&mut engine), median(&mut raw));
    println!(
        "{:<72} {:>9.0} rows/s (raw SQLite insert {:>9.0} rows/s, ratio {:.2})",
        format!("apply pull: {} reference rows", s.rows),
        e,
        r,
        e / r
    );
}

fn bench_remote_documents(dir: &std::path::Path, s: &Sizes) {
    let mut server = MemoryServer::new(sample_schema());
    let mut writer = open(dir, "doc-writer.sqlite", Durability::Normal);
    for d in 0..s.docs {
        let id = writer
            .create(
                "outlets",
                record! {"name" => format!("Toko {d}"), "branch" => "JKT", "notes" => "Buka jam 7"},
            )
            .unwrap();
        for e in 0..s.edits_per_doc {
            writer
                .set("outlets", &id, "phone", format!("0812{e}"))
                .unwrap();
        }
    }
    while let Some(push) = writer.next_push(1000).unwrap() {
        let answer = server.push(&push);
        writer.apply_push_response(&answer).unwrap();
    }
    let changes = s.docs * (s.edits_per_doc + 1);
    let mut reader = open(dir, "doc-reader.sqlite", Durability::Normal);
    let response = server.pull(
        &reader
            .pull_request(u32::try_from(changes).unwrap())
            .unwrap(),
    );
    assert_eq!(response.batches[0].entries.len(), changes);
    let t = Instant::now();
    reader.apply_pull(&response).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(reader.count("outlets").unwrap(), s.docs as u64);
    println!(
        "{:<72} {:>9.0} changes/s ({changes} changes to {} documents in {:.2} s)",
        format!("apply pull: {changes} remote document changes"),
        changes as f64 / secs,
        s.docs,
        secs
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only smoke-run.
    let sizes = sizes();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "lapak-core benchmarks ({} cores)",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    bench_local_writes(dir.path(), &sizes);
    bench_reference_pull(dir.path(), &sizes);
    bench_remote_documents(dir.path(), &sizes);
}
