//! The Rust side of the phone figures in docs/benchmarks.md, against a running release server
//! with the demo (`scripts/bench-mobile.sh` starts it and runs this, then the Kotlin side):
//!
//! - `rust_bootstrap_ms`: a fresh device of a salesperson logs in and syncs its territory
//!   (outlets, items, prices) through `lapak-client`, the baseline of the Kotlin binding's
//!   bootstrap; the median of three.
//! - `photo_upload_ms`: 100 photos of 2 MB, kept on the device and referenced by one activity,
//!   uploaded by a sync over loopback (resumable upload, hash check, reference check, stored
//!   durably), beside, in the same run, `plain_upload_ms`: the same bytes POSTed one by one to a
//!   plain upload endpoint that keeps each in a file and syncs it to disk before answering (the
//!   least any upload that must not lose a photo does), and `sink_upload_ms`: the same bytes
//!   POSTed to an endpoint that only reads them (the loopback's own speed).
//!
//! - `rust_check_in` and `rust_activity_5_lines`: the Kotlin side's local writes, made through
//!   `lapak_mobile::LapakClient`'s Rust API (the same code without uniffi), offline: the device
//!   reaches the server through a forwarder that is cut after the bootstrap.
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

/// The same bytes POSTed one request each to a plain endpoint on loopback: with `keep`, it
/// writes each body to a new file and syncs the file and its directory before answering; else
/// it only reads the body.
async fn plain_upload(photos: &[Vec<u8>], keep: bool) -> u128 {
    use axum::routing::post;
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().to_owned();
    let app = axum::Router::new().route(
        "/upload/{name}",
        post(
            move |axum::extract::Path(name): axum::extract::Path<String>,
                  body: axum::body::Bytes| {
                let at = at.clone();
                async move {
                    if keep {
                        tokio::task::spawn_blocking(move || {
                            use std::io::Write as _;
                            let mut f = std::fs::File::create(at.join(name)).unwrap();
                            f.write_all(&body).unwrap();
                            f.sync_all().unwrap();
                            std::fs::File::open(&at).unwrap().sync_all().unwrap();
                            body.len().to_string()
                        })
                        .await
                        .unwrap()
                    } else {
                        body.len().to_string()
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/upload", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let start = Instant::now();
    for (i, p) in photos.iter().enumerate() {
        let resp = http
            .post(format!("{url}/{i}"))
            .body(p.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.text().await.unwrap(), PHOTO_BYTES.to_string());
    }
    start.elapsed().as_millis()
}

/// Forwards connections on a loopback port to `server` until the returned task is aborted;
/// aborting it drops the listener and every forwarded connection (the phone goes offline).
async fn forwarder(server: &str) -> (String, tokio::task::JoinHandle<()>) {
    let upstream = server.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let upstream = upstream.clone();
            connections.spawn(async move {
                if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    (url, task)
}

fn report(name: &str, mut micros: Vec<u128>) {
    micros.sort_unstable();
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p) as usize];
    println!(
        "RESULT {name} n={} p50_us={} p99_us={} max_us={}",
        micros.len(),
        at(0.5),
        at(0.99),
        micros[micros.len() - 1]
    );
}

async fn local_writes(server: &str, password: &str) {
    use lapak_mobile::visits::{ActivityKind, ActivityLine, AttendanceKind, NewActivity};
    let dir = tempfile::tempdir().unwrap();
    let (url, cut) = forwarder(server).await;
    let phone = lapak_mobile::LapakClient::open(dir.path().display().to_string(), "bench".into())
        .await
        .expect("device opens");
    phone
        .login(url, "s-jkt01003".into(), password.into())
        .await
        .expect("login");
    phone.sync_now().await.expect("bootstrap");
    let outlet = phone
        .outlets(String::new(), None, 1)
        .await
        .unwrap()
        .remove(0);
    let here = lapak_mobile::Position {
        lat: outlet.lat.unwrap(),
        lng: outlet.lng.unwrap(),
        accuracy_m: Some(10.0),
    };
    let lines: Vec<ActivityLine> = (phone.items_for_outlet(outlet.code.clone(), String::new(), 5))
        .await
        .unwrap()
        .into_iter()
        .map(|i| ActivityLine {
            sku: i.sku,
            qty: 2,
            amount: 2_000,
        })
        .collect();
    cut.abort();
    let check_in = || {
        phone.check_in(
            AttendanceKind::CheckIn,
            Some(outlet.code.clone()),
            Some(here),
            vec![],
        )
    };
    let activity = || {
        phone.record_activity(NewActivity {
            kind: ActivityKind::SellIn,
            outlet: Some(outlet.code.clone()),
            program: String::new(),
            notes: String::new(),
            lines: lines.clone(),
            position: Some(here),
            photos: vec![],
        })
    };
    // As many as the Kotlin side's warm-up, so both measure a store of the same size.
    for _ in 0..15_000 {
        check_in().await.unwrap();
        activity().await.unwrap();
    }
    report("rust_check_in", timed(2000, check_in).await);
    report("rust_activity_5_lines", timed(2000, activity).await);
}

/// `n` calls of `call`, each timed on its own, in microseconds.
async fn timed<T, E: std::fmt::Debug, F, Fut>(n: usize, call: F) -> Vec<u128>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await.unwrap();
        times.push(t.elapsed().as_micros());
    }
    times
}

#[tokio::main]
async fn main() {
    let server = std::env::var("LAPAK_BENCH_SERVER").expect("LAPAK_BENCH_SERVER: the server's URL");
    let password = std::env::var("LAPAK_BENCH_PASSWORD").expect("LAPAK_BENCH_PASSWORD");
    println!(
        "RESULT rust_bootstrap_ms {}",
        bootstrap(&server, &password).await
    );
    if std::env::var_os("LAPAK_BENCH_ONLY_WRITES").is_some() {
        local_writes(&server, &password).await;
        return;
    }
    let photos: Vec<Vec<u8>> = (0..PHOTOS).map(photo).collect();
    let sink = plain_upload(&photos, false).await;
    let plain = plain_upload(&photos, true).await;
    let lapak = photo_upload(&server, &password, &photos).await;
    println!("RESULT sink_upload_ms {sink}");
    println!("RESULT plain_upload_ms {plain}");
    println!("RESULT photo_upload_ms {lapak}");
    #[allow(clippy::cast_precision_loss)]
    let ratio = lapak as f64 / plain.max(1) as f64;
    println!("RESULT photo_upload_ratio {ratio:.2}");
    local_writes(&server, &password).await;
}
