//! The settings of what the server feeds outside itself: the brokers the outbox is relayed to
//! (`crate::relay`) and the Redis that mirrors the master data (`crate::mirror`). Their URLs
//! may hold credentials: they are [`Secret`]s, and messages show them through
//! [`safe_address`].

use std::time::Duration;

use super::{ConfigError, Secret};
use crate::relay::safe_address;

/// The brokers the outbox is relayed to (`crate::relay`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayConfig {
    /// NATS JetStream, when configured.
    pub nats: Option<NatsSinkConfig>,
    /// RabbitMQ, when configured.
    pub amqp: Option<AmqpSinkConfig>,
}

/// The NATS JetStream sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsSinkConfig {
    /// The server's URL (may hold credentials).
    pub url: Secret,
    /// The stream.
    pub stream: String,
    /// The subjects' first token.
    pub subject_prefix: String,
}

/// The RabbitMQ sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmqpSinkConfig {
    /// The server's URL (may hold credentials).
    pub url: Secret,
    /// The topic exchange.
    pub exchange: String,
}

/// A stream, subject or exchange name: letters, digits, `_`, `-` (and `.` where `dots`).
fn broker_name(what: &str, name: String, dots: bool) -> Result<String, ConfigError> {
    let fine = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.'));
    if fine && !name.starts_with('.') && !name.ends_with('.') {
        Ok(name)
    } else {
        Err(ConfigError::Invalid(format!(
            "the {what} `{name}` is not one: use letters, digits, `_` and `-`{}",
            if dots { " (and `.` between words)" } else { "" }
        )))
    }
}

pub(super) fn relay(
    nats: Option<(Secret, String, String)>,
    amqp: Option<(Secret, String)>,
) -> Result<RelayConfig, ConfigError> {
    let url = |what: &str, url: Secret, schemes: &[&str]| {
        if schemes.iter().any(|s| url.0.starts_with(s)) {
            Ok(url)
        } else {
            Err(ConfigError::Invalid(format!(
                "the {what} URL {} is not one: it starts with {}",
                safe_address(&url.0),
                schemes.join(" or ")
            )))
        }
    };
    Ok(RelayConfig {
        nats: match nats {
            Some((u, stream, prefix)) => Some(NatsSinkConfig {
                url: url("NATS", u, &["nats://", "tls://"])?,
                stream: broker_name("JetStream stream", stream, false)?,
                subject_prefix: broker_name("subject prefix", prefix, true)?,
            }),
            None => None,
        },
        amqp: match amqp {
            Some((u, exchange)) => Some(AmqpSinkConfig {
                url: url("RabbitMQ", u, &["amqp://", "amqps://"])?,
                exchange: broker_name("exchange", exchange, true)?,
            }),
            None => None,
        },
    })
}

/// The Redis that mirrors the master data (`crate::mirror`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// The server's URL (`redis://` or `rediss://`; may hold credentials).
    pub url: Secret,
    /// Every key starts with `<prefix>:`.
    pub prefix: String,
    /// How long a row's key lives without being written again; `None`: for ever. The server
    /// rewrites every row twice per TTL while it runs, so only a stopped server's rows expire.
    pub ttl: Option<Duration>,
}

/// The shortest TTL accepted: every row is rewritten twice per TTL.
pub const MIN_REDIS_TTL: Duration = Duration::from_secs(60);

/// Checks the Redis settings: `(url, prefix, ttl in seconds)`.
pub(super) fn redis(
    setting: Option<(Secret, String, Option<u64>)>,
) -> Result<Option<RedisConfig>, ConfigError> {
    let Some((url, prefix, ttl)) = setting else {
        return Ok(None);
    };
    if !(url.0.starts_with("redis://") || url.0.starts_with("rediss://")) {
        return Err(ConfigError::Invalid(format!(
            "the Redis URL {} is not one: it starts with redis:// or rediss://",
            safe_address(&url.0)
        )));
    }
    let prefix_fine = !prefix.is_empty()
        && prefix.len() <= 100
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !prefix_fine {
        return Err(ConfigError::Invalid(format!(
            "the Redis key prefix `{prefix}` is not one: use 1 to 100 letters, digits, `_`, `-`, `.` or `:`"
        )));
    }
    let ttl = match ttl {
        None | Some(0) => None,
        Some(s) if Duration::from_secs(s) < MIN_REDIS_TTL => {
            return Err(ConfigError::Invalid(format!(
                "a Redis TTL of {s} s is too short: give at least {} s, or 0 for none",
                MIN_REDIS_TTL.as_secs()
            )));
        }
        Some(s) => Some(Duration::from_secs(s)),
    };
    Ok(Some(RedisConfig { url, prefix, ttl }))
}
