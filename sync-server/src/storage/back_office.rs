//! What the admin web reads: the day at a glance ([`BackOffice::today`]), each answer cut to
//! what the caller may see ([`Visibility`]: everything for administrators, a supervisor's own
//! branches and territories otherwise). Plain SQL aggregations over the materialized tables and
//! the engine's own, the same on both backends.

use async_trait::async_trait;
use lapak_core::Collection;
use lapak_core::protocol::Cursor;
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::Result;
use super::db::{Arg, DbRow, Dialect};
use super::fleet::{DeviceFilter, DeviceRow, Page, Rejection, RejectionFilter};
use super::master_data::{DataCollection, DataRow};
use super::reports::{Report, ReportQuery};
use super::sql::SqlStorage;
use crate::auth::Principal;

/// What a back-office caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Everything: administrators, and grants of `*`.
    Everything,
    /// Only these branches and territories (a supervisor's region).
    Only {
        /// Branch codes (from `branch:<code>` grants).
        branches: Vec<String>,
        /// Territory codes (from `territory:<code>` grants).
        territories: Vec<String>,
    },
}

impl Visibility {
    /// What `principal` may see.
    #[must_use]
    pub fn of(principal: &Principal) -> Self {
        if principal.is_admin() || principal.grants.iter().any(|g| g.scope == "*") {
            return Visibility::Everything;
        }
        let codes = |prefix: &str| {
            principal
                .grants
                .iter()
                .filter_map(|g| g.scope.strip_prefix(prefix).map(str::to_owned))
                .collect()
        };
        Visibility::Only {
            branches: codes("branch:"),
            territories: codes("territory:"),
        }
    }

    /// The scopes (`branch:<code>`, `territory:<code>`) visible, `None` for everything.
    #[must_use]
    pub fn scopes(&self) -> Option<Vec<String>> {
        match self {
            Visibility::Everything => None,
            Visibility::Only {
                branches,
                territories,
            } => Some(
                branches
                    .iter()
                    .map(|b| format!("branch:{b}"))
                    .chain(territories.iter().map(|t| format!("territory:{t}")))
                    .collect(),
            ),
        }
    }

    /// An SQL condition that `column` holds a visible branch (`1 = 1` for everything), its
    /// values appended to `args`.
    #[must_use]
    pub(crate) fn branch_condition(&self, d: Dialect, column: &str, args: &mut Vec<Arg>) -> String {
        match self {
            Visibility::Everything => "1 = 1".into(),
            Visibility::Only { branches, .. } => in_list(d, column, branches, args),
        }
    }

    /// An SQL condition that `column` holds a visible territory.
    #[must_use]
    pub(crate) fn territory_condition(
        &self,
        d: Dialect,
        column: &str,
        args: &mut Vec<Arg>,
    ) -> String {
        match self {
            Visibility::Everything => "1 = 1".into(),
            Visibility::Only { territories, .. } => in_list(d, column, territories, args),
        }
    }

    /// An SQL condition that the device in `column` belongs to a user granted one of the
    /// visible scopes: whose devices (and their rejections) a supervisor sees.
    #[must_use]
    pub(crate) fn device_condition(&self, d: Dialect, column: &str, args: &mut Vec<Arg>) -> String {
        let Some(scopes) = self.scopes() else {
            return "1 = 1".into();
        };
        let scopes = in_list(d, "g.scope", &scopes, args);
        format!(
            "{column} IN (SELECT dv.id FROM lapak_devices dv JOIN lapak_grants g ON g.user_id = dv.user_id WHERE {scopes})"
        )
    }
}

/// `column` is one of `values` (one list parameter), or a condition that holds for nothing when
/// `values` is empty.
fn in_list(d: Dialect, column: &str, values: &[String], args: &mut Vec<Arg>) -> String {
    if values.is_empty() {
        return "1 = 0".into();
    }
    args.push(Arg::TextList(values.to_vec()));
    d.in_list(column, args.len())
}

/// The sales of one branch over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct BranchSales {
    /// Branch code.
    pub branch: String,
    /// Branch name (the code when the branch is not in master data).
    pub name: String,
    /// Invoices.
    #[ts(type = "number")]
    pub invoices: i64,
    /// Their total, rupiah.
    #[ts(type = "number")]
    pub total: i64,
}

/// Devices at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct DeviceCounts {
    /// Devices not revoked.
    #[ts(type = "number")]
    pub active: i64,
    /// Of those, seen in the last five minutes.
    #[ts(type = "number")]
    pub online: i64,
    /// Of those, not seen for more than a day.
    #[ts(type = "number")]
    pub silent: i64,
}

/// The day at a glance: the admin web's first page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Today {
    /// When the business's day began, ms since the epoch.
    #[ts(type = "number")]
    pub day_started_at: i64,
    /// Sales since then, by branch.
    pub sales: Vec<BranchSales>,
    /// Devices.
    pub devices: DeviceCounts,
    /// Exceptions not yet resolved.
    #[ts(type = "number")]
    pub open_exceptions: i64,
    /// Changes rejected in the last 24 hours.
    #[ts(type = "number")]
    pub rejections_last_day: i64,
    /// Outbox events not yet published to the brokers (administrators only).
    #[ts(type = "number | null")]
    pub outbox_backlog: Option<i64>,
}

/// What the admin web reads.
#[async_trait]
pub trait BackOffice: Send + Sync {
    /// The day that began at `day_started_at`, as `visibility` may see it.
    async fn today(
        &self,
        visibility: &Visibility,
        day_started_at: i64,
        now_ms: i64,
    ) -> Result<Today>;
    /// A page of the devices `visibility` may see, most recently seen first.
    async fn devices(
        &self,
        visibility: &Visibility,
        filter: &DeviceFilter,
    ) -> Result<Page<DeviceRow>>;
    /// Rejected changes from the devices `visibility` may see, newest first.
    async fn rejections(
        &self,
        visibility: &Visibility,
        filter: &RejectionFilter,
    ) -> Result<Vec<Rejection>>;
    /// Remembers the positions a pull served `device`.
    async fn record_pulled(&self, device: Uuid, served: &[Cursor], now_ms: i64) -> Result<()>;
    /// Remembers the app and version `device` reported at login.
    async fn record_app_version(&self, device: Uuid, app_version: Option<&str>) -> Result<()>;
    /// Runs a report.
    async fn report(&self, query: &ReportQuery) -> Result<Report>;
    /// Folds invoices stored since the last time into the reports' rollups (days beginning at
    /// `utc_offset_seconds`); a report does it too, this keeps its share small.
    async fn fold_reports(&self, utc_offset_seconds: i32) -> Result<()>;
    /// The master-data (reference) collections, with their row counts.
    async fn data_collections(&self) -> Result<Vec<DataCollection>>;
    /// A page of `collection`'s rows in id order, matching `search` when given.
    async fn data_page(
        &self,
        collection: &Collection,
        search: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Page<DataRow>>;
}

/// Five minutes, in ms: a device seen within it is online.
const ONLINE_MS: i64 = 5 * 60 * 1000;
/// A day, in ms.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl SqlStorage {
    async fn sales_by_branch(
        &self,
        visibility: &Visibility,
        from_ms: i64,
    ) -> Result<Vec<BranchSales>> {
        let mut args = vec![Arg::Int(from_ms)];
        let visible = visibility.branch_condition(self.pool.dialect(), "s.branch", &mut args);
        let sql = format!(
            "SELECT s.branch, MAX(b.name), COUNT(*), CAST(COALESCE(SUM(s.total), 0) AS BIGINT) \
             FROM sales_invoices s LEFT JOIN branches b ON b.id = s.branch \
             WHERE s.sold_at >= $1 AND {visible} GROUP BY s.branch ORDER BY s.branch"
        );
        let rows = self.read(&sql, &args).await?;
        rows.iter()
            .map(|r| {
                let branch = r.text(0)?;
                Ok(BranchSales {
                    name: r.opt_text(1)?.unwrap_or_else(|| branch.clone()),
                    branch,
                    invoices: r.int(2)?,
                    total: r.int(3)?,
                })
            })
            .collect()
    }

    async fn device_counts(&self, visibility: &Visibility, now_ms: i64) -> Result<DeviceCounts> {
        let mut args = vec![Arg::Int(now_ms - ONLINE_MS), Arg::Int(now_ms - DAY_MS)];
        let visible = visibility.device_condition(self.pool.dialect(), "id", &mut args);
        let sql = format!(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN last_seen_at >= $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN last_seen_at IS NULL OR last_seen_at < $2 THEN 1 ELSE 0 END), 0) \
             FROM lapak_devices WHERE revoked_at IS NULL AND {visible}"
        );
        let rows = self.read(&sql, &args).await?;
        let row = first(&rows)?;
        Ok(DeviceCounts {
            active: row.int(0)?,
            online: row.int(1)?,
            silent: row.int(2)?,
        })
    }

    /// The rows of a query built at run time, in a read transaction.
    pub(crate) async fn read(&self, sql: &str, args: &[Arg]) -> Result<Vec<DbRow>> {
        let mut tx = self.pool.begin_read().await?;
        let rows = tx.fetch_all_dynamic(sql, args).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn count_where(&self, sql: &str, args: &[Arg]) -> Result<i64> {
        Ok(first(&self.read(sql, args).await?)?.int(0)?)
    }
}

#[async_trait]
impl BackOffice for SqlStorage {
    async fn today(
        &self,
        visibility: &Visibility,
        day_started_at: i64,
        now_ms: i64,
    ) -> Result<Today> {
        let sales = self.sales_by_branch(visibility, day_started_at).await?;
        let devices = self.device_counts(visibility, now_ms).await?;
        let mut args = Vec::new();
        let open_exceptions = match visibility.scopes() {
            None => {
                self.count_where(
                    "SELECT COUNT(*) FROM lapak_exceptions WHERE resolved_at IS NULL",
                    &[],
                )
                .await?
            }
            Some(scopes) => {
                let visible = scopes_condition("scopes", &scopes, &mut args);
                self.count_where(
                    &format!(
                        "SELECT COUNT(*) FROM lapak_exceptions WHERE resolved_at IS NULL AND ({visible})"
                    ),
                    &args,
                )
                .await?
            }
        };
        let mut args = vec![Arg::Int(now_ms - DAY_MS)];
        let visible = visibility.device_condition(self.pool.dialect(), "device_id", &mut args);
        let rejections_last_day = self
            .count_where(
                &format!(
                    "SELECT COUNT(*) FROM lapak_changes WHERE status = 'rejected' AND received_at >= $1 AND {visible}"
                ),
                &args,
            )
            .await?;
        let outbox_backlog = match visibility {
            Visibility::Everything => Some(
                self.count_where(
                    "SELECT COUNT(*) FROM lapak_outbox WHERE published_at IS NULL",
                    &[],
                )
                .await?,
            ),
            Visibility::Only { .. } => None,
        };
        Ok(Today {
            day_started_at,
            sales,
            devices,
            open_exceptions,
            rejections_last_day,
            outbox_backlog,
        })
    }

    async fn devices(
        &self,
        visibility: &Visibility,
        filter: &DeviceFilter,
    ) -> Result<Page<DeviceRow>> {
        self.device_page(visibility, filter).await
    }

    async fn rejections(
        &self,
        visibility: &Visibility,
        filter: &RejectionFilter,
    ) -> Result<Vec<Rejection>> {
        self.rejection_page(visibility, filter).await
    }

    async fn record_pulled(&self, device: Uuid, served: &[Cursor], now_ms: i64) -> Result<()> {
        self.store_pulled(device, served, now_ms).await
    }

    async fn record_app_version(&self, device: Uuid, app_version: Option<&str>) -> Result<()> {
        self.store_app_version(device, app_version).await
    }

    async fn data_collections(&self) -> Result<Vec<DataCollection>> {
        self.data_collections_now().await
    }

    async fn report(&self, query: &ReportQuery) -> Result<Report> {
        self.run_report(query).await
    }

    async fn fold_reports(&self, utc_offset_seconds: i32) -> Result<()> {
        self.fold_rollups(utc_offset_seconds).await
    }

    async fn data_page(
        &self,
        collection: &Collection,
        search: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Page<DataRow>> {
        self.data_page_of(collection, search, offset, limit).await
    }
}

/// The one row of an aggregate.
pub(crate) fn first(rows: &[DbRow]) -> Result<&DbRow> {
    rows.first()
        .ok_or_else(|| super::StorageError::Corrupt("an aggregate returned no row".into()))
}

/// An SQL condition that the JSON array of scopes in `column` holds one of `scopes`.
pub(crate) fn scopes_condition(column: &str, scopes: &[String], args: &mut Vec<Arg>) -> String {
    if scopes.is_empty() {
        return "1 = 0".into();
    }
    let mut any = Vec::with_capacity(scopes.len());
    for s in scopes {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        let escaped = quoted
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(Arg::Text(format!("%{escaped}%")));
        any.push(format!("{column} LIKE ${} ESCAPE '\\'", args.len()));
    }
    any.join(" OR ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Grant, Role};

    fn principal(role: Role, scopes: &[&str]) -> Principal {
        Principal {
            user_id: "u".into(),
            username: "u".into(),
            role,
            device_id: Uuid::nil(),
            grants: scopes
                .iter()
                .map(|s| Grant {
                    scope: (*s).into(),
                    write: true,
                })
                .collect(),
        }
    }

    #[test]
    fn a_supervisor_sees_the_branches_and_territories_granted() {
        let v = Visibility::of(&principal(
            Role::Supervisor,
            &["branch:JKT-01", "territory:T-1", "org"],
        ));
        assert_eq!(
            v,
            Visibility::Only {
                branches: vec!["JKT-01".into()],
                territories: vec!["T-1".into()],
            }
        );
        let mut args = Vec::new();
        assert_eq!(
            v.branch_condition(Dialect::Postgres, "branch", &mut args),
            "branch = ANY($1::text[])"
        );
        assert_eq!(
            Visibility::of(&principal(Role::Admin, &[])),
            Visibility::Everything
        );
        let none = Visibility::of(&principal(Role::Supervisor, &["org"]));
        assert_eq!(
            none.branch_condition(Dialect::Sqlite, "branch", &mut args),
            "1 = 0"
        );
    }

    #[test]
    fn a_scope_with_like_wildcards_matches_only_itself() {
        let mut args = Vec::new();
        let sql = scopes_condition("scopes", &["branch:A_%".into()], &mut args);
        assert_eq!(sql, "scopes LIKE $1 ESCAPE '\\'");
        assert!(matches!(&args[0], Arg::Text(t) if t == "%\"branch:A\\_\\%\"%"));
    }
}
