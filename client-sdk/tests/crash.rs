//! A client killed with SIGKILL in the middle of a push, and in the middle of a pull, restarts
//! and loses nothing, doubles nothing. The child is this test binary itself (`crash_child`),
//! syncing a device directory the parent prepared, against the parent's real server.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Env;
use lapak_client::{Client, Progress};
use lapak_core::{Query, Value, Verdict, item, record};
use lapak_server::auth::Role;

/// The child: syncs the device in `LAPAK_CRASH_DIR` once, printing progress, until killed.
#[test]
#[ignore = "run by the crash tests as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var("LAPAK_CRASH_DIR") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut o = lapak_client::ClientOptions::new(dir, lapak_core::catalog::starter());
        o.push_batch = 40;
        o.pull_limit = 500;
        let c = Client::open(o).await.unwrap();
        c.sync_with_progress(|p| {
            let line = match p {
                Progress::Pushed { done, .. } => format!("pushed {done}"),
                Progress::Pulled { done } => format!("pulled {done}"),
            };
            println!("{line}");
        })
        .await
        .unwrap();
        println!("done");
    });
}

/// Runs the child on `dir`, kills it after it reported `kill_after` progress lines, and says
/// whether it was killed before finishing.
fn run_and_kill(dir: &std::path::Path, kill_after: usize) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture"])
        .env("LAPAK_CRASH_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = 0;
    let mut line = String::new();
    let mut finished = false;
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with("done") {
            finished = true;
            break;
        }
        if line.starts_with("pushed") || line.starts_with("pulled") {
            seen += 1;
            if seen >= kill_after {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    let _ = child.wait();
    !finished
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_in_the_middle_of_a_push_loses_and_doubles_nothing() {
    let mut env = Env::sqlite().await;
    env.user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    const SALES: i64 = 2_000;
    let c = env.client("pos", "kasir").await;
    for i in 0..SALES {
        c.append(
            "sales",
            record! {"branch" => "A", "total" => 10 + i, "lines" => Value::List(vec![item!{"sku" => "K", "qty" => 1, "price" => 10 + i}])},
        )
        .await
        .unwrap();
    }
    drop(c);
    let dir = env.dir.path().join("pos");
    // Kill it several times at different points of the push.
    let mut partial = false;
    for kill_after in [1, 5, 17] {
        let killed = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || run_and_kill(&dir, kill_after)
        })
        .await
        .unwrap();
        let stored = env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales").await;
        partial |= killed && stored > 0 && stored < SALES;
    }
    assert!(
        partial,
        "at least one kill landed in the middle of the push"
    );
    // Restarted, it finishes: every sale once on the server and on the device.
    let c = Client::open(env.options("pos")).await.unwrap();
    c.sync_once().await.unwrap();
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        SALES
    );
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_changes")
            .await,
        SALES
    );
    let rows = c.query("sales", Query::new()).await.unwrap();
    assert_eq!(rows.len() as i64, SALES);
    assert!(
        rows.iter()
            .all(|r| matches!(r.verdict, Some(Verdict::Accepted { .. })))
    );
    assert_eq!(c.status().borrow().pending, 0);
    env.stop_server().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_in_the_middle_of_a_pull_loses_and_doubles_nothing() {
    let mut env = Env::sqlite().await;
    env.user(
        "kasir",
        Role::Cashier,
        &[("branch:A", true), ("org", false)],
    )
    .await;
    const ITEMS: usize = 12_000;
    let rows: Vec<(String, Option<lapak_core::Record>)> = (0..ITEMS)
        .map(|i| {
            let sku = format!("SKU-{i:06}");
            (
                sku.clone(),
                Some(record! {"sku" => sku.as_str(), "name" => "Barang", "price" => 1_000}),
            )
        })
        .collect();
    let ctx = lapak_server::storage::WriteContext {
        now_ms: 0,
        trace_id: "seed".into(),
    };
    use lapak_server::Storage as _;
    for chunk in rows.chunks(2_000) {
        env.storage()
            .put_reference(&ctx, "items", chunk)
            .await
            .unwrap();
    }
    let c = env.client("fresh", "kasir").await;
    drop(c);
    let dir = env.dir.path().join("fresh");
    let mut partial = false;
    for kill_after in [2, 9] {
        let killed = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || run_and_kill(&dir, kill_after)
        })
        .await
        .unwrap();
        let c = Client::open(env.options("fresh")).await.unwrap();
        let held = c.query("items", Query::new()).await.unwrap().len();
        partial |= killed && held > 0 && held < ITEMS;
    }
    assert!(
        partial,
        "at least one kill landed in the middle of the pull"
    );
    let c = Client::open(env.options("fresh")).await.unwrap();
    c.sync_once().await.unwrap();
    let held = c.query("items", Query::new()).await.unwrap();
    assert_eq!(held.len(), ITEMS, "every item once");
    let distinct: std::collections::BTreeSet<&str> = held.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(distinct.len(), ITEMS);
    // Nothing more to pull.
    assert_eq!(c.sync_once().await.unwrap().pulled, 0);
    tokio::time::sleep(Duration::from_millis(10)).await;
    env.stop_server().await;
}
