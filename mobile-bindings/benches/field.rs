//! The Rust side of the phone figures in docs/benchmarks.md, against a running release server
//! with the demo (`scripts/bench-mobile.sh` starts it and runs this, then the Kotlin side):
//!
//! - `rust_bootstrap_ms`: a fresh device of a salesperson logs in and syncs its territory
//!   (outlets, items, prices) through `lapak-client`, the baseline of the Kotlin binding's
//!   bootstrap; the median of three.
//! - `photo_upload_ms`: 100 photos of 2 MB, kept on the device and referenced by one activity,
//!   uploaded by a sync over loopback (store, resumable upload, hash check, fsync), beside
//!   `plain_upload_ms`: the same bytes POSTed to a server that only reads them, in the same run.
//!
//! Environment: `LAPAK_BENCH_SERVER` (URL), `LAPAK_BENCH_PASSWORD`.

use std::time::Instant;

use lapak_client::{Client, ClientOptions};
use lapak_core::{Record, Scalar, Value};

const PHOTOS: usize = 100;
const PHOTO_BYTES: usize = 2 * 1024 * 1024;

async fn device(dir: &std::path::Path, server: &str, user: &str, password: &str) -> Client {
    let client = Client::open(ClientOptions::new(dir, lapak_core::catalog::business()))
        .await
        .expect("device opens");
    client
        .login(server, user, password, None)
        .await
        .expect("login");
    client
}

async fn bootstrap(server: &str, password: &str) -> u128 {
    let mut times = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let c = device(dir.path(), server, "s-jkt01001", password).await;
        c.sync_once().await.expect("bootstrap");
        times.push(start.elapsed().as_millis());
    }
    times.sort_unstable();
    times[1]
}

fn photo(i: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while b.len() < PHOTO_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.truncate(PHOTO_BYTES);
    b
}

async fn photo_upload(server: &str, password: &str, photos: &[Vec<u8>]) -> u128 {
    let dir = tempfile::tempdir().unwrap();
    let c = device(dir.path(), server, "s-jkt01002", password).await;
    c.sync_once().await.expect("first sync");
    let mut items = Vec::new();
    for p in photos {
        let reference = c.add_photo(p.clone()).await.expect("photo kept");
        items.push(
            [
                ("ref", Scalar::Text(reference)),
                ("taken_at", Scalar::Int(1)),
                ("caption", Scalar::Text(String::new())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        );
    }
    let mut r = Record::new();
    for (k, v) in [
        ("salesperson", "s-jkt01002"),
        ("territory", "T-JKT01-002"),
        ("kind", "branch"),
    ] {
        r.insert(k.into(), Value::Text(v.into()));
    }
    r.insert("at".into(), Value::Int(1_700_000_000_000));
    r.insert("photos".into(), Value::List(items));
    c.append("activities", r).await.expect("activity");
    let start = Instant::now();
    let report = c.sync_once().await.expect("upload");
    let took = start.elapsed().as_millis();
    assert_eq!(report.photos_uploaded, PHOTOS, "every photo stored");
    took
}

/// The same bytes POSTed to a server that reads and drops them, one request each.
async fn plain_upload(photos: &[Vec<u8>]) -> u128 {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/sink",
        post(|body: axum::body::Body| async move {
            use futures_util::StreamExt as _;
            let mut n = 0usize;
            let mut s = body.into_data_stream();
            while let Some(Ok(chunk)) = s.next().await {
                n += chunk.len();
            }
            n.to_string()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sink", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let start = Instant::now();
    for p in photos {
        let resp = http.post(&url).body(p.clone()).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), PHOTO_BYTES.to_string());
    }
    start.elapsed().as_millis()
}

#[tokio::main]
async fn main() {
    let server = std::env::var("LAPAK_BENCH_SERVER").expect("LAPAK_BENCH_SERVER: the server's URL");
    let password = std::env::var("LAPAK_BENCH_PASSWORD").expect("LAPAK_BENCH_PASSWORD");
    println!(
        "RESULT rust_bootstrap_ms {}",
        bootstrap(&server, &password).await
    );
    let photos: Vec<Vec<u8>> = (0..PHOTOS).map(photo).collect();
    let plain = plain_upload(&photos).await;
    let lapak = photo_upload(&server, &password, &photos).await;
    println!("RESULT plain_upload_ms {plain}");
    println!("RESULT photo_upload_ms {lapak}");
    #[allow(clippy::cast_precision_loss)]
    let ratio = lapak as f64 / plain.max(1) as f64;
    println!("RESULT photo_upload_ratio {ratio:.2}");
}
