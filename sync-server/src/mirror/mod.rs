//! The master data mirrored into Redis (docs/operations.md, "Master data in Redis"): every
//! reference row, as other services read it, written through after its write commits.
//!
//! One task per server, holding the lease `redis-mirror` in the database (`storage::relay`):
//! with several replicas on one database exactly one writes, and another takes over when the
//! holder stops renewing. Each round reads the rows written after the mirror's position, in
//! the order of their versions ([`ReferenceFeed`](crate::storage::ReferenceFeed)), writes them
//! and raises the position. The position lives in Redis beside the rows ([`redis`]), so it
//! always describes what Redis holds: after Redis was down the mirror goes on from where Redis
//! stopped, after a crash of the server from where the server stopped, and a Redis that holds
//! no mirror (new, flushed, restored from before) is filled from the first version. A row is
//! written only when its version is newer than the one Redis holds, so nothing older ever
//! overwrites anything newer, whoever writes. With a TTL, every row is rewritten twice per TTL
//! ([`Mirror`]'s refresh) so that only a stopped server's rows expire. Failures back off and
//! open a circuit breaker (`crate::relay::breaker`); nothing else in the server waits on Redis.

pub mod redis;

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::redis::RedisTarget;
use crate::app::AppState;
use crate::metrics::Metrics;
use crate::relay::breaker::{Breaker, State};
use crate::storage::{ReferenceFeed, Storage};

/// Rows read and written per round.
pub const BATCH: u32 = 1_000;
/// The name of the mirror's lease among the relay's (`lapak_relay_sinks`).
pub const LEASE: &str = "redis-mirror";
/// How long a lease lasts without renewal, ms.
pub const LEASE_MS: i64 = 15_000;
/// How often an idle mirror looks for writes when no news of one woke it.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How often a replica that does not hold the lease checks whether it lapsed.
const STANDBY_POLL: Duration = Duration::from_secs(2);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A rewrite of every row, with `force` (a refresh or a resync): rows read and written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Rows read from the database.
    pub read: u64,
    /// Rows Redis took (the rest it held at a newer version).
    pub written: u64,
    /// The newest version read.
    pub upto: i64,
}

/// Writes the next batch of rows after `cursor` to `target`: with `force`, rows Redis holds at
/// the same version are written again. `None` when there was nothing after `cursor`.
///
/// # Errors
/// The database's or Redis's; Redis's position then stays where it was.
pub async fn write_batch(
    feed: &dyn ReferenceFeed,
    target: &mut RedisTarget,
    cursor: i64,
    force: bool,
) -> Result<Option<(Rewritten, i64)>, BoxError> {
    let batch = feed.reference_changes(cursor, BATCH).await?;
    if batch.upto == cursor {
        return Ok(None);
    }
    let written = target
        .write(&batch.changes, force, batch.upto, None)
        .await?;
    let read = u64::try_from(batch.changes.len()).unwrap_or(0);
    Ok(Some((
        Rewritten {
            read,
            written,
            upto: batch.upto,
        },
        batch.head,
    )))
}

/// Rewrites every reference row into `target` (`lapak-server redis-resync`): rows Redis holds
/// at the same version are written again, newer ones are left alone, and the position ends at
/// least at the newest version read. Safe beside a running server's mirror. `progress` hears
/// the rows read so far.
///
/// # Errors
/// The database's or Redis's; what was written stays, and a second run finishes the job.
pub async fn resync(
    feed: &dyn ReferenceFeed,
    target: &mut RedisTarget,
    mut progress: impl FnMut(&Rewritten),
) -> Result<Rewritten, BoxError> {
    let mut total = Rewritten::default();
    while let Some((step, _)) = write_batch(feed, target, total.upto, true).await? {
        total.read += step.read;
        total.written += step.written;
        total.upto = step.upto;
        progress(&total);
    }
    target
        .write(&[], true, total.upto, Some(AppState::now_ms()))
        .await?;
    Ok(total)
}

/// Where the rewrite of every row (with a TTL) stands.
#[derive(Clone, Copy, Debug)]
enum Refresh {
    /// No TTL: rows never expire.
    Never,
    /// The next rewrite begins at this instant.
    Due(Instant),
    /// Rewriting, after this version.
    Running(i64),
}

/// The mirror's task.
pub struct Mirror {
    storage: Arc<dyn Storage>,
    target: RedisTarget,
    /// This process's id in the lease.
    holder: String,
    metrics: Arc<Metrics>,
    /// Until when the lease is ours, while we hold it.
    lease_until: Option<i64>,
    lease_ms: i64,
    /// How often every row is rewritten (half the TTL).
    refresh_every: Option<Duration>,
    refresh: Refresh,
}

/// What one round did.
enum Round {
    /// Read this many rows (0: nothing waited).
    Wrote(u64),
    /// Another process holds the lease.
    Standby,
}

impl Mirror {
    /// A mirror into `target` for the process `holder`; `ttl` is the rows' TTL, if any.
    #[must_use]
    pub fn new(
        storage: Arc<dyn Storage>,
        target: RedisTarget,
        holder: String,
        ttl: Option<Duration>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let refresh_every = ttl.map(|t| t / 2);
        Mirror {
            storage,
            target,
            holder,
            metrics,
            lease_until: None,
            lease_ms: LEASE_MS,
            refresh_every,
            // Rows written by an earlier run may be close to expiring: rewrite them at start.
            refresh: refresh_every.map_or(Refresh::Never, |_| Refresh::Due(Instant::now())),
        }
    }

    /// The same mirror with leases of `ms` (tests of a takeover).
    #[must_use]
    pub fn with_lease(mut self, ms: i64) -> Self {
        self.lease_ms = ms.max(100);
        self
    }

    /// Mirrors until `shutdown` turns true, waking on news of writes; gives the lease up at
    /// the end.
    pub async fn run(
        mut self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        mut news: tokio::sync::broadcast::Receiver<Arc<crate::live::News>>,
    ) {
        let mut breaker = Breaker::default();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.round().await {
                Ok(Round::Wrote(n)) => {
                    breaker.success();
                    if n > 0 { Duration::ZERO } else { IDLE_POLL }
                }
                Ok(Round::Standby) => STANDBY_POLL,
                Err(e) => {
                    self.metrics.mirror_errors.inc();
                    self.target.reset();
                    let wait = breaker.failure(rand::random::<f64>());
                    tracing::warn!(error = %e, retry_in = ?wait, breaker = ?breaker.state(), "mirroring the master data into Redis failed");
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = news.recv(), if breaker.state() == State::Closed { failures: 0 } => {}
                _ = shutdown.changed() => {}
            }
            breaker.rested();
        }
        if self.lease_until.is_some() {
            let _ = self.storage.relay_release(LEASE, &self.holder).await;
        }
    }

    /// Holds the lease, then writes what was written since Redis's position and a step of the
    /// refresh when one is due.
    async fn round(&mut self) -> Result<Round, BoxError> {
        if !self.hold_lease().await? {
            return Ok(Round::Standby);
        }
        let caught_up = self.catch_up().await?;
        let refreshed = self.refresh_step().await?;
        Ok(Round::Wrote(caught_up + refreshed))
    }

    /// Takes or renews the lease when due; `false` when another process holds it.
    async fn hold_lease(&mut self) -> Result<bool, BoxError> {
        let now = AppState::now_ms();
        if self
            .lease_until
            .is_some_and(|until| until - now >= self.lease_ms * 2 / 3)
        {
            return Ok(true);
        }
        let held = self
            .storage
            .relay_lease(LEASE, &self.holder, now, now + self.lease_ms)
            .await?;
        if held.is_some() && self.lease_until.is_none() {
            tracing::info!(target = ?self.target, "mirroring the master data into Redis");
        }
        self.lease_until = held.map(|_| now + self.lease_ms);
        Ok(held.is_some())
    }

    /// Writes the next batch after Redis's position; rows read.
    async fn catch_up(&mut self) -> Result<u64, BoxError> {
        let position = self.target.position().await?;
        if position.is_none() {
            tracing::info!(target = ?self.target, "Redis holds no mirror (new, flushed or expired): writing every reference row");
        }
        let after = position.unwrap_or(0);
        let step = write_batch(
            self.storage.as_ref(),
            &mut self.target,
            after,
            position.is_none(),
        )
        .await?;
        let Some((step, head)) = step else {
            if position.is_none() {
                // No rows at all: mark the mirror as begun, so a flush is noticed later.
                self.target.write(&[], false, 0, None).await?;
            }
            self.metrics.mirror_backlog.set(0);
            return Ok(0);
        };
        self.metrics.mirror_rows.inc_by(step.written);
        self.metrics.mirror_backlog.set(head - step.upto);
        Ok(step.read)
    }

    /// With a TTL: the next batch of the rewrite of every row, when one is running or due.
    async fn refresh_step(&mut self) -> Result<u64, BoxError> {
        let cursor = match self.refresh {
            Refresh::Never => return Ok(0),
            Refresh::Due(at) if Instant::now() < at => return Ok(0),
            Refresh::Due(_) => 0,
            Refresh::Running(cursor) => cursor,
        };
        match write_batch(self.storage.as_ref(), &mut self.target, cursor, true).await? {
            Some((step, _)) => {
                self.metrics.mirror_rows.inc_by(step.written);
                self.refresh = Refresh::Running(step.upto);
                Ok(step.read)
            }
            None => {
                self.target
                    .write(&[], false, cursor, Some(AppState::now_ms()))
                    .await?;
                let every = self.refresh_every.unwrap_or(Duration::from_secs(3600));
                self.refresh = Refresh::Due(Instant::now() + every);
                Ok(0)
            }
        }
    }
}

/// Starts the mirror's task when a Redis is configured.
pub fn start(state: &AppState) {
    let Some(config) = state.config.redis.clone() else {
        return;
    };
    let holder = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7());
    let ttl = config.ttl;
    let mirror = Mirror::new(
        state.storage.clone(),
        RedisTarget::new(config),
        holder,
        ttl,
        state.metrics.clone(),
    );
    tokio::spawn(mirror.run(state.shutdown.clone(), state.hub.subscribe()));
}
