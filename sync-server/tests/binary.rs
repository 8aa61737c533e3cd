//! The `lapak-server` binary as a newcomer runs it: no database to install, the address and
//! how to log in printed, the first admin's password shown once, a clean stop on SIGTERM, and
//! a clear refusal of a database written by a newer server.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(data: &std::path::Path) -> (Child, Vec<String>, String) {
    start_with(data, &[])
}

fn start_with(data: &std::path::Path, args: &[&str]) -> (Child, Vec<String>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lapak-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .env_remove("LAPAK_ADMIN_PASSWORD")
        .env_remove("LAPAK_DEMO_PASSWORD")
        .env_remove("LAPAK_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut addr = String::new();
    while Instant::now() < deadline {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split_whitespace().next().unwrap().to_owned();
        }
        let done = line.starts_with("Health:");
        lines.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in out.lines() {});
    (child, lines, addr)
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The names of the files in `dir`, each asserted readable and writable by its owner only.
#[cfg(unix)]
fn owner_only_files(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let mode = entry.metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{name} has mode {mode:o}, not owner-only");
        names.push(name);
    }
    names
}

#[tokio::test]
async fn the_run_command_starts_on_sqlite_and_says_how_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines, addr) = start(dir.path());
    let text = lines.concat();
    assert!(!addr.is_empty(), "no address printed: {text}");
    assert!(text.contains("(sqlite:"), "{text}");
    assert!(text.contains("/v1/auth/login"), "{text}");
    let password = text
        .split("with password ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the first start prints the admin password")
        .to_owned();
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let login = http
        .post(format!("http://{addr}/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password, "device_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the printed password logs in");
    #[cfg(unix)]
    {
        // Running, so the -wal and -shm files exist too.
        let files = owner_only_files(dir.path());
        for name in ["lapak.sqlite3", "lapak.sqlite3-wal", "lapak.sqlite3-shm"] {
            assert!(files.iter().any(|f| f == name), "{name} in {files:?}");
        }
    }
    assert!(stop(child).success(), "SIGTERM stops it cleanly");
    assert!(dir.path().join("lapak.sqlite3").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the generated secret is private to its owner"
        );
    }
    // Second start: same database, no new password.
    let (child, lines, _) = start(dir.path());
    assert!(
        !lines.concat().contains("with password"),
        "the password is shown only once"
    );
    assert!(stop(child).success());
}

#[test]
fn a_database_of_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_lapak-server");
    let ok = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let db = dir.path().join("lapak.sqlite3");
    assert!(mark_as_newer(&db), "marked the database as newer");
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer than this server"), "{err}");
}

/// Marks the database as migrated by a future server, with sqlx (no sqlite3 binary needed).
fn mark_as_newer(db: &std::path::Path) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("INSERT INTO lapak_schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
            .execute(&pool)
            .await
            .is_ok()
    })
}

/// The word after `marker` in `text`.
fn word_after(text: &str, marker: &str) -> String {
    text.split(marker)
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("`{marker}` not printed: {text}"))
        .to_owned()
}

async fn logs_in(addr: &str, user: &str, password: &str) -> bool {
    reqwest::Client::new()
        .post(format!("http://{addr}/v1/auth/login"))
        .json(&serde_json::json!({"username": user, "password": password, "device_id": uuid::Uuid::now_v7(), "device_name": "t"}))
        .send()
        .await
        .unwrap()
        .status()
        == 200
}

#[tokio::test]
async fn the_first_start_with_the_demo_seeds_a_business_and_still_makes_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let small = [
        "serve",
        "--demo",
        "--branches",
        "2",
        "--terminals",
        "4",
        "--salespeople",
        "4",
        "--outlets",
        "100",
        "--items",
        "50",
        "--vouchers",
        "10",
        "--stocked-items",
        "10",
    ];
    let (child, lines, addr) = start_with(dir.path(), &small);
    let text = lines.concat();
    assert!(
        text.contains("Seeding the demo business (seed 42)"),
        "{text}"
    );
    let admin = word_after(&text, "`admin` with password ");
    let demo = word_after(&text, "share the password ");
    assert!(
        logs_in(&addr, "admin", &admin).await,
        "the admin's password does not log in"
    );
    assert!(
        logs_in(&addr, "c-jkt01-1", &demo).await,
        "a demo cashier cannot log in"
    );
    assert!(
        logs_in(&addr, "s-jkt01001", &demo).await,
        "a demo salesperson cannot log in"
    );
    assert!(stop(child).success());
    // The second start neither seeds again nor shows a password.
    let (child, lines, _) = start_with(dir.path(), &small);
    let text = lines.concat();
    assert!(text.contains("already holds a business"), "{text}");
    assert!(!text.contains("password "), "{text}");
    assert!(stop(child).success());
}

/// The running server keeps SQLite's lock on its database file, so that another process
/// reading it (a backup, the `sqlite3` shell) never takes it for unused: closing such a reader
/// would otherwise checkpoint and delete the write-ahead log the server still writes to, and
/// what the server wrote afterwards would be gone at its next start. That happened while the
/// server, after opening its pools, opened and closed the database file to set its mode: on
/// POSIX, closing any descriptor of a file drops every lock the process holds on it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_running_server_keeps_its_lock_on_the_database() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (child, _, addr) = start(dir.path());
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let inode = std::fs::metadata(dir.path().join("lapak.sqlite3"))
        .unwrap()
        .ino();
    // /proc/locks: `1: POSIX ADVISORY READ <pid> <major>:<minor>:<inode> <start> <end>`.
    let pid = child.id().to_string();
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    let held = locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 5 && f[4] == pid && f[5].rsplit(':').next() == Some(&inode.to_string())
    });
    assert!(stop(child).success());
    assert!(held, "the server held no lock on its database:\n{locks}");
}
