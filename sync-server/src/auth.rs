//! Who is asking, and may they: password hashing (argon2id), access tokens (JWT, HS256, EdDSA or
//! RS256, with a JWKS for the asymmetric kinds), refresh tokens (opaque, stored hashed), roles
//! and scope grants.

use std::fmt;
use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// How long an access token lives.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
/// How long a refresh token lives.
pub const REFRESH_TOKEN_SECONDS: i64 = 7 * 24 * 60 * 60;
/// The issuer written into and required of every access token.
pub const ISSUER: &str = "lapak";
/// The audience written into and required of every access token.
pub const AUDIENCE: &str = "lapak-sync";

/// A user's role. Roles say what kind of work a user does; grants say where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A cashier at a POS terminal: reads and writes within their branch.
    Cashier,
    /// A salesperson in the field: reads and writes within their territory.
    Salesperson,
    /// A supervisor: reads and writes across the scopes of their region.
    Supervisor,
    /// The back office: every scope, reference data, users and devices.
    Admin,
}

impl Role {
    /// The role's name as stored and sent.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Salesperson => "salesperson",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    ///
    /// # Errors
    /// A message naming the four roles.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "cashier" => Ok(Role::Cashier),
            "salesperson" => Ok(Role::Salesperson),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: use cashier, salesperson, supervisor or admin"
            )),
        }
    }
}

/// One scope a user may read, and maybe write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Grant {
    /// The scope (`branch:JKT-01`, `territory:T-7`, `org`), or `*` for every scope.
    pub scope: String,
    /// Whether the user may also write records of this scope.
    pub write: bool,
}

/// The authenticated caller of one request: user, role, device and grants, read fresh from the
/// database for every request so that a revoked grant or device takes effect at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The device the token was issued to.
    pub device_id: Uuid,
    /// What the user may read and write.
    pub grants: Vec<Grant>,
}

impl Principal {
    fn grant(&self, scope: &str) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| g.scope == scope || g.scope == "*")
    }

    /// Whether the caller may receive records of `scope`.
    #[must_use]
    pub fn can_read(&self, scope: &str) -> bool {
        self.role == Role::Admin || self.grant(scope).is_some()
    }

    /// Whether the caller may write records of `scope`.
    #[must_use]
    pub fn can_write(&self, scope: &str) -> bool {
        self.role == Role::Admin
            || self
                .grants
                .iter()
                .any(|g| g.write && (g.scope == scope || g.scope == "*"))
    }

    /// Whether the caller is the back office.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Hashes a password with argon2id and a random salt (PHC string format).
///
/// # Errors
/// Only when the hasher itself fails (it does not for valid parameters).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored argon2 `hash`.
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A fresh random secret: 32 bytes, base64url.
#[must_use]
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new refresh token (`lpr_` + 32 random bytes). Only its hash is stored.
#[must_use]
pub fn new_refresh_token() -> String {
    format!("lpr_{}", random_secret())
}

/// The stored form of a refresh token: hex SHA-256.
#[must_use]
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of [`Keys::refresh_successor`]: the signing secret, hashed under its own label so
/// it is never used twice for different things.
fn successor_key(secret: &[u8]) -> [u8; 32] {
    hmac_sha256(b"lapak refresh successor v1", secret)
}

/// The key of [`Keys::csrf_token`], under its own label.
fn csrf_key(secret: &[u8]) -> [u8; 32] {
    hmac_sha256(b"lapak browser csrf v1", secret)
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: `lapak`.
    pub iss: String,
    /// Audience: `lapak-sync`.
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The device the token was issued to.
    pub dev: Uuid,
    /// The user's role at issue time (informational; the server reads the current one).
    pub role: Role,
    /// The device's session generation: revoking the device's sessions raises it, and tokens
    /// of an older generation stop working at once.
    pub session: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// Why a token or key was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A key file is not a usable key of the configured algorithm.
    #[error("the key in {path} is not a valid {alg} key in PEM form: {detail}")]
    Invalid {
        /// The file.
        path: String,
        /// The algorithm configured.
        alg: String,
        /// What the parser said.
        detail: String,
    },
    /// An algorithm this server does not sign with.
    #[error("unsupported JWT algorithm `{0}`: use HS256, EdDSA or RS256")]
    Algorithm(String),
}

/// The keys that sign and check access tokens.
pub struct Keys {
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    jwk: Option<serde_json::Value>,
    /// The key successor refresh tokens are derived with (from the signing secret, so every
    /// replica sharing the signing key derives the same successors).
    successor_key: [u8; 32],
    /// The key browser sessions' anti-forgery tokens are derived with ([`Keys::csrf_token`]).
    csrf_key: [u8; 32],
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Keys {
    /// HS256 with a shared secret (at least 32 bytes of entropy are expected).
    #[must_use]
    pub fn hs256(secret: &[u8]) -> Self {
        let kid = token_hash(&URL_SAFE_NO_PAD.encode(secret))[..16].to_owned();
        Keys {
            alg: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            kid,
            jwk: None,
            successor_key: successor_key(secret),
            csrf_key: csrf_key(secret),
        }
    }

    /// An asymmetric key pair from PEM files: `EdDSA` (Ed25519) or `RS256`. The public key is
    /// published at `/.well-known/jwks.json`.
    ///
    /// # Errors
    /// [`KeyError`] when a file cannot be read or is not a key of that algorithm.
    pub fn from_pem_files(alg: &str, private: &Path, public: &Path) -> Result<Self, KeyError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| KeyError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let (private_pem, public_pem) = (read(private)?, read(public)?);
        let invalid = |p: &Path, e: jsonwebtoken::errors::Error| KeyError::Invalid {
            path: p.display().to_string(),
            alg: alg.to_owned(),
            detail: e.to_string(),
        };
        let (alg, encoding, decoding) = match alg {
            "EdDSA" => (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(&private_pem).map_err(|e| invalid(private, e))?,
                DecodingKey::from_ed_pem(&public_pem).map_err(|e| invalid(public, e))?,
            ),
            "RS256" => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(&private_pem).map_err(|e| invalid(private, e))?,
                DecodingKey::from_rsa_pem(&public_pem).map_err(|e| invalid(public, e))?,
            ),
            other => return Err(KeyError::Algorithm(other.to_owned())),
        };
        let kid = token_hash(&URL_SAFE_NO_PAD.encode(&public_pem))[..16].to_owned();
        let mut jwk = serde_json::to_value(
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, alg)
                .map_err(|e| invalid(private, e))?,
        )
        .unwrap_or_default();
        if let Some(obj) = jwk.as_object_mut() {
            obj.insert("kid".into(), kid.clone().into());
            obj.insert("use".into(), "sig".into());
        }
        Ok(Keys {
            alg,
            encoding,
            decoding,
            kid,
            jwk: Some(jwk),
            successor_key: successor_key(&private_pem),
            csrf_key: csrf_key(&private_pem),
        })
    }

    /// The algorithm tokens are signed with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The JSON Web Key Set other services verify tokens with (empty for HS256: a shared
    /// secret is never published).
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.jwk.iter().collect::<Vec<_>>() })
    }

    /// Signs an access token for `device` of `user`, valid for [`ACCESS_TOKEN_SECONDS`].
    ///
    /// # Errors
    /// When signing fails (it does not for a loaded key).
    pub fn issue(
        &self,
        user_id: &str,
        device: Uuid,
        role: Role,
        generation: i64,
        now_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            dev: device,
            role,
            session: generation,
            iat: now_secs,
            exp: now_secs + ACCESS_TOKEN_SECONDS,
            jti: Uuid::now_v7().to_string(),
        };
        self.sign(&claims)
    }

    /// The refresh token a refresh token (given by its hash, [`token_hash`]) is exchanged
    /// for: `lpr_` + HMAC-SHA256 of the hash under a key derived from the signing secret.
    /// The same token always gets the same successor, so a retried refresh (the answer was
    /// lost) hands out the successor already stored instead of a second one; and nobody
    /// without the server's key can compute it.
    #[must_use]
    pub fn refresh_successor(&self, token_hash: &str) -> String {
        format!(
            "lpr_{}",
            URL_SAFE_NO_PAD.encode(hmac_sha256(&self.successor_key, token_hash.as_bytes()))
        )
    }

    /// The anti-forgery token of a browser session: `lpc_` + HMAC-SHA256 of the device and
    /// its session generation. The page reads it from the session's JSON (which no other
    /// site can read) and sends it as `X-Lapak-CSRF` with every request that changes state;
    /// it stays the same while the session's access tokens rotate, and changes with a new
    /// session (a login, a logout, a revocation).
    #[must_use]
    pub fn csrf_token(&self, device: Uuid, generation: i64) -> String {
        let message = format!("{device}/{generation}");
        format!(
            "lpc_{}",
            URL_SAFE_NO_PAD.encode(hmac_sha256(&self.csrf_key, message.as_bytes()))
        )
    }

    /// Signs arbitrary claims (tests use it to make expired tokens).
    ///
    /// # Errors
    /// When signing fails.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Checks a token's signature, algorithm, issuer, audience and expiry.
    ///
    /// # Errors
    /// A short reason safe to show the caller.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        let mut v = Validation::new(self.alg);
        v.leeway = 5;
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "the access token has expired: refresh it with POST /v1/auth/refresh"
                }
                _ => "the access token is not valid: log in again",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, grants: &[(&str, bool)]) -> Principal {
        Principal {
            user_id: "u".into(),
            username: "u".into(),
            role,
            device_id: Uuid::nil(),
            grants: grants
                .iter()
                .map(|(s, w)| Grant {
                    scope: (*s).into(),
                    write: *w,
                })
                .collect(),
        }
    }

    #[test]
    fn grants_decide_reads_and_writes() {
        let p = principal(Role::Cashier, &[("branch:A", true), ("org", false)]);
        assert!(p.can_read("branch:A") && p.can_write("branch:A"));
        assert!(p.can_read("org") && !p.can_write("org"));
        assert!(!p.can_read("branch:B") && !p.can_write("branch:B"));
        let admin = principal(Role::Admin, &[]);
        assert!(admin.can_read("branch:B") && admin.can_write("branch:B"));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn successors_are_fixed_per_token_and_key() {
        let k = Keys::hs256(b"0123456789abcdef0123456789abcdef");
        let t = token_hash("lpr_a");
        assert_eq!(k.refresh_successor(&t), k.refresh_successor(&t));
        assert!(k.refresh_successor(&t).starts_with("lpr_"));
        assert_ne!(
            k.refresh_successor(&t),
            k.refresh_successor(&token_hash("lpr_b"))
        );
        let other = Keys::hs256(b"another secret, also 32 bytes!!!");
        assert_ne!(k.refresh_successor(&t), other.refresh_successor(&t));
    }

    #[test]
    fn tokens_round_trip_and_refuse_other_keys() {
        let k = Keys::hs256(b"0123456789abcdef0123456789abcdef");
        let t = k
            .issue(
                "u1",
                Uuid::nil(),
                Role::Cashier,
                0,
                chrono::Utc::now().timestamp(),
            )
            .unwrap();
        assert_eq!(k.verify(&t).unwrap().sub, "u1");
        let other = Keys::hs256(b"another secret, also 32 bytes!!!");
        assert!(other.verify(&t).is_err());
        assert!(format!("{k:?}").contains("redacted"));
    }
}
