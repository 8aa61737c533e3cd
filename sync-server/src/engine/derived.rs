//! Rows the server derives from its tallies and delivers as read-only reference data: the stock
//! of an item at a branch (`stock:<branch>/<sku>` → `stock_levels` row `<branch>/<sku>`) and the
//! dues of a customer (`due:<customer>` → `customer_dues` row `<customer>`, in the customer's
//! scopes). Only collections the schema declares [`derived`](lapak_core::Collection::derived)
//! are written, so a schema without them derives nothing.
//!
//! A push's judgement lists the rows its changed tallies feed ([`rows`], one per tally, however
//! many entries moved it); storage loads their stored state and [`place`] writes them as
//! reference writes of the server (their own positions after the push's facts, previous
//! entries superseded, no event: the facts' own events tell what happened). When the back
//! office writes the row that places a derived row (a customer), [`follow_placing`] moves the
//! derived row with it. No device and no back-office write ever writes one.

use std::collections::{BTreeMap, HashMap};

use lapak_core::schema::Kind;
use lapak_core::{Record, Schema, Value};

use super::reference::write_row;
use super::{Plan, StoredReference, check_id, check_row};
use crate::rules::{Facts, Lookup, Needs, Tally};

/// One kind of derived row: the tally keys it follows and where its fields come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `stock:<branch>/<sku>` → `stock_levels` (`branch`, `sku`, `qty`).
    Stock,
    /// `due:<customer>` → `customer_dues` (`customer`, the customer's `branch` and
    /// `territory`, `due`).
    Due,
}

/// Every kind of derived row.
pub const SOURCES: [Source; 2] = [Source::Stock, Source::Due];

impl Source {
    /// The prefix of the tally keys it follows.
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Source::Stock => "stock:",
            Source::Due => "due:",
        }
    }

    /// The derived collection.
    #[must_use]
    pub fn collection(self) -> &'static str {
        match self {
            Source::Stock => "stock_levels",
            Source::Due => "customer_dues",
        }
    }

    /// The field holding the tally's value.
    #[must_use]
    pub fn value_field(self) -> &'static str {
        match self {
            Source::Stock => "qty",
            Source::Due => "due",
        }
    }

    /// The reference collection whose row (of the same id) places the derived row in its
    /// scopes, when there is one.
    #[must_use]
    pub fn placed_by(self) -> Option<&'static str> {
        match self {
            Source::Stock => None,
            Source::Due => Some("customers"),
        }
    }

    /// Whether `schema` declares this source's collection as derived reference data.
    #[must_use]
    pub fn served_by(self, schema: &Schema) -> bool {
        schema
            .collection(self.collection())
            .is_ok_and(|c| c.kind() == Kind::Reference && c.is_derived())
    }
}

/// A derived row to write: its collection, id and fields (`None`: delete it).
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedRow {
    /// The derived collection.
    pub collection: String,
    /// The row's id.
    pub id: String,
    /// Its fields, or `None` when it has no place any more (its customer was deleted).
    pub record: Option<Record>,
}

/// The source a tally key feeds in `schema`, and the rest of the key after the prefix.
fn source_of<'k>(schema: &Schema, key: &'k str) -> Option<(Source, &'k str)> {
    SOURCES.iter().find_map(|s| {
        key.strip_prefix(s.prefix())
            .filter(|rest| !rest.is_empty() && s.served_by(schema))
            .map(|rest| (*s, rest))
    })
}

/// Adds what deriving the row of tally `key` needs besides the tally: the `customers` row of a
/// due (the rules that move dues read it anyway, so this usually asks for nothing more).
pub fn reads(schema: &Schema, key: &str, needs: &mut Needs<'_>) {
    if let Some((source, rest)) = source_of(schema, key)
        && let Some(placing) = source.placed_by()
    {
        needs.row(placing, rest);
    }
}

/// The derived row of tally `key` at `value`. A due whose customer row was not loaded is
/// left alone (`None`); one whose customer does not exist has no place (its row is deleted).
fn row(source: Source, rest: &str, value: i64, facts: &Facts) -> Option<DerivedRow> {
    let text = |s: &str| Value::Text(s.to_owned());
    let mut record = Record::new();
    match source {
        Source::Stock => {
            let (branch, sku) = rest.split_once('/')?;
            if branch.is_empty() || sku.is_empty() {
                return None;
            }
            record.insert("branch".into(), text(branch));
            record.insert("sku".into(), text(sku));
        }
        Source::Due => {
            let placing = source.placed_by().unwrap_or("customers");
            let loaded = facts.has(&Lookup::Row {
                collection: placing.to_owned(),
                id: rest.to_owned(),
            });
            if !loaded {
                return None;
            }
            let Some(customer) = facts.row(placing, rest) else {
                return Some(DerivedRow {
                    collection: source.collection().to_owned(),
                    id: rest.to_owned(),
                    record: None,
                });
            };
            record.insert("customer".into(), text(rest));
            for f in ["branch", "territory"] {
                if let Some(Value::Text(t)) = customer.get(f)
                    && !t.is_empty()
                {
                    record.insert(f.into(), text(t));
                }
            }
        }
    }
    record.insert(source.value_field().into(), Value::Int(value));
    Some(DerivedRow {
        collection: source.collection().to_owned(),
        id: rest.to_owned(),
        record: Some(record),
    })
}

/// The derived rows `tallies` (the tallies a push changed, at their new values) feed: one per
/// tally key.
#[must_use]
pub fn rows(schema: &Schema, tallies: &BTreeMap<String, Tally>, facts: &Facts) -> Vec<DerivedRow> {
    tallies
        .iter()
        .filter_map(|(key, t)| {
            let (source, rest) = source_of(schema, key)?;
            row(source, rest, t.value, facts)
        })
        .collect()
}

/// The tally keys whose derived rows the back office's write of `ids` of `collection` may
/// move (a customer's dues follow the customer).
#[must_use]
pub fn placed_keys(schema: &Schema, collection: &str, ids: &[&String]) -> Vec<String> {
    SOURCES
        .iter()
        .filter(|s| s.placed_by() == Some(collection) && s.served_by(schema))
        .flat_map(|s| ids.iter().map(move |id| format!("{}{id}", s.prefix())))
        .collect()
}

/// The derived rows to move after the back office wrote `written` rows of `collection`:
/// those with a tally (`tallies`: key → value) whose scopes the write changed, or whose
/// placing row it deleted or brought back. `current` holds the derived rows' stored state.
#[must_use]
pub fn follow_placing(
    schema: &Schema,
    collection: &str,
    written: &[(String, Option<Record>)],
    tallies: &HashMap<String, i64>,
    current: &HashMap<(String, String), StoredReference>,
) -> Vec<DerivedRow> {
    // The last write of an id is the one that stands.
    let last: BTreeMap<&String, &Option<Record>> = written.iter().map(|(i, r)| (i, r)).collect();
    let mut out = Vec::new();
    for source in SOURCES
        .iter()
        .filter(|s| s.placed_by() == Some(collection) && s.served_by(schema))
    {
        let Ok(c) = schema.collection(source.collection()) else {
            continue;
        };
        for (id, placing) in &last {
            let Some(value) = tallies.get(&format!("{}{id}", source.prefix())) else {
                continue;
            };
            let mut facts = Facts::new();
            facts.put_row(collection, id, (*placing).clone());
            let Some(r) = row(*source, id, *value, &facts) else {
                continue;
            };
            let before = current.get(&(r.collection.clone(), (*id).clone()));
            let moved = match (&r.record, before) {
                (Some(f), Some(b)) => b.deleted || c.scopes_of(f) != b.scopes,
                (Some(_), None) => true,
                (None, Some(b)) => !b.deleted,
                (None, None) => false,
            };
            if moved {
                out.push(r);
            }
        }
    }
    out
}

/// Writes `rows` into `plan` as the server's reference writes, each at its own position after
/// the plan's, given their stored state (`current`, by collection and id; absent: never
/// written). A row that does not fit its collection (which no accepted fact produces) is
/// skipped with a warning rather than failing the facts that moved its tally.
pub fn place(
    ctx: &super::Context<'_>,
    plan: &mut Plan,
    rows: &[DerivedRow],
    current: &HashMap<(String, String), StoredReference>,
) {
    for r in rows {
        let Ok(c) = ctx.schema.collection(&r.collection) else {
            continue;
        };
        let written = match &r.record {
            Some(f) => match fits(c, &r.id, f) {
                Ok(scopes) => Some((f, scopes)),
                Err(detail) => {
                    tracing::warn!(collection = %r.collection, id = %r.id.escape_debug(), %detail, "derived row not written");
                    continue;
                }
            },
            None => None,
        };
        let before = current
            .get(&(r.collection.clone(), r.id.clone()))
            .cloned()
            .unwrap_or(StoredReference {
                scopes: Vec::new(),
                deleted: true,
                version: 0,
            });
        write_row(plan, c, &r.id, written, &before);
    }
}

/// The checks a back-office row passes (its id, the schema, storable text); its scopes.
fn fits(c: &lapak_core::Collection, id: &str, f: &Record) -> Result<Vec<String>, String> {
    check_id(id)?;
    check_row(c, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapak_core::record;

    fn tallies(pairs: &[(&str, i64)]) -> BTreeMap<String, Tally> {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    Tally {
                        value: *v,
                        note: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn stock_and_dues_tallies_feed_their_rows_and_nothing_else_does() {
        let schema = lapak_core::catalog::business();
        let mut facts = Facts::new();
        facts.put_row(
            "customers",
            "OUT-1",
            Some(record! {"name" => "Jaya", "branch" => "JKT-01", "territory" => "T-1"}),
        );
        facts.put_row("customers", "GONE", None);
        let out = rows(
            &schema,
            &tallies(&[
                ("stock:JKT-01/SKU/9", 7),
                ("due:OUT-1", 1_500),
                ("due:GONE", 3),
                ("due:NOT-LOADED", 3),
                ("drawer:JKT-01/POS-1", 10),
                ("stock:nobranch", 1),
            ]),
            &facts,
        );
        assert_eq!(
            out,
            vec![
                DerivedRow {
                    collection: "customer_dues".into(),
                    id: "GONE".into(),
                    record: None,
                },
                DerivedRow {
                    collection: "customer_dues".into(),
                    id: "OUT-1".into(),
                    record: Some(
                        record! {"customer" => "OUT-1", "branch" => "JKT-01", "territory" => "T-1", "due" => 1_500}
                    ),
                },
                DerivedRow {
                    collection: "stock_levels".into(),
                    id: "JKT-01/SKU/9".into(),
                    record: Some(record! {"branch" => "JKT-01", "sku" => "SKU/9", "qty" => 7}),
                },
            ]
        );
        // A schema without derived collections derives nothing.
        let starter = lapak_core::catalog::starter();
        assert!(rows(&starter, &tallies(&[("stock:A/B", 1)]), &facts).is_empty());
    }

    #[test]
    fn dues_follow_a_customer_only_when_its_scopes_change() {
        let schema = lapak_core::catalog::business();
        let at =
            |b: &str, t: &str| Some(record! {"name" => "Jaya", "branch" => b, "territory" => t});
        let stored = StoredReference {
            scopes: vec!["branch:JKT-01".into(), "territory:T-1".into()],
            deleted: false,
            version: 5,
        };
        let current: HashMap<(String, String), StoredReference> =
            [(("customer_dues".into(), "OUT-1".into()), stored)].into();
        let owed: HashMap<String, i64> = [("due:OUT-1".to_owned(), 900)].into();
        let follow = |rows: Vec<(String, Option<Record>)>| {
            follow_placing(&schema, "customers", &rows, &owed, &current)
        };
        assert!(follow(vec![("OUT-1".into(), at("JKT-01", "T-1"))]).is_empty());
        let moved = follow(vec![("OUT-1".into(), at("JKT-01", "T-2"))]);
        assert_eq!(moved.len(), 1);
        assert_eq!(
            moved[0].record.as_ref().unwrap().get("territory"),
            Some(&Value::Text("T-2".into()))
        );
        let deleted = follow(vec![("OUT-1".into(), None)]);
        assert_eq!(deleted[0].record, None);
        // No dues, nothing to follow; another collection places nothing.
        assert!(follow(vec![("OUT-2".into(), at("BDG-01", "T-9"))]).is_empty());
        assert!(
            follow_placing(&schema, "items", &[("OUT-1".into(), None)], &owed, &current).is_empty()
        );
        assert_eq!(
            placed_keys(&schema, "customers", &[&"OUT-1".to_owned()]),
            ["due:OUT-1"]
        );
    }
}
