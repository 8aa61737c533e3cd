//! The master data mirrored into a real Redis (a private `redis-server` per test, on a free
//! port), on both backends. After every step Redis must hold exactly the reference tables: each
//! row's JSON, its version, the ids of each collection and its version, and the mirror's
//! position at the newest version.
//! - Writes, updates and deletions reach Redis while the mirror runs.
//! - A mirror that dies without a word (a crashed server) leaves the writes after it to the
//!   next one, which takes the lease over and catches up from Redis's position.
//! - Redis killed while writes go on, then started again on its own data: the mirror goes on
//!   from where Redis stood. Redis flushed: it is filled again from the first version.
//! - `resync` repairs a value changed by hand; the write script never lets an older version
//!   overwrite a newer one, nor bring a deleted row back.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::{Harness, free_port, reference, small_demo, until};
use lapak_core::{Record, Value};
use lapak_server::config::{RedisConfig, Secret};
use lapak_server::metrics::Metrics;
use lapak_server::mirror::redis::{RedisTarget, row_json};
use lapak_server::mirror::{Mirror, resync};
use lapak_server::storage::{ReferenceChange, ReferenceFeed as _, Storage};

on_both_backends!(business_sqlite, business_postgres;
    redis_follows_writes_and_a_crashed_mirror_is_caught_up,
    redis_down_then_back_or_flushed_ends_equal_to_the_tables,
);

/// A private Redis; with `keep` its data survive a restart (append-only file in `dir`).
struct Redis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl Redis {
    fn binary() -> String {
        std::env::var("LAPAK_REDIS_SERVER").unwrap_or_else(|_| {
            ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
                .into_iter()
                .find(|p| std::path::Path::new(p).exists())
                .unwrap_or("redis-server")
                .to_owned()
        })
    }

    async fn start() -> Redis {
        let mut r = Redis {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        r.run().await;
        r
    }

    /// Starts (again) on the same port and data directory.
    async fn run(&mut self) {
        let child = std::process::Command::new(Self::binary())
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test.sh installs it)");
        self.child = Some(child);
        for _ in 0..200 {
            if let Ok(mut c) = self.connect().await {
                let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn connect(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    fn config(&self, prefix: &str) -> RedisConfig {
        RedisConfig {
            url: Secret(self.url()),
            prefix: prefix.into(),
            ttl: None,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs a mirror of `h` into `redis` for `holder` until the returned sender says stop.
fn spawn_mirror(
    h: &Harness,
    config: RedisConfig,
    holder: &str,
    lease_ms: i64,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
    Arc<Metrics>,
) {
    let metrics = Arc::new(Metrics::new());
    let storage: Arc<dyn Storage> = h.storage.clone();
    let ttl = config.ttl;
    let mirror = Mirror::new(
        storage,
        RedisTarget::new(config),
        holder.into(),
        ttl,
        metrics.clone(),
    )
    .with_lease(lease_ms);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let hub = lapak_server::live::Hub::new();
    let task = tokio::spawn(mirror.run(rx, hub.subscribe()));
    (tx, task, metrics)
}

/// `n` territories from `first`, named with `tag`.
async fn territories(h: &Harness, first: usize, n: usize, tag: &str) {
    let ids: Vec<String> = (first..first + n).map(|i| format!("T-{i:05}")).collect();
    for chunk in ids.chunks(500) {
        let rows: Vec<(&str, serde_json::Value)> = chunk
            .iter()
            .map(|id| {
                (
                    id.as_str(),
                    serde_json::json!({"name": format!("{id} {tag}"), "branch": "JKT-01"}),
                )
            })
            .collect();
        reference(h.storage.as_ref(), "territories", &rows).await;
    }
}

async fn delete(h: &Harness, collection: &str, ids: &[String]) {
    let rows: Vec<(String, Option<Record>)> = ids.iter().map(|id| (id.clone(), None)).collect();
    h.storage
        .put_reference(&common::ctx(), collection, &rows)
        .await
        .unwrap();
}

/// What Redis should hold: every row's JSON (or `None`) and version, per collection.
async fn expected(h: &Harness) -> (Vec<ReferenceChange>, i64) {
    let batch = h.storage.reference_changes(0, u32::MAX).await.unwrap();
    (batch.changes, batch.head)
}

/// Where Redis stands: (position, what differs from the tables, described; empty when equal).
async fn differences(h: &Harness, redis: &Redis, prefix: &str) -> (Option<i64>, Vec<String>) {
    let Ok(mut c) = redis.connect().await else {
        return (None, vec!["Redis is not reachable".into()]);
    };
    let (rows, head) = expected(h).await;
    let position: Option<i64> = redis::cmd("HGET")
        .arg(format!("{prefix}:mirror"))
        .arg("position")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut out = Vec::new();
    if position != Some(head) {
        out.push(format!("position {position:?}, head {head}"));
    }
    let mut pipe = redis::pipe();
    for r in &rows {
        pipe.cmd("GET")
            .arg(format!("{prefix}:row:{}:{}", r.collection, r.id));
        pipe.cmd("HGET")
            .arg(format!("{prefix}:versions:{}", r.collection))
            .arg(&r.id);
    }
    let got: Vec<Option<String>> = pipe.query_async(&mut c).await.unwrap();
    let mut live: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for (r, pair) in rows.iter().zip(got.chunks(2)) {
        let want = r.record.as_ref().map(|rec| row_json(&r.id, r.version, rec));
        let json = |s: &Option<String>| {
            s.as_deref()
                .map(|t| serde_json::from_str::<serde_json::Value>(t).unwrap())
        };
        if json(&pair[0]) != json(&want) {
            out.push(format!(
                "{}:{} is {:?}, not {want:?}",
                r.collection, r.id, pair[0]
            ));
        }
        if pair[1] != Some(r.version.to_string()) {
            out.push(format!(
                "{}:{} at version {:?}, not {}",
                r.collection, r.id, pair[1], r.version
            ));
        }
        let ids = live.entry(&r.collection).or_default();
        if r.record.is_some() {
            ids.insert(r.id.clone());
        }
        let n = newest.entry(&r.collection).or_default();
        *n = (*n).max(r.version);
    }
    for (collection, ids) in &live {
        let held: BTreeSet<String> = redis::cmd("SMEMBERS")
            .arg(format!("{prefix}:ids:{collection}"))
            .query_async(&mut c)
            .await
            .unwrap();
        if &held != ids {
            out.push(format!(
                "{collection}: {} ids held, {} rows",
                held.len(),
                ids.len()
            ));
        }
        let version: Option<i64> = redis::cmd("GET")
            .arg(format!("{prefix}:version:{collection}"))
            .query_async(&mut c)
            .await
            .unwrap();
        if version != newest.get(collection).copied() {
            out.push(format!(
                "{collection} at version {version:?}, not {:?}",
                newest.get(collection)
            ));
        }
    }
    (position, out)
}

async fn mirrored(h: &Harness, redis: &Redis, prefix: &str, what: &str) {
    until(60, what, async || {
        differences(h, redis, prefix).await.1.is_empty()
    })
    .await;
}

async fn redis_follows_writes_and_a_crashed_mirror_is_caught_up(h: Harness) {
    small_demo(&h.storage).await;
    let redis = Redis::start().await;
    let prefix = "shop";
    let (_stop, first, metrics) = spawn_mirror(&h, redis.config(prefix), "replica-a", 600);
    mirrored(&h, &redis, prefix, "the demo's master data in Redis").await;
    assert!(
        metrics.mirror_rows.get() > 100,
        "the demo's rows were written"
    );

    territories(&h, 0, 50, "first").await;
    territories(&h, 0, 20, "renamed").await;
    let gone: Vec<String> = (40..50).map(|i| format!("T-{i:05}")).collect();
    delete(&h, "territories", &gone).await;
    mirrored(&h, &redis, prefix, "writes, updates and deletions in Redis").await;
    // As other services read it: the row's JSON, its id set, no deleted row.
    let mut c = redis.connect().await.unwrap();
    let row: serde_json::Value =
        serde_json::from_str(&get(&mut c, "shop:row:territories:T-00005").await.unwrap()).unwrap();
    assert_eq!(
        (&row["id"], &row["name"], &row["branch"]),
        (
            &serde_json::json!("T-00005"),
            &serde_json::json!("T-00005 renamed"),
            &serde_json::json!("JKT-01")
        )
    );
    assert!(row["_version"].as_i64().unwrap() > 0);
    assert_eq!(get(&mut c, "shop:row:territories:T-00045").await, None);

    // The server dies: its mirror stops without giving the lease up.
    first.abort();
    let _ = first.await;
    territories(&h, 100, 30, "while nobody mirrored").await;
    delete(&h, "territories", &["T-00000".to_owned()]).await;
    let (_stop_b, _second, _) = spawn_mirror(&h, redis.config(prefix), "replica-b", 600);
    mirrored(
        &h,
        &redis,
        prefix,
        "the next mirror caught up from Redis's position",
    )
    .await;
}

async fn redis_down_then_back_or_flushed_ends_equal_to_the_tables(h: Harness) {
    small_demo(&h.storage).await;
    let mut redis = Redis::start().await;
    let prefix = "lapak";
    let (stop, task, metrics) = spawn_mirror(&h, redis.config(prefix), "replica-a", 15_000);
    mirrored(&h, &redis, prefix, "the demo's master data in Redis").await;

    redis.kill();
    territories(&h, 0, 1_500, "while Redis was down").await;
    until(30, "the mirror noticed Redis was down", async || {
        metrics.mirror_errors.get() > 0
    })
    .await;
    redis.run().await;
    let (before, _) = differences(&h, &redis, prefix).await;
    assert!(
        before.is_some(),
        "Redis came back with its data and its position"
    );
    mirrored(&h, &redis, prefix, "caught up after Redis came back").await;

    let mut c = redis.connect().await.unwrap();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut c).await.unwrap();
    territories(&h, 2_000, 10, "after the flush").await;
    mirrored(&h, &redis, prefix, "filled again after a flush").await;
    let _ = stop.send(true);
    task.await.unwrap();
}

/// One change of a row `id` of `territories`.
fn change(id: &str, version: i64, name: Option<&str>) -> ReferenceChange {
    ReferenceChange {
        collection: "territories".into(),
        id: id.into(),
        version,
        record: name.map(|n| {
            let mut r = Record::new();
            r.insert("name".into(), Value::Text(n.into()));
            r
        }),
    }
}

async fn get(c: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query_async(c).await.unwrap()
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    let redis = Redis::start().await;
    let mut target = RedisTarget::new(redis.config("t"));
    let mut c = redis.connect().await.unwrap();
    let key = target.row_key("territories", "T-1");
    target
        .write(&[change("T-1", 10, Some("ten"))], false, 10, None)
        .await
        .unwrap();
    let written = target
        .write(&[change("T-1", 5, Some("five"))], false, 10, None)
        .await
        .unwrap();
    assert_eq!(written, 0);
    assert!(get(&mut c, &key).await.unwrap().contains("ten"));
    // A deletion at 12; then the write of version 11 arrives late: the row stays deleted.
    target
        .write(&[change("T-1", 12, None)], false, 12, None)
        .await
        .unwrap();
    target
        .write(&[change("T-1", 11, Some("eleven"))], true, 12, None)
        .await
        .unwrap();
    assert_eq!(get(&mut c, &key).await, None);
    let ids: Vec<String> = redis::cmd("SMEMBERS")
        .arg("t:ids:territories")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(ids.is_empty());
    // The position never goes back.
    target.write(&[], false, 3, None).await.unwrap();
    assert_eq!(target.position().await.unwrap(), Some(12));
}

async fn resync_repairs_a_value_changed_by_hand(h: Harness) {
    small_demo(&h.storage).await;
    let redis = Redis::start().await;
    let mut target = RedisTarget::new(redis.config("r"));
    resync(h.storage.as_ref(), &mut target, |_| {})
        .await
        .unwrap();
    assert!(differences(&h, &redis, "r").await.1.is_empty());
    let (rows, _) = expected(&h).await;
    let row = rows.iter().find(|r| r.record.is_some()).unwrap();
    let key = target.row_key(&row.collection, &row.id);
    let mut c = redis.connect().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("{\"tampered\":true}")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(!differences(&h, &redis, "r").await.1.is_empty());
    let done = resync(h.storage.as_ref(), &mut target, |_| {})
        .await
        .unwrap();
    assert_eq!(done.read, u64::try_from(rows.len()).unwrap());
    assert!(differences(&h, &redis, "r").await.1.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_repairs_a_value_changed_by_hand_on_sqlite() {
    resync_repairs_a_value_changed_by_hand(common::business_sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_expire_only_with_a_ttl() {
    let h = common::business_sqlite().await;
    territories(&h, 0, 5, "ttl").await;
    let redis = Redis::start().await;
    let mut config = redis.config("ttl");
    config.ttl = Some(Duration::from_secs(120));
    let (_stop, _task, _) = spawn_mirror(&h, config, "replica-a", 15_000);
    mirrored(&h, &redis, "ttl", "rows with a TTL").await;
    let mut c = redis.connect().await.unwrap();
    for key in [
        "ttl:row:territories:T-00000",
        "ttl:ids:territories",
        "ttl:mirror",
    ] {
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap();
        assert!((1..=120).contains(&ttl), "{key} expires in {ttl} s");
    }
}
