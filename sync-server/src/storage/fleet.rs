//! The devices as the back office sees them: who owns each, the app version it reported, when
//! it was last seen, how far behind its scopes it is ([`BackOffice::record_pulled`](super::BackOffice::record_pulled) keeps the
//! positions each pull served), and the changes the server rejected from them. Every listing
//! is cut to a [`Visibility`] and paged.

use std::collections::HashMap;

use lapak_core::protocol::Cursor;
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::Result;
use super::back_office::Visibility;
use super::db::Arg;
use super::sql::SqlStorage;

/// Changes not yet pulled are counted up to this many per scope; the admin web shows more as
/// "10,000+".
pub const BEHIND_CAP: i64 = 10_000;

/// One page of a listing, and how many rows match in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows matching the filter, over every page.
    #[ts(type = "number")]
    pub total: i64,
}

/// A device as the admin web lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Owner's login name.
    pub username: String,
    /// Name given at login (`POS 2, Jakarta 01`).
    pub name: String,
    /// The app and version it reported at its last login (`lapak-pos/0.1.0`).
    pub app_version: Option<String>,
    /// When it first logged in (ms since the epoch).
    #[ts(type = "number")]
    pub registered_at: i64,
    /// Its last request (ms).
    #[ts(type = "number | null")]
    pub last_seen_at: Option<i64>,
    /// Its last pull (ms).
    #[ts(type = "number | null")]
    pub pulled_at: Option<i64>,
    /// Changes in its scopes it has not pulled yet ([`BEHIND_CAP`] per scope at most); `None`
    /// before its first pull.
    #[ts(type = "number | null")]
    pub behind: Option<i64>,
    /// When an administrator revoked it.
    #[ts(type = "number | null")]
    pub revoked_at: Option<i64>,
}

/// Which devices to list.
#[derive(Clone, Debug, Default)]
pub struct DeviceFilter {
    /// Only those whose owner or name contains this (any case).
    pub search: Option<String>,
    /// Also revoked devices.
    pub include_revoked: bool,
    /// Skip this many (paging).
    pub offset: u32,
    /// At most this many.
    pub limit: u32,
}

/// A change the server rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Rejection {
    /// The change's id (the device's, unique).
    pub change_id: String,
    /// When it was received (ms).
    #[ts(type = "number")]
    pub received_at: i64,
    /// The device that sent it.
    pub device_id: String,
    /// Its name.
    pub device_name: String,
    /// Its owner.
    pub username: String,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// Why (`invalid`, `forbidden`, a business rule's code).
    pub code: String,
    /// What the device showed its user.
    pub message: String,
}

/// Which rejections to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct RejectionFilter {
    /// Only this code.
    pub code: Option<String>,
    /// Only this collection.
    pub collection: Option<String>,
    /// Only from this user's devices.
    pub username: Option<String>,
    /// Only from this device.
    pub device_id: Option<String>,
    /// Only those received at or after this time (ms).
    pub since: Option<i64>,
    /// Only those listed after this one (its `received_at` and `change_id`): the next page
    /// after a full one.
    pub after: Option<(i64, String)>,
    /// At most this many.
    pub limit: u32,
}

/// `%text%` for a `LIKE`, with the wildcards in `text` taken literally (escape `\`).
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl SqlStorage {
    /// Remembers the positions a pull served `device` (one row per scope), for how far behind
    /// it is.
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn store_pulled(
        &self,
        device: Uuid,
        served: &[Cursor],
        now_ms: i64,
    ) -> Result<()> {
        if served.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_write().await?;
        for c in served {
            tx.execute(
                "INSERT INTO lapak_device_cursors (device_id, scope, position, pulled_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (device_id, scope) DO UPDATE SET position = excluded.position, pulled_at = excluded.pulled_at",
                &[
                    Arg::Text(device.to_string()),
                    Arg::Text(c.scope.clone()),
                    Arg::Int(i64::try_from(c.position).unwrap_or(i64::MAX)),
                    Arg::Int(now_ms),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The app and version `device` reported at login (`None`: it did not say).
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn store_app_version(
        &self,
        device: Uuid,
        app_version: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        tx.execute(
            "UPDATE lapak_devices SET app_version = $1 WHERE id = $2",
            &[
                Arg::from(app_version.map(str::to_owned)),
                Arg::Text(device.to_string()),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn device_page(
        &self,
        visibility: &Visibility,
        filter: &DeviceFilter,
    ) -> Result<Page<DeviceRow>> {
        let mut args = Vec::new();
        let mut conds = vec![visibility.device_condition(self.pool.dialect(), "d.id", &mut args)];
        if !filter.include_revoked {
            conds.push("d.revoked_at IS NULL".into());
        }
        if let Some(s) = filter.search.as_deref().filter(|s| !s.is_empty()) {
            args.push(Arg::Text(contains_pattern(s)));
            let n = args.len();
            conds.push(format!(
                "(LOWER(u.username) LIKE ${n} ESCAPE '\\' OR LOWER(d.name) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let from = format!(
            "FROM lapak_devices d JOIN lapak_users u ON u.id = d.user_id WHERE {}",
            conds.join(" AND ")
        );
        let total = super::back_office::first(
            &self.read(&format!("SELECT COUNT(*) {from}"), &args).await?,
        )?
        .int(0)?;
        args.push(Arg::Int(i64::from(filter.limit.clamp(1, 500))));
        args.push(Arg::Int(i64::from(filter.offset)));
        let sql = format!(
            "SELECT d.id, u.username, d.name, d.app_version, d.registered_at, d.last_seen_at, d.revoked_at \
             {from} ORDER BY d.last_seen_at DESC NULLS LAST, d.id LIMIT ${} OFFSET ${}",
            args.len() - 1,
            args.len()
        );
        let mut rows = Vec::new();
        for r in self.read(&sql, &args).await? {
            rows.push(DeviceRow {
                id: r.text(0)?,
                username: r.text(1)?,
                name: r.text(2)?,
                app_version: r.opt_text(3)?,
                registered_at: r.int(4)?,
                last_seen_at: r.opt_int(5)?,
                pulled_at: None,
                behind: None,
                revoked_at: r.opt_int(6)?,
            });
        }
        self.fill_behind(&mut rows).await?;
        Ok(Page { rows, total })
    }

    /// Sets each row's `pulled_at` and `behind` from the positions its pulls were served.
    async fn fill_behind(&self, rows: &mut [DeviceRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut args = vec![Arg::TextList(ids)];
        let listed = self.pool.dialect().in_list("device_id", args.len());
        let cursors = self
            .read(
                &format!(
                    "SELECT device_id, scope, position, pulled_at FROM lapak_device_cursors WHERE {listed}"
                ),
                &std::mem::take(&mut args),
            )
            .await?;
        let mut unpulled: HashMap<(String, i64), i64> = HashMap::new();
        let mut per_device: HashMap<String, (i64, i64)> = HashMap::new();
        for c in &cursors {
            let key = (c.text(1)?, c.int(2)?);
            let n = match unpulled.get(&key) {
                Some(n) => *n,
                None => {
                    let n = self.changes_after(&key.0, key.1).await?;
                    unpulled.insert(key, n);
                    n
                }
            };
            let entry = per_device.entry(c.text(0)?).or_insert((0, 0));
            entry.0 += n;
            entry.1 = entry.1.max(c.int(3)?);
        }
        for row in rows {
            if let Some((behind, pulled_at)) = per_device.get(&row.id) {
                row.behind = Some(*behind);
                row.pulled_at = Some(*pulled_at);
            }
        }
        Ok(())
    }

    /// Entries of `scope`'s log past `position`, counted up to [`BEHIND_CAP`].
    async fn changes_after(&self, scope: &str, position: i64) -> Result<i64> {
        let rows = self
            .read(
                "SELECT COUNT(*) FROM (SELECT 1 FROM lapak_log WHERE scope = $1 AND position > $2 LIMIT $3) AS past",
                &[
                    Arg::Text(scope.to_owned()),
                    Arg::Int(position),
                    Arg::Int(BEHIND_CAP),
                ],
            )
            .await?;
        Ok(super::back_office::first(&rows)?.int(0)?)
    }

    pub(crate) async fn rejection_page(
        &self,
        visibility: &Visibility,
        filter: &RejectionFilter,
    ) -> Result<Vec<Rejection>> {
        let mut args = Vec::new();
        let mut conds = vec![
            "c.status = 'rejected'".to_owned(),
            visibility.device_condition(self.pool.dialect(), "c.device_id", &mut args),
        ];
        for (column, value) in [
            ("c.code", &filter.code),
            ("c.collection", &filter.collection),
            ("u.username", &filter.username),
            ("c.device_id", &filter.device_id),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                args.push(Arg::Text(v.to_owned()));
                conds.push(format!("{column} = ${}", args.len()));
            }
        }
        if let Some(since) = filter.since {
            args.push(Arg::Int(since));
            conds.push(format!("c.received_at >= ${}", args.len()));
        }
        if let Some((at, change)) = &filter.after {
            args.push(Arg::Int(*at));
            args.push(Arg::Text(change.clone()));
            let (a, c) = (args.len() - 1, args.len());
            conds.push(format!(
                "(c.received_at < ${a} OR (c.received_at = ${a} AND c.change_id < ${c}))"
            ));
        }
        args.push(Arg::Int(i64::from(filter.limit.clamp(1, 1_000))));
        let sql = format!(
            "SELECT c.change_id, c.received_at, c.device_id, COALESCE(d.name, ''), COALESCE(u.username, ''), \
             c.collection, c.record_id, COALESCE(c.code, ''), COALESCE(c.message, '') \
             FROM lapak_changes c LEFT JOIN lapak_devices d ON d.id = c.device_id \
             LEFT JOIN lapak_users u ON u.id = d.user_id \
             WHERE {} ORDER BY c.received_at DESC, c.change_id DESC LIMIT ${}",
            conds.join(" AND "),
            args.len()
        );
        self.read(&sql, &args)
            .await?
            .iter()
            .map(|r| {
                Ok(Rejection {
                    change_id: r.text(0)?,
                    received_at: r.int(1)?,
                    device_id: r.text(2)?,
                    device_name: r.text(3)?,
                    username: r.text(4)?,
                    collection: r.text(5)?,
                    record_id: r.text(6)?,
                    code: r.text(7)?,
                    message: r.text(8)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_takes_wildcards_literally() {
        assert_eq!(super::contains_pattern("Ani_%"), "%ani\\_\\%%");
    }
}
