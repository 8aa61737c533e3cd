//! Loading what the business rules ask to read (see `rules::Rule::reads`) inside a push's
//! transaction, batched: records by id and by field values per collection from the plain
//! tables, tallies by key. Postgres gets the keys as arrays (`Dialect::in_list`, `UNNEST`).

use std::collections::{BTreeSet, HashMap};

use lapak_core::Record;

use super::Result;
use super::db::{Arg, Tx};
use super::materialize;
use super::sql::SqlStorage;
use crate::rules::{Facts, Lookup, Tally};

/// Answers a lookup by text nothing stored can hold (a NUL, which Postgres refuses even in a
/// query's parameters, and which no stored row has on either backend): not found, without
/// asking the database. So a hostile value read from a pushed record gets its change a verdict
/// instead of failing the whole push.
fn answer_unstorable(lookup: &Lookup, facts: &mut Facts) -> bool {
    let nul = |t: &str| t.contains('\0');
    match lookup {
        Lookup::Row { collection, id } if nul(id) => facts.put_row(collection, id, None),
        Lookup::Where { collection, equal } if equal.iter().any(|(_, v)| nul(v)) => {
            facts.put_query(collection, equal.clone(), Vec::new());
        }
        Lookup::Tally(k) if nul(k) => facts.put_tally(k, Tally::default()),
        _ => return false,
    }
    true
}

impl SqlStorage {
    /// Loads what the rules asked for, batched: rows by id and by field values per collection,
    /// tallies by key.
    pub(super) async fn load_facts(
        &self,
        tx: &mut Tx,
        lookups: &BTreeSet<Lookup>,
        facts: &mut Facts,
    ) -> Result<()> {
        let mut by_id: HashMap<&str, Vec<Vec<String>>> = HashMap::new();
        let mut by_fields: HashMap<(&str, Vec<&str>), Vec<Vec<String>>> = HashMap::new();
        let mut tallies: Vec<&str> = Vec::new();
        for l in lookups {
            if answer_unstorable(l, facts) {
                continue;
            }
            match l {
                Lookup::Row { collection, id } => {
                    by_id
                        .entry(collection.as_str())
                        .or_default()
                        .push(vec![id.clone()]);
                }
                Lookup::Where { collection, equal } => {
                    by_fields
                        .entry((
                            collection.as_str(),
                            equal.iter().map(|(f, _)| f.as_str()).collect(),
                        ))
                        .or_default()
                        .push(equal.iter().map(|(_, v)| v.clone()).collect());
                }
                Lookup::Tally(k) => tallies.push(k),
            }
        }
        for (collection, ids) in by_id {
            let Ok(c) = self.schema.collection(collection) else {
                continue;
            };
            for (id, record) in materialize::read_rows(tx, c, &["id"], &ids).await? {
                facts.put_row(collection, &id, Some(record));
            }
            for id in &ids {
                if !facts.has(&Lookup::Row {
                    collection: collection.to_owned(),
                    id: id[0].clone(),
                }) {
                    facts.put_row(collection, &id[0], None);
                }
            }
        }
        for ((collection, fields), filters) in by_fields {
            let Ok(c) = self.schema.collection(collection) else {
                continue;
            };
            let rows = materialize::read_rows(tx, c, &fields, &filters).await?;
            for f in filters {
                let matching: Vec<(String, Record)> = rows
                    .iter()
                    .filter(|(_, r)| {
                        fields.iter().zip(&f).all(|(name, v)| {
                            r.get(*name).and_then(lapak_core::Value::as_text) == Some(v.as_str())
                        })
                    })
                    .cloned()
                    .collect();
                facts.put_query(
                    collection,
                    fields
                        .iter()
                        .zip(&f)
                        .map(|(n, v)| ((*n).to_owned(), v.clone()))
                        .collect(),
                    matching,
                );
            }
        }
        for chunk in tallies.chunks(5_000) {
            let rows = tx
                .fetch_all_dynamic(
                    &format!(
                        "SELECT key, value, note FROM lapak_tallies WHERE {}",
                        tx.dialect().in_list("key", 1)
                    ),
                    &[Arg::TextList(
                        chunk.iter().map(|k| (*k).to_owned()).collect(),
                    )],
                )
                .await?;
            for r in &rows {
                facts.put_tally(
                    &r.text(0)?,
                    Tally {
                        value: r.int(1)?,
                        note: r.opt_text(2)?,
                    },
                );
            }
            for k in chunk {
                if !facts.has(&Lookup::Tally((*k).to_owned())) {
                    facts.put_tally(k, Tally::default());
                }
            }
        }
        Ok(())
    }
}
