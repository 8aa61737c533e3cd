//! Users, grants, devices and sessions: the [`Accounts`] half of the storage, with its
//! implementation for [`SqlStorage`]. Passwords arrive here already hashed; refresh tokens
//! only as hashes.

use async_trait::async_trait;
use uuid::Uuid;

use super::db::{Arg, Dialect, Tx};
use super::sql::{SqlStorage, parse_role};
use super::{Result, StorageError};
use crate::auth::{Grant, Principal, Role};

/// How long after a refresh its token may be presented again, as a retry, while the token it
/// was exchanged for has not been used.
pub const REFRESH_RETRY_GRACE_MS: i64 = 30_000;

/// A user as stored, for logging in.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredUser {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Disabled users cannot log in or sync.
    pub disabled: bool,
}

impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A user as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct UserInfo {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Grants.
    pub grants: Vec<Grant>,
    /// Whether the user is disabled.
    pub disabled: bool,
}

/// A device's session state, checked on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Who, with current grants.
    pub principal: Principal,
    /// The device's current session generation.
    pub generation: i64,
    /// Whether the device or its user is revoked or disabled.
    pub blocked: bool,
}

/// What presenting a refresh token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The token was current and is now exchanged for the successor; or it was exchanged for
    /// that same successor moments ago and this is a retry (nothing was written then).
    Rotated {
        /// The user.
        user_id: String,
        /// The device.
        device_id: Uuid,
        /// The device's session generation.
        generation: i64,
        /// Whether this was a retry of an exchange already made.
        retry: bool,
    },
    /// The token had already been rotated: someone replayed it. The device's sessions are
    /// revoked.
    Reused {
        /// The device whose sessions were revoked.
        device_id: Uuid,
    },
    /// Unknown, expired or revoked.
    Invalid,
}

/// Users, grants, devices and sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Whether any user has the administrator role.
    async fn admin_exists(&self) -> Result<bool>;
    /// Creates a user. Fails with [`StorageError::Conflict`] when the name is taken.
    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        grants: &[Grant],
        now_ms: i64,
    ) -> Result<UserInfo>;
    /// Replaces a user's grants.
    async fn set_grants(&self, username: &str, grants: &[Grant]) -> Result<UserInfo>;
    /// Replaces a user's password hash.
    async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()>;
    /// Disables a user (every session of every device of theirs ends; they can no longer log
    /// in or sync) or enables them again.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] for an unknown user.
    async fn set_disabled(&self, username: &str, disabled: bool, now_ms: i64) -> Result<UserInfo>;
    /// A user by login name.
    async fn find_user(&self, username: &str) -> Result<Option<StoredUser>>;
    /// Every user with grants.
    async fn list_users(&self) -> Result<Vec<UserInfo>>;

    /// Registers `device_id` for `user_id` at a login, or finds it; a device registered
    /// before has its earlier sessions revoked (refresh tokens, and access tokens through a
    /// new session generation). Fails with [`StorageError::Conflict`] when it belongs to
    /// another user and [`StorageError::Forbidden`] when it was revoked. Returns the new
    /// session's generation.
    async fn register_device(
        &self,
        device_id: Uuid,
        user_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<i64>;
    /// The session of `device_id` of `user_id`, with current grants, if both exist.
    async fn session(&self, user_id: &str, device_id: Uuid) -> Result<Option<Session>>;
    /// Records a request of the device.
    async fn touch_device(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
    /// Stores a new refresh token (by hash).
    async fn store_refresh(
        &self,
        token_hash: &str,
        device_id: Uuid,
        generation: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<()>;
    /// Exchanges a refresh token for `successor_hash` (stored, in the same transaction, expiring
    /// at `expires_ms`). The successor is a function of the token
    /// ([`crate::auth::Keys::refresh_successor`]), so a token presented again names the
    /// successor it was exchanged for. That is a retry (the client lost the answer) when the
    /// exchange was less than [`REFRESH_RETRY_GRACE_MS`] ago and the successor was never used:
    /// the same successor is answered again and nothing changes, so whoever presents it first
    /// moves the one chain on. Otherwise a reused token means a copy exists: every session of
    /// the device is revoked.
    async fn rotate_refresh(
        &self,
        token_hash: &str,
        successor_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Refresh>;
    /// Revokes every session of a device (its refresh tokens, and its access tokens through
    /// the session generation).
    async fn revoke_sessions(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
    /// Revokes the sessions of every device of a user, but `except`.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<Uuid>,
        now_ms: i64,
    ) -> Result<()>;
    /// Revokes a device for good: it can no longer log in or sync.
    async fn revoke_device(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
}

#[async_trait]
impl Accounts for SqlStorage {
    async fn admin_exists(&self) -> Result<bool> {
        Ok(self
            .pool
            .fetch_optional(
                "SELECT id FROM lapak_users WHERE role = $1 LIMIT 1",
                &[Arg::Text(Role::Admin.as_str().into())],
            )
            .await?
            .is_some())
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        grants: &[Grant],
        now_ms: i64,
    ) -> Result<UserInfo> {
        let mut tx = self.pool.begin_write().await?;
        let id = Uuid::now_v7().to_string();
        let inserted = tx
            .execute(
                "INSERT INTO lapak_users (id, username, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
                &[
                    Arg::Text(id.clone()),
                    Arg::Text(username.to_owned()),
                    Arg::Text(password_hash.to_owned()),
                    Arg::Text(role.as_str().to_owned()),
                    Arg::Bool(false),
                    Arg::Int(now_ms),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StorageError::Conflict(format!(
                "a user named `{username}` exists already: choose another name"
            )));
        }
        Self::replace_grants(&mut tx, &id, grants).await?;
        tx.commit().await?;
        Ok(UserInfo {
            id,
            username: username.to_owned(),
            role,
            grants: dedup_grants(grants),
            disabled: false,
        })
    }

    async fn set_grants(&self, username: &str, grants: &[Grant]) -> Result<UserInfo> {
        let user = self
            .find_user(username)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("no user named `{username}`")))?;
        let mut tx = self.pool.begin_write().await?;
        Self::replace_grants(&mut tx, &user.id, grants).await?;
        tx.commit().await?;
        Ok(UserInfo {
            grants: self.grants_of(&user.id).await?,
            id: user.id,
            username: user.username,
            role: user.role,
            disabled: user.disabled,
        })
    }

    async fn set_disabled(&self, username: &str, disabled: bool, now_ms: i64) -> Result<UserInfo> {
        let user = self
            .find_user(username)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("no user named `{username}`")))?;
        self.pool
            .execute(
                "UPDATE lapak_users SET disabled = $1 WHERE id = $2",
                &[Arg::Bool(disabled), Arg::Text(user.id.clone())],
            )
            .await?;
        if disabled {
            self.revoke_user_sessions(&user.id, None, now_ms).await?;
        }
        Ok(UserInfo {
            grants: self.grants_of(&user.id).await?,
            id: user.id,
            username: user.username,
            role: user.role,
            disabled,
        })
    }

    async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
        self.pool
            .execute(
                "UPDATE lapak_users SET password_hash = $1 WHERE id = $2",
                &[
                    Arg::Text(password_hash.to_owned()),
                    Arg::Text(user_id.to_owned()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn find_user(&self, username: &str) -> Result<Option<StoredUser>> {
        let Some(r) = self
            .pool
            .fetch_optional(
                "SELECT id, username, password_hash, role, disabled FROM lapak_users WHERE username = $1",
                &[Arg::Text(username.to_owned())],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredUser {
            id: r.text(0)?,
            username: r.text(1)?,
            password_hash: r.text(2)?,
            role: parse_role(&r.text(3)?)?,
            disabled: r.boolean(4)?,
        }))
    }

    async fn list_users(&self) -> Result<Vec<UserInfo>> {
        // Two queries, not one per user.
        let mut grants: std::collections::HashMap<String, Vec<Grant>> =
            std::collections::HashMap::new();
        for r in self
            .pool
            .fetch_all(
                "SELECT user_id, scope, can_write FROM lapak_grants ORDER BY scope",
                &[],
            )
            .await?
        {
            grants.entry(r.text(0)?).or_default().push(Grant {
                scope: r.text(1)?,
                write: r.boolean(2)?,
            });
        }
        self.pool
            .fetch_all(
                "SELECT id, username, role, disabled FROM lapak_users ORDER BY username",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                let id = r.text(0)?;
                Ok(UserInfo {
                    grants: grants.remove(&id).unwrap_or_default(),
                    id,
                    username: r.text(1)?,
                    role: parse_role(&r.text(2)?)?,
                    disabled: r.boolean(3)?,
                })
            })
            .collect()
    }

    async fn register_device(
        &self,
        device_id: Uuid,
        user_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_write().await?;
        let inserted = tx.execute(
            "INSERT INTO lapak_devices (id, user_id, name, registered_at, session_generation) VALUES ($1, $2, $3, $4, 0) ON CONFLICT (id) DO NOTHING",
            &[
                Arg::Text(device_id.to_string()),
                Arg::Text(user_id.to_owned()),
                Arg::Text(name.to_owned()),
                Arg::Int(now_ms),
            ],
        )
        .await?;
        let row = tx
            .fetch_optional(
                "SELECT user_id, revoked_at, session_generation FROM lapak_devices WHERE id = $1",
                &[Arg::Text(device_id.to_string())],
            )
            .await?
            .ok_or_else(|| StorageError::Corrupt("device vanished".into()))?;
        if row.text(0)? != user_id {
            return Err(StorageError::Conflict(format!(
                "device {device_id} is registered to another user: log in on a device of your own, or ask an administrator to revoke it"
            )));
        }
        if row.opt_int(1)?.is_some() {
            return Err(StorageError::Forbidden(format!(
                "device {device_id} was revoked by an administrator: it can no longer sync"
            )));
        }
        let mut generation = row.int(2)?;
        if inserted == 0 {
            // A new login on a known device: whatever sessions it had end here.
            revoke_sessions_in(&mut tx, device_id, now_ms).await?;
            generation += 1;
        }
        tx.commit().await?;
        Ok(generation)
    }

    async fn session(&self, user_id: &str, device_id: Uuid) -> Result<Option<Session>> {
        let Some(r) = self
            .pool
            .fetch_optional(
                "SELECT u.id, u.username, u.role, u.disabled, d.session_generation, d.revoked_at FROM lapak_devices d JOIN lapak_users u ON u.id = d.user_id WHERE d.id = $1 AND u.id = $2",
                &[
                    Arg::Text(device_id.to_string()),
                    Arg::Text(user_id.to_owned()),
                ],
            )
            .await?
        else {
            return Ok(None);
        };
        let user_id = r.text(0)?;
        Ok(Some(Session {
            principal: Principal {
                grants: self.grants_of(&user_id).await?,
                user_id,
                username: r.text(1)?,
                role: parse_role(&r.text(2)?)?,
                device_id,
            },
            generation: r.int(4)?,
            blocked: r.boolean(3)? || r.opt_int(5)?.is_some(),
        }))
    }

    async fn touch_device(&self, device_id: Uuid, now_ms: i64) -> Result<()> {
        self.pool
            .execute(
                "UPDATE lapak_devices SET last_seen_at = $1 WHERE id = $2",
                &[Arg::Int(now_ms), Arg::Text(device_id.to_string())],
            )
            .await?;
        Ok(())
    }

    async fn store_refresh(
        &self,
        token_hash: &str,
        device_id: Uuid,
        generation: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<()> {
        self.pool
            .execute(
                "INSERT INTO lapak_refresh_tokens (token_hash, device_id, generation, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    Arg::Text(token_hash.to_owned()),
                    Arg::Text(device_id.to_string()),
                    Arg::Int(generation),
                    Arg::Int(now_ms),
                    Arg::Int(expires_ms),
                ],
            )
            .await?;
        Ok(())
    }

    async fn rotate_refresh(
        &self,
        token_hash: &str,
        successor_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Refresh> {
        let mut tx = self.pool.begin_write().await?;
        let sql = match tx.dialect() {
            Dialect::Postgres => {
                "SELECT t.device_id, t.generation, t.expires_at, t.rotated_at, t.revoked_at, d.session_generation, d.user_id, d.revoked_at, u.disabled, t.replaced_by FROM lapak_refresh_tokens t JOIN lapak_devices d ON d.id = t.device_id JOIN lapak_users u ON u.id = d.user_id WHERE t.token_hash = $1 FOR UPDATE OF t"
            }
            Dialect::Sqlite => {
                "SELECT t.device_id, t.generation, t.expires_at, t.rotated_at, t.revoked_at, d.session_generation, d.user_id, d.revoked_at, u.disabled, t.replaced_by FROM lapak_refresh_tokens t JOIN lapak_devices d ON d.id = t.device_id JOIN lapak_users u ON u.id = d.user_id WHERE t.token_hash = $1"
            }
        };
        let Some(r) = tx
            .fetch_optional(sql, &[Arg::Text(token_hash.to_owned())])
            .await?
        else {
            return Ok(Refresh::Invalid);
        };
        let device_id = Uuid::parse_str(&r.text(0)?)
            .map_err(|e| StorageError::Corrupt(format!("device id: {e}")))?;
        if r.opt_int(4)?.is_some() || r.opt_int(7)?.is_some() || r.boolean(8)? {
            return Ok(Refresh::Invalid);
        }
        let generation = r.int(5)?;
        let current = r.int(2)? >= now_ms && r.int(1)? == generation;
        if let Some(rotated_at) = r.opt_int(3)? {
            // Used before: a retry of a lost answer, or a copy.
            let replaced_by = r.opt_text(9)?;
            let successor_unused = match &replaced_by {
                Some(next) => tx
                    .fetch_optional(
                        "SELECT 1 FROM lapak_refresh_tokens WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL",
                        &[Arg::Text(next.clone())],
                    )
                    .await?
                    .is_some(),
                None => false,
            };
            if now_ms - rotated_at > REFRESH_RETRY_GRACE_MS || !successor_unused {
                revoke_sessions_in(&mut tx, device_id, now_ms).await?;
                tx.commit().await?;
                return Ok(Refresh::Reused { device_id });
            }
            // Another successor than this one's: the signing key changed since.
            if replaced_by.as_deref() != Some(successor_hash) || !current {
                return Ok(Refresh::Invalid);
            }
            // The same successor again: nothing to write.
            return Ok(Refresh::Rotated {
                user_id: r.text(6)?,
                device_id,
                generation,
                retry: true,
            });
        }
        if !current {
            return Ok(Refresh::Invalid);
        }
        tx.execute(
            "UPDATE lapak_refresh_tokens SET rotated_at = $1, replaced_by = $2 WHERE token_hash = $3",
            &[
                Arg::Int(now_ms),
                Arg::Text(successor_hash.to_owned()),
                Arg::Text(token_hash.to_owned()),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO lapak_refresh_tokens (token_hash, device_id, generation, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                Arg::Text(successor_hash.to_owned()),
                Arg::Text(device_id.to_string()),
                Arg::Int(generation),
                Arg::Int(now_ms),
                Arg::Int(expires_ms),
            ],
        )
        .await?;
        let user_id = r.text(6)?;
        tx.commit().await?;
        Ok(Refresh::Rotated {
            user_id,
            device_id,
            generation,
            retry: false,
        })
    }

    async fn revoke_sessions(&self, device_id: Uuid, now_ms: i64) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        revoke_sessions_in(&mut tx, device_id, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<Uuid>,
        now_ms: i64,
    ) -> Result<()> {
        let devices = self
            .pool
            .fetch_all(
                "SELECT id FROM lapak_devices WHERE user_id = $1",
                &[Arg::Text(user_id.to_owned())],
            )
            .await?;
        let mut tx = self.pool.begin_write().await?;
        for r in devices {
            let id = Uuid::parse_str(&r.text(0)?)
                .map_err(|e| StorageError::Corrupt(format!("device id: {e}")))?;
            if Some(id) != except {
                revoke_sessions_in(&mut tx, id, now_ms).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_device(&self, device_id: Uuid, now_ms: i64) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        let n = tx
            .execute(
                "UPDATE lapak_devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                &[Arg::Int(now_ms), Arg::Text(device_id.to_string())],
            )
            .await?;
        if n == 0 {
            let exists = tx
                .fetch_optional(
                    "SELECT 1 FROM lapak_devices WHERE id = $1",
                    &[Arg::Text(device_id.to_string())],
                )
                .await?;
            if exists.is_none() {
                return Err(StorageError::NotFound(format!("no device {device_id}")));
            }
        }
        revoke_sessions_in(&mut tx, device_id, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl SqlStorage {
    async fn grants_of(&self, user_id: &str) -> Result<Vec<Grant>> {
        self.pool
            .fetch_all(
                "SELECT scope, can_write FROM lapak_grants WHERE user_id = $1 ORDER BY scope",
                &[Arg::Text(user_id.to_owned())],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Grant {
                    scope: r.text(0)?,
                    write: r.boolean(1)?,
                })
            })
            .collect()
    }

    async fn replace_grants(tx: &mut Tx, user_id: &str, grants: &[Grant]) -> Result<()> {
        tx.execute(
            "DELETE FROM lapak_grants WHERE user_id = $1",
            &[Arg::Text(user_id.to_owned())],
        )
        .await?;
        let mut seen = Vec::new();
        for g in grants {
            if seen.contains(&&g.scope) {
                continue;
            }
            seen.push(&g.scope);
            tx.execute(
                "INSERT INTO lapak_grants (user_id, scope, can_write) VALUES ($1, $2, $3)",
                &[
                    Arg::Text(user_id.to_owned()),
                    Arg::Text(g.scope.clone()),
                    Arg::Bool(g.write),
                ],
            )
            .await?;
        }
        Ok(())
    }
}

/// Grants as stored: one per scope (the first given wins), sorted by scope.
fn dedup_grants(grants: &[Grant]) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::new();
    for g in grants {
        if !out.iter().any(|o| o.scope == g.scope) {
            out.push(g.clone());
        }
    }
    out.sort_by(|a, b| a.scope.cmp(&b.scope));
    out
}

async fn revoke_sessions_in(tx: &mut Tx, device_id: Uuid, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE lapak_devices SET session_generation = session_generation + 1 WHERE id = $1",
        &[Arg::Text(device_id.to_string())],
    )
    .await?;
    tx.execute(
        "UPDATE lapak_refresh_tokens SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL",
        &[Arg::Int(now_ms), Arg::Text(device_id.to_string())],
    )
    .await?;
    Ok(())
}
