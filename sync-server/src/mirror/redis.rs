//! The Redis side of the mirror: the key layout (docs/operations.md, "Master data in Redis"),
//! the script that writes one row only when its version is newer than the one Redis holds, and
//! the mirror's position, which lives in Redis beside the rows it describes.
//!
//! Keys, for a prefix `P` (default `lapak`):
//! - `P:row:<collection>:<id>`: the row as a JSON object (`id`, `_version`, its fields); absent
//!   when the row is deleted.
//! - `P:versions:<collection>`: a hash of every row id to the version of its newest write,
//!   deletions included, so that an older write never brings a deleted row back.
//! - `P:ids:<collection>`: the set of the ids of the rows that exist.
//! - `P:version:<collection>`: the newest version written to the collection; a reader that
//!   caches anything built from a collection rebuilds it when this moves.
//! - `P:mirror`: a hash: `position` (every reference write up to this version is in Redis),
//!   `refreshed_at` (ms, when every row was last rewritten). A Redis without it (new, flushed,
//!   or restored from before the mirror began) is filled again from the first version.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::RedisConfig;
use crate::relay::safe_address;
use crate::storage::ReferenceChange;

/// Writes one row unless Redis holds a newer version of it (or the same one, unless `force`).
/// KEYS: row, versions, ids, collection version. ARGV: id, version, JSON (empty: deleted), TTL
/// seconds (0: none), force (`1`). Returns 1 when it wrote, 0 when it left the row alone.
const WRITE_ROW: &str = r"
local v = tonumber(ARGV[2])
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held > v or (held == v and ARGV[5] ~= '1') then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[4])
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], ARGV[1])
else
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl) else redis.call('SET', KEYS[1], ARGV[3]) end
  redis.call('SADD', KEYS[3], ARGV[1])
end
if v > tonumber(redis.call('GET', KEYS[4]) or '0') then redis.call('SET', KEYS[4], ARGV[2]) end
if ttl > 0 then
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
  redis.call('EXPIRE', KEYS[4], ttl)
end
return 1
";

/// Raises the mirror's position (never lowers it). KEYS: the mirror hash. ARGV: position,
/// TTL seconds (0: none), `refreshed_at` ms (empty: not a refresh).
const RAISE_POSITION: &str = r"
local held = tonumber(redis.call('HGET', KEYS[1], 'position') or '-1')
if tonumber(ARGV[1]) > held then redis.call('HSET', KEYS[1], 'position', ARGV[1]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'refreshed_at', ARGV[3]) end
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
";

/// How long one command may take before the connection counts as broken.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the mirror could not use Redis.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// Redis could not be reached, or failed a command.
    #[error(
        "cannot use Redis at {address}: {detail}; check that it runs and LAPAK_REDIS_URL is right (the mirror retries)"
    )]
    Unavailable {
        /// Where (no credentials).
        address: String,
        /// What failed.
        detail: String,
    },
    /// Redis holds something under the mirror's keys that the mirror did not write.
    #[error(
        "Redis at {address} holds `{key}` that is not the mirror's: choose another LAPAK_REDIS_PREFIX or remove the key"
    )]
    Foreign {
        /// Where (no credentials).
        address: String,
        /// The key.
        key: String,
    },
}

/// The mirror's connection to Redis and its keys.
pub struct RedisTarget {
    config: RedisConfig,
    address: String,
    connection: Option<ConnectionManager>,
    write_row: redis::Script,
    raise_position: redis::Script,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget")
            .field("address", &self.address)
            .field("prefix", &self.config.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisTarget {
    /// A target for `config`; it connects when first used.
    #[must_use]
    pub fn new(config: RedisConfig) -> Self {
        RedisTarget {
            address: safe_address(&config.url.0),
            config,
            connection: None,
            write_row: redis::Script::new(WRITE_ROW),
            raise_position: redis::Script::new(RAISE_POSITION),
        }
    }

    /// The key of one row.
    #[must_use]
    pub fn row_key(&self, collection: &str, id: &str) -> String {
        format!("{}:row:{collection}:{id}", self.config.prefix)
    }

    fn key(&self, kind: &str, collection: &str) -> String {
        format!("{}:{kind}:{collection}", self.config.prefix)
    }

    fn mirror_key(&self) -> String {
        format!("{}:mirror", self.config.prefix)
    }

    fn ttl_seconds(&self) -> u64 {
        self.config.ttl.map_or(0, |t| t.as_secs())
    }

    fn unavailable(&self, e: &redis::RedisError) -> RedisError {
        RedisError::Unavailable {
            address: self.address.clone(),
            detail: e.to_string(),
        }
    }

    async fn connection(&mut self) -> Result<ConnectionManager, RedisError> {
        if let Some(c) = &self.connection {
            return Ok(c.clone());
        }
        let client =
            redis::Client::open(self.config.url.0.as_str()).map_err(|e| self.unavailable(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| self.unavailable(&e))?;
        self.connection = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets the connection after a failure, so that the next round connects afresh.
    pub fn reset(&mut self) {
        self.connection = None;
    }

    /// The newest version every reference write up to which Redis holds; `None` when Redis
    /// holds no mirror under this prefix (new, flushed, or expired).
    ///
    /// # Errors
    /// [`RedisError`] when Redis cannot be used.
    pub async fn position(&mut self) -> Result<Option<i64>, RedisError> {
        let mut c = self.connection().await?;
        let key = self.mirror_key();
        let held: Option<String> = redis::cmd("HGET")
            .arg(&key)
            .arg("position")
            .query_async(&mut c)
            .await
            .map_err(|e| self.foreign_or_unavailable(&e, &key))?;
        Ok(held.and_then(|p| p.parse().ok()))
    }

    fn foreign_or_unavailable(&self, e: &redis::RedisError, key: &str) -> RedisError {
        if e.code() == Some("WRONGTYPE") {
            RedisError::Foreign {
                address: self.address.clone(),
                key: key.to_owned(),
            }
        } else {
            self.unavailable(e)
        }
    }

    /// Writes `changes` (each only when its version is newer than Redis holds, or the same
    /// when `force`), then raises the position to `upto` (and records a refresh when
    /// `refreshed_at` is given). Returns how many rows were written.
    ///
    /// # Errors
    /// [`RedisError`] when Redis cannot be used; the position then stays where it was.
    pub async fn write(
        &mut self,
        changes: &[ReferenceChange],
        force: bool,
        upto: i64,
        refreshed_at: Option<i64>,
    ) -> Result<u64, RedisError> {
        let mut c = self.connection().await?;
        let ttl = self.ttl_seconds();
        let mut pipe = redis::pipe();
        pipe.load_script(&self.write_row).ignore();
        pipe.load_script(&self.raise_position).ignore();
        for change in changes {
            let json = change.record.as_ref().map_or_else(String::new, |record| {
                row_json(&change.id, change.version, record)
            });
            let mut invocation = self.write_row.prepare_invoke();
            invocation
                .key(self.row_key(&change.collection, &change.id))
                .key(self.key("versions", &change.collection))
                .key(self.key("ids", &change.collection))
                .key(self.key("version", &change.collection))
                .arg(&change.id)
                .arg(change.version)
                .arg(json)
                .arg(ttl)
                .arg(if force { "1" } else { "0" });
            pipe.invoke_script(&invocation);
        }
        let mut raise = self.raise_position.prepare_invoke();
        raise
            .key(self.mirror_key())
            .arg(upto)
            .arg(ttl)
            .arg(refreshed_at.map_or_else(String::new, |t| t.to_string()));
        pipe.invoke_script(&raise).ignore();
        let written: Vec<i64> = pipe.query_async(&mut c).await.map_err(|e| {
            let key = self.mirror_key();
            self.foreign_or_unavailable(&e, &key)
        })?;
        Ok(written.iter().map(|w| u64::from(*w == 1)).sum())
    }
}

/// A row as Redis holds it: a JSON object with `id`, `_version` and its fields.
#[must_use]
pub fn row_json(id: &str, version: i64, record: &lapak_core::Record) -> String {
    let mut object = match lapak_core::value::record_to_json(record) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    object.insert("id".into(), serde_json::Value::from(id));
    object.insert("_version".into(), serde_json::Value::from(version));
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use lapak_core::{Record, Value};

    use super::row_json;

    #[test]
    fn a_row_is_a_json_object_with_its_id_and_version() {
        let mut record = Record::new();
        record.insert("name".into(), Value::Text("Kopi".into()));
        record.insert("price".into(), Value::Int(12_000));
        let json: serde_json::Value = serde_json::from_str(&row_json("I-1", 42, &record)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "I-1", "_version": 42, "name": "Kopi", "price": 12000})
        );
    }
}
