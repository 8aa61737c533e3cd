//! Crash safety: a child process is killed with SIGKILL in the middle of applying a large pull
//! batch, and in the middle of a stream of local writes. The store must then open and hold all or
//! none of each: the whole batch with its cursor, or nothing of it; every write with its row,
//! document bytes and queue entry, or none of them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lapak_core::testkit::{items_batch, sample_schema};
use lapak_core::{Edit, Store, Value, item, record};
use rusqlite::Connection;

const MODE: &str = "LAPAK_CRASH_CHILD";
const DB: &str = "LAPAK_CRASH_DB";
const ROWS: u64 = 100_000;

/// The child side: does the work named by `LAPAK_CRASH_CHILD` until killed.
#[test]
#[ignore = "runs only as the child process of the crash tests"]
fn crash_child() {
    let (Ok(mode), Ok(path)) = (std::env::var(MODE), std::env::var(DB)) else {
        return;
    };
    let mut store = Store::open(&path, sample_schema()).unwrap();
    store
        .set_scopes(&["org".into(), "branch:A".into()])
        .unwrap();
    match mode.as_str() {
        "pull" => {
            let batch = items_batch(ROWS);
            println!("\nLAPAK-CHILD-APPLYING");
            store.apply_pull(&batch).unwrap();
            println!("\nLAPAK-CHILD-DONE");
        }
        "write" => {
            println!("\nLAPAK-CHILD-APPLYING");
            for i in 0.. {
                let lines = (0..5).map(|l| item! {"sku" => format!("SKU-{l}").as_str(), "qty" => 1, "price" => 1000}).collect();
                store
                    .append(
                        "sales",
                        record! {"branch" => "A", "total" => 5000, "lines" => Value::List(lines)},
                    )
                    .unwrap();
                let id = store
                    .create(
                        "outlets",
                        record! {"name" => format!("Toko {i}"), "branch" => "A"},
                    )
                    .unwrap();
                store
                    .edit(
                        "outlets",
                        &id,
                        vec![Edit::SpliceText {
                            field: "notes".into(),
                            index: 0,
                            delete: 0,
                            insert: "buka".into(),
                        }],
                    )
                    .unwrap();
            }
        }
        other => panic!("unknown mode {other}"),
    }
    std::thread::sleep(Duration::from_secs(60));
}

fn spawn(mode: &str, path: &std::path::Path) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DB, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    wait_for(&mut out, "LAPAK-CHILD-APPLYING");
    (child, out)
}

fn wait_for(out: &mut BufReader<std::process::ChildStdout>, marker: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child exited before printing {marker}"
        );
        if line.trim() == marker {
            return;
        }
    }
}

/// Kills the child with SIGKILL; true when it had finished its work first.
fn kill_reports_done(mut child: Child, mut out: BufReader<std::process::ChildStdout>) -> bool {
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut out, &mut rest);
    rest.contains("LAPAK-CHILD-DONE")
}

fn integrity_ok(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn sigkill_during_pull_keeps_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut interrupted = 0;
    // Kill after these delays; `None` waits for the child to finish, to check the "all" side.
    for (trial, delay_ms) in [Some(5u64), Some(60), Some(250), Some(600), Some(1200), None]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("pull-{trial}.sqlite"));
        let (child, mut out) = spawn("pull", &path);
        let finished = match delay_ms {
            Some(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                kill_reports_done(child, out)
            }
            None => {
                wait_for(&mut out, "LAPAK-CHILD-DONE");
                kill_reports_done(child, out);
                true
            }
        };
        integrity_ok(&path);
        let store = Store::open(&path, sample_schema()).unwrap();
        let rows = store.count("items").unwrap();
        let cursor = store
            .cursors()
            .unwrap()
            .into_iter()
            .find(|c| c.scope == "org")
            .unwrap()
            .position;
        assert!(
            rows == 0 || rows == ROWS,
            "trial {trial}: {rows} rows: a partial batch survived"
        );
        assert_eq!(
            cursor == ROWS,
            rows == ROWS,
            "trial {trial}: cursor {cursor} disagrees with {rows} rows"
        );
        if finished {
            assert_eq!(
                rows, ROWS,
                "trial {trial}: the child finished but the batch is missing"
            );
        } else if rows == 0 {
            interrupted += 1;
        }
    }
    assert!(
        interrupted > 0,
        "no kill landed in the middle of the batch: make the batch larger"
    );
}

#[test]
fn sigkill_during_local_writes_keeps_each_write_whole() {
    let dir = tempfile::tempdir().unwrap();
    for (trial, delay_ms) in [30u64, 150, 400].into_iter().enumerate() {
        let path = dir.path().join(format!("write-{trial}.sqlite"));
        let (child, out) = spawn("write", &path);
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill_reports_done(child, out);
        integrity_ok(&path);
        let store = Store::open(&path, sample_schema()).unwrap();
        let conn = Connection::open(&path).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        let sales = count("SELECT count(*) FROM sales");
        assert!(
            sales > 0,
            "trial {trial}: the child wrote nothing before the kill"
        );
        // Every sale has its queue entry and every queued sale its row.
        assert_eq!(
            sales,
            count("SELECT count(*) FROM lapak_queue WHERE kind = 'ledger'")
        );
        assert_eq!(
            0,
            count(
                "SELECT count(*) FROM sales s WHERE NOT EXISTS (SELECT 1 FROM lapak_queue q WHERE q.record_id = s.id)"
            )
        );
        // Every outlet row has its document, and each document's changes (but the genesis, which
        // every document begins with) are all queued.
        let outlets = store.schema().collection("outlets").unwrap();
        let docs = store.document_ids("outlets").unwrap();
        assert_eq!(docs.len() as u64, store.count("outlets").unwrap());
        for id in &docs {
            let bytes = store.document_bytes("outlets", id).unwrap().unwrap();
            let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
            let queued: i64 = conn
                .query_row(
                    "SELECT count(*) FROM lapak_queue WHERE record_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            let genesis = lapak_core::document::genesis::hashes(outlets);
            let own = doc
                .get_changes(&[])
                .iter()
                .filter(|c| !genesis.contains(&c.hash()))
                .count();
            assert_eq!(own as i64, queued, "trial {trial}: {id} changes vs queue");
            let (fields, _) = store.document_fields("outlets", id).unwrap().unwrap();
            assert_eq!(store.get("outlets", id).unwrap().unwrap().fields, fields);
        }
    }
}
