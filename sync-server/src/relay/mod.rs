//! The outbox relay: every event in `lapak_outbox` reaches each configured broker (a
//! [`Sink`]: NATS JetStream in [`nats`], RabbitMQ in [`amqp`]) at least once, in the outbox's
//! order, with its event id as the message id (JetStream drops duplicates by it; RabbitMQ's
//! consumers can).
//!
//! One task per sink. It holds the sink's lease in the database (`storage::relay`): with
//! several server replicas on one Postgres exactly one relays to a sink, and another takes over
//! when the holder stops renewing. Each round reads up to [`BATCH`] events after the sink's
//! position, publishes them all and waits for every acknowledgement, then moves the position
//! (only while still holding the lease). A failure leaves the position where it was: the batch
//! goes again, and a broker sees a duplicate only with the same event id. Failures back off
//! and open a circuit breaker ([`breaker`]); the relay never loops hot and never holds a
//! database connection while it waits on a broker.

pub mod amqp;
pub mod breaker;
pub mod nats;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::app::AppState;
use crate::metrics::Metrics;
use crate::storage::Storage;

/// Events read and published per round.
pub const BATCH: u32 = 1_000;
/// How long a lease lasts without renewal, ms.
pub const LEASE_MS: i64 = 15_000;
/// How often an idle relay looks for events when no news of a write woke it.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a replica that does not hold the lease checks whether it lapsed.
const STANDBY_POLL: Duration = Duration::from_secs(2);

/// An event ready to leave: its outbox sequence number, id, type and JSON envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Outbox sequence number.
    pub seq: i64,
    /// The event id: the message id at the broker.
    pub event_id: String,
    /// `invoice.issued`, ...: the subject's or routing key's tail.
    pub event_type: String,
    /// The envelope (`Event::envelope`), JSON.
    pub body: Vec<u8>,
}

/// Why a batch did not reach a sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The broker could not be reached, or dropped the connection.
    #[error(
        "cannot reach {sink} at {address}: {detail}; check that it runs and the URL is right (the relay retries)"
    )]
    Unreachable {
        /// Which sink.
        sink: &'static str,
        /// Where (no credentials).
        address: String,
        /// What failed.
        detail: String,
    },
    /// The broker answered but did not take an event.
    #[error("{sink} did not take event {event_id}: {detail} (the relay retries)")]
    NotTaken {
        /// Which sink.
        sink: &'static str,
        /// The event.
        event_id: String,
        /// The broker's reason.
        detail: String,
    },
}

/// A broker the outbox is relayed to.
#[async_trait]
pub trait Sink: Send {
    /// Its name in the database and the metrics (`nats`, `amqp`).
    fn name(&self) -> &'static str;
    /// Publishes `events` in order and returns once the broker acknowledged every one of them.
    /// Connects (again) when it must.
    async fn publish(&mut self, events: &[Outgoing]) -> Result<(), SinkError>;
}

/// The part of an address that may be logged: scheme, host and port, no credentials.
#[must_use]
pub fn safe_address(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            let host = host.split('/').next().unwrap_or(host);
            format!("{scheme}://{host}")
        }
        None => "(an address that is not a URL)".into(),
    }
}

/// The subject-safe form of an event type: letters, digits, `_`, `-` and `.` kept, anything
/// else (spaces, NATS wildcards) as `_`; no empty tokens.
#[must_use]
pub fn topic_of(event_type: &str) -> String {
    let cleaned: String = event_type
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tokens: Vec<&str> = cleaned.split('.').filter(|t| !t.is_empty()).collect();
    if tokens.is_empty() {
        "unknown".into()
    } else {
        tokens.join(".")
    }
}

/// One sink's relay task.
pub struct Relay {
    storage: Arc<dyn Storage>,
    sink: Box<dyn Sink>,
    /// This process's id in the lease.
    holder: String,
    /// Every configured sink (an event is published once they all have it).
    sinks: Vec<String>,
    metrics: Arc<Metrics>,
    /// Where the sink stands and until when the lease is ours, while we hold it.
    held: Option<(i64, i64)>,
    /// How long a lease lasts, ms ([`LEASE_MS`]); renewed once a third of it has passed.
    lease_ms: i64,
    /// The batch after a position, read while the batch before it was being published.
    ahead: Option<(i64, Vec<(i64, crate::engine::Event)>)>,
}

/// What one round did.
enum Round {
    /// Published this many events (0: nothing waited).
    Published(usize),
    /// Another process holds the lease.
    Standby,
}

impl Relay {
    /// A relay of `sink` for the process `holder`, among `sinks`.
    #[must_use]
    pub fn new(
        storage: Arc<dyn Storage>,
        sink: Box<dyn Sink>,
        holder: String,
        sinks: Vec<String>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Relay {
            storage,
            sink,
            holder,
            sinks,
            metrics,
            held: None,
            lease_ms: LEASE_MS,
            ahead: None,
        }
    }

    /// The same relay with leases of `ms` (tests of a takeover).
    #[must_use]
    pub fn with_lease(mut self, ms: i64) -> Self {
        self.lease_ms = ms.max(100);
        self
    }

    /// Relays until `shutdown` turns true, waking on news of writes; gives the lease up at the
    /// end.
    pub async fn run(
        mut self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        mut news: tokio::sync::broadcast::Receiver<Arc<crate::live::News>>,
    ) {
        let name = self.sink.name();
        let mut breaker = breaker::Breaker::default();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.round().await {
                Ok(Round::Published(n)) => {
                    breaker.success();
                    if n > 0 { Duration::ZERO } else { IDLE_POLL }
                }
                Ok(Round::Standby) => STANDBY_POLL,
                Err(e) => {
                    self.metrics.relay_errors(name).inc();
                    let wait = breaker.failure(rand::random::<f64>());
                    tracing::warn!(sink = name, error = %e, retry_in = ?wait, breaker = ?breaker.state(), "relaying the outbox failed");
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // News wakes an idle relay at once; a failing one keeps its backoff.
                _ = news.recv(), if breaker.state() == breaker::State::Closed { failures: 0 } => {}
                _ = shutdown.changed() => {}
            }
            breaker.rested();
        }
        if self.held.is_some() {
            let _ = self.storage.relay_release(name, &self.holder).await;
        }
    }

    /// Holds the lease (renewing it when due), then publishes the next batch.
    async fn round(&mut self) -> Result<Round, Box<dyn std::error::Error + Send + Sync>> {
        let name = self.sink.name();
        let now = AppState::now_ms();
        let due = self
            .held
            .is_none_or(|(_, until)| until - now < self.lease_ms * 2 / 3);
        if due {
            match self
                .storage
                .relay_lease(name, &self.holder, now, now + self.lease_ms)
                .await?
            {
                Some(state) => {
                    if self.held.is_none() {
                        tracing::info!(
                            sink = name,
                            from_seq = state.upto_seq,
                            "relaying the outbox"
                        );
                    }
                    self.held = Some((state.upto_seq, now + self.lease_ms));
                    self.metrics
                        .relay_backlog(name)
                        .set(state.head_seq - state.upto_seq);
                }
                None => {
                    self.held = None;
                    return Ok(Round::Standby);
                }
            }
        }
        let Some((upto, until)) = self.held else {
            return Ok(Round::Standby);
        };
        let events = match self.ahead.take() {
            Some((after, events)) if after == upto => events,
            _ => self.storage.outbox(upto, BATCH).await?,
        };
        let Some((last, oldest)) = events.last().map(|e| e.0).zip(events.first()) else {
            self.metrics.relay_backlog(name).set(0);
            self.metrics.relay_lag(name).set(0.0);
            return Ok(Round::Published(0));
        };
        self.metrics
            .relay_lag(name)
            .set(lag_seconds(&oldest.1.timestamp, now));
        let outgoing: Vec<Outgoing> = events
            .iter()
            .map(|(seq, e)| Outgoing {
                seq: *seq,
                event_id: e.event_id.to_string(),
                event_type: e.event_type.clone(),
                body: serde_json::to_vec(&e.envelope(*seq)).unwrap_or_default(),
            })
            .collect();
        // The next batch is read while the broker acknowledges this one.
        let storage = Arc::clone(&self.storage);
        let (published, next) =
            tokio::join!(self.sink.publish(&outgoing), storage.outbox(last, BATCH));
        published?;
        let now = AppState::now_ms();
        if !self
            .storage
            .relay_advance(name, &self.holder, last, now, &self.sinks)
            .await?
        {
            tracing::warn!(
                sink = name,
                "another server process took over relaying; standing by"
            );
            self.held = None;
            return Ok(Round::Standby);
        }
        self.held = Some((last, until));
        // An empty read is not kept: events written since are read next round.
        self.ahead = next.ok().filter(|n| !n.is_empty()).map(|n| (last, n));
        self.metrics
            .relay_published(name)
            .inc_by(u64::try_from(outgoing.len()).unwrap_or(0));
        Ok(Round::Published(outgoing.len()))
    }
}

/// Seconds since an event's RFC 3339 `timestamp` (0 when unreadable).
fn lag_seconds(timestamp: &str, now_ms: i64) -> f64 {
    chrono::DateTime::parse_from_rfc3339(timestamp).map_or(0.0, |t| {
        #[allow(clippy::cast_precision_loss)]
        let ms = (now_ms - t.timestamp_millis()).max(0) as f64;
        ms / 1000.0
    })
}

/// Starts a relay task per configured sink (none when none is configured).
pub fn start(state: &AppState) {
    let config = &state.config.relay;
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(n) = &config.nats {
        sinks.push(Box::new(nats::JetStreamSink::new(n.clone())));
    }
    if let Some(a) = &config.amqp {
        sinks.push(Box::new(amqp::AmqpSink::new(a.clone())));
    }
    let names: Vec<String> = sinks.iter().map(|s| s.name().to_owned()).collect();
    let holder = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7());
    for sink in sinks {
        let relay = Relay::new(
            state.storage.clone(),
            sink,
            holder.clone(),
            names.clone(),
            state.metrics.clone(),
        );
        tokio::spawn(relay.run(state.shutdown.clone(), state.hub.subscribe()));
    }
}

#[cfg(test)]
mod tests {
    use super::{safe_address, topic_of};

    #[test]
    fn addresses_are_logged_without_credentials() {
        assert_eq!(
            safe_address("amqp://guest:secret@10.0.0.5:5672/%2f"),
            "amqp://10.0.0.5:5672"
        );
        assert_eq!(
            safe_address("nats://127.0.0.1:4222"),
            "nats://127.0.0.1:4222"
        );
        assert!(!safe_address("s3cr3t").contains("s3cr3t"));
    }

    #[test]
    fn event_types_become_safe_subjects() {
        assert_eq!(topic_of("invoice.issued"), "invoice.issued");
        assert_eq!(topic_of("a b.*.>"), "a_b._._");
        assert_eq!(topic_of("..x.."), "x");
        assert_eq!(topic_of(""), "unknown");
    }
}
