//! Prometheus metrics, served at `/metrics`: HTTP requests, pushes and pulls with their
//! latencies, accepted and rejected changes, live devices, the log head and how far behind
//! the head pulls ended, the outbox relay's backlog, lag and errors per sink, and the Redis
//! mirror's backlog, rows and errors. `/metrics` answers anyone, so no series is labelled with a
//! device, user or scope: everything is aggregated. One registry per server (no global state), so
//! tests can run several servers in one process.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Method.
    pub method: String,
    /// Matched route (`/v1/sync/push`).
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Matched route.
    pub route: String,
}

/// Labels of a change verdict.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `accepted`, `rejected`, `deferred`.
    pub outcome: String,
}

/// Labels of an outbox sink.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    /// `nats`, `amqp`.
    pub sink: String,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency by route.
    pub request_seconds: Family<RouteLabels, Histogram>,
    /// Push latency (count = pushes).
    pub push_seconds: Histogram,
    /// Pull latency (count = pulls).
    pub pull_seconds: Histogram,
    /// Changes judged, by outcome.
    pub changes: Family<OutcomeLabels, Counter>,
    /// Log entries served by pulls.
    pub pulled_entries: Counter,
    /// Devices holding a live socket.
    pub live_devices: Gauge,
    /// The newest log position.
    pub head: Gauge<u64, AtomicU64>,
    /// Positions between the head and where each pull ended (0 for a pull that caught up).
    pub pull_lag: Histogram,
    /// Photos stored (uploads completed).
    pub photos_stored: Counter,
    /// Outbox events not yet acknowledged, per sink.
    relay_backlog: Family<SinkLabels, Gauge>,
    /// Age of the oldest event not yet acknowledged, per sink.
    relay_lag: Family<SinkLabels, Gauge<f64, AtomicU64>>,
    /// Batches that failed, per sink.
    relay_errors: Family<SinkLabels, Counter>,
    /// Events acknowledged, per sink.
    relay_published: Family<SinkLabels, Counter>,
    /// Versions of reference rows written after the newest one the Redis mirror holds.
    pub mirror_backlog: Gauge,
    /// Reference rows written to Redis (rewrites of a refresh included).
    pub mirror_rows: Counter,
    /// Rounds of the Redis mirror that failed (each is tried again).
    pub mirror_errors: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

impl Metrics {
    /// A fresh registry with every metric registered.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lapak");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let request_seconds =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            request_seconds.clone(),
        );
        let push_seconds = latency();
        registry.register(
            "push_duration_seconds",
            "Push latency; its count is the number of pushes",
            push_seconds.clone(),
        );
        let pull_seconds = latency();
        registry.register(
            "pull_duration_seconds",
            "Pull latency; its count is the number of pulls",
            pull_seconds.clone(),
        );
        let changes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "changes",
            "Pushed changes judged, by outcome",
            changes.clone(),
        );
        let pulled_entries = Counter::default();
        registry.register(
            "pulled_entries",
            "Log entries sent by pulls",
            pulled_entries.clone(),
        );
        let live_devices = Gauge::default();
        registry.register(
            "live_devices",
            "Devices holding a live socket",
            live_devices.clone(),
        );
        let head = Gauge::<u64, AtomicU64>::default();
        registry.register("log_head_position", "The newest log position", head.clone());
        let pull_lag = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        registry.register(
            "pull_lag_positions",
            "How many positions behind the head a pull ended (0: caught up)",
            pull_lag.clone(),
        );
        let photos_stored = Counter::default();
        registry.register(
            "photos_stored",
            "Photos whose upload completed and that were stored",
            photos_stored.clone(),
        );
        let relay_backlog = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "relay_backlog_events",
            "Outbox events the sink has not acknowledged yet",
            relay_backlog.clone(),
        );
        let relay_lag = Family::<SinkLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "relay_lag_seconds",
            "Age of the oldest outbox event the sink has not acknowledged (0: caught up)",
            relay_lag.clone(),
        );
        let relay_errors = Family::<SinkLabels, Counter>::default();
        registry.register(
            "relay_publish_errors",
            "Batches of outbox events a sink did not acknowledge (each is sent again)",
            relay_errors.clone(),
        );
        let relay_published = Family::<SinkLabels, Counter>::default();
        registry.register(
            "relay_published_events",
            "Outbox events a sink acknowledged",
            relay_published.clone(),
        );
        let mirror_backlog = Gauge::default();
        registry.register(
            "mirror_backlog_versions",
            "Versions of reference rows written since the newest one Redis holds (0: caught up)",
            mirror_backlog.clone(),
        );
        let mirror_rows = Counter::default();
        registry.register(
            "mirror_rows_written",
            "Reference rows written to Redis",
            mirror_rows.clone(),
        );
        let mirror_errors = Counter::default();
        registry.register(
            "mirror_errors",
            "Rounds of the Redis mirror that failed (each is tried again)",
            mirror_errors.clone(),
        );
        Metrics {
            mirror_backlog,
            mirror_rows,
            mirror_errors,
            photos_stored,
            relay_backlog,
            relay_lag,
            relay_errors,
            relay_published,
            registry,
            requests,
            request_seconds,
            push_seconds,
            pull_seconds,
            changes,
            pulled_entries,
            live_devices,
            head,
            pull_lag,
        }
    }

    /// Counts verdicts.
    pub fn count_changes(&self, outcome: &str, n: u64) {
        if n > 0 {
            self.changes
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inc_by(n);
        }
    }

    /// Records how far behind the head a pull ended.
    pub fn observe_lag(&self, lag: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.pull_lag.observe(lag as f64);
    }

    /// A sink's backlog gauge.
    #[must_use]
    pub fn relay_backlog(&self, sink: &str) -> Gauge {
        self.relay_backlog.get_or_create(&sink_labels(sink)).clone()
    }

    /// A sink's lag gauge, seconds.
    #[must_use]
    pub fn relay_lag(&self, sink: &str) -> Gauge<f64, AtomicU64> {
        self.relay_lag.get_or_create(&sink_labels(sink)).clone()
    }

    /// A sink's failed-batch counter.
    #[must_use]
    pub fn relay_errors(&self, sink: &str) -> Counter {
        self.relay_errors.get_or_create(&sink_labels(sink)).clone()
    }

    /// A sink's acknowledged-event counter.
    #[must_use]
    pub fn relay_published(&self, sink: &str) -> Counter {
        self.relay_published
            .get_or_create(&sink_labels(sink))
            .clone()
    }

    /// The Prometheus text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

fn sink_labels(sink: &str) -> SinkLabels {
    SinkLabels {
        sink: sink.to_owned(),
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
