//! Stopping is prompt whatever the server does: `SyncTask::stop` and `lapak sync --watch`
//! (one SIGINT) end within a few seconds against a server that accepts connections and never
//! answers, and against one that answers the refresh but then hangs every push, pull and live
//! socket.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lapak_client::credentials::Credentials;
use lapak_client::{Client, ClientOptions};
use lapak_core::record;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The bound a stop must meet: a correctness bound (the stop promises about 2 s), not a
/// benchmark.
const STOP_WITHIN: Duration = Duration::from_secs(3);

/// A server on 127.0.0.1, port 0, that accepts connections and never answers, except a
/// refresh when `answer_refresh`. Reports each connection (`connect`) and each request line
/// it read on the channel.
async fn hanging_server(answer_refresh: bool) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send("connect".to_owned());
                // Requests on one kept-alive connection are read in turn: a refresh answered,
                // then the next request (a push reusing the connection) reported and left hanging.
                if answer_refresh {
                    loop {
                        let line = request_line(&mut socket).await;
                        if line.is_empty() {
                            break;
                        }
                        let _ = tx.send(line.clone());
                        if !line.starts_with("POST /v1/auth/refresh") {
                            break;
                        }
                        let body = serde_json::json!({
                            "access_token": "a.b.c", "token_type": "Bearer", "expires_in": 900,
                            "refresh_token": "lpr_next", "refresh_expires_in": 604_800,
                            "user_id": "u1", "role": "cashier", "device_id": uuid::Uuid::nil(),
                            "grants": [{"scope": "branch:A", "write": true}],
                        })
                        .to_string();
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(answer.as_bytes()).await;
                    }
                }
                // Hold the connection open, answering nothing more.
                std::future::pending::<()>().await;
                drop(socket);
            });
        }
    });
    (base, rx)
}

/// Reads a request's head; returns its first line.
async fn request_line(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the server has seen a report starting with each of `wanted`.
async fn until_seen(rx: &mut mpsc::UnboundedReceiver<String>, wanted: &[&str]) {
    let mut missing: Vec<&str> = wanted.to_vec();
    tokio::time::timeout(Duration::from_secs(30), async {
        while !missing.is_empty() {
            let seen = rx.recv().await.unwrap();
            missing.retain(|w| !seen.starts_with(w));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the client never sent {missing:?}"));
}

/// A device directory logged in to `server` (credentials written directly).
fn logged_in_dir(dir: &Path, server: &str) {
    Credentials {
        server: server.to_owned(),
        username: "kasir".into(),
        user_id: "u1".into(),
        role: "cashier".into(),
        device_id: uuid::Uuid::now_v7(),
        scopes: vec!["branch:A".into()],
        refresh_token: "lpr_current".into(),
    }
    .save(dir)
    .unwrap();
}

async fn stop_is_prompt(answer_refresh: bool, wanted: &[&str]) {
    let (server, mut seen) = hanging_server(answer_refresh).await;
    let dir = tempfile::tempdir().unwrap();
    logged_in_dir(dir.path(), &server);
    let client = Client::open(ClientOptions::new(
        dir.path(),
        lapak_core::catalog::starter(),
    ))
    .await
    .unwrap();
    client
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .await
        .unwrap();
    let task = client.start();
    // Both loops are now waiting on the server.
    until_seen(&mut seen, wanted).await;
    tokio::time::timeout(STOP_WITHIN, task.stop())
        .await
        .expect("SyncTask::stop returns within 3 s under a hanging server");
    assert_eq!(
        client.with_store(|s| s.pending_count()).await.unwrap(),
        1,
        "the unanswered write is kept for next time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_prompt_while_the_refresh_hangs() {
    stop_is_prompt(false, &["connect"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_prompt_while_push_and_the_live_socket_hang() {
    stop_is_prompt(true, &["POST /v1/sync/push", "GET /v1/sync/live"]).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ctrl_c_stops_sync_watch_under_a_hanging_server() {
    let (server, mut seen) = hanging_server(true).await;
    let dir = tempfile::tempdir().unwrap();
    logged_in_dir(dir.path(), &server);
    // A followed scope, so the CLI's sync pulls (and the pull hangs).
    lapak_core::Store::open(
        dir.path().join("store.sqlite3"),
        lapak_core::catalog::business(),
    )
    .unwrap()
    .set_scopes(&["branch:A".into()])
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lapak"))
        .arg("--dir")
        .arg(dir.path())
        .args(["sync", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("syncing"), "{line}");
    std::thread::spawn(move || for _ in out.lines() {});
    until_seen(&mut seen, &["POST /v1/sync/pull", "GET /v1/sync/live"]).await;
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > STOP_WITHIN {
            let _ = child.kill();
            panic!("`lapak sync --watch` still runs 3 s after one SIGINT");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}
