//! The server assembled: shared state, the router with its middleware, the first start's
//! admin, and a graceful shutdown that lets pushes in flight finish and closes live sockets
//! with a reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

use crate::auth::{self, Grant, Keys, Role};
use crate::config::{Config, JwtKeys};
use crate::limits::RateLimiter;
use crate::live::Hub;
use crate::metrics::{Metrics, RequestLabels, RouteLabels};
use crate::routes;
use crate::storage::Storage;

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    /// The storage backend.
    pub storage: Arc<dyn Storage>,
    /// Token keys.
    pub keys: Arc<Keys>,
    /// Settings.
    pub config: Arc<Config>,
    /// Live news.
    pub hub: Hub,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Per-device rate limits.
    pub limiter: Arc<RateLimiter>,
    /// Login attempts per user name.
    pub login_by_user: Arc<RateLimiter<String>>,
    /// Login attempts per client address.
    pub login_by_address: Arc<RateLimiter<std::net::IpAddr>>,
    /// Password hashes computed at once (each takes ~19 MiB and tens of milliseconds).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Live sockets open per device.
    pub sockets: crate::live::DeviceSockets,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Where photos' bytes are kept.
    pub photos: Arc<dyn crate::photos::BlobStore>,
    /// Photo uploads in progress.
    pub uploads: Arc<crate::photos::uploads::Uploads>,
    /// Master-data imports running or ended lately.
    pub imports: crate::import::SharedImports,
    live: Arc<LiveCount>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("dialect", &self.storage.dialect())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct LiveCount {
    n: AtomicUsize,
    idle: Notify,
}

/// Counts a live socket while it exists.
pub struct LiveGuard {
    live: Arc<LiveCount>,
    metrics: Arc<Metrics>,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.metrics.live_devices.dec();
        if self.live.n.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.live.idle.notify_waiters();
        }
    }
}

impl AppState {
    /// Marks a live socket open until the guard drops.
    #[must_use]
    pub fn live_guard(&self) -> LiveGuard {
        self.live.n.fetch_add(1, Ordering::SeqCst);
        self.metrics.live_devices.inc();
        LiveGuard {
            live: self.live.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Now, in milliseconds since the epoch.
    #[must_use]
    pub fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] auth::KeyError),
    /// The generated secret could not be kept.
    #[error("cannot keep the JWT secret in {path}: {source}")]
    Secret {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The photo store cannot be opened.
    #[error("cannot open the photo store: {0}")]
    Photos(#[from] crate::photos::BlobError),
    /// The kept secret is too short to be safe.
    #[error(
        "the JWT secret in {path} is shorter than 32 characters: delete the file to generate a new one (every device then logs in again)"
    )]
    ShortSecret {
        /// The file.
        path: String,
    },
}

/// Loads (or, the first time, generates and keeps) the signing keys.
///
/// # Errors
/// [`StartError`] when a key file cannot be read or written.
pub fn load_keys(jwt: &JwtKeys) -> Result<Keys, StartError> {
    match jwt {
        JwtKeys::Hs256(s) => Ok(Keys::hs256(s.0.as_bytes())),
        JwtKeys::Pair {
            algorithm,
            private,
            public,
        } => Ok(Keys::from_pem_files(algorithm, private, public)?),
        JwtKeys::Hs256File(path) => {
            let err = |source| StartError::Secret {
                path: path.display().to_string(),
                source,
            };
            if let Ok(s) = std::fs::read_to_string(path) {
                let s = s.trim();
                if s.len() < 32 {
                    return Err(StartError::ShortSecret {
                        path: path.display().to_string(),
                    });
                }
                return Ok(Keys::hs256(s.as_bytes()));
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            // Written beside, then renamed: a crash never leaves a short secret in place.
            let secret = auth::random_secret();
            let tmp = path.with_extension("tmp");
            let _ = std::fs::remove_file(&tmp);
            write_private(&tmp, &secret).map_err(err)?;
            std::fs::rename(&tmp, path).map_err(err)?;
            Ok(Keys::hs256(secret.as_bytes()))
        }
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// What the first start did about the admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdmin {
    /// Users exist already.
    Exists,
    /// Created `admin` with the password from `LAPAK_ADMIN_PASSWORD`.
    FromEnvironment,
    /// Created `admin` with this generated password (print it once).
    Generated(String),
}

/// On a database without an administrator (a new one, or one holding only users made by
/// `create-user` or the demo), creates `admin` (all scopes) with the password from `password`
/// (the `LAPAK_ADMIN_PASSWORD` environment variable) or a generated one.
///
/// # Errors
/// Storage errors.
pub async fn ensure_admin(
    storage: &dyn Storage,
    password: Option<String>,
) -> Result<FirstAdmin, StartError> {
    if storage.admin_exists().await? {
        return Ok(FirstAdmin::Exists);
    }
    let (password, outcome) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p, FirstAdmin::FromEnvironment),
        None => {
            let p = auth::random_secret()[..20].to_owned();
            (p.clone(), FirstAdmin::Generated(p))
        }
    };
    let hash = auth::hash_password(&password).map_err(|e| {
        StartError::Storage(crate::storage::StorageError::Corrupt(format!(
            "hashing: {e}"
        )))
    })?;
    let grants = [Grant {
        scope: "*".into(),
        write: true,
    }];
    match storage
        .create_user("admin", &hash, Role::Admin, &grants, AppState::now_ms())
        .await
    {
        // Another replica created it at the same moment.
        Err(crate::storage::StorageError::Conflict(_)) => Ok(FirstAdmin::Exists),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(outcome),
    }
}

/// A server ready to run: state, router and the switch that shuts it down.
pub struct Server {
    /// Shared state.
    pub state: AppState,
    shutdown_tx: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// Assembles a server over `storage` with `config` and `keys`, and opens its photo store.
    ///
    /// # Errors
    /// [`StartError::Photos`] when the photo store cannot be opened.
    pub fn new(storage: Arc<dyn Storage>, config: Config, keys: Keys) -> Result<Self, StartError> {
        let (shutdown_tx, shutdown) = watch::channel(false);
        let photos = crate::photos::open(&config.photos)?;
        let uploads = crate::photos::uploads::Uploads::open(&config.data_dir.join("photo-uploads"))
            .map_err(crate::photos::BlobError::from)?;
        let state = AppState {
            photos,
            uploads: Arc::new(uploads),
            imports: Arc::default(),
            storage,
            keys: Arc::new(keys),
            limiter: Arc::new(RateLimiter::new(config.rate_limit, config.rate_burst)),
            login_by_user: Arc::new(RateLimiter::new(1, 10)),
            login_by_address: Arc::new(RateLimiter::new(
                config.login_rate,
                config.login_rate.saturating_mul(3),
            )),
            hashing: Arc::new(tokio::sync::Semaphore::new(4)),
            config: Arc::new(config),
            hub: Hub::new(),
            sockets: crate::live::DeviceSockets::default(),
            metrics: Arc::new(Metrics::new()),
            shutdown,
            live: Arc::new(LiveCount::default()),
        };
        Ok(Server { state, shutdown_tx })
    }

    /// The router with every endpoint and middleware.
    pub fn router(&self) -> Router {
        routes::router(self.state.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                track_requests,
            ))
            // One span per request, with method and path (never the query, which may carry a
            // token); `RUST_LOG=tower_http=debug` logs every request with its status.
            .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &Request| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                },
            ))
    }

    /// Serves on `listener` until `signal` completes, then shuts down gracefully: stops
    /// accepting, lets requests in flight (pushes included) finish, closes live sockets with
    /// the reason `shutdown`, and waits for them (at most 10 s).
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        let tx = self.shutdown_tx.clone();
        tokio::spawn(crate::photos::gc::every_hour(self.state.clone()));
        tokio::spawn(crate::storage::rollups::fold_in_background(
            self.state.clone(),
        ));
        crate::relay::start(&self.state);
        crate::mirror::start(&self.state);
        // Writes made through other server processes on the same database reach this
        // process's live sockets too.
        let relay = match self.state.storage.listen_news().await {
            Ok(Some(mut news)) => {
                let hub = self.state.hub.clone();
                Some(tokio::spawn(async move {
                    while let Some(heads) = news.recv().await {
                        hub.publish_heads(heads);
                    }
                }))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other server processes' writes; their devices will learn of them by polling");
                None
            }
        };
        let stopping = self.state.shutdown.clone();
        let header_timeout = self.state.config.header_read_timeout;
        let result = serve_connections(
            listener,
            router,
            header_timeout,
            async move {
                signal.await;
                tracing::info!("shutting down: finishing requests in flight, closing live sockets");
                let _ = tx.send(true);
            },
            stopping,
        )
        .await;
        let _ = self.shutdown_tx.send(true);
        if let Some(r) = relay {
            r.abort();
        }
        let live = self.state.live.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        while live.n.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), live.idle.notified()).await;
        }
        self.state.storage.close().await;
        result
    }
}

/// Accepts connections until `signal` completes, then lets every connection finish its request
/// in flight and waits for them. Each connection speaks HTTP/1.1 (upgrades to WebSocket
/// included) with a bound on how long its request headers may take to arrive: a client that
/// sends them slowly, or never, is disconnected after `header_timeout` instead of being held
/// forever (axum::serve sets no timer, so hyper's header timeout never runs there).
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
    stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use axum::serve::Listener as _;
    // Small frames (live news, push answers) go out at once, not after Nagle's delay.
    let mut listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (open_tx, open_rx) = watch::channel(());
    let mut signal = std::pin::pin!(signal);
    loop {
        let (tcp, peer) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut signal => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone().map_request(
            move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let mut stopping = stopping.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let mut asked = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stopping.wait_for(|s| *s), if !asked => {
                        asked = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(open);
        });
    }
    drop(open_rx);
    drop(listener);
    open_tx.closed().await;
    Ok(())
}

/// The method as a metric label: the standard ones by name, anything else as `other`, so made-up
/// methods cannot create new series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

async fn track_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Labels come from bounded sets only: a known method or `other`, a route template or
    // `unmatched`, never the raw path.
    let method = method_label(req.method()).to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .request_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
