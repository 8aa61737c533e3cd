//! The server's settings, from (highest first) command-line flags, environment variables
//! (`LAPAK_*`), an optional TOML file (`--config`), and defaults that need nothing installed:
//! listen on 127.0.0.1:8080, keep an SQLite database in `./data`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

mod fanout;

pub use fanout::{AmqpSinkConfig, MIN_REDIS_TTL, NatsSinkConfig, RedisConfig, RelayConfig};

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "lapak-server", version, about = "Lapak's sync server")]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings.
    #[command(flatten)]
    pub settings: Settings,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve {
        /// Seed the demo business first, when the database holds no branch yet.
        #[arg(long)]
        demo: bool,
        /// The demo's sizes and seed.
        #[command(flatten)]
        size: crate::demo::DemoSize,
    },
    /// Seed a demo business (branches, terminals, salespeople, outlets, items, prices,
    /// vouchers, opening stock) into an empty database, then exit. Demo users' password is
    /// LAPAK_DEMO_PASSWORD, or a generated one printed at the end.
    Demo {
        /// Sizes and seed.
        #[command(flatten)]
        size: crate::demo::DemoSize,
    },
    /// Apply migrations and create the collections' tables, then exit.
    Migrate,
    /// Create a user; the password is read from LAPAK_NEW_USER_PASSWORD or standard input.
    CreateUser {
        /// Login name.
        username: String,
        /// cashier, salesperson, supervisor or admin.
        #[arg(long)]
        role: String,
        /// Scopes the user may read and write (`branch:JKT-01`); repeat the flag for more.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Scopes the user may only read (`org`); repeat the flag for more.
        #[arg(long = "read-scope")]
        read_scopes: Vec<String>,
    },
    /// Import master data from the ERP as a mapping file describes (the collection, a CSV or
    /// JSON-lines file or an SQL query, and which column fills each field): only rows that
    /// changed are written, and rows the source no longer has are deleted.
    Import {
        /// The mapping file (TOML; see docs/operations.md, "Imports from the ERP").
        mapping: PathBuf,
        /// Say what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run again this often until stopped (`30s`, `15m`, `1h`).
        #[arg(long, value_parser = parse_interval)]
        every: Option<std::time::Duration>,
        /// The most rows one run may delete [default: half of what the source wrote before,
        /// at least 10].
        #[arg(long)]
        max_deletions: Option<u64>,
    },
    /// Rewrite every reference row into the Redis of LAPAK_REDIS_URL, then exit: repairs
    /// values changed by hand; rows Redis holds at a newer version are left alone. Safe while
    /// servers run.
    RedisResync,
}

/// Every setting; each may also come from the environment or the config file.
#[derive(Debug, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A TOML file with any of these settings (snake_case keys).
    #[arg(long, env = "LAPAK_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "LAPAK_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// `postgres://user@host/db`; when absent, an SQLite file in the data directory.
    #[arg(long, env = "LAPAK_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Where the SQLite database and the generated JWT secret live [default: ./data].
    #[arg(long, env = "LAPAK_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// HS256 signing secret (at least 32 characters); when absent and no key pair is set, one
    /// is generated and kept in the data directory.
    #[arg(long, env = "LAPAK_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// HS256, EdDSA or RS256 [default: HS256, or EdDSA/RS256 with a key pair].
    #[arg(long, env = "LAPAK_JWT_ALGORITHM", global = true)]
    pub jwt_algorithm: Option<String>,
    /// PEM private key for EdDSA or RS256.
    #[arg(long, env = "LAPAK_JWT_PRIVATE_KEY", global = true)]
    pub jwt_private_key: Option<PathBuf>,
    /// PEM public key for EdDSA or RS256 (published at /.well-known/jwks.json).
    #[arg(long, env = "LAPAK_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<PathBuf>,
    /// Largest request body, bytes [default: 33554432].
    #[arg(long, env = "LAPAK_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    /// Most log entries one pull answer carries [default: 100000].
    #[arg(long, env = "LAPAK_MAX_PULL_ENTRIES", global = true)]
    pub max_pull_entries: Option<u32>,
    /// Requests per second each device may make, sustained [default: 50].
    #[arg(long, env = "LAPAK_RATE_LIMIT", global = true)]
    pub rate_limit: Option<u32>,
    /// Requests a device may burst above the rate [default: 100].
    #[arg(long, env = "LAPAK_RATE_BURST", global = true)]
    pub rate_burst: Option<u32>,
    /// Login attempts per second from one client address, sustained (bursts of three times as
    /// many) [default: 10].
    #[arg(long, env = "LAPAK_LOGIN_RATE", global = true)]
    pub login_rate: Option<u32>,
    /// Seconds between pings on live sockets [default: 20].
    #[arg(long, env = "LAPAK_LIVE_PING_SECONDS", global = true)]
    pub live_ping_seconds: Option<u64>,
    /// Seconds a client has to send a request's headers before it is disconnected
    /// [default: 10].
    #[arg(long, env = "LAPAK_HEADER_READ_TIMEOUT_SECONDS", global = true)]
    pub header_read_timeout_seconds: Option<u64>,
    /// `text` or `json` [default: text].
    #[arg(long, env = "LAPAK_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Where photos are kept: `files` (under the data directory) or `s3://bucket[/prefix]`
    /// (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) [default: files].
    #[arg(long, env = "LAPAK_PHOTO_STORE", global = true)]
    pub photo_store: Option<String>,
    /// The business's offset from UTC (`+07:00`, Jakarta): where the admin web's days and
    /// reports begin and end [default: +07:00].
    #[arg(
        long,
        env = "LAPAK_UTC_OFFSET",
        global = true,
        allow_hyphen_values = true
    )]
    pub utc_offset: Option<String>,
    /// The S3 endpoint of an S3-compatible store (`http://127.0.0.1:9000`); AWS when absent.
    #[arg(long, env = "LAPAK_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    /// The S3 region [default: the AWS_REGION environment variable, else us-east-1].
    #[arg(long, env = "LAPAK_S3_REGION", global = true)]
    pub s3_region: Option<String>,
    /// The S3 access key id [default: the machine's role or AWS configuration].
    #[arg(long, env = "AWS_ACCESS_KEY_ID", global = true)]
    pub s3_access_key_id: Option<String>,
    /// The S3 secret access key.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<Secret>,
    /// Relay the outbox's events to this NATS server's JetStream (`nats://host:4222`, with
    /// `user:password@` when it needs them) [default: not relayed].
    #[arg(
        long,
        env = "LAPAK_RELAY_NATS_URL",
        global = true,
        hide_env_values = true
    )]
    pub relay_nats_url: Option<Secret>,
    /// The JetStream stream the events go to (made when missing) [default: LAPAK].
    #[arg(long, env = "LAPAK_RELAY_NATS_STREAM", global = true)]
    pub relay_nats_stream: Option<String>,
    /// Subjects are `<prefix>.<event type>` [default: lapak].
    #[arg(long, env = "LAPAK_RELAY_NATS_SUBJECT_PREFIX", global = true)]
    pub relay_nats_subject_prefix: Option<String>,
    /// Relay the outbox's events to this RabbitMQ server (`amqp://user:password@host:5672/%2f`)
    /// [default: not relayed].
    #[arg(
        long,
        env = "LAPAK_RELAY_AMQP_URL",
        global = true,
        hide_env_values = true
    )]
    pub relay_amqp_url: Option<Secret>,
    /// The topic exchange the events go to (made when missing; routing key: the event type)
    /// [default: lapak.events].
    #[arg(long, env = "LAPAK_RELAY_AMQP_EXCHANGE", global = true)]
    pub relay_amqp_exchange: Option<String>,
    /// Mirror the master data (every reference collection) into this Redis
    /// (`redis://[:password@]host:6379[/db]`, or `rediss://` over TLS) [default: not mirrored].
    #[arg(long, env = "LAPAK_REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<Secret>,
    /// Every mirrored key starts with `<prefix>:` [default: lapak].
    #[arg(long, env = "LAPAK_REDIS_PREFIX", global = true)]
    pub redis_prefix: Option<String>,
    /// Let each mirrored row expire this many seconds after it was last written (at least 60;
    /// the server rewrites every row twice per TTL while it runs) [default: 0, never].
    #[arg(long, env = "LAPAK_REDIS_TTL_SECONDS", global = true)]
    pub redis_ttl_seconds: Option<u64>,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// How tokens are signed.
#[derive(Clone, PartialEq, Eq)]
pub enum JwtKeys {
    /// HS256 with this secret.
    Hs256(Secret),
    /// HS256 with a secret generated and kept in this file.
    Hs256File(PathBuf),
    /// EdDSA or RS256 with a key pair.
    Pair {
        /// `EdDSA` or `RS256`.
        algorithm: String,
        /// PEM private key.
        private: PathBuf,
        /// PEM public key.
        public: PathBuf,
    },
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtKeys::Hs256(_) => f.write_str("Hs256(<redacted>)"),
            JwtKeys::Hs256File(p) => write!(f, "Hs256File({})", p.display()),
            JwtKeys::Pair {
                algorithm, public, ..
            } => {
                write!(f, "{algorithm}(public key {})", public.display())
            }
        }
    }
}

/// Where photos are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotoStoreConfig {
    /// Files under this directory.
    Files(PathBuf),
    /// An S3 bucket.
    S3(S3Config),
}

/// An S3 bucket for photos.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// A key prefix inside it (may be empty).
    pub prefix: String,
    /// The endpoint of an S3-compatible store; AWS when `None`.
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The access key id and secret, when given (else the environment's or the machine's).
    pub credentials: Option<(String, Secret)>,
}

fn photo_store(
    setting: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<(String, Secret)>,
    data_dir: &Path,
) -> Result<PhotoStoreConfig, ConfigError> {
    match setting.as_deref() {
        None | Some("files") => Ok(PhotoStoreConfig::Files(data_dir.join("photos"))),
        Some(url) => {
            let rest = url.strip_prefix("s3://").ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "unknown photo store `{url}`: use `files` or `s3://bucket/prefix`"
                ))
            })?;
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "the photo store `{url}` names no bucket: use `s3://bucket/prefix`"
                )));
            }
            Ok(PhotoStoreConfig::S3(S3Config {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint,
                region,
                credentials,
            }))
        }
    }
}

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://…` when none was given).
    pub database_url: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Token keys.
    pub jwt: JwtKeys,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Most entries per pull answer.
    pub max_pull_entries: u32,
    /// Requests per second per device.
    pub rate_limit: u32,
    /// Burst per device.
    pub rate_burst: u32,
    /// Login attempts per second per client address.
    pub login_rate: u32,
    /// Seconds between live pings.
    pub live_ping_seconds: u64,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: std::time::Duration,
    /// Logs as JSON.
    pub log_json: bool,
    /// Where photos are kept.
    pub photos: PhotoStoreConfig,
    /// The business's offset from UTC, seconds (days of reports begin at its midnight).
    pub utc_offset_seconds: i32,
    /// Where the outbox is relayed.
    pub relay: RelayConfig,
    /// The Redis that mirrors the master data, when one is configured.
    pub redis: Option<RedisConfig>,
}

/// `30s`, `15m`, `2h` or `1d` (a bare number is seconds), at least one second.
///
/// # Errors
/// What to write instead.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds > 0 => Ok(std::time::Duration::from_secs(n * seconds)),
        _ => Err(format!(
            "`{text}` is not an interval: write 30s, 15m, 2h or 1d"
        )),
    }
}

/// `+07:00`, `-03:30`, `+7` or `0` as seconds east of UTC.
fn parse_utc_offset(text: &str) -> Result<i32, ConfigError> {
    let bad = || {
        ConfigError::Invalid(format!(
            "the UTC offset `{text}` is not one: write it as +07:00 (Jakarta), +08:00 or +09:00"
        ))
    };
    let t = text.trim();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML of known settings.
    #[error("the config file {path} is not valid: {detail}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// A setting has an unusable value.
    #[error("{0}")]
    Invalid(String),
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

impl Settings {
    /// Resolves flags and environment over the config file over defaults.
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad file or setting.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(p) => read_file(p)?,
            None => Settings::default(),
        };
        let data_dir = pick(self.data_dir, file.data_dir, PathBuf::from("data"));
        let database_url = match self.database_url.or(file.database_url) {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("lapak.sqlite3").display()),
        };
        let algorithm = self.jwt_algorithm.or(file.jwt_algorithm);
        let private = self.jwt_private_key.or(file.jwt_private_key);
        let public = self.jwt_public_key.or(file.jwt_public_key);
        let secret = self.jwt_secret.or(file.jwt_secret);
        let jwt = match (algorithm.as_deref(), private, public) {
            (Some("EdDSA" | "RS256") | None, Some(private), Some(public)) => JwtKeys::Pair {
                algorithm: algorithm.unwrap_or_else(|| "EdDSA".into()),
                private,
                public,
            },
            (Some(a @ ("EdDSA" | "RS256")), _, _) => {
                return Err(ConfigError::Invalid(format!(
                    "the JWT algorithm {a} needs both --jwt-private-key and --jwt-public-key (PEM files)"
                )));
            }
            (Some("HS256") | None, None, None) => match secret {
                Some(s) if s.0.len() < 32 => {
                    return Err(ConfigError::Invalid(
                        "LAPAK_JWT_SECRET must be at least 32 characters: generate one with `openssl rand -base64 32`".into(),
                    ));
                }
                Some(s) => JwtKeys::Hs256(s),
                None => JwtKeys::Hs256File(data_dir.join("jwt-secret")),
            },
            (Some("HS256"), _, _) => {
                return Err(ConfigError::Invalid(
                    "HS256 takes a secret (LAPAK_JWT_SECRET), not a key pair: drop the key files or choose EdDSA/RS256".into(),
                ));
            }
            (Some(other), _, _) => {
                return Err(ConfigError::Invalid(format!(
                    "unknown JWT algorithm `{other}`: use HS256, EdDSA or RS256"
                )));
            }
            (None, _, _) => {
                return Err(ConfigError::Invalid(
                    "a JWT key pair needs both --jwt-private-key and --jwt-public-key".into(),
                ));
            }
        };
        let log_format = pick(self.log_format, file.log_format, "text".into());
        if log_format != "text" && log_format != "json" {
            return Err(ConfigError::Invalid(format!(
                "unknown log format `{log_format}`: use text or json"
            )));
        }
        let photos = photo_store(
            self.photo_store.or(file.photo_store),
            self.s3_endpoint.or(file.s3_endpoint),
            self.s3_region.or(file.s3_region),
            self.s3_access_key_id
                .or(file.s3_access_key_id)
                .zip(self.s3_secret_access_key.or(file.s3_secret_access_key)),
            &data_dir,
        )?;
        let utc_offset_seconds = match self.utc_offset.or(file.utc_offset) {
            Some(t) => parse_utc_offset(&t)?,
            None => 7 * 3600,
        };
        let redis = fanout::redis(self.redis_url.or(file.redis_url).map(|u| {
            (
                u,
                pick(self.redis_prefix, file.redis_prefix, "lapak".into()),
                self.redis_ttl_seconds.or(file.redis_ttl_seconds),
            )
        }))?;
        let relay = fanout::relay(
            self.relay_nats_url.or(file.relay_nats_url).map(|u| {
                (
                    u,
                    pick(
                        self.relay_nats_stream,
                        file.relay_nats_stream,
                        "LAPAK".into(),
                    ),
                    pick(
                        self.relay_nats_subject_prefix,
                        file.relay_nats_subject_prefix,
                        "lapak".into(),
                    ),
                )
            }),
            self.relay_amqp_url.or(file.relay_amqp_url).map(|u| {
                (
                    u,
                    pick(
                        self.relay_amqp_exchange,
                        file.relay_amqp_exchange,
                        "lapak.events".into(),
                    ),
                )
            }),
        )?;
        let rate_limit = pick(self.rate_limit, file.rate_limit, 50);
        if rate_limit == 0 {
            return Err(ConfigError::Invalid(
                "the rate limit must be at least 1 request per second".into(),
            ));
        }
        Ok(Config {
            listen: pick(
                self.listen,
                file.listen,
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            ),
            database_url,
            data_dir,
            jwt,
            max_body_bytes: pick(
                self.max_body_bytes,
                file.max_body_bytes,
                lapak_core::protocol::MAX_MESSAGE_BYTES,
            ),
            max_pull_entries: pick(self.max_pull_entries, file.max_pull_entries, 100_000).clamp(
                1,
                u32::try_from(lapak_core::protocol::MAX_PULL_ENTRIES).unwrap_or(u32::MAX),
            ),
            rate_limit,
            rate_burst: pick(self.rate_burst, file.rate_burst, 100).max(1),
            login_rate: pick(self.login_rate, file.login_rate, 10).max(1),
            live_ping_seconds: pick(self.live_ping_seconds, file.live_ping_seconds, 20).max(1),
            header_read_timeout: std::time::Duration::from_secs(
                pick(
                    self.header_read_timeout_seconds,
                    file.header_read_timeout_seconds,
                    10,
                )
                .max(1),
            ),
            log_json: log_format == "json",
            photos,
            utc_offset_seconds,
            relay,
            redis,
        })
    }
}

fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

impl Config {
    /// Settings for tests: port 0 on loopback, SQLite in `data_dir`, a fixed HS256 secret.
    #[must_use]
    pub fn for_tests(data_dir: &Path) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: format!("sqlite://{}", data_dir.join("lapak.sqlite3").display()),
            data_dir: data_dir.to_owned(),
            jwt: JwtKeys::Hs256(Secret("test secret of at least thirty-two bytes".into())),
            max_body_bytes: lapak_core::protocol::MAX_MESSAGE_BYTES,
            max_pull_entries: 100_000,
            rate_limit: 1_000,
            rate_burst: 2_000,
            login_rate: 1_000,
            live_ping_seconds: 20,
            header_read_timeout: std::time::Duration::from_secs(10),
            log_json: false,
            photos: PhotoStoreConfig::Files(data_dir.join("photos")),
            utc_offset_seconds: 7 * 3600,
            relay: RelayConfig::default(),
            redis: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_offsets_parse_as_seconds_east() {
        assert_eq!(parse_utc_offset("+07:00").unwrap(), 25_200);
        assert_eq!(parse_utc_offset("8").unwrap(), 28_800);
        assert_eq!(parse_utc_offset("-03:30").unwrap(), -12_600);
        assert!(parse_utc_offset("Asia/Jakarta").is_err());
        assert!(parse_utc_offset("+25:00").is_err());
    }

    #[test]
    fn defaults_need_nothing_installed() {
        let c = Settings::default().resolve().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(matches!(c.jwt, JwtKeys::Hs256File(_)));
    }

    #[test]
    fn file_settings_apply_below_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lapak.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:9000\"\nrate_limit = 7\n").unwrap();
        let c = Settings {
            config: Some(f.clone()),
            rate_limit: Some(9),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.rate_limit, 9);
        std::fs::write(&f, "lisen = 1\n").unwrap();
        let err = Settings {
            config: Some(f),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn relay_sinks_are_checked_and_their_urls_never_shown() {
        let c = Settings {
            relay_nats_url: Some(Secret("nats://u:hunter2@10.0.0.5:4222".into())),
            relay_amqp_url: Some(Secret("amqp://guest:hunter2@10.0.0.6:5672/%2f".into())),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        let nats = c.relay.nats.as_ref().unwrap();
        assert_eq!(
            (nats.stream.as_str(), nats.subject_prefix.as_str()),
            ("LAPAK", "lapak")
        );
        assert_eq!(c.relay.amqp.as_ref().unwrap().exchange, "lapak.events");
        assert!(!format!("{c:?}").contains("hunter2"));
        let refused = |s: Settings| s.resolve().unwrap_err().to_string();
        let wrong_scheme = refused(Settings {
            relay_nats_url: Some(Secret("http://u:hunter2@host:4222".into())),
            ..Settings::default()
        });
        assert!(
            wrong_scheme.contains("nats://") && !wrong_scheme.contains("hunter2"),
            "{wrong_scheme}"
        );
        let wildcard = refused(Settings {
            relay_nats_url: Some(Secret("nats://host:4222".into())),
            relay_nats_subject_prefix: Some("lapak.>".into()),
            ..Settings::default()
        });
        assert!(wildcard.contains("subject prefix"), "{wildcard}");
        assert!(Settings::default().resolve().unwrap().relay == RelayConfig::default());
    }

    #[test]
    fn intervals_read_with_their_units() {
        assert_eq!(parse_interval("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_interval("90").unwrap().as_secs(), 90);
        assert_eq!(parse_interval("1d").unwrap().as_secs(), 86_400);
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("5w").is_err());
    }

    #[test]
    fn redis_settings_are_checked_and_its_url_never_shown() {
        let c = Settings {
            redis_url: Some(Secret("redis://:hunter2@10.0.0.7:6379/2".into())),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        let redis = c.redis.as_ref().unwrap();
        assert_eq!((redis.prefix.as_str(), redis.ttl), ("lapak", None));
        assert!(!format!("{c:?}").contains("hunter2"));
        let refused = |s: Settings| s.resolve().unwrap_err().to_string();
        let http = refused(Settings {
            redis_url: Some(Secret("http://:hunter2@host:6379".into())),
            ..Settings::default()
        });
        assert!(
            http.contains("redis://") && !http.contains("hunter2"),
            "{http}"
        );
        let spaces = refused(Settings {
            redis_url: Some(Secret("redis://host".into())),
            redis_prefix: Some("my cache".into()),
            ..Settings::default()
        });
        assert!(spaces.contains("prefix"), "{spaces}");
        let short = refused(Settings {
            redis_url: Some(Secret("redis://host".into())),
            redis_ttl_seconds: Some(5),
            ..Settings::default()
        });
        assert!(short.contains("at least 60"), "{short}");
        let ttl = Settings {
            redis_url: Some(Secret("redis://host".into())),
            redis_ttl_seconds: Some(3600),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            ttl.redis.unwrap().ttl,
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(Settings::default().resolve().unwrap().redis, None);
    }

    #[test]
    fn short_secrets_and_half_key_pairs_are_refused() {
        let short = Settings {
            jwt_secret: Some(Secret("short".into())),
            ..Settings::default()
        };
        assert!(
            short
                .resolve()
                .unwrap_err()
                .to_string()
                .contains("32 characters")
        );
        let half = Settings {
            jwt_algorithm: Some("RS256".into()),
            jwt_private_key: Some("k.pem".into()),
            ..Settings::default()
        };
        assert!(
            half.resolve()
                .unwrap_err()
                .to_string()
                .contains("jwt-public-key")
        );
        assert!(!format!("{:?}", Secret("hunter2".into())).contains("hunter2"));
    }
}
