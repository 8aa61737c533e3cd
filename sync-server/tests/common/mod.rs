//! Shared helpers of the server's integration tests: storage on either backend (SQLite in a
//! temporary directory, or the fresh Postgres database `#[sqlx::test]` made), a real server on
//! port 0, logins, and devices (real `lapak-core` stores on SQLite files) that sync through
//! the storage trait or over HTTP.
#![allow(dead_code, unreachable_pub)]

/// Generates, for each case `async fn case(h: Harness)` of the calling test file, one test on
/// SQLite (`common::$sqlite()`) and one on Postgres (`common::$postgres(pool)`, a fresh database
/// made by `#[sqlx::test]`), in modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident; $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::common::$sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[sqlx::test(migrations = false)]
                async fn $case(pool: sqlx::PgPool) {
                    super::$case(super::common::$postgres(pool).await).await;
                }
            )*
        }
    };
}

use lapak_server::Accounts as _;
use std::path::Path;
use std::sync::Arc;

use lapak_core::protocol::{Change, ChangeBody, Message, PullResponse, PushRequest, PushResponse};
use lapak_core::{Record, Store};
use lapak_server::app::Server;
use lapak_server::auth::{self, Grant, Keys, Principal, Role};
use lapak_server::config::Config;
use lapak_server::storage::WriteContext;
use lapak_server::{SqlStorage, Storage};
use sqlx::PgPool;
use tempfile::TempDir;
use uuid::Uuid;

/// Storage on one backend, with what keeps it alive.
pub struct Harness {
    pub storage: Arc<SqlStorage>,
    pub dir: TempDir,
    /// The SQLite database's URL, or the Postgres pool.
    pub backend: Backend,
    /// The schema and rules the storage serves (a reopening serves them again).
    pub catalog: (lapak_core::Schema, lapak_server::rules::Rules),
}

/// How to reach the database behind a harness.
#[derive(Clone)]
pub enum Backend {
    Sqlite(String),
    Postgres(PgPool),
}

impl Harness {
    /// Runs a statement on the database directly, behind the storage's back.
    pub async fn raw_execute(&self, sql: &'static str) {
        match &self.backend {
            Backend::Sqlite(url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Backend::Postgres(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }

    /// Runs statements built at run time on the database directly, behind the storage's back.
    pub async fn raw_script(&self, sql: String) {
        match &self.backend {
            Backend::Sqlite(url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
            Backend::Postgres(pool) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }

    /// Opens the same database again, as a restarted server would.
    pub async fn reopen(&self) -> Result<SqlStorage, lapak_server::storage::StorageError> {
        let (schema, rules) = self.catalog.clone();
        match &self.backend {
            Backend::Sqlite(url) => SqlStorage::open(url, schema, rules).await,
            Backend::Postgres(pool) => SqlStorage::from_pg_pool(pool.clone(), schema, rules).await,
        }
    }
}

/// Storage of the starter catalogue on an SQLite file in a fresh temporary directory.
pub async fn sqlite() -> Harness {
    sqlite_with(
        lapak_core::catalog::starter(),
        lapak_server::rules::starter(),
    )
    .await
}

/// Storage of the starter catalogue on the fresh Postgres database of `#[sqlx::test]`.
pub async fn postgres(pool: PgPool) -> Harness {
    postgres_with(
        pool,
        lapak_core::catalog::starter(),
        lapak_server::rules::starter(),
    )
    .await
}

/// Storage of the business catalogue and its rules on SQLite.
pub async fn business_sqlite() -> Harness {
    sqlite_with(
        lapak_core::catalog::business(),
        lapak_server::rules::business(),
    )
    .await
}

/// Storage of the business catalogue and its rules on Postgres.
pub async fn business_postgres(pool: PgPool) -> Harness {
    postgres_with(
        pool,
        lapak_core::catalog::business(),
        lapak_server::rules::business(),
    )
    .await
}

/// Storage of `schema` and `rules` on an SQLite file in a fresh temporary directory.
pub async fn sqlite_with(schema: lapak_core::Schema, rules: lapak_server::rules::Rules) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("server.sqlite3").display());
    let storage = SqlStorage::open(&url, schema.clone(), rules.clone())
        .await
        .unwrap();
    Harness {
        storage: Arc::new(storage),
        dir,
        backend: Backend::Sqlite(url),
        catalog: (schema, rules),
    }
}

/// Storage of `schema` and `rules` on the fresh Postgres database of `#[sqlx::test]`.
pub async fn postgres_with(
    pool: PgPool,
    schema: lapak_core::Schema,
    rules: lapak_server::rules::Rules,
) -> Harness {
    let storage = SqlStorage::from_pg_pool(pool.clone(), schema.clone(), rules.clone())
        .await
        .unwrap();
    Harness {
        storage: Arc::new(storage),
        dir: tempfile::tempdir().unwrap(),
        backend: Backend::Postgres(pool),
        catalog: (schema, rules),
    }
}

/// A ledger entry of the business catalogue from JSON fields.
pub fn entry(collection: &str, fields: serde_json::Value) -> Change {
    let schema = lapak_core::catalog::business();
    let c = schema.collection(collection).unwrap();
    let entry = c
        .record_from_json(fields.as_object().unwrap())
        .unwrap_or_else(|e| panic!("{collection}: {e}"));
    let id = Uuid::now_v7();
    Change {
        change_id: id,
        collection: collection.into(),
        record_id: id.to_string(),
        body: ChangeBody::Ledger { entry },
    }
}

/// Writes reference rows of the business catalogue, `(id, JSON fields)`, as the back office.
pub async fn reference(
    storage: &dyn Storage,
    collection: &str,
    rows: &[(&str, serde_json::Value)],
) {
    let schema = lapak_core::catalog::business();
    let c = schema.collection(collection).unwrap();
    let rows: Vec<(String, Option<Record>)> = rows
        .iter()
        .map(|(id, f)| {
            (
                (*id).to_owned(),
                Some(c.record_from_json(f.as_object().unwrap()).unwrap()),
            )
        })
        .collect();
    storage
        .put_reference(&ctx(), collection, &rows)
        .await
        .unwrap();
}

/// Pushes `changes` from a new device of `who`; returns the outcome of each.
pub async fn push(
    storage: &dyn Storage,
    who: &Principal,
    changes: Vec<Change>,
) -> Vec<lapak_core::protocol::Outcome> {
    let plan = storage
        .push(
            &ctx(),
            who,
            &PushRequest {
                device_id: who.device_id,
                changes,
            },
        )
        .await
        .unwrap();
    plan.results.into_iter().map(|r| r.outcome).collect()
}

/// A principal with these grants (`(scope, may write)`), on a new device.
pub fn principal(role: Role, grants: &[(&str, bool)]) -> Principal {
    Principal {
        user_id: Uuid::now_v7().to_string(),
        username: format!("{}-user", role.as_str()),
        role,
        device_id: Uuid::now_v7(),
        grants: grants
            .iter()
            .map(|(s, w)| Grant {
                scope: (*s).to_owned(),
                write: *w,
            })
            .collect(),
    }
}

/// A cashier of `branch` (writes it, reads `org`) logged in as `username`.
pub fn cashier(branch: &str, username: &str) -> Principal {
    let mut p = principal(
        Role::Cashier,
        &[(&format!("branch:{branch}"), true), ("org", false)],
    );
    p.username = username.into();
    p
}

/// A write context for now.
pub fn ctx() -> WriteContext {
    WriteContext {
        now_ms: chrono::Utc::now().timestamp_millis(),
        trace_id: "test".into(),
    }
}

/// A device of the starter catalogue: a real store on an SQLite file in `dir`, following
/// `scopes`.
pub fn device(dir: &Path, name: &str, scopes: &[&str]) -> Store {
    device_of(lapak_core::catalog::starter(), dir, name, scopes)
}

/// A device of the business catalogue.
pub fn business_device(dir: &Path, name: &str, scopes: &[&str]) -> Store {
    device_of(lapak_core::catalog::business(), dir, name, scopes)
}

fn device_of(schema: lapak_core::Schema, dir: &Path, name: &str, scopes: &[&str]) -> Store {
    let mut s = Store::open(dir.join(format!("{name}.sqlite3")), schema).unwrap();
    s.set_scopes(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        .unwrap();
    s
}

/// A ledger change of `sales` in `branch` with `total` (one line of `total` × 1).
pub fn sale(branch: &str, total: i64) -> Change {
    let id = Uuid::now_v7();
    let entry: Record = lapak_core::record! {
        "branch" => branch,
        "total" => total,
        "lines" => lapak_core::Value::List(vec![lapak_core::item! {"sku" => "SKU-1", "qty" => 1, "price" => total}]),
    };
    Change {
        change_id: id,
        collection: "sales".into(),
        record_id: id.to_string(),
        body: ChangeBody::Ledger { entry },
    }
}

/// Pushes everything the device has pending and pulls until nothing is left, through the
/// storage trait as `who`.
pub async fn sync_storage(store: &mut Store, storage: &dyn Storage, who: &Principal) {
    for _ in 0..100 {
        let Some(push) = store.next_push(500).unwrap() else {
            break;
        };
        let plan = storage.push(&ctx(), who, &push).await.unwrap();
        let report = store.apply_push_response(&plan.response()).unwrap();
        if report.accepted + report.rejected + report.rebuilt_documents == 0 {
            break;
        }
    }
    loop {
        let req = store.pull_request(1000).unwrap();
        let resp = storage.pull(&req.cursors, req.limit).await.unwrap();
        let report = store.apply_pull(&resp).unwrap();
        if !report.has_more {
            break;
        }
    }
}

/// Counts rows with a query whose single column is a count cast to text.
pub async fn count(storage: &SqlStorage, sql: &str) -> i64 {
    storage.query_text(sql).await.unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// The HMAC secret test servers sign with.
pub const SECRET: &str = "test secret of at least thirty-two bytes";

/// A real server on 127.0.0.1, port 0.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub storage: Arc<SqlStorage>,
    pub keys: Keys,
    pub harness: Harness,
    /// The running server's state (its photo store, uploads, metrics).
    pub state: lapak_server::app::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Tokens of a login.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub device: Uuid,
}

impl TestServer {
    /// Starts a server over `harness` with the test configuration, adjusted by `tweak`.
    pub async fn start_with(harness: Harness, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::for_tests(harness.dir.path());
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let storage: Arc<dyn Storage> = harness.storage.clone();
        let server = Server::new(storage, config, Keys::hs256(SECRET.as_bytes())).unwrap();
        let state = server.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server.serve(listener, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            http: reqwest::Client::new(),
            storage: harness.storage.clone(),
            keys: Keys::hs256(SECRET.as_bytes()),
            harness,
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Starts a server over `harness` with the test configuration.
    pub async fn start(harness: Harness) -> TestServer {
        Self::start_with(harness, |_| {}).await
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    /// Creates a user directly in storage.
    pub async fn user(&self, name: &str, role: Role, grants: &[(&str, bool)]) {
        let grants: Vec<Grant> = grants
            .iter()
            .map(|(s, w)| Grant {
                scope: (*s).to_owned(),
                write: *w,
            })
            .collect();
        self.storage
            .create_user(
                name,
                &auth::hash_password("password-1").unwrap(),
                role,
                &grants,
                0,
            )
            .await
            .unwrap();
    }

    /// Logs `name` (password `password-1`) in on `device`.
    pub async fn login(&self, name: &str, device: Uuid) -> Tokens {
        let resp = self
            .http
            .post(format!("{}/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": name, "password": "password-1", "device_id": device, "device_name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "login of {name}: {}",
            resp.text().await.unwrap()
        );
        let v: serde_json::Value = resp.json().await.unwrap();
        Tokens {
            access: v["access_token"].as_str().unwrap().to_owned(),
            refresh: v["refresh_token"].as_str().unwrap().to_owned(),
            device,
        }
    }

    /// Sends a protocol message in the binary encoding; returns the status and the decoded
    /// answer, or the error body.
    pub async fn send(
        &self,
        path: &str,
        token: &str,
        msg: &Message,
    ) -> (u16, Result<Message, serde_json::Value>) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/x-lapak")
            .body(msg.encode())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        if status == 200 {
            (status, Ok(Message::decode(&bytes).unwrap()))
        } else {
            (status, Err(serde_json::from_slice(&bytes).unwrap()))
        }
    }

    /// Pushes; panics unless 200.
    pub async fn push(&self, token: &str, req: PushRequest) -> PushResponse {
        match self
            .send("/v1/sync/push", token, &Message::PushRequest(req))
            .await
        {
            (200, Ok(Message::PushResponse(r))) => r,
            other => panic!("push failed: {other:?}"),
        }
    }

    /// Pushes and pulls a device store over HTTP until nothing is left.
    pub async fn sync(&self, token: &str, store: &mut Store) {
        for _ in 0..100 {
            let Some(push) = store.next_push(500).unwrap() else {
                break;
            };
            let resp = self.push(token, push).await;
            let report = store.apply_push_response(&resp).unwrap();
            if report.accepted + report.rejected + report.rebuilt_documents == 0 {
                break;
            }
        }
        loop {
            let req = store.pull_request(1000).unwrap();
            let resp: PullResponse = match self
                .send("/v1/sync/pull", token, &Message::PullRequest(req))
                .await
            {
                (200, Ok(Message::PullResponse(r))) => r,
                other => panic!("pull failed: {other:?}"),
            };
            if !store.apply_pull(&resp).unwrap().has_more {
                break;
            }
        }
    }
}

/// The password of every user of [`small_demo`].
pub const DEMO_PASSWORD: &str = "demo-pass-1";

/// Seeds a small demo business (three branches, 60 outlets, 40 items, six vouchers, opening
/// stock of ten items) into `storage`, its users' password [`DEMO_PASSWORD`].
pub async fn small_demo(storage: &SqlStorage) -> lapak_server::demo::DemoSummary {
    let size = lapak_server::demo::DemoSize {
        branches: 3,
        terminals: 3,
        salespeople: 3,
        outlets: 60,
        items: 40,
        vouchers: 6,
        stocked_items: 10,
        ..lapak_server::demo::DemoSize::default()
    };
    let hash = auth::hash_password(DEMO_PASSWORD).unwrap();
    lapak_server::demo::seed(storage, &size, &hash, |_| {})
        .await
        .unwrap()
}

/// A port nothing listens on now (for a child process that must be given one).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `check` holds, trying every 50 ms; panics naming `what` after `secs` seconds.
pub async fn until(secs: u64, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not within {secs} s: {what}");
}
