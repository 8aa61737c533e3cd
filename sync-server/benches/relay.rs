//! `cargo bench -p lapak-server --bench relay`: the outbox relay's throughput to each broker,
//! beside a raw publish loop to the same broker in the same run (the target: at least
//! 0.7 of it). 50,000 outbox events (`territories.updated`, written as reference writes of
//! 1,000 rows) on the embedded SQLite; then, per broker, three rounds of
//! - raw: the same envelopes published back to back in batches of 1,000, each batch's
//!   acknowledgements awaited in order (what a relay that reads and records nothing could do);
//! - relay: a fresh relay position (`lapak_relay_sinks` emptied), the relay task run until the
//!   sink's position reaches the outbox's head.
//!
//! NATS: a private `nats-server -js` on a free port (`LAPAK_NATS_SERVER`, else the one on the
//! PATH or in /usr/sbin), a fresh stream per round. RabbitMQ: `LAPAK_TEST_AMQP_URL` or the local
//! guest account, a fresh exchange per round with one queue bound (so messages are stored).
//! Set `LAPAK_BENCH_QUICK=1` for 5,000 events and one round.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lapak_server::config::{AmqpSinkConfig, NatsSinkConfig, Secret};
use lapak_server::metrics::Metrics;
use lapak_server::relay::amqp::AmqpSink;
use lapak_server::relay::nats::JetStreamSink;
use lapak_server::relay::{BATCH, Outgoing, Relay, Sink};
use lapak_server::storage::WriteContext;
use lapak_server::{SqlStorage, Storage};

fn quick() -> bool {
    std::env::var_os("LAPAK_BENCH_QUICK").is_some()
}

fn ctx() -> WriteContext {
    WriteContext {
        now_ms: chrono::Utc::now().timestamp_millis(),
        trace_id: "bench".into(),
    }
}

async fn seed(storage: &SqlStorage, n: usize) {
    let schema = lapak_core::catalog::business();
    let c = schema.collection("territories").unwrap();
    let ids: Vec<String> = (0..n).map(|i| format!("T-{i:06}")).collect();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                let json = serde_json::json!({"name": id, "branch": "JKT-01"});
                (
                    id.clone(),
                    Some(c.record_from_json(json.as_object().unwrap()).unwrap()),
                )
            })
            .collect();
        storage
            .put_reference(&ctx(), "territories", &rows)
            .await
            .unwrap();
    }
}

async fn outgoing(storage: &SqlStorage) -> Vec<Outgoing> {
    storage
        .outbox(0, 10_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(seq, e)| Outgoing {
            seq,
            event_id: e.event_id.to_string(),
            event_type: e.event_type.clone(),
            body: serde_json::to_vec(&e.envelope(seq)).unwrap(),
        })
        .collect()
}

/// Raw: the sink's own publish, batch after batch, nothing read or recorded.
async fn raw(mut sink: Box<dyn Sink>, events: &[Outgoing]) -> Duration {
    let started = Instant::now();
    for batch in events.chunks(BATCH as usize) {
        sink.publish(batch).await.unwrap();
    }
    started.elapsed()
}

/// The relay task from position 0 until it reached the head.
async fn relayed(storage: &Arc<SqlStorage>, url: &str, sink: Box<dyn Sink>, head: i64) -> Duration {
    use sqlx::Connection as _;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::raw_sql("DELETE FROM lapak_relay_sinks")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let name = sink.name();
    let dynamic: Arc<dyn Storage> = storage.clone();
    let relay = Relay::new(
        dynamic,
        sink,
        "bench".into(),
        vec![name.to_owned()],
        Arc::new(Metrics::new()),
    );
    let (stop, rx) = tokio::sync::watch::channel(false);
    let hub = lapak_server::live::Hub::new();
    let started = Instant::now();
    let task = tokio::spawn(relay.run(rx, hub.subscribe()));
    loop {
        let upto = storage
            .query_text(&format!(
                "SELECT CAST(upto_seq AS TEXT) FROM lapak_relay_sinks WHERE sink = '{name}'"
            ))
            .await
            .unwrap();
        if upto.first().and_then(|r| r[0].as_deref()) == Some(head.to_string().as_str()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    let _ = stop.send(true);
    task.await.unwrap();
    took
}

fn nats_binary() -> String {
    std::env::var("LAPAK_NATS_SERVER").unwrap_or_else(|_| {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nats-server")
            .to_owned()
    })
}

fn amqp_url() -> String {
    std::env::var("LAPAK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A queue bound to every key of `exchange`, so RabbitMQ stores what is published.
async fn bind_queue(exchange: &str) -> lapin::Connection {
    use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;
    let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        exchange.into(),
        lapin::ExchangeKind::Topic,
        durable,
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
    conn
}

fn rate(n: usize, d: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    n / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n = if quick() { 5_000 } else { 50_000 };
    let rounds = if quick() { 1 } else { 3 };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("relay.sqlite3").display());
    let storage = Arc::new(
        SqlStorage::open(
            &url,
            lapak_core::catalog::business(),
            lapak_server::rules::business(),
        )
        .await
        .unwrap(),
    );
    seed(&storage, n).await;
    let events = outgoing(&storage).await;
    let head = events.last().unwrap().seq;
    println!("-- {} outbox events on SQLite", events.len());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = tempfile::tempdir().unwrap();
    let mut nats = std::process::Command::new(nats_binary())
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("| broker | round | raw publish, events/s | relay, events/s | relay / raw |");
    for round in 1..=rounds {
        // Each stream on subjects of its own, so neither drops the other's messages by id.
        let nats_sink = |name: &str| {
            Box::new(JetStreamSink::new(NatsSinkConfig {
                url: Secret(format!("nats://127.0.0.1:{port}")),
                stream: format!("{}{round}", name.to_uppercase()),
                subject_prefix: format!("{name}{round}"),
            }))
        };
        let raw_time = raw(nats_sink("raw"), &events).await;
        let relay_time = relayed(&storage, &url, nats_sink("relay"), head).await;
        print_row("NATS JetStream", round, events.len(), raw_time, relay_time);
        let amqp_sink = |exchange: &str| {
            Box::new(AmqpSink::new(AmqpSinkConfig {
                url: Secret(amqp_url()),
                exchange: exchange.to_owned(),
            }))
        };
        let ex = format!("lapak.bench.{}", uuid::Uuid::now_v7());
        let _raw_queue = bind_queue(&ex).await;
        let raw_time = raw(amqp_sink(&ex), &events).await;
        let ex = format!("lapak.bench.{}", uuid::Uuid::now_v7());
        let _relay_queue = bind_queue(&ex).await;
        let relay_time = relayed(&storage, &url, amqp_sink(&ex), head).await;
        print_row("RabbitMQ", round, events.len(), raw_time, relay_time);
    }
    let _ = nats.kill();
    let _ = nats.wait();
}

fn print_row(broker: &str, round: usize, n: usize, raw: Duration, relay: Duration) {
    let (r, l) = (rate(n, raw), rate(n, relay));
    println!(
        "| {broker} | {round} | {r:.0} | {l:.0} | {:.2}{} |",
        l / r,
        if l / r >= 0.7 { "" } else { " **under 0.7**" }
    );
}
