//! The outbox relay against real brokers, on both backends:
//! - NATS JetStream (a private `nats-server` per test, on a free port, its store in a
//!   temporary directory): the broker is killed in the middle of a batch and started again;
//!   every event arrives, once (JetStream drops the resent ones by their event id), in the
//!   outbox's order, and every event ends up marked published.
//! - RabbitMQ (the machine's broker, `LAPAK_TEST_AMQP_URL`, default the local guest account;
//!   a fresh exchange per test): two replicas relay the same outbox and every event is
//!   delivered exactly once (RabbitMQ keeps duplicates, so a doubling relay would show); when
//!   the leaseholder dies without a word, the other takes over and the events written after
//!   arrive too.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

use async_trait::async_trait;
use common::{Harness, free_port, reference, until};
use futures_util::StreamExt as _;
use lapak_server::config::{AmqpSinkConfig, NatsSinkConfig, Secret};
use lapak_server::metrics::Metrics;
use lapak_server::relay::amqp::AmqpSink;
use lapak_server::relay::nats::JetStreamSink;
use lapak_server::relay::{Outgoing, Relay, Sink, SinkError};
use lapak_server::storage::Storage;

on_both_backends!(business_sqlite, business_postgres;
    jetstream_gets_every_event_once_across_a_broker_restart,
    two_replicas_relay_to_rabbitmq_once_and_one_takes_over,
);

/// Writes `n` territories (one `territories.updated` event each), 500 per transaction.
async fn events(h: &Harness, first: usize, n: usize) {
    let ids: Vec<String> = (first..first + n).map(|i| format!("T-{i:06}")).collect();
    for chunk in ids.chunks(500) {
        let rows: Vec<(&str, serde_json::Value)> = chunk
            .iter()
            .map(|id| {
                (
                    id.as_str(),
                    serde_json::json!({"name": id, "branch": "JKT-01"}),
                )
            })
            .collect();
        reference(h.storage.as_ref(), "territories", &rows).await;
    }
}

/// Every outbox event id, in outbox order.
async fn outbox_ids(h: &Harness) -> Vec<String> {
    h.storage
        .outbox(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.event_id.to_string())
        .collect()
}

async fn count(h: &Harness, sql: &str) -> i64 {
    common::count(&h.storage, sql).await
}

/// A private NATS server with JetStream.
struct Nats {
    port: u16,
    store: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl Nats {
    fn binary() -> String {
        std::env::var("LAPAK_NATS_SERVER").unwrap_or_else(|_| {
            [
                "/usr/sbin/nats-server",
                "/usr/bin/nats-server",
                "/usr/local/bin/nats-server",
            ]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nats-server")
            .to_owned()
        })
    }

    async fn start() -> Nats {
        let mut n = Nats {
            port: free_port(),
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        n.run().await;
        n
    }

    /// Starts (again) on the same port and store.
    async fn run(&mut self) {
        let child = std::process::Command::new(Self::binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server runs (scripts/test.sh installs it)");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A sink that kills the broker in the middle of its second batch: half the batch is sent,
/// the broker dies, the rest fails.
struct KillsMidBatch {
    inner: JetStreamSink,
    nats: Arc<AsyncMutex<Nats>>,
    batches: usize,
}

#[async_trait]
impl Sink for KillsMidBatch {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn publish(&mut self, events: &[Outgoing]) -> Result<(), SinkError> {
        self.batches += 1;
        if self.batches != 2 || events.len() < 2 {
            return self.inner.publish(events).await;
        }
        let (first, rest) = events.split_at(events.len() / 2);
        self.inner.publish(first).await?;
        self.nats.lock().await.kill();
        self.inner.publish(rest).await
    }
}

fn relay(h: &Harness, sink: Box<dyn Sink>, holder: &str, sinks: &[&str]) -> (Relay, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let storage: Arc<dyn Storage> = h.storage.clone();
    let r = Relay::new(
        storage,
        sink,
        holder.to_owned(),
        sinks.iter().map(|s| (*s).to_owned()).collect(),
        metrics.clone(),
    );
    (r, metrics)
}

/// Runs `relay` until the returned sender is dropped or sent `true`.
fn spawn(
    relay: Relay,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let hub = lapak_server::live::Hub::new();
    let task = tokio::spawn(relay.run(rx, hub.subscribe()));
    (tx, task)
}

/// The stream's messages, in stream order: (Nats-Msg-Id, the envelope's event id).
async fn stream_messages(url: &str, stream: &str) -> Vec<(String, String)> {
    use async_nats::jetstream::consumer::{AckPolicy, pull};
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(stream).await.unwrap();
    let n = s.info().await.unwrap().state.messages;
    let consumer = s
        .create_consumer(pull::Config {
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let m = messages.next().await.unwrap().unwrap();
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        out.push((id, body["event_id"].as_str().unwrap().to_owned()));
    }
    out
}

async fn jetstream_gets_every_event_once_across_a_broker_restart(h: Harness) {
    events(&h, 0, 3_000).await;
    let nats = Arc::new(AsyncMutex::new(Nats::start().await));
    let url = nats.lock().await.url();
    let config = NatsSinkConfig {
        url: Secret(url.clone()),
        stream: "LAPAKTEST".into(),
        subject_prefix: "lapak".into(),
    };
    let sink = KillsMidBatch {
        inner: JetStreamSink::new(config),
        nats: nats.clone(),
        batches: 0,
    };
    let (r, metrics) = relay(&h, Box::new(sink), "replica-a", &["nats"]);
    let (stop, task) = spawn(r);
    // The second batch killed the broker halfway: the relay stands at the first batch's end.
    until(20, "the broker was killed", async || {
        nats.lock().await.child.is_none()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stood = count(
        &h,
        "SELECT CAST(upto_seq AS TEXT) FROM lapak_relay_sinks WHERE sink = 'nats'",
    )
    .await;
    assert_eq!(stood, 1_000, "only the first batch was acknowledged");
    // More events while the broker is down; then it comes back on the same store.
    events(&h, 3_000, 500).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.lock().await.run().await;
    let want = outbox_ids(&h).await;
    let total = i64::try_from(want.len()).unwrap();
    until(60, "every event relayed", async || {
        count(
            &h,
            "SELECT CAST(upto_seq AS TEXT) FROM lapak_relay_sinks WHERE sink = 'nats'",
        )
        .await
            == count(&h, "SELECT CAST(MAX(seq) AS TEXT) FROM lapak_outbox").await
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();

    let got = stream_messages(&url, "LAPAKTEST").await;
    let ids: Vec<String> = got.iter().map(|(id, _)| id.clone()).collect();
    same_sequence(&ids, &want, "the stream");
    assert!(
        got.iter().all(|(id, body)| id == body),
        "the message id is the event id"
    );
    assert_eq!(
        count(
            &h,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE published_at IS NULL"
        )
        .await,
        0
    );
    let _ = metrics;
    assert!(total > 3_000);
}

/// `got` is `want`: every event, once each, in order; says where it is not (the lists are long).
fn same_sequence(got: &[String], want: &[String], what: &str) {
    let unique: HashSet<&String> = got.iter().collect();
    let missing = want.iter().filter(|w| !unique.contains(w)).count();
    let first_difference = got.iter().zip(want).position(|(g, w)| g != w);
    assert!(
        got == want,
        "{what}: {} messages for {} events, {} distinct, {missing} missing, first difference at {first_difference:?} of {}",
        got.len(),
        want.len(),
        unique.len(),
        want.iter()
            .position(|w| Some(w) == first_difference.map(|i| &got[i]))
            .map_or(String::from("-"), |i| i.to_string()),
    );
}

fn amqp_url() -> String {
    std::env::var("LAPAK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A queue bound to every routing key of `exchange`, and a task collecting the message ids it
/// receives.
async fn listen(exchange: &str) -> (Arc<Mutex<Vec<String>>>, lapin::Connection) {
    use lapin::options::{
        BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    };
    use lapin::types::FieldTable;
    let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
        .await
        .expect("RabbitMQ runs (scripts/test.sh starts it)");
    let ch = conn.create_channel().await.unwrap();
    ch.exchange_declare(
        exchange.into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    let q = ch
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    ch.queue_bind(
        q.name().clone(),
        exchange.into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let mut consumer = ch
        .basic_consume(
            q.name().clone(),
            "relay-test".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(d)) = consumer.next().await {
            let id = d
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            into.lock().unwrap().push(id);
        }
    });
    (seen, conn)
}

async fn two_replicas_relay_to_rabbitmq_once_and_one_takes_over(h: Harness) {
    let exchange = format!("lapak.test.{}", uuid::Uuid::now_v7());
    let (seen, _conn) = listen(&exchange).await;
    events(&h, 0, 2_500).await;
    let sink = || {
        Box::new(AmqpSink::new(AmqpSinkConfig {
            url: Secret(amqp_url()),
            exchange: exchange.clone(),
        }))
    };
    let (a, metrics_a) = relay(&h, sink(), "replica-a", &["amqp"]);
    let (b, metrics_b) = relay(&h, sink(), "replica-b", &["amqp"]);
    let (stop_a, task_a) = spawn(a.with_lease(1_500));
    let (stop_b, task_b) = spawn(b.with_lease(1_500));
    let want = outbox_ids(&h).await;
    until(60, "every event delivered", async || {
        seen.lock().unwrap().len() >= want.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    same_sequence(&seen.lock().unwrap(), &want, "the queue");
    let published = |m: &Metrics| {
        m.render()
            .lines()
            .find(|l| l.starts_with("lapak_relay_published_events_total"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (pa, pb) = (published(&metrics_a), published(&metrics_b));
    assert_eq!(pa + pb, 2_500, "one replica relayed: {pa} + {pb}");
    // The leaseholder dies without giving the lease up; the other takes over.
    let (dead, dead_stop, alive_stop, alive_task) = if pa > 0 {
        (task_a, stop_a, stop_b, task_b)
    } else {
        (task_b, stop_b, stop_a, task_a)
    };
    dead.abort();
    drop(dead_stop);
    events(&h, 2_500, 300).await;
    let want = outbox_ids(&h).await;
    until(
        30,
        "the other replica relays after the lease lapsed",
        async || seen.lock().unwrap().len() >= want.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = seen.lock().unwrap().clone();
    same_sequence(&got, &want, "the queue after the takeover");
    let _ = alive_stop.send(true);
    alive_task.await.unwrap();
}
