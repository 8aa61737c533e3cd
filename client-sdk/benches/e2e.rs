//! `cargo bench -p lapak-client`: end-to-end figures with the real `lapak-server` binary in its
//! own process (SQLite, release build) and real clients over HTTP and WebSocket:
//! - propagation latency from a write on one device to its arrival on another, with 1, 100 and
//!   1,000 live sockets on the server;
//! - server memory per idle live socket (the server process's RSS);
//! - a fresh device's bootstrap of 100,000 reference rows.
//!
//! `LAPAK_BENCH_QUICK=1` for smaller sizes.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use lapak_client::{Client, ClientOptions};
use lapak_core::protocol::{Cursor, LiveMessage, Message};
use lapak_core::{Value, item, record};
use tokio_tungstenite::tungstenite;

const PASSWORD: &str = "bench-password-1";

struct ServerProcess {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_binary() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "lapak-server",
            "--bin",
            "lapak-server",
        ])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building lapak-server failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    target.join("release").join("lapak-server")
}

fn start_server(bin: &std::path::Path) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let users = [
        ("admin", "admin", "--scope=*"),
        ("writer", "cashier", "--scope=branch:A"),
        ("reader", "cashier", "--scope=branch:A"),
        ("listener", "cashier", "--scope=branch:A"),
    ];
    for (name, role, scope) in users {
        let ok = Command::new(bin)
            .args(["--data-dir"])
            .arg(dir.path())
            .args([
                "create-user",
                name,
                "--role",
                role,
                scope,
                "--read-scope",
                "org",
            ])
            .env("LAPAK_NEW_USER_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let mut child = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--login-rate",
            "100000",
            "--rate-limit",
            "100000",
            "--rate-burst",
            "100000",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("LAPAK_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut base = String::new();
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = rest.split_whitespace().next().unwrap().to_owned();
            break;
        }
        line.clear();
    }
    std::thread::spawn(move || for _ in out.lines() {});
    ServerProcess {
        child,
        base,
        _dir: dir,
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn client(server: &ServerProcess, dir: &std::path::Path, name: &str, user: &str) -> Client {
    let mut o = ClientOptions::new(dir.join(name), lapak_core::catalog::starter());
    o.poll_interval = Duration::from_secs(3600);
    o.live_poll_interval = Duration::from_secs(3600);
    let c = Client::open(o).await.unwrap();
    c.login(&server.base, user, PASSWORD, None).await.unwrap();
    c
}

async fn token(server: &ServerProcess, user: &str) -> String {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": user, "password": PASSWORD, "device_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {user} failed: {v}"))
        .to_owned()
}

/// `n` raw live sockets following branch A, each reading (and dropping) what it is sent.
async fn listeners(server: &ServerProcess, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    use tungstenite::client::IntoClientRequest as _;
    let access = token(server, "listener").await;
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut req = format!("{}/v1/sync/live", server.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {access}").parse().unwrap());
        let config = tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(4096);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
            .await
            .unwrap();
        let hello = Message::Live(LiveMessage::Hello {
            device_id: uuid::Uuid::now_v7(),
            cursors: vec![Cursor {
                scope: "branch:A".into(),
                position: 0,
            }],
        });
        ws.send(tungstenite::Message::Binary(hello.encode().into()))
            .await
            .unwrap();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let tungstenite::Message::Binary(b) = msg
                    && let Ok(Message::Live(LiveMessage::Ping(n))) = Message::decode(&b)
                {
                    let pong = Message::Live(LiveMessage::Pong(n)).encode();
                    if ws
                        .send(tungstenite::Message::Binary(pong.into()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }));
    }
    tasks
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn propagation(
    server: &ServerProcess,
    extra: usize,
    writes: usize,
) -> (Duration, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let writer = client(server, dir.path(), "writer", "writer").await;
    let reader = client(server, dir.path(), "reader", "reader").await;
    writer.sync_once().await.unwrap();
    reader.sync_once().await.unwrap();
    let crowd = listeners(server, extra).await;
    let (tw, tr) = (writer.start(), reader.start());
    let mut status = reader.status();
    while !(status.borrow().live && writer.status().borrow().live) {
        let _ = tokio::time::timeout(Duration::from_millis(50), status.changed()).await;
    }
    let mut samples = Vec::with_capacity(writes);
    for i in 0..writes {
        let t0 = Instant::now();
        let id = writer
            .append(
                "sales",
                record! {"branch" => "A", "total" => 100 + i as i64, "lines" => Value::List(vec![item!{"sku" => "P", "qty" => 1, "price" => 100 + i as i64}])},
            )
            .await
            .unwrap();
        loop {
            if reader.get("sales", &id).await.unwrap().is_some() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), status.changed()).await;
        }
        samples.push(t0.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tw.stop().await;
    tr.stop().await;
    for t in crowd {
        t.abort();
    }
    samples.sort();
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
    )
}

async fn idle_memory(server: &ServerProcess, n: usize) -> f64 {
    let pid = server.child.id();
    // Warm up the allocator and the hub with a few sockets first.
    let warm = listeners(server, 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let crowd = listeners(server, n).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    for t in crowd.into_iter().chain(warm) {
        t.abort();
    }
    (after.saturating_sub(before)) as f64 * 1024.0 / n as f64
}

async fn bootstrap(server: &ServerProcess, rows: usize) -> (Duration, usize) {
    let admin = token(server, "admin").await;
    let http = reqwest::Client::new();
    for start in (0..rows).step_by(10_000) {
        let batch: Vec<serde_json::Value> = (start..(start + 10_000).min(rows))
            .map(|i| serde_json::json!({"id": format!("SKU-{i:07}"), "fields": {"sku": format!("SKU-{i:07}"), "name": format!("Item number {i} of the catalogue"), "barcode": format!("899{i:010}"), "price": 100 * i as i64}}))
            .collect();
        let resp = http
            .put(format!("{}/v1/admin/reference/items", server.base))
            .bearer_auth(&admin)
            .json(&serde_json::json!({ "rows": batch }))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let fresh = client(server, dir.path(), "fresh", "reader").await;
    let t0 = Instant::now();
    let report = fresh.sync_once().await.unwrap();
    (t0.elapsed(), report.pulled)
}

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("LAPAK_BENCH_QUICK").is_some();
    let bin = server_binary();
    let writes = if quick { 50 } else { 200 };
    println!(
        "lapak-client end-to-end benchmarks (lapak-server release binary on SQLite, loopback)"
    );
    for n in [1usize, 100, 1_000] {
        let server = start_server(&bin);
        let extra = n.saturating_sub(1);
        let (p50, p99, max) = propagation(&server, extra, writes).await;
        println!(
            "propagation, write -> other device, {n:>5} live devices: p50 {p50:>8.2?}  p99 {p99:>8.2?}  max {max:>8.2?}  ({writes} writes)"
        );
    }
    let server = start_server(&bin);
    let n = 1_000;
    let per = idle_memory(&server, n).await;
    println!(
        "server memory per idle live socket ({n} sockets): {:.1} KB",
        per / 1024.0
    );
    let rows = if quick { 20_000 } else { 100_000 };
    let (took, pulled) = bootstrap(&server, rows).await;
    println!(
        "bootstrap of {rows} reference rows over HTTP, fresh device: {took:.2?} ({pulled} entries, {:.0} rows/s)",
        pulled as f64 / took.as_secs_f64()
    );
}
