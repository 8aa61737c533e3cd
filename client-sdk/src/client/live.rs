//! The live socket: hold `/v1/sync/live`, apply the entries the server sends, wake the sync
//! loop on news, answer pings, notice a dead connection, reconnect with backoff.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use lapak_core::protocol::{LiveMessage, Message, PullResponse, ScopeBatch};
use tokio_tungstenite::tungstenite;

use super::{Backoff, Client, Result, Transport};
use crate::error::ClientError;

/// How long a live socket may stay silent before it is taken for dead (the server pings every
/// 20 s by default).
const LIVE_SILENCE: Duration = Duration::from_secs(65);

/// How long opening the live socket may take (TCP, TLS and the upgrade).
const LIVE_CONNECT: Duration = Duration::from_secs(20);

impl Client {
    /// Applies entries the server sent on the live socket; when they do not follow on from
    /// the store's cursors, wakes the sync loop to pull instead.
    async fn apply_live(&self, batches: Vec<ScopeBatch>) {
        // A sync in progress will bring these entries anyway; never stall the socket behind it.
        let Ok(_one_at_a_time) = self.inner.sync_lock.try_lock() else {
            self.inner.wake.notify_one();
            return;
        };
        let answer = PullResponse { batches };
        match self.with_store(move |s| s.apply_pull(&answer)).await {
            Ok(_) => {
                self.synced();
                self.refresh_status().await;
            }
            Err(e) => {
                tracing::debug!(error = %e, "live entries not applicable here: pulling instead");
                self.inner.wake.notify_one();
            }
        }
    }

    /// The live loop, until [`super::SyncTask::stop`]: a connection being opened is
    /// abandoned at once, an open one is closed with a close frame within
    /// [`super::STOP_GRACE`].
    pub(super) async fn live_loop(self) {
        tokio::select! {
            () = self.clone().live_loop_inner() => {}
            () = self.stopped_after(super::STOP_GRACE) => {}
        }
    }

    async fn live_loop_inner(self) {
        let mut backoff = Backoff::new(self.inner.options.max_backoff);
        loop {
            if *self.inner.shutdown.borrow() {
                return;
            }
            let (t, access) = match self.access().await {
                Ok(x) => x,
                Err(e) => {
                    let d = if e.needs_login() {
                        Duration::from_secs(3600)
                    } else {
                        backoff.next()
                    };
                    let early = e.needs_login().then_some(&self.inner.signed_in);
                    if self.sleep_or_stop(d, early).await {
                        return;
                    }
                    continue;
                }
            };
            let opened = Instant::now();
            match self.hold_live(&t, &access).await {
                Ok(true) => return, // shut down
                // Only a socket that stayed up a while resets the backoff: a server that closes
                // every socket at once (rate limit, refused scope) is not hammered.
                Ok(false) if opened.elapsed() > Duration::from_secs(30) => backoff.reset(),
                Ok(false) => {}
                Err(e) if e.needs_login() => self.drop_access().await,
                Err(e) => tracing::debug!(error = %e, "live socket closed"),
            }
            self.inner.status.send_modify(|s| s.live = false);
            if self.sleep_or_stop(backoff.next(), None).await {
                return;
            }
        }
    }

    /// One live connection, until it ends. `Ok(true)` when the client is shutting down.
    async fn hold_live(&self, t: &Transport, access: &str) -> Result<bool> {
        use tungstenite::client::IntoClientRequest as _;
        let offline = |e: &dyn std::fmt::Display| ClientError::Offline {
            server: t.base().to_owned(),
            detail: e.to_string(),
        };
        let mut req = t
            .live_url()
            .into_client_request()
            .map_err(|e| offline(&e))?;
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {access}")
                .parse()
                .map_err(|e| offline(&e))?,
        );
        let config = tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(4096)
            .max_message_size(Some(lapak_core::protocol::MAX_MESSAGE_BYTES));
        let connect = tokio_tungstenite::connect_async_with_config(req, Some(config), true);
        let mut stop = self.inner.shutdown.subscribe();
        let connected = tokio::select! {
            // A server that accepts and never answers must not hold the stop up.
            () = async { let _ = stop.wait_for(|s| *s).await; } => return Ok(true),
            c = tokio::time::timeout(LIVE_CONNECT, connect) => c.map_err(|e| offline(&e))?,
        };
        let (mut ws, _) = connected.map_err(|e| match e {
            tungstenite::Error::Http(r) if r.status() == 401 || r.status() == 403 => {
                ClientError::Unauthorized {
                    code: "invalid_token".into(),
                    message: "the server refused the live socket's token".into(),
                }
            }
            e => offline(&e),
        })?;
        let (device_id, cursors) = self
            .with_store(|s| Ok((s.device_id(), s.cursors()?)))
            .await?;
        let hello = Message::Live(LiveMessage::Hello { device_id, cursors }).encode();
        ws.send(tungstenite::Message::Binary(hello.into()))
            .await
            .map_err(|e| offline(&e))?;
        self.inner.status.send_modify(|s| {
            s.live = true;
            s.online = true;
        });
        // Anything written while the socket was down goes now.
        self.inner.wake.notify_one();
        loop {
            let msg = tokio::select! {
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    return Ok(true);
                }
                // The server pings every 20 s: a minute of silence is a dead connection (a
                // dropped Wi-Fi, a NAT that forgot us).
                m = tokio::time::timeout(LIVE_SILENCE, ws.next()) => match m {
                    Ok(m) => m,
                    Err(_) => return Ok(false),
                },
            };
            let Some(Ok(msg)) = msg else {
                return Ok(false);
            };
            let bytes = match msg {
                tungstenite::Message::Binary(b) => b,
                tungstenite::Message::Close(_) => return Ok(false),
                _ => continue,
            };
            match Message::decode(&bytes)? {
                Message::Live(LiveMessage::News { .. }) => self.inner.wake.notify_one(),
                Message::Live(LiveMessage::Entries { batches }) => self.apply_live(batches).await,
                Message::Live(LiveMessage::Ping(n)) => {
                    let pong = Message::Live(LiveMessage::Pong(n)).encode();
                    ws.send(tungstenite::Message::Binary(pong.into()))
                        .await
                        .map_err(|e| offline(&e))?;
                }
                Message::Live(LiveMessage::Close { code, reason }) => {
                    tracing::debug!(%code, %reason, "the server closed the live socket");
                    if code == "token_expired" {
                        self.drop_access().await;
                    }
                    if code == "revoked" {
                        self.drop_access().await;
                        self.inner.status.send_modify(|s| {
                            s.signed_in = false;
                            s.last_error = Some(format!("{reason}: log in again"));
                        });
                    }
                    return Ok(false);
                }
                _ => {}
            }
        }
    }
}
