//! `cargo bench -p lapak-server`: the server's ingest and pull figures, on Postgres (from
//! `DATABASE_URL`, default the local server; a scratch database is made and dropped) and on the
//! embedded SQLite, printed beside raw Postgres COPY and multi-row INSERT rates measured in the
//! same run. Copy the table into docs/benchmarks.md.
//!
//! Set `LAPAK_BENCH_QUICK=1` for a fast smoke run with smaller sizes.

use std::sync::Arc;
use std::time::Instant;

use lapak_core::protocol::{Change, ChangeBody, Cursor, PushRequest};
use lapak_core::{Record, Store, Value, item, record};
use lapak_server::auth::{Grant, Principal, Role};
use lapak_server::storage::WriteContext;
use lapak_server::{SqlStorage, Storage};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection as _, PgConnection};
use uuid::Uuid;

struct Sizes {
    ledger_entries: usize,
    push_size: usize,
    docs: usize,
    edits_per_doc: usize,
}

fn sizes() -> Sizes {
    if std::env::var_os("LAPAK_BENCH_QUICK").is_some() {
        Sizes {
            ledger_entries: 10_000,
            push_size: 1_000,
            docs: 100,
            edits_per_doc: 9,
        }
    } else {
        Sizes {
            ledger_entries: 100_000,
            push_size: 1_000,
            docs: 1_000,
            edits_per_doc: 9,
        }
    }
}

fn admin() -> Principal {
    Principal {
        user_id: "bench".into(),
        username: "bench".into(),
        role: Role::Cashier,
        device_id: Uuid::now_v7(),
        grants: vec![Grant {
            scope: "branch:JKT".into(),
            write: true,
        }],
    }
}

fn ctx() -> WriteContext {
    WriteContext {
        now_ms: chrono::Utc::now().timestamp_millis(),
        trace_id: "bench".into(),
    }
}

fn sale(i: usize) -> Change {
    let id = Uuid::now_v7();
    let price = 1_000 + (i % 500) as i64;
    let entry: Record = record! {
        "branch" => "JKT",
        "terminal" => "POS-1",
        "total" => 3 * price,
        "sold_at" => 1_700_000_000_000i64 + i as i64,
        "lines" => Value::List(vec![
            item! {"sku" => format!("SKU-{:05}", i % 20_000).as_str(), "qty" => 2, "price" => price},
            item! {"sku" => "BAG", "qty" => 1, "price" => price},
        ]),
    };
    Change {
        change_id: id,
        collection: "sales".into(),
        record_id: id.to_string(),
        body: ChangeBody::Ledger { entry },
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

/// Ledger ingest, document ingest and pull on one backend; returns (ledger/s, docs/s, pull/s).
async fn run(storage: &SqlStorage, s: &Sizes) -> (f64, f64, f64) {
    let who = admin();
    // Ledger entries, in pushes of `push_size`.
    let pushes: Vec<PushRequest> = (0..s.ledger_entries / s.push_size)
        .map(|p| PushRequest {
            device_id: who.device_id,
            changes: (0..s.push_size)
                .map(|i| sale(p * s.push_size + i))
                .collect(),
        })
        .collect();
    let t = Instant::now();
    for p in &pushes {
        storage.push(&ctx(), &who, p).await.unwrap();
    }
    let ledger = rate(s.ledger_entries, t.elapsed().as_secs_f64());

    // Document changes: outlets made and edited offline on a device, pushed in batches.
    let dir = tempfile::tempdir().unwrap();
    let mut dev =
        Store::open(dir.path().join("d.sqlite3"), lapak_core::catalog::starter()).unwrap();
    for i in 0..s.docs {
        let id = dev
            .create(
                "outlets",
                record! {"name" => format!("Outlet {i}"), "branch" => "JKT"},
            )
            .unwrap();
        for e in 0..s.edits_per_doc {
            dev.set("outlets", &id, "phone", format!("0812{e:04}"))
                .unwrap();
        }
    }
    let mut doc_pushes = Vec::new();
    while let Some(p) = dev.next_push(1_000).unwrap() {
        // The device would wait for the answer; mark them sent by answering locally.
        let resp = lapak_core::protocol::PushResponse {
            results: p
                .changes
                .iter()
                .map(|c| lapak_core::protocol::ChangeResult {
                    change_id: c.change_id,
                    outcome: lapak_core::protocol::Outcome::Accepted { position: 1 },
                })
                .collect(),
        };
        doc_pushes.push(p);
        dev.apply_push_response(&resp).unwrap();
    }
    let doc_changes: usize = doc_pushes.iter().map(|p| p.changes.len()).sum();
    let t = Instant::now();
    for p in &doc_pushes {
        let who = Principal {
            device_id: p.device_id,
            ..who.clone()
        };
        storage.push(&ctx(), &who, p).await.unwrap();
    }
    let docs = rate(doc_changes, t.elapsed().as_secs_f64());

    // Pull the whole scope from the start, in answers of 50,000 entries.
    let t = Instant::now();
    let mut cursor = 0;
    let mut pulled = 0;
    loop {
        let resp = storage
            .pull(
                &[Cursor {
                    scope: "branch:JKT".into(),
                    position: cursor,
                }],
                50_000,
            )
            .await
            .unwrap();
        let b = &resp.batches[0];
        pulled += b.entries.len();
        cursor = b.upto;
        if !b.has_more {
            break;
        }
    }
    let pull = rate(pulled, t.elapsed().as_secs_f64());
    (ledger, docs, pull)
}

/// Raw Postgres rates for rows as wide as a sale's log row: COPY and multi-row INSERT.
async fn raw_postgres(url: &str, rows: usize) -> (f64, f64) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::query("CREATE TABLE raw_copy (scope TEXT, position BIGINT, collection TEXT, record_id TEXT, op BYTEA, PRIMARY KEY (scope, position))")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE raw_insert (scope TEXT, position BIGINT, collection TEXT, record_id TEXT, op BYTEA, PRIMARY KEY (scope, position))")
        .execute(&mut conn)
        .await
        .unwrap();
    let op_hex = "\\\\x".to_owned() + &"ab".repeat(120);
    let mut data = String::with_capacity(rows * 330);
    for i in 0..rows {
        data.push_str(&format!(
            "branch:JKT\t{}\tsales\t{}\t{op_hex}\n",
            i + 1,
            Uuid::now_v7()
        ));
    }
    let t = Instant::now();
    let mut copy = conn.copy_in_raw("COPY raw_copy FROM STDIN").await.unwrap();
    copy.send(data.as_bytes()).await.unwrap();
    copy.finish().await.unwrap();
    let copy_rate = rate(rows, t.elapsed().as_secs_f64());

    let op = vec![0xabu8; 120];
    let t = Instant::now();
    let mut tx = conn.begin().await.unwrap();
    for chunk in (0..rows).collect::<Vec<_>>().chunks(1_000) {
        let mut sql = String::from("INSERT INTO raw_insert VALUES ");
        for (k, _) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push(',');
            }
            let b = k * 5;
            sql.push_str(&format!(
                "(${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind("branch:JKT")
                .bind((*i + 1) as i64)
                .bind("sales")
                .bind(Uuid::now_v7().to_string())
                .bind(op.clone());
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let insert_rate = rate(rows, t.elapsed().as_secs_f64());
    (copy_rate, insert_rate)
}

fn line(what: &str, value: f64, unit: &str, baseline: Option<(f64, &str)>) {
    match baseline {
        Some((b, name)) => println!(
            "{what:<58} {value:>10.0} {unit:<10} ({:.2} of {name} {b:.0} rows/s)",
            value / b
        ),
        None => println!("{what:<58} {value:>10.0} {unit}"),
    }
}

#[tokio::main]
async fn main() {
    let s = sizes();
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("lapak_bench_{}", std::process::id());
    let admin_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_pool)
        .await
        .unwrap();
    let url = match base.rfind('/') {
        Some(i) if base[..i].contains("://") && i > base.find("://").unwrap() + 2 => {
            format!("{}/{name}", &base[..i])
        }
        _ => format!("{base}/{name}"),
    };
    println!(
        "lapak-server benchmarks: {} ledger entries in pushes of {}, {} documents x {} changes",
        s.ledger_entries,
        s.push_size,
        s.docs,
        s.edits_per_doc + 1
    );
    let pg = Arc::new(
        SqlStorage::open(
            &url,
            lapak_core::catalog::starter(),
            lapak_server::rules::starter(),
        )
        .await
        .unwrap(),
    );
    let (ledger, docs, pull) = run(&pg, &s).await;
    pg.close().await;
    let (copy, insert) = raw_postgres(&url, s.ledger_entries).await;
    println!("-- Postgres");
    line(
        "raw COPY of log-sized rows (baseline)",
        copy,
        "rows/s",
        None,
    );
    line(
        "raw multi-row INSERT, 1,000 rows per statement (baseline)",
        insert,
        "rows/s",
        None,
    );
    line(
        "push ingest: ledger entries (sales with 2 lines)",
        ledger,
        "entries/s",
        Some((insert, "INSERT")),
    );
    line(
        "push ingest: document changes (outlets)",
        docs,
        "changes/s",
        None,
    );
    line(
        "pull: whole scope from the start, 50,000 per answer",
        pull,
        "rows/s",
        Some((copy, "COPY")),
    );

    let dir = tempfile::tempdir().unwrap();
    let lite = SqlStorage::open(
        &format!("sqlite://{}", dir.path().join("bench.sqlite3").display()),
        lapak_core::catalog::starter(),
        lapak_server::rules::starter(),
    )
    .await
    .unwrap();
    let (ledger, docs, pull) = run(&lite, &s).await;
    lite.close().await;
    println!("-- SQLite (embedded)");
    line(
        "push ingest: ledger entries (sales with 2 lines)",
        ledger,
        "entries/s",
        None,
    );
    line(
        "push ingest: document changes (outlets)",
        docs,
        "changes/s",
        None,
    );
    line(
        "pull: whole scope from the start, 50,000 per answer",
        pull,
        "rows/s",
        None,
    );

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin_pool)
    .await
    .unwrap();

    // The business: seeding the demo, then invoices judged by the business rules (stock,
    // prices in force, the drawer) against it.
    let demo = if std::env::var_os("LAPAK_BENCH_QUICK").is_some() {
        lapak_server::demo::DemoSize {
            outlets: 10_000,
            items: 2_000,
            ..lapak_server::demo::DemoSize::default()
        }
    } else {
        lapak_server::demo::DemoSize::default()
    };
    let invoices = s.ledger_entries / 5;
    println!(
        "-- the business: demo of {} outlets and {} items, then {invoices} invoices of 2 lines",
        demo.outlets, demo.items
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_pool)
        .await
        .unwrap();
    let pg = SqlStorage::open(
        &url,
        lapak_core::catalog::business(),
        lapak_server::rules::business(),
    )
    .await
    .unwrap();
    business(&pg, "Postgres", &demo, invoices).await;
    pg.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin_pool)
    .await
    .unwrap();
    let lite = SqlStorage::open(
        &format!("sqlite://{}", dir.path().join("business.sqlite3").display()),
        lapak_core::catalog::business(),
        lapak_server::rules::business(),
    )
    .await
    .unwrap();
    business(&lite, "SQLite", &demo, invoices).await;
    lite.close().await;
}

/// Seeds the demo into `storage` and pushes `n` invoices of branch JKT-01 at list prices.
async fn business(
    storage: &SqlStorage,
    backend: &str,
    demo: &lapak_server::demo::DemoSize,
    n: usize,
) {
    let started = Instant::now();
    let hash = lapak_server::auth::hash_password("bench-password").unwrap();
    lapak_server::demo::seed(storage, demo, &hash, |_| {})
        .await
        .unwrap();
    let seeded = started.elapsed().as_secs_f64();
    println!("{backend}: demo seeded in {seeded:.1} s (target < 60 s)");
    let prices: Vec<(String, i64)> = storage
        .query_text("SELECT sku, CAST(price AS TEXT) FROM prices WHERE price_list = 'retail' AND effective_to IS NULL AND sku IN (SELECT id FROM items WHERE negative_stock = 'allow') ORDER BY sku LIMIT 400")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].as_deref().unwrap().parse().unwrap()))
        .collect();
    let cashier = Principal {
        user_id: "bench".into(),
        username: "c-jkt01-1".into(),
        role: Role::Cashier,
        device_id: Uuid::now_v7(),
        grants: vec![Grant {
            scope: "branch:JKT-01".into(),
            write: true,
        }],
    };
    let now = chrono::Utc::now().timestamp_millis();
    let changes: Vec<Change> = (0..n)
        .map(|i| {
            let (a, pa) = &prices[i % prices.len()];
            let (b, pb) = &prices[(i * 7 + 3) % prices.len()];
            let total = pa + 2 * pb;
            let entry = record! {
                "branch" => "JKT-01", "terminal" => "POS-1", "sold_at" => now, "total" => total,
                "lines" => Value::List(vec![
                    item! {"sku" => a.as_str(), "qty" => 1, "price" => *pa, "discount" => 0, "tax" => 0},
                    item! {"sku" => b.as_str(), "qty" => 2, "price" => *pb, "discount" => 0, "tax" => 0},
                ]),
                "payments" => Value::List(vec![item! {"method" => "cash", "amount" => total}]),
            };
            let id = Uuid::now_v7();
            Change {
                change_id: id,
                collection: "sales_invoices".into(),
                record_id: id.to_string(),
                body: ChangeBody::Ledger { entry },
            }
        })
        .collect();
    let started = Instant::now();
    for chunk in changes.chunks(1_000) {
        let plan = storage
            .push(
                &ctx(),
                &cashier,
                &PushRequest {
                    device_id: cashier.device_id,
                    changes: chunk.to_vec(),
                },
            )
            .await
            .unwrap();
        assert_eq!(plan.counts().1, 0, "an invoice was rejected");
    }
    line(
        &format!("{backend}: push ingest, invoices under the business rules"),
        rate(n, started.elapsed().as_secs_f64()),
        "entries/s",
        None,
    );
}
