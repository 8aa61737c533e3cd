//! [`Pos`]: one terminal, with its device store kept in sync by `lapak-client` in-process.
//! Every screen's action is a method here; the Tauri commands only call them. Nothing here waits
//! on the network except signing in and "sync now": a sale is a local write, synced in the
//! background.
//!
//! - `config`: the terminal's settings file (server, branch, terminal, language).
//! - `catalog`: items, prices in force, stock estimates, customers, vouchers.
//! - `cart`: the cart and the intents that change it; a resumed held bill is edited in place.
//! - `held`: holding a cart as a `held_bills` document, listing and resuming them.
//! - `checkout`: tenders settled, the invoice numbered and committed with its voucher
//!   redemption and held bill removal in one transaction.
//! - `history`: receipts and the branch's invoices.
//! - `returns`: returns against an invoice, refunded in cash.
//! - `shift`: opening and closing the shift, and the drawer.
//! - `status`: the sync badge and the rejections with what to do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lapak_client::{Client, ClientOptions, SyncTask};
use lapak_core::catalog;
use tokio::sync::Mutex;

use crate::api::{AppState, BranchView, ErrorCode, Locale, Phase, TerminalView, UserView};
use crate::error::{Message, PosError, Result};

mod cart;
mod catalog_reads;
mod checkout;
mod config;
mod held;
mod history;
mod returns;
mod shift;
pub mod status;

pub use cart::CartState;
pub use config::TerminalConfig;

/// One POS terminal.
pub struct Pos {
    dir: PathBuf,
    client: Client,
    sync: Mutex<Option<SyncTask>>,
    state: Mutex<State>,
}

/// What the terminal holds in memory: its settings and the cart being rung up.
struct State {
    config: TerminalConfig,
    cart: CartState,
}

impl Pos {
    /// Opens the terminal whose data lives in `dir` (its store, credentials and settings),
    /// and starts syncing when a cashier is signed in.
    ///
    /// # Errors
    /// When the store or the settings cannot be opened.
    pub async fn open(dir: &Path, live: bool) -> Result<Pos> {
        std::fs::create_dir_all(dir).map_err(|source| PosError::File {
            what: format!("creating {}", dir.display()),
            source,
        })?;
        let mut options = ClientOptions::new(dir.join("device"), catalog::business());
        options.device_name = "Lapak POS".into();
        options.live = live;
        options.poll_interval = Duration::from_secs(5);
        let client = Client::open(options).await?;
        let config = TerminalConfig::load(dir)?;
        let pos = Pos {
            dir: dir.to_owned(),
            client,
            sync: Mutex::new(None),
            state: Mutex::new(State {
                config,
                cart: CartState::default(),
            }),
        };
        if pos.client.credentials().await.is_some() {
            pos.start_sync().await;
        }
        Ok(pos)
    }

    /// The client (for status subscriptions and tests).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn start_sync(&self) {
        let mut sync = self.sync.lock().await;
        if sync.is_none() {
            *sync = Some(self.client.start());
        }
    }

    /// Stops syncing (the app is closing): what is in flight finishes or is retried later.
    pub async fn shutdown(&self) {
        if let Some(task) = self.sync.lock().await.take() {
            task.stop().await;
        }
    }

    /// The app's state: which screen, who, which terminal, the open shift.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn app_state(&self) -> Result<AppState> {
        let creds = self.client.credentials().await;
        let (config, branches) = {
            let state = self.state.lock().await;
            (state.config.clone(), state.config.branches.clone())
        };
        let user = match &creds {
            Some(c) => Some(self.user_view(&c.username, &c.role).await?),
            None => None,
        };
        let terminal = match (&creds, &config.terminal) {
            (Some(_), Some(t)) => Some(TerminalView {
                branch: t.branch.clone(),
                branch_name: self.branch_name(&t.branch).await?,
                terminal: t.terminal.clone(),
            }),
            _ => None,
        };
        let phase = match (&creds, &terminal) {
            (None, _) => Phase::SignIn,
            (Some(_), None) => Phase::PickTerminal,
            (Some(_), Some(_)) => Phase::Ready,
        };
        let mut branch_views = Vec::with_capacity(branches.len());
        for code in branches {
            let name = self.branch_name(&code).await?;
            branch_views.push(BranchView { code, name });
        }
        let shift = if terminal.is_some() {
            self.shift_state().await?.current
        } else {
            None
        };
        Ok(AppState {
            phase,
            server: config.server.clone(),
            user,
            terminal,
            branches: branch_views,
            locale: config.locale,
            shift,
        })
    }

    /// Signs a cashier in (needs the server once), then syncs what the terminal needs.
    ///
    /// # Errors
    /// `bad_credentials`, `unreachable`, or `invalid` for an address that is not a URL.
    pub async fn sign_in(&self, server: &str, username: &str, password: &str) -> Result<AppState> {
        let server = server.trim();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(PosError::refused(
                ErrorCode::Invalid,
                Message::new(
                    format!("`{server}` is not a server address: type it as http://host:port"),
                    format!("`{server}` bukan alamat server: ketik seperti http://host:port"),
                ),
            ));
        }
        let info = self
            .client
            .login(server, username.trim(), password, None)
            .await?;
        let branches: Vec<String> = info
            .scopes
            .iter()
            .filter_map(|s| s.strip_prefix("branch:"))
            .map(str::to_owned)
            .collect();
        if branches.is_empty() {
            self.client.logout().await?;
            return Err(PosError::refused(
                ErrorCode::Invalid,
                Message::new(
                    format!(
                        "user `{username}` may not sell at any branch: ask the back office for a branch grant"
                    ),
                    format!(
                        "pengguna `{username}` tidak boleh berjualan di cabang mana pun: minta izin cabang ke kantor"
                    ),
                ),
            ));
        }
        // The first sync brings the catalogue, prices, customers; later ones run by themselves.
        let first = self.client.sync_once().await;
        {
            let mut state = self.state.lock().await;
            state.config.server = Some(server.to_owned());
            state.config.branches = self.order_branches(username, branches).await;
            if state
                .config
                .terminal
                .as_ref()
                .is_some_and(|t| !state.config.branches.contains(&t.branch))
            {
                state.config.terminal = None;
            }
            state.config.save(&self.dir)?;
            state.cart = CartState::default();
        }
        self.start_sync().await;
        if let Err(e) = first {
            tracing::warn!(error = %e, "the first sync after signing in failed; it is retried");
        }
        self.app_state().await
    }

    /// Makes this app terminal `terminal` of `branch`.
    ///
    /// # Errors
    /// `not_signed_in`; `invalid` for a branch the cashier may not sell at or a malformed code.
    pub async fn pick_terminal(&self, branch: &str, terminal: &str) -> Result<AppState> {
        self.require_signed_in().await?;
        let terminal = terminal.trim();
        let ok = !terminal.is_empty()
            && terminal.len() <= 20
            && terminal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(PosError::refused(
                ErrorCode::Invalid,
                Message::new(
                    "a terminal code is 1 to 20 letters, digits and dashes, like POS-1",
                    "kode terminal 1 sampai 20 huruf, angka dan tanda minus, misalnya POS-1",
                ),
            ));
        }
        {
            let mut state = self.state.lock().await;
            if !state.config.branches.iter().any(|b| b == branch) {
                return Err(PosError::refused(
                    ErrorCode::Invalid,
                    Message::new(
                        format!("you may not sell at branch {branch}: pick one of your branches"),
                        format!(
                            "Anda tidak boleh berjualan di cabang {branch}: pilih salah satu cabang Anda"
                        ),
                    ),
                ));
            }
            state.config.terminal = Some(config::Terminal {
                branch: branch.to_owned(),
                terminal: terminal.to_owned(),
            });
            state.config.save(&self.dir)?;
            state.cart = CartState::default();
        }
        self.app_state().await
    }

    /// Signs the cashier out. Refused while sales wait to be uploaded: they belong to this
    /// cashier's session and would otherwise wait for the next sign-in.
    ///
    /// # Errors
    /// `invalid` while changes are pending.
    pub async fn sign_out(&self) -> Result<AppState> {
        let pending = self.client.with_store(|s| s.pending_count()).await?;
        if pending > 0 {
            return Err(PosError::refused(
                ErrorCode::Invalid,
                Message::new(
                    format!(
                        "{pending} change(s) have not reached the server yet: connect to the network and wait for them to upload before signing out"
                    ),
                    format!(
                        "{pending} perubahan belum sampai di server: sambungkan jaringan dan tunggu sampai terkirim sebelum keluar"
                    ),
                ),
            ));
        }
        self.shutdown().await;
        self.client.logout().await?;
        self.state.lock().await.cart = CartState::default();
        self.app_state().await
    }

    /// The interface language (errors are answered in it).
    pub async fn locale(&self) -> Locale {
        self.state.lock().await.config.locale
    }

    /// Sets the interface language.
    ///
    /// # Errors
    /// When the settings cannot be saved.
    pub async fn set_locale(&self, locale: Locale) -> Result<AppState> {
        {
            let mut state = self.state.lock().await;
            state.config.locale = locale;
            state.config.save(&self.dir)?;
        }
        self.app_state().await
    }

    async fn require_signed_in(&self) -> Result<lapak_client::credentials::Credentials> {
        self.client.credentials().await.ok_or_else(|| {
            PosError::refused(
                ErrorCode::NotSignedIn,
                Message::new("sign in first", "masuk dulu"),
            )
        })
    }

    /// The terminal, the cashier, and their branch: what every sale needs.
    async fn terminal(&self) -> Result<Seat> {
        let creds = self.require_signed_in().await?;
        let state = self.state.lock().await;
        let t = state.config.terminal.clone().ok_or_else(|| {
            PosError::refused(
                ErrorCode::NoTerminal,
                Message::new(
                    "pick this app's terminal first",
                    "pilih terminal aplikasi ini dulu",
                ),
            )
        })?;
        Ok(Seat {
            branch: t.branch,
            terminal: t.terminal,
            cashier: creds.username,
        })
    }

    /// The staff row's branch first, then the rest in order.
    async fn order_branches(&self, username: &str, mut branches: Vec<String>) -> Vec<String> {
        branches.sort();
        let home = self
            .client
            .get("staff", username)
            .await
            .ok()
            .flatten()
            .and_then(|r| {
                r.fields
                    .get("branch")
                    .and_then(|v| v.as_text().map(str::to_owned))
            });
        if let Some(home) = home
            && let Some(at) = branches.iter().position(|b| *b == home)
        {
            let b = branches.remove(at);
            branches.insert(0, b);
        }
        branches
    }

    async fn user_view(&self, username: &str, role: &str) -> Result<UserView> {
        let staff = self.client.get("staff", username).await?;
        let name = staff
            .and_then(|r| {
                r.fields
                    .get("name")
                    .and_then(|v| v.as_text().map(str::to_owned))
            })
            .unwrap_or_else(|| username.to_owned());
        Ok(UserView {
            username: username.to_owned(),
            name,
            role: role.to_owned(),
        })
    }

    async fn branch_name(&self, code: &str) -> Result<String> {
        Ok(self
            .client
            .get("branches", code)
            .await?
            .and_then(|r| {
                r.fields
                    .get("name")
                    .and_then(|v| v.as_text().map(str::to_owned))
            })
            .unwrap_or_else(|| code.to_owned()))
    }
}

/// Where a sale happens and who makes it.
#[derive(Clone, Debug)]
struct Seat {
    branch: String,
    terminal: String,
    cashier: String,
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The terminal's UTC offset now, in seconds (invoice numbers use the local day).
fn local_offset_s() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}
