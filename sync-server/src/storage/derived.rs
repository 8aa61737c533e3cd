//! Storage's half of the rows the server derives from tallies (`engine::derived`): loading the
//! stored state of the rows a write places, moving a customer's dues row with the customer,
//! and the backfill at start of the rows of tallies written before they existed.
//!
//! Every write here happens under the head lock, in the transaction of the write that causes
//! it (a push, a back-office write) or, for the backfill, in transactions of at most
//! [`BACKFILL_BATCH`] rows that re-check under the lock what is still missing, so repeating the
//! backfill, or two servers starting at once, writes nothing twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lapak_core::Record;

use super::Result;
use super::db::{Arg, Tx, quote_ident};
use super::sql::{SqlStorage, load_references};
use crate::engine::derived::{self, DerivedRow, SOURCES, Source};
use crate::engine::{Context, Plan, StoredReference};
use crate::rules::{Facts, Needs, Tally};

/// What moving derived rows with the rows that place them needs: the tallies of the written
/// rows that exist, and the stored state of the derived rows they own
/// ([`SqlStorage::load_placing`]).
#[derive(Default)]
pub(super) struct Placing {
    tallies: HashMap<String, i64>,
    current: HashMap<(String, String), StoredReference>,
}

impl Placing {
    /// Moves, in `plan`, the derived rows that `written` rows of `collection` place (rows
    /// this was loaded for; each id written once).
    pub(super) fn follow(
        &self,
        ctx: &Context<'_>,
        collection: &str,
        written: &[(String, Option<Record>)],
        plan: &mut Plan,
    ) {
        if self.tallies.is_empty() {
            return;
        }
        let rows = derived::follow_placing(
            ctx.schema,
            collection,
            written,
            &self.tallies,
            &self.current,
        );
        derived::place(ctx, plan, &rows, &self.current);
    }
}

/// The most derived rows one backfill transaction writes.
pub const BACKFILL_BATCH: usize = 2_000;

/// The stored state of `rows`, by collection and id (absent: never written).
pub(super) async fn stored_state(
    tx: &mut Tx,
    rows: &[DerivedRow],
) -> Result<HashMap<(String, String), StoredReference>> {
    let mut by_collection: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in rows {
        by_collection
            .entry(r.collection.as_str())
            .or_default()
            .push(r.id.clone());
    }
    let mut out = HashMap::new();
    for (collection, ids) in by_collection {
        for (id, state) in load_references(tx, collection, &ids).await? {
            out.insert((collection.to_owned(), id), state);
        }
    }
    Ok(out)
}

/// The tallies of `keys` that exist, with their values.
async fn existing_tallies(tx: &mut Tx, keys: &[String]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(5_000) {
        let rows = tx
            .fetch_all_dynamic(
                &format!(
                    "SELECT key, value FROM lapak_tallies WHERE {}",
                    tx.dialect().in_list("key", 1)
                ),
                &[Arg::TextList(chunk.to_vec())],
            )
            .await?;
        for r in &rows {
            out.insert(r.text(0)?, r.int(1)?);
        }
    }
    Ok(out)
}

/// The keys and values of `source`'s tallies whose derived row is missing or holds another
/// value (only among `keys` when given).
async fn stale(tx: &mut Tx, source: Source, keys: Option<&[String]>) -> Result<Vec<(String, i64)>> {
    let prefix = source.prefix();
    let mut sql = format!(
        "SELECT t.key, t.value FROM lapak_tallies t LEFT JOIN {table} d ON d.id = substr(t.key, {from}) \
         WHERE t.key LIKE '{prefix}%' AND (d.id IS NULL OR d.{value} IS NULL OR d.{value} <> t.value)",
        table = quote_ident(source.collection()),
        from = prefix.len() + 1,
        value = quote_ident(source.value_field()),
    );
    let mut args = Vec::new();
    if let Some(keys) = keys {
        sql.push_str(" AND ");
        sql.push_str(&tx.dialect().in_list("t.key", 1));
        args.push(Arg::TextList(keys.to_vec()));
    }
    sql.push_str(" ORDER BY t.key");
    tx.fetch_all_dynamic(&sql, &args)
        .await?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect()
}

impl SqlStorage {
    /// Writes the derived rows a push's accepted facts changed (`plan.derived`) into the plan,
    /// after loading their stored state.
    pub(super) async fn place_derived(
        &self,
        tx: &mut Tx,
        ctx: &Context<'_>,
        plan: &mut Plan,
    ) -> Result<()> {
        if plan.derived.is_empty() {
            return Ok(());
        }
        let rows = plan.derived.clone();
        let current = stored_state(tx, &rows).await?;
        derived::place(ctx, plan, &rows, &current);
        Ok(())
    }

    /// After the back office wrote `written` rows of `collection`, moves the derived rows they
    /// place (a customer's dues row, to the customer's new scopes; deleted with the customer).
    pub(super) async fn follow_placing(
        &self,
        tx: &mut Tx,
        ctx: &Context<'_>,
        collection: &str,
        written: &[(String, Option<Record>)],
        plan: &mut Plan,
    ) -> Result<()> {
        let placing = self.load_placing(tx, collection, written).await?;
        placing.follow(ctx, collection, written, plan);
        Ok(())
    }

    /// What moving the derived rows that `written` rows of `collection` place needs from the
    /// database, loaded before any of them is planned.
    pub(super) async fn load_placing(
        &self,
        tx: &mut Tx,
        collection: &str,
        written: &[(String, Option<Record>)],
    ) -> Result<Placing> {
        let ids: BTreeSet<&String> = written.iter().map(|(id, _)| id).collect();
        let ids: Vec<&String> = ids.into_iter().collect();
        let keys = derived::placed_keys(&self.schema, collection, &ids);
        if keys.is_empty() {
            return Ok(Placing::default());
        }
        let tallies = existing_tallies(tx, &keys).await?;
        if tallies.is_empty() {
            return Ok(Placing::default());
        }
        let owed: Vec<DerivedRow> = SOURCES
            .iter()
            .filter(|s| s.placed_by() == Some(collection))
            .flat_map(|s| {
                ids.iter()
                    .filter(|id| tallies.contains_key(&format!("{}{id}", s.prefix())))
                    .map(|id| DerivedRow {
                        collection: s.collection().to_owned(),
                        id: (*id).clone(),
                        record: None,
                    })
            })
            .collect();
        let current = stored_state(tx, &owed).await?;
        Ok(Placing { tallies, current })
    }

    /// Writes the derived rows of tallies that have none, or a stale one (a database of a
    /// server before derived rows): in transactions of at most [`BACKFILL_BATCH`] rows, each
    /// re-checking under the head lock what is still stale. Returns how many were written.
    ///
    /// # Errors
    /// Database errors.
    pub async fn backfill_derived(&self, now_ms: i64) -> Result<u64> {
        let mut written = 0;
        for source in SOURCES.iter().filter(|s| s.served_by(&self.schema)) {
            let mut tx = self.pool.begin_read().await?;
            let keys: Vec<String> = stale(&mut tx, *source, None)
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            tx.commit().await?;
            for chunk in keys.chunks(BACKFILL_BATCH) {
                written += self.backfill_batch(*source, chunk, now_ms).await?;
            }
        }
        if written > 0 {
            tracing::info!(rows = written, "derived rows written for existing tallies");
        }
        Ok(written)
    }

    async fn backfill_batch(&self, source: Source, keys: &[String], now_ms: i64) -> Result<u64> {
        let mut tx = self.pool.begin_write().await?;
        let head = self.lock_head(&mut tx).await?;
        let tallies: BTreeMap<String, Tally> = stale(&mut tx, source, Some(keys))
            .await?
            .into_iter()
            .map(|(k, value)| (k, Tally { value, note: None }))
            .collect();
        let mut facts = Facts::new();
        let mut needs = Needs::new(&facts);
        for k in tallies.keys() {
            derived::reads(&self.schema, k, &mut needs);
        }
        let lookups = needs.into_lookups();
        self.load_facts(&mut tx, &lookups, &mut facts).await?;
        let rows = derived::rows(&self.schema, &tallies, &facts);
        let current = stored_state(&mut tx, &rows).await?;
        let ctx = self.context(head, now_ms, "backfill");
        let mut plan = Plan {
            head,
            ..Plan::default()
        };
        derived::place(&ctx, &mut plan, &rows, &current);
        let count = plan.references.len() as u64;
        if count > 0 {
            Self::fill_previous_heads(&mut tx, &mut plan).await?;
            self.write_plan(&mut tx, &plan, None, now_ms, None).await?;
        }
        tx.commit().await?;
        Ok(count)
    }
}
