//! The end-to-end harness: a real `lapak-server` on 127.0.0.1 (port 0 at first, the same port
//! after a restart), on SQLite or on the fresh Postgres database of `#[sqlx::test]`, and real
//! clients, each with its own directory and SQLite store.
#![allow(dead_code, unreachable_pub)]

use lapak_server::Accounts as _;
use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lapak_client::{Client, ClientOptions};
use lapak_server::app::Server;
use lapak_server::auth::{self, Grant, Keys, Role};
use lapak_server::config::Config;
use lapak_server::{SqlStorage, Storage};
use sqlx::postgres::PgConnectOptions;
use tempfile::TempDir;

/// The test password of every user.
pub const PASSWORD: &str = "password-1";

enum Backend {
    Sqlite(String),
    Postgres(PgConnectOptions),
}

/// Which schema and rules the server and clients run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catalog {
    /// `catalog::starter()` and `rules::starter()`.
    Starter,
    /// `catalog::business()` and `rules::business()`.
    Business,
}

impl Catalog {
    /// The schema.
    pub fn schema(self) -> lapak_core::Schema {
        match self {
            Catalog::Starter => lapak_core::catalog::starter(),
            Catalog::Business => lapak_core::catalog::business(),
        }
    }

    fn rules(self) -> lapak_server::rules::Rules {
        match self {
            Catalog::Starter => lapak_server::rules::starter(),
            Catalog::Business => lapak_server::rules::business(),
        }
    }
}

/// A server and the clients' directories.
pub struct Env {
    pub dir: TempDir,
    pub catalog: Catalog,
    pub base: String,
    pub storage: Option<Arc<SqlStorage>>,
    addr: Option<SocketAddr>,
    backend: Backend,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Wraps the server's router (set with [`Env::wrap_router`]): an older or a misbehaving
    /// server in front of the real one.
    wrap: Option<RouterWrap>,
}

/// What [`Env::wrap_router`] does to the server's router.
pub type RouterWrap = Arc<dyn Fn(axum::Router) -> axum::Router + Send + Sync>;

impl Env {
    /// A server of the starter catalogue on an SQLite file.
    pub async fn sqlite() -> Env {
        Self::sqlite_with(Catalog::Starter).await
    }

    /// A server of the starter catalogue on the test's Postgres database.
    pub async fn postgres(pool: sqlx::PgPool) -> Env {
        Self::postgres_with(pool, Catalog::Starter).await
    }

    /// A server of `catalog` on an SQLite file.
    pub async fn sqlite_with(catalog: Catalog) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("server.sqlite3").display());
        Self::start(dir, Backend::Sqlite(url), catalog).await
    }

    /// A server of `catalog` on the test's Postgres database.
    pub async fn postgres_with(pool: sqlx::PgPool, catalog: Catalog) -> Env {
        let opts = pool.connect_options().as_ref().clone();
        Self::start(
            tempfile::tempdir().unwrap(),
            Backend::Postgres(opts),
            catalog,
        )
        .await
    }

    async fn start(dir: TempDir, backend: Backend, catalog: Catalog) -> Env {
        let mut env = Env {
            dir,
            catalog,
            base: String::new(),
            storage: None,
            addr: None,
            backend,
            stop: None,
            task: None,
            wrap: None,
        };
        env.start_server().await;
        env
    }

    async fn open_storage(&self) -> SqlStorage {
        let (schema, rules) = (self.catalog.schema(), self.catalog.rules());
        match &self.backend {
            Backend::Sqlite(url) => SqlStorage::open(url, schema, rules).await.unwrap(),
            Backend::Postgres(opts) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts.clone())
                    .await
                    .unwrap();
                SqlStorage::from_pg_pool(pool, schema, rules).await.unwrap()
            }
        }
    }

    /// Starts the server (again), on the same address as before.
    pub async fn start_server(&mut self) {
        let storage = Arc::new(self.open_storage().await);
        let mut config = Config::for_tests(self.dir.path());
        config.live_ping_seconds = 5;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr.unwrap_or(([127, 0, 0, 1], 0).into()))
                .await
            {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let addr = listener.local_addr().unwrap();
        self.addr = Some(addr);
        self.base = format!("http://{addr}");
        let dyn_storage: Arc<dyn Storage> = storage.clone();
        let server = Server::new(
            dyn_storage,
            config,
            Keys::hs256(b"test secret of at least thirty-two bytes"),
        )
        .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let signal = async {
            let _ = rx.await;
        };
        self.task = Some(match &self.wrap {
            None => tokio::spawn(server.serve(listener, signal)),
            // Served by axum itself: the server's own loop takes no other router.
            Some(wrap) => tokio::spawn(
                axum::serve(
                    listener,
                    wrap(server.router()).into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(signal)
                .into_future(),
            ),
        });
        self.stop = Some(tx);
        self.storage = Some(storage);
    }

    /// Restarts the server with its router wrapped by `wrap` (a layer that answers some
    /// requests itself, as an older server would).
    pub async fn wrap_router(&mut self, wrap: RouterWrap) {
        self.stop_server().await;
        self.wrap = Some(wrap);
        self.start_server().await;
    }

    /// Stops the server gracefully.
    pub async fn stop_server(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            if self.wrap.is_some() {
                // axum waits for live sockets, which only the server's own loop closes.
                t.abort();
            } else {
                t.await.unwrap().unwrap();
            }
        }
        self.storage = None;
    }

    /// The running server's storage.
    pub fn storage(&self) -> &SqlStorage {
        self.storage.as_ref().expect("the server is running")
    }

    /// Creates a user with grants `(scope, may write)`.
    pub async fn user(&self, name: &str, role: Role, grants: &[(&str, bool)]) {
        let grants: Vec<Grant> = grants
            .iter()
            .map(|(s, w)| Grant {
                scope: (*s).to_owned(),
                write: *w,
            })
            .collect();
        self.storage()
            .create_user(
                name,
                &auth::hash_password(PASSWORD).unwrap(),
                role,
                &grants,
                0,
            )
            .await
            .unwrap();
    }

    /// Options of a client named `name` (its own directory), polling every 200 ms when the
    /// live socket is down.
    pub fn options(&self, name: &str) -> ClientOptions {
        let mut o = ClientOptions::new(self.dir.path().join(name), self.catalog.schema());
        o.device_name = name.to_owned();
        o.poll_interval = Duration::from_millis(200);
        o.max_backoff = Duration::from_millis(500);
        o
    }

    /// A client named `name`, logged in as `user`.
    pub async fn client(&self, name: &str, user: &str) -> Client {
        let c = Client::open(self.options(name)).await.unwrap();
        c.login(&self.base, user, PASSWORD, None).await.unwrap();
        c
    }

    /// Seeds the demo business, small: two branches with two terminals each (cashiers
    /// `c-jkt01-1`, `c-jkt01-2`, ...), two salespeople, 12 items all stocked. Returns a verified
    /// voucher redeemable at JKT-01.
    pub async fn seed_small(&self) -> String {
        let summary = self
            .seed(&lapak_server::demo::DemoSize {
                seed: 7,
                branches: 2,
                terminals: 4,
                salespeople: 2,
                outlets: 40,
                items: 12,
                vouchers: 30,
                stocked_items: 12,
            })
            .await;
        assert_eq!(summary.sample_cashier.1, "JKT-01");
        self.storage()
            .query_text(
                "SELECT id FROM vouchers WHERE redeem_at = 'JKT-01' AND verified ORDER BY id LIMIT 1",
            )
            .await
            .unwrap()[0][0]
            .clone()
            .unwrap()
    }

    /// Seeds the demo business of `size`; every user's password is [`PASSWORD`].
    pub async fn seed(
        &self,
        size: &lapak_server::demo::DemoSize,
    ) -> lapak_server::demo::DemoSummary {
        let hash = auth::hash_password(PASSWORD).unwrap();
        lapak_server::demo::seed(self.storage(), size, &hash, |_| {})
            .await
            .unwrap()
    }

    /// A count from the server's tables (the query's one column cast to text).
    pub async fn count(&self, sql: &str) -> i64 {
        self.storage().query_text(sql).await.unwrap()[0][0]
            .as_deref()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// Waits until `check` holds, at most `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("not within {secs} s: {what}");
}
