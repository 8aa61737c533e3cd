//! Which records reference a photo, read from the plain tables: each collection's photo lists
//! ([`lapak_core::Collection::photos`]) are child tables with a `ref` column (indexed, see
//! `materialize`). A photo may be uploaded and fetched only through a record that references
//! it, so these reads decide who may do either, and which photos are collected as garbage.

use std::collections::BTreeSet;

use async_trait::async_trait;
use lapak_core::{Record, Value};

use super::db::{Arg, quote_ident};
use super::materialize::child_table;
use super::{Result, SqlStorage, Storage};

/// A record that references a photo, and the scopes it lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrer {
    /// Its collection.
    pub collection: String,
    /// Its id.
    pub record_id: String,
    /// Its scopes (`territory:T-1`, ...).
    pub scopes: Vec<String>,
}

/// A photo on a record, as the admin API lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecordPhoto {
    /// The list field it is in (`photos`).
    pub field: String,
    /// Its reference, `sha256:<hex>`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// When it was taken, ms since the epoch.
    pub taken_at: Option<i64>,
    /// Its caption.
    pub caption: Option<String>,
}

/// Reads of the records that reference photos.
#[async_trait]
pub trait PhotoRefs: Send + Sync {
    /// The records referencing `reference` (`sha256:<hex>`), with their scopes.
    async fn photo_referrers(&self, reference: &str) -> Result<Vec<Referrer>>;
    /// Every photo some record references.
    async fn referenced_photos(&self) -> Result<BTreeSet<String>>;
    /// The photos of one record, in list order; `None` when the record does not exist or its
    /// collection keeps no photos.
    async fn record_photos(&self, collection: &str, id: &str) -> Result<Option<Vec<RecordPhoto>>>;
}

/// The scope fields of a collection: the parent columns a referrer's scopes are made from.
fn scope_fields(c: &lapak_core::Collection) -> Vec<String> {
    c.scope_rules()
        .iter()
        .filter_map(|r| match r {
            lapak_core::schema::ScopeRule::Field { field, .. } => Some(field.clone()),
            lapak_core::schema::ScopeRule::Org => None,
        })
        .collect()
}

#[async_trait]
impl PhotoRefs for SqlStorage {
    async fn photo_referrers(&self, reference: &str) -> Result<Vec<Referrer>> {
        let schema = self.schema();
        let mut out = Vec::new();
        let mut tx = self.pool.begin_read().await?;
        for c in schema.collections() {
            let fields = scope_fields(c);
            for list in c.attachments() {
                let cols: String = fields
                    .iter()
                    .map(|f| format!(", p.{}", quote_ident(f)))
                    .collect();
                let sql = format!(
                    "SELECT DISTINCT p.id{cols} FROM {} r JOIN {} p ON p.id = r.parent_id WHERE r.{} = $1",
                    quote_ident(&child_table(c.name(), list)),
                    quote_ident(c.name()),
                    quote_ident("ref"),
                );
                let rows = tx
                    .fetch_all_dynamic(&sql, &[Arg::Text(reference.to_owned())])
                    .await?;
                for r in &rows {
                    let mut record = Record::new();
                    for (i, f) in fields.iter().enumerate() {
                        if let Some(v) = r.opt_text(i + 1)? {
                            record.insert(f.clone(), Value::Text(v));
                        }
                    }
                    out.push(Referrer {
                        collection: c.name().to_owned(),
                        record_id: r.text(0)?,
                        scopes: c.scopes_of(&record),
                    });
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn referenced_photos(&self) -> Result<BTreeSet<String>> {
        let schema = self.schema();
        let mut out = BTreeSet::new();
        let mut tx = self.pool.begin_read().await?;
        for c in schema.collections() {
            for list in c.attachments() {
                let sql = format!(
                    "SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL",
                    quote_ident("ref"),
                    quote_ident(&child_table(c.name(), list)),
                    quote_ident("ref"),
                );
                for r in tx.fetch_all_dynamic(&sql, &[]).await? {
                    out.insert(r.text(0)?);
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn record_photos(&self, collection: &str, id: &str) -> Result<Option<Vec<RecordPhoto>>> {
        let schema = self.schema();
        let Ok(c) = schema.collection(collection) else {
            return Ok(None);
        };
        if c.attachments().is_empty() {
            return Ok(None);
        }
        let mut tx = self.pool.begin_read().await?;
        let exists = tx
            .fetch_all_dynamic(
                &format!("SELECT id FROM {} WHERE id = $1", quote_ident(c.name())),
                &[Arg::Text(id.to_owned())],
            )
            .await?;
        if exists.is_empty() {
            tx.commit().await?;
            return Ok(None);
        }
        let mut out = Vec::new();
        for list in c.attachments() {
            let sql = format!(
                "SELECT {}, taken_at, caption FROM {} WHERE parent_id = $1 ORDER BY idx",
                quote_ident("ref"),
                quote_ident(&child_table(c.name(), list)),
            );
            for r in tx
                .fetch_all_dynamic(&sql, &[Arg::Text(id.to_owned())])
                .await?
            {
                out.push(RecordPhoto {
                    field: list.clone(),
                    reference: r.opt_text(0)?.unwrap_or_default(),
                    taken_at: r.opt_int(1)?,
                    caption: r.opt_text(2)?,
                });
            }
        }
        tx.commit().await?;
        Ok(Some(out))
    }
}
