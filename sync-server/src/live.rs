//! Live notifications: a hub that every accepted write announces its scopes' new heads to, and
//! the WebSocket conversation with each live device (hello, news, ping/pong, close with a
//! reason). The socket only says *that* there is news; the device pulls it, so the pull path
//! stays the one place that enforces scopes and batching.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use lapak_core::protocol::{Cursor, LiveMessage, Message, ScopeBatch};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;

/// News from one write: the newest position of each scope it touched, and, when the write was
/// small, its entries.
#[derive(Clone, Debug, PartialEq)]
pub struct News {
    /// Scope → newest position.
    pub heads: BTreeMap<String, u64>,
    /// The write's entries, one complete batch per scope (absent for large writes).
    pub batches: Option<Vec<ScopeBatch>>,
    /// `Entries` with every batch, encoded once in the binary form, for the sockets that
    /// follow all the write's scopes (most of them).
    pub encoded: Option<axum::body::Bytes>,
    /// News from another server process that could not say which scopes: every socket looks
    /// up its scopes' heads.
    pub everywhere: bool,
}

/// Writes whose entries encode to at most this many bytes are sent on live sockets whole;
/// larger ones are announced and pulled.
pub const INLINE_NEWS_BYTES: usize = 64 * 1024;

/// The most live sockets one device may hold open at once; a further one is refused with 429
/// `too_many_sockets` before the upgrade (the open ones keep working).
pub const MAX_SOCKETS_PER_DEVICE: usize = 4;

/// The largest message (and frame) a device may send on a live socket: its messages are
/// `Hello`, `Ping`, `Pong` and `Close`, far smaller.
pub const MAX_LIVE_MESSAGE_BYTES: usize = 64 * 1024;

/// How many live sockets each device holds open.
#[derive(Clone, Debug, Default)]
pub struct DeviceSockets(Arc<Mutex<HashMap<Uuid, usize>>>);

impl DeviceSockets {
    /// Counts one more socket of `device` until the slot drops, or `None` when the device holds
    /// [`MAX_SOCKETS_PER_DEVICE`] already.
    #[must_use]
    pub fn claim(&self, device: Uuid) -> Option<SocketSlot> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(device).or_insert(0);
        if *n >= MAX_SOCKETS_PER_DEVICE {
            return None;
        }
        *n += 1;
        Some(SocketSlot {
            sockets: self.clone(),
            device,
        })
    }
}

/// One live socket of a device, counted while it exists.
#[derive(Debug)]
pub struct SocketSlot {
    sockets: DeviceSockets,
    device: Uuid,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self
            .sockets
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.device) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.device);
            }
        }
    }
}

/// Fans news out to every live socket.
#[derive(Clone, Debug)]
pub struct Hub {
    tx: broadcast::Sender<Arc<News>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with room for 4,096 unread announcements per socket (a socket that falls further
    /// behind is sent the current heads instead).
    #[must_use]
    pub fn new() -> Self {
        Hub {
            tx: broadcast::channel(4096).0,
        }
    }

    /// Announces a committed write (no-op without listeners or entries).
    pub fn publish(&self, plan: &crate::engine::Plan) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let heads = plan.heads();
        if heads.is_empty() {
            return;
        }
        let batches = plan.live_batches();
        let size: usize = batches
            .iter()
            .flat_map(|b| &b.entries)
            .map(|e| postcard::experimental::serialized_size(e).unwrap_or(usize::MAX))
            .fold(0, usize::saturating_add);
        let batches = (size <= INLINE_NEWS_BYTES).then_some(batches);
        let encoded = batches.as_ref().map(|b| {
            axum::body::Bytes::from(
                Message::Live(LiveMessage::Entries { batches: b.clone() }).encode(),
            )
        });
        let _ = self.tx.send(Arc::new(News {
            heads,
            batches,
            encoded,
            everywhere: false,
        }));
    }

    /// Announces a write another server process made (heard through the database): scopes and
    /// heads only; devices pull. Empty heads mean "somewhere": every socket checks its scopes.
    pub fn publish_heads(&self, heads: BTreeMap<String, u64>) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let everywhere = heads.is_empty();
        let _ = self.tx.send(Arc::new(News {
            heads,
            batches: None,
            encoded: None,
            everywhere,
        }));
    }

    /// A new listener.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<News>> {
        self.tx.subscribe()
    }
}

/// How a socket's messages are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Binary frames, `LPK` wire format.
    Binary,
    /// Text frames, JSON form.
    Json,
}

fn frame(format: Format, msg: LiveMessage) -> WsMessage {
    let m = Message::Live(msg);
    match format {
        Format::Binary => WsMessage::Binary(m.encode().into()),
        Format::Json => WsMessage::Text(m.to_json().into()),
    }
}

async fn close(socket: &mut WebSocket, format: Format, code: u16, reason: &str, message: &str) {
    let _ = socket
        .send(frame(
            format,
            LiveMessage::Close {
                code: reason.to_owned(),
                reason: message.to_owned(),
            },
        ))
        .await;
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Runs one live socket until it closes, the token expires or the server shuts down.
pub async fn run_socket(
    mut socket: WebSocket,
    state: AppState,
    mut principal: Principal,
    generation: i64,
    format: Format,
    token_expires_in: Duration,
) {
    let _live = state.live_guard();
    let mut news = state.hub.subscribe();
    let mut shutdown = state.shutdown.clone();
    let ping_every = Duration::from_secs(state.config.live_ping_seconds);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let expiry = tokio::time::sleep(token_expires_in);
    tokio::pin!(expiry);
    let mut followed: Option<BTreeSet<String>> = None;
    let mut next_ping = 0u64;
    let mut unanswered = 0u32;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                close(&mut socket, format, 1001, "shutdown", "the server is shutting down; reconnect in a moment").await;
                return;
            }
            () = &mut expiry => {
                close(&mut socket, format, 1008, "token_expired", "the access token expired: refresh it and reconnect").await;
                return;
            }
            _ = ping.tick() => {
                // Grants, revocations and logouts reach open sockets too: read the session again.
                match state.storage.session(&principal.user_id, principal.device_id).await {
                    Ok(Some(session)) if !session.blocked && session.generation == generation => {
                        principal = session.principal;
                    }
                    Ok(_) => {
                        close(&mut socket, format, 1008, "revoked", "this session was revoked or its user disabled: log in again").await;
                        return;
                    }
                    Err(_) => {}
                }
                if unanswered >= 2 {
                    close(&mut socket, format, 1001, "timeout", "no pong to two pings: reconnect").await;
                    return;
                }
                next_ping += 1;
                unanswered += 1;
                if socket.send(frame(format, LiveMessage::Ping(next_ping))).await.is_err() {
                    return;
                }
            }
            got = news.recv() => {
                let wanted = |s: &str| principal.can_read(s) && followed.as_ref().is_none_or(|f| f.contains(s));
                if let Ok(n) = &got && let Some(batches) = &n.batches {
                    let sent = if format == Format::Binary
                        && let Some(bytes) = &n.encoded
                        && batches.iter().all(|b| wanted(&b.scope))
                    {
                        socket.send(WsMessage::Binary(bytes.clone())).await
                    } else {
                        let batches: Vec<ScopeBatch> = batches.iter().filter(|b| wanted(&b.scope)).cloned().collect();
                        if batches.is_empty() {
                            continue;
                        }
                        socket.send(frame(format, LiveMessage::Entries { batches })).await
                    };
                    if sent.is_err() {
                        return;
                    }
                    continue;
                }
                let heads: Vec<Cursor> = match got {
                    Ok(n) if n.everywhere => {
                        let scopes: Vec<String> = followed.iter().flatten().cloned().collect();
                        state.storage.scope_heads(&scopes).await.unwrap_or_default()
                    }
                    Ok(n) => n.heads.iter()
                        .filter(|(s, _)| wanted(s))
                        .map(|(s, p)| Cursor { scope: s.clone(), position: *p })
                        .collect(),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let scopes: Vec<String> = followed.iter().flatten().cloned().collect();
                        state.storage.scope_heads(&scopes).await.unwrap_or_default()
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if !heads.is_empty() && socket.send(frame(format, LiveMessage::News { heads })).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(msg)) = incoming else { return };
                let decoded = match msg {
                    WsMessage::Binary(b) => Message::decode(&b),
                    WsMessage::Text(t) => Message::from_json(t.as_str()),
                    WsMessage::Close(_) => return,
                    WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
                };
                match decoded {
                    Ok(Message::Live(LiveMessage::Hello { cursors, .. })) => {
                        if let Err(wait) = state.limiter.check(principal.device_id) {
                            let m = format!("too many hellos: reconnect in {wait} s");
                            close(&mut socket, format, 1008, "rate_limited", &m).await;
                            return;
                        }
                        let denied: Vec<&str> = cursors.iter().map(|c| c.scope.as_str()).filter(|s| !principal.can_read(s)).collect();
                        if !denied.is_empty() {
                            let m = format!("this user may not follow {}", denied.join(", "));
                            close(&mut socket, format, 1008, "forbidden_scope", &m).await;
                            return;
                        }
                        followed = Some(cursors.iter().map(|c| c.scope.clone()).collect());
                        let scopes: Vec<String> = cursors.iter().map(|c| c.scope.clone()).collect();
                        let heads: Vec<Cursor> = state.storage.scope_heads(&scopes).await.unwrap_or_default()
                            .into_iter()
                            .filter(|h| cursors.iter().any(|c| c.scope == h.scope && c.position < h.position))
                            .collect();
                        if !heads.is_empty() && socket.send(frame(format, LiveMessage::News { heads })).await.is_err() {
                            return;
                        }
                    }
                    Ok(Message::Live(LiveMessage::Ping(n))) => {
                        if socket.send(frame(format, LiveMessage::Pong(n))).await.is_err() {
                            return;
                        }
                    }
                    Ok(Message::Live(LiveMessage::Pong(_))) => unanswered = 0,
                    Ok(Message::Live(LiveMessage::Close { .. })) => return,
                    Ok(_) => {
                        close(&mut socket, format, 1003, "unexpected_message", "only live messages (Hello, Ping, Pong, Close) are sent on this socket").await;
                        return;
                    }
                    Err(e) => {
                        close(&mut socket, format, 1007, "malformed", &e.to_string()).await;
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_holds_at_most_its_sockets() {
        let sockets = DeviceSockets::default();
        let d = Uuid::now_v7();
        let slots: Vec<SocketSlot> = (0..MAX_SOCKETS_PER_DEVICE)
            .map(|_| sockets.claim(d).unwrap())
            .collect();
        assert!(sockets.claim(d).is_none());
        assert!(
            sockets.claim(Uuid::now_v7()).is_some(),
            "other devices are apart"
        );
        drop(slots);
        assert!(
            sockets.claim(d).is_some(),
            "closed sockets free their slots"
        );
    }
}
