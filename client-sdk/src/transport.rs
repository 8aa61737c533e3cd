//! The wire: HTTP calls to `lapak-server` (login, refresh, logout, push, pull) in the binary
//! encoding, and the live WebSocket. No state beyond the HTTP connection pool; the client
//! decides when to call what.

use std::time::Duration;

use lapak_core::protocol::{Message, PullRequest, PullResponse, PushRequest, PushResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::{ClientError, Result};

/// The server's answer to a login or a refresh.
#[derive(Clone, Deserialize)]
pub struct TokenAnswer {
    /// The access JWT.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The next refresh token.
    pub refresh_token: String,
    /// The user.
    pub user_id: String,
    /// The user's role.
    pub role: String,
    /// The user's grants.
    pub grants: Vec<Grant>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("user_id", &self.user_id)
            .field("role", &self.role)
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}

/// One grant of the user.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Grant {
    /// The scope, or `*`.
    pub scope: String,
    /// Whether the user may write in it.
    pub write: bool,
}

/// The most photos one [`Transport::photo_upload_states`] asks about (the server's limit).
pub const MAX_PHOTO_STATES: usize = 500;

/// Where a photo's upload stands on the server.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct UploadState {
    /// The server has the whole photo.
    pub stored: bool,
    /// The bytes it holds of an unfinished upload.
    pub offset: u64,
}

/// One photo's answer to [`Transport::photo_upload_states`].
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PhotoUploadState {
    /// The photo, as asked.
    pub photo: String,
    /// The caller may upload it (a record of theirs references it); when not, the rest says
    /// nothing.
    pub referenced: bool,
    /// The server has the whole photo.
    pub stored: bool,
    /// The bytes it holds of an unfinished upload.
    pub offset: u64,
}

#[derive(Deserialize)]
struct PhotoUploadStates {
    photos: Vec<PhotoUploadState>,
}

/// HTTP to one server.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    base: String,
}

const BINARY: &str = "application/x-lapak";

/// The app this process is, as it introduces itself to the server (`lapak-pos/0.1.0`).
static APP: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the app embedding this client (`"lapak-pos/0.1.0"`), sent with every request in
/// `User-Agent` so the back office sees which version each device runs. Call it once, before
/// the first client is opened; later calls are ignored.
pub fn identify_app(name_and_version: &str) {
    let clean: String = name_and_version
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(60)
        .collect();
    let _ = APP.set(clean);
}

/// `User-Agent`: the app, then this library.
fn user_agent() -> String {
    let sdk = concat!("lapak-client/", env!("CARGO_PKG_VERSION"));
    match APP.get() {
        Some(app) if !app.is_empty() => format!("{app} {sdk}"),
        _ => sdk.to_owned(),
    }
}

impl Transport {
    /// A transport to `base` (`http://host:port`).
    ///
    /// # Errors
    /// [`ClientError::Offline`] when the HTTP client cannot be built.
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Offline {
                server: base.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Transport {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The server's base URL.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    fn offline(&self, e: &reqwest::Error) -> ClientError {
        ClientError::Offline {
            server: self.base.clone(),
            detail: if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection refused or no route".to_owned()
            } else {
                e.to_string()
            },
        }
    }

    async fn error_of(&self, resp: reqwest::Response) -> ClientError {
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        if status == 401 {
            ClientError::Unauthorized { code, message }
        } else {
            ClientError::Server {
                status,
                code,
                message,
            }
        }
    }

    async fn post_json(&self, path: &str, body: serde_json::Value) -> Result<TokenAnswer> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            // Short: a refresh whose answer is lost must be retried within the server's 30 s
            // grace period.
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        if !resp.status().is_success() {
            return Err(self.error_of(resp).await);
        }
        resp.json().await.map_err(|e| self.offline(&e))
    }

    /// Logs `username` in on `device`.
    ///
    /// # Errors
    /// [`ClientError::Unauthorized`] for wrong credentials; others as for every call.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device: Uuid,
        device_name: &str,
    ) -> Result<TokenAnswer> {
        self.post_json(
            "/v1/auth/login",
            serde_json::json!({"username": username, "password": password, "device_id": device, "device_name": device_name}),
        )
        .await
    }

    /// Rotates a refresh token.
    ///
    /// # Errors
    /// [`ClientError::Unauthorized`] when the session is over.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenAnswer> {
        self.post_json(
            "/v1/auth/refresh",
            serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// Ends the device's sessions on the server.
    ///
    /// # Errors
    /// As every call.
    pub async fn logout(&self, access: &str) -> Result<()> {
        let resp = self
            .http
            .post(format!("{}/v1/auth/logout", self.base))
            .bearer_auth(access)
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(self.error_of(resp).await)
        }
    }

    async fn exchange(&self, path: &str, access: &str, msg: &Message) -> Result<Message> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(access)
            .header("content-type", BINARY)
            .header("accept", BINARY)
            .body(msg.encode())
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        if !resp.status().is_success() {
            return Err(self.error_of(resp).await);
        }
        let bytes = resp.bytes().await.map_err(|e| self.offline(&e))?;
        Ok(Message::decode(&bytes)?)
    }

    /// Sends a push.
    ///
    /// # Errors
    /// As every call; an unexpected answer is a decode error.
    pub async fn push(&self, access: &str, req: PushRequest) -> Result<PushResponse> {
        match self
            .exchange("/v1/sync/push", access, &Message::PushRequest(req))
            .await?
        {
            Message::PushResponse(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    /// Sends a pull.
    ///
    /// # Errors
    /// As every call.
    pub async fn pull(&self, access: &str, req: PullRequest) -> Result<PullResponse> {
        match self
            .exchange("/v1/sync/pull", access, &Message::PullRequest(req))
            .await?
        {
            Message::PullResponse(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    /// Where the upload of photo `hex` stands on the server.
    ///
    /// # Errors
    /// As every call; `photo_not_referenced` (404) while no record of the user's references it.
    pub async fn photo_state(&self, access: &str, hex: &str) -> Result<UploadState> {
        let resp = self
            .http
            .get(format!("{}/v1/photos/{hex}/upload", self.base))
            .bearer_auth(access)
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        self.json_answer(resp).await
    }

    /// Where the uploads of many photos stand, in one request (at most
    /// [`MAX_PHOTO_STATES`] photos).
    ///
    /// # Errors
    /// As every call; 404 or 405 from a server older than this request.
    pub async fn photo_upload_states(
        &self,
        access: &str,
        hexes: &[String],
    ) -> Result<Vec<PhotoUploadState>> {
        let resp = self
            .http
            .post(format!("{}/v1/photos/upload-states", self.base))
            .bearer_auth(access)
            .json(&serde_json::json!({ "photos": hexes }))
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        let answer: PhotoUploadStates = self.json_answer(resp).await?;
        Ok(answer.photos)
    }

    /// Sends `bytes[offset..]` of photo `hex` (all its bytes given), continuing an upload the
    /// server holds `offset` bytes of.
    ///
    /// # Errors
    /// As every call; `offset_mismatch` (409) when the server holds another offset.
    pub async fn photo_upload(
        &self,
        access: &str,
        hex: &str,
        mut bytes: Vec<u8>,
        offset: u64,
    ) -> Result<UploadState> {
        let total = bytes.len();
        bytes.drain(..usize::try_from(offset).unwrap_or(total).min(total));
        let resp = self
            .http
            .patch(format!("{}/v1/photos/{hex}/upload", self.base))
            .bearer_auth(access)
            .header("upload-offset", offset.to_string())
            .header("upload-length", total.to_string())
            .header("content-type", "application/offset+octet-stream")
            // A 10 MiB photo over a slow phone network.
            .timeout(Duration::from_secs(600))
            .body(bytes)
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        self.json_answer(resp).await
    }

    /// The answer's JSON body, or the server's error when it refused.
    async fn json_answer<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
    ) -> Result<T> {
        if !resp.status().is_success() {
            return Err(self.error_of(resp).await);
        }
        resp.json().await.map_err(|e| self.offline(&e))
    }

    /// Photo `hex`'s bytes, or `None` when the user may not see it or it is not stored.
    ///
    /// # Errors
    /// As every call.
    pub async fn photo_download(&self, access: &str, hex: &str) -> Result<Option<Vec<u8>>> {
        let resp = self
            .http
            .get(format!("{}/v1/photos/{hex}", self.base))
            .bearer_auth(access)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .map_err(|e| self.offline(&e))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.error_of(resp).await);
        }
        let bytes = resp.bytes().await.map_err(|e| self.offline(&e))?;
        Ok(Some(bytes.to_vec()))
    }

    /// The live socket's URL.
    #[must_use]
    pub fn live_url(&self) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{ws}/v1/sync/live")
    }
}

fn unexpected() -> ClientError {
    ClientError::Decode(lapak_core::protocol::DecodeError::Malformed(
        "the server answered with another message than expected".into(),
    ))
}
