//! An in-memory reference server: the sync semantics of the real server (sequencing, idempotent
//! push, rules, scope logs, eviction) with no I/O and no persistence. Tests, benchmarks and the
//! demo use it to drive real [`Store`](crate::Store)s through push and pull; it is not a
//! production server (that is `lapak-server`).

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::{AutoCommit, Change as AmChange};
use uuid::Uuid;

use crate::document;
use crate::protocol::{
    ChangeBody, ChangeResult, LogEntry, LogOp, Outcome, PullRequest, PullResponse, PushRequest,
    PushResponse, ScopeBatch,
};
use crate::schema::{Kind, Schema};
use crate::value::Record;

/// A business rule: `Some((code, message))` rejects the record.
pub type Rule = Box<dyn Fn(&str, &Record) -> Option<(String, String)> + Send>;

struct LogRecord {
    scopes: Vec<String>,
    collection: String,
    record_id: String,
    op: LogOp,
}

/// The in-memory server.
pub struct MemoryServer {
    schema: Schema,
    log: Vec<LogRecord>,
    verdicts: HashMap<Uuid, Outcome>,
    docs: HashMap<(String, String), (AutoCommit, Vec<String>)>,
    ledger: HashMap<String, Record>,
    reference: HashMap<(String, String), (u64, Record, Vec<String>)>,
    rule: Option<Rule>,
    next_version: u64,
    actor: automerge::ActorId,
}

impl std::fmt::Debug for MemoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryServer")
            .field("log_len", &self.log.len())
            .finish_non_exhaustive()
    }
}

impl MemoryServer {
    /// A server for `schema` with an empty log.
    #[must_use]
    pub fn new(schema: Schema) -> Self {
        MemoryServer {
            schema,
            log: Vec::new(),
            verdicts: HashMap::new(),
            docs: HashMap::new(),
            ledger: HashMap::new(),
            reference: HashMap::new(),
            rule: None,
            next_version: 0,
            actor: automerge::ActorId::from(&[0u8; 16][..]),
        }
    }

    /// Judges every ledger entry, and every document's state after a change, with `rule`.
    pub fn set_rule(&mut self, rule: Rule) {
        self.rule = Some(rule);
    }

    /// The newest log position.
    #[must_use]
    pub fn head(&self) -> u64 {
        self.log.len() as u64
    }

    /// Accepted ledger entries by id.
    #[must_use]
    pub fn ledger(&self) -> &HashMap<String, Record> {
        &self.ledger
    }

    /// How many log entries carry the ledger entry `id` (must be 1 for an accepted entry).
    #[must_use]
    pub fn ledger_log_count(&self, id: &str) -> usize {
        self.log
            .iter()
            .filter(|r| r.record_id == id && matches!(r.op, LogOp::Ledger { .. }))
            .count()
    }

    /// The current rows of a reference collection, by id.
    #[must_use]
    pub fn reference_rows(&self, collection: &str) -> std::collections::BTreeMap<String, Record> {
        self.reference
            .iter()
            .filter(|((c, _), _)| c == collection)
            .map(|((_, id), (_, fields, _))| (id.clone(), fields.clone()))
            .collect()
    }

    /// The server's view of a document: fields and deleted flag.
    #[must_use]
    pub fn document(&self, collection: &str, id: &str) -> Option<(Record, bool)> {
        let c = self.schema.collection(collection).ok()?;
        let (doc, _) = self.docs.get(&(collection.to_owned(), id.to_owned()))?;
        document::project(doc, c, id).ok()
    }

    fn append(&mut self, scopes: Vec<String>, collection: &str, record_id: &str, op: LogOp) -> u64 {
        self.log.push(LogRecord {
            scopes,
            collection: collection.to_owned(),
            record_id: record_id.to_owned(),
            op,
        });
        self.head()
    }

    /// Judges a push: each change id is judged once; repeats get the stored verdict.
    pub fn push(&mut self, request: &PushRequest) -> PushResponse {
        let mut rejected_docs: HashSet<(String, String)> = HashSet::new();
        let mut results = Vec::with_capacity(request.changes.len());
        for ch in &request.changes {
            let outcome = if let Some(v) = self.verdicts.get(&ch.change_id) {
                v.clone()
            } else {
                let outcome = self.judge(ch, &rejected_docs);
                if !matches!(outcome, Outcome::Deferred { .. }) {
                    self.verdicts.insert(ch.change_id, outcome.clone());
                }
                outcome
            };
            if matches!(outcome, Outcome::Rejected { .. }) {
                rejected_docs.insert((ch.collection.clone(), ch.record_id.clone()));
            }
            results.push(ChangeResult {
                change_id: ch.change_id,
                outcome,
            });
        }
        PushResponse { results }
    }

    fn judge(
        &mut self,
        ch: &crate::protocol::Change,
        rejected_docs: &HashSet<(String, String)>,
    ) -> Outcome {
        let reject = |code: &str, message: String| Outcome::Rejected {
            code: code.to_owned(),
            message,
        };
        let Ok(c) = self.schema.collection(&ch.collection).cloned() else {
            return reject(
                "unknown_collection",
                format!("no collection `{}`", ch.collection),
            );
        };
        match (&ch.body, c.kind()) {
            (ChangeBody::Ledger { entry }, Kind::Ledger) => {
                if let Err(e) = c.check_record(entry) {
                    return reject("invalid", e.to_string());
                }
                if ch.record_id != ch.change_id.to_string() {
                    return reject(
                        "invalid",
                        "a ledger entry's id must be its change id".into(),
                    );
                }
                if let Some((code, message)) = self.rule.as_ref().and_then(|r| r(c.name(), entry)) {
                    return reject(&code, message);
                }
                let id = ch.change_id.to_string();
                self.ledger.insert(id.clone(), entry.clone());
                let position = self.append(
                    c.scopes_of(entry),
                    c.name(),
                    &id,
                    LogOp::Ledger {
                        entry: entry.clone(),
                    },
                );
                Outcome::Accepted { position }
            }
            (ChangeBody::Document { change }, Kind::Document) => {
                let key = (ch.collection.clone(), ch.record_id.clone());
                if rejected_docs.contains(&key) {
                    return Outcome::Deferred {
                        reason: "an earlier change of this document was rejected".into(),
                    };
                }
                let Ok(am) = AmChange::from_bytes(change.clone()) else {
                    return reject("malformed", "not an Automerge change".into());
                };
                if let Err(r) = document::genesis::check_root_change(&c, &am) {
                    return reject(r.code, r.message);
                }
                let actor = self.actor.clone();
                let mut missing_doc = None;
                let (doc, scopes) = match self.docs.get_mut(&key) {
                    Some(entry) => (&mut entry.0, entry.1.clone()),
                    None => (
                        missing_doc.insert(document::genesis::new_doc(&c, &actor)),
                        Vec::new(),
                    ),
                };
                if am
                    .deps()
                    .iter()
                    .any(|d| doc.get_change_by_hash(d).is_none())
                {
                    return Outcome::Deferred {
                        reason: "the change depends on changes the server does not have".into(),
                    };
                }
                let mut trial = doc.fork();
                if trial.apply_changes([am.clone()]).is_err() {
                    return reject("malformed", "the change cannot be applied".into());
                }
                if let Err(e) = document::shape::check(&trial, &c, &ch.record_id) {
                    return reject("invalid", e.to_string());
                }
                let Ok((record, deleted)) = document::project(&trial, &c, &ch.record_id) else {
                    return reject("malformed", "the document cannot be read".into());
                };
                if !deleted && let Err(e) = c.check_record(&record) {
                    return reject("invalid", e.to_string());
                }
                if let Some((code, message)) = self.rule.as_ref().and_then(|r| r(c.name(), &record))
                {
                    return reject(&code, message);
                }
                let as_written = document::scopes_as_written(doc, &am, &c, &ch.record_id)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let old: BTreeSet<String> = scopes.iter().cloned().collect();
                let new: BTreeSet<String> = c.scopes_of(&record).into_iter().collect();
                let full = trial.save();
                self.docs
                    .insert(key, (trial, new.iter().cloned().collect()));
                let kept: Vec<String> = old.intersection(&new).cloned().collect();
                let entered: Vec<String> = new.difference(&old).cloned().collect();
                let mut left: Vec<String> = old.difference(&new).cloned().collect();
                // Scopes only the writer saw the record in: their devices drop their copies.
                left.extend(
                    as_written
                        .into_iter()
                        .filter(|s| !old.contains(s) && !new.contains(s)),
                );
                let mut position = 0;
                if !kept.is_empty() {
                    position = self.append(
                        kept,
                        c.name(),
                        &ch.record_id,
                        LogOp::Document {
                            data: change.clone(),
                        },
                    );
                }
                if !entered.is_empty() {
                    position = self.append(
                        entered,
                        c.name(),
                        &ch.record_id,
                        LogOp::Document { data: full },
                    );
                }
                if !left.is_empty() {
                    position = self.append(left, c.name(), &ch.record_id, LogOp::Evict);
                }
                if position == 0 {
                    // A record in no scope at all is still sequenced, for the verdict.
                    position = self.append(
                        Vec::new(),
                        c.name(),
                        &ch.record_id,
                        LogOp::Document {
                            data: change.clone(),
                        },
                    );
                }
                Outcome::Accepted { position }
            }
            _ => reject(
                "wrong_kind",
                format!("`{}` does not accept this kind of change", c.name()),
            ),
        }
    }

    /// Writes a reference row (a back-office edit), returning its new version.
    ///
    /// # Panics
    /// When `collection` is not a declared reference collection.
    pub fn put_reference(&mut self, collection: &str, id: &str, fields: Record) -> u64 {
        let c = self
            .schema
            .collection(collection)
            .expect("declared collection")
            .clone();
        assert_eq!(c.kind(), Kind::Reference);
        self.next_version += 1;
        let version = self.next_version;
        let new = c.scopes_of(&fields);
        let key = (collection.to_owned(), id.to_owned());
        let old = self
            .reference
            .get(&key)
            .map(|r| r.2.clone())
            .unwrap_or_default();
        let left: Vec<String> = old.iter().filter(|s| !new.contains(s)).cloned().collect();
        self.append(
            new.clone(),
            collection,
            id,
            LogOp::Upsert {
                version,
                fields: fields.clone(),
            },
        );
        if !left.is_empty() {
            self.append(left, collection, id, LogOp::Evict);
        }
        self.reference.insert(key, (version, fields, new));
        version
    }

    /// Deletes a reference row.
    pub fn delete_reference(&mut self, collection: &str, id: &str) {
        if let Some((_, _, scopes)) = self
            .reference
            .remove(&(collection.to_owned(), id.to_owned()))
        {
            self.next_version += 1;
            let version = self.next_version;
            self.append(scopes, collection, id, LogOp::Delete { version });
        }
    }

    /// Answers a pull: per cursor, the scope's entries past it, at most `limit` in all.
    #[must_use]
    pub fn pull(&self, request: &PullRequest) -> PullResponse {
        let mut budget = (request.limit.max(1) as usize).min(crate::protocol::MAX_PULL_ENTRIES);
        let mut batches = Vec::new();
        for cursor in &request.cursors {
            let mut entries = Vec::new();
            let mut has_more = false;
            let start = usize::try_from(cursor.position)
                .unwrap_or(usize::MAX)
                .min(self.log.len());
            let mut upto = self.head();
            for (i, r) in self.log.iter().enumerate().skip(start) {
                if !r.scopes.contains(&cursor.scope) {
                    continue;
                }
                if budget == 0 {
                    has_more = true;
                    upto = i as u64; // entries up to position i (index i-1) are all included
                    break;
                }
                budget -= 1;
                entries.push(LogEntry {
                    position: i as u64 + 1,
                    collection: r.collection.clone(),
                    record_id: r.record_id.clone(),
                    op: r.op.clone(),
                });
            }
            if upto > cursor.position || has_more {
                batches.push(ScopeBatch {
                    scope: cursor.scope.clone(),
                    after: cursor.position,
                    upto,
                    entries,
                    has_more,
                });
            }
        }
        PullResponse { batches }
    }
}

/// Pushes everything pending and pulls until nothing is left: one device's full sync.
///
/// # Errors
/// Whatever the store returns.
pub fn sync_fully(store: &mut crate::Store, server: &mut MemoryServer) -> crate::Result<()> {
    for _ in 0..10_000 {
        let Some(push) = store.next_push(500)? else {
            break;
        };
        let response = server.push(&push);
        let report = store.apply_push_response(&response)?;
        if report.accepted + report.rejected + report.rebuilt_documents == 0 && report.deferred > 0
        {
            break; // nothing moves: the rest waits for other devices
        }
    }
    loop {
        let response = server.pull(&store.pull_request(1000)?);
        let report = store.apply_pull(&response)?;
        if !report.has_more {
            return Ok(());
        }
    }
}

/// The outlet profiles of the sample schema; `v2` adds an owner, its index and a line unit.
fn sample_outlets(v2: bool) -> crate::schema::Collection {
    use crate::schema::{Collection, ScalarType};
    let mut line_keys = vec![
        ("sku", ScalarType::Text),
        ("qty", ScalarType::Int),
        ("note", ScalarType::Text),
    ];
    if v2 {
        line_keys.push(("unit", ScalarType::Text));
    }
    let c = Collection::document("outlets")
        .required("name", ScalarType::Text)
        .text("branch")
        .text("phone")
        .int("credit_limit")
        .real("lat")
        .bool("active")
        .merge_text("notes")
        .list("lines", &line_keys);
    let c = if v2 { c.text("owner") } else { c };
    let c = c.index(&["branch", "name"]);
    let c = if v2 { c.index(&["owner"]) } else { c };
    c.scope_from_field("branch", "branch")
}

/// A small business schema used by tests, benchmarks and the demo: outlet profiles (documents),
/// sales (a ledger) and items (reference data), scoped by branch.
#[must_use]
pub fn sample_schema() -> Schema {
    use crate::schema::{Collection, ScalarType};
    Schema::builder(1)
        .collection(sample_outlets(false))
        .collection(
            Collection::ledger("sales")
                .required("branch", ScalarType::Text)
                .text("terminal")
                .required("total", ScalarType::Int)
                .timestamp("sold_at")
                .list(
                    "lines",
                    &[
                        ("sku", ScalarType::Text),
                        ("qty", ScalarType::Int),
                        ("price", ScalarType::Int),
                    ],
                )
                .index(&["branch", "sold_at"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::reference("items")
                .required("sku", ScalarType::Text)
                .text("name")
                .text("barcode")
                .int("price")
                .text("branch")
                .index(&["barcode"])
                .scope_org(),
        )
        .build()
        .expect("the sample schema is valid")
}

/// [`sample_schema`] one version later, changed only in ways that upgrade in place: outlets gain
/// an `owner` field, an index on it and a `unit` key in their lines; a `visits` ledger is new.
#[must_use]
pub fn sample_schema_v2() -> Schema {
    use crate::schema::{Collection, ScalarType};
    let mut b = Schema::builder(2);
    for c in sample_schema().collections() {
        b = b.collection(if c.name() == "outlets" {
            sample_outlets(true)
        } else {
            c.clone()
        });
    }
    b.collection(
        Collection::ledger("visits")
            .required("branch", ScalarType::Text)
            .scope_from_field("branch", "branch"),
    )
    .build()
    .expect("the sample schema v2 is valid")
}

/// A pull response of one `org` batch upserting `rows` items (positions and versions 1..=rows):
/// the bulk reference delivery used by the crash test and the benchmarks.
#[must_use]
pub fn items_batch(rows: u64) -> PullResponse {
    let entries = (1..=rows)
        .map(|i| LogEntry {
            position: i,
            collection: "items".into(),
            record_id: format!("SKU-{i:07}"),
            op: LogOp::Upsert {
                version: i,
                fields: crate::record! {
                    "sku" => format!("SKU-{i:07}"),
                    "name" => format!("Item number {i} of the catalogue"),
                    "barcode" => format!("899{i:010}"),
                    "price" => i64::try_from(i).unwrap_or(i64::MAX) * 100,
                    "branch" => "JKT",
                },
            },
        })
        .collect();
    PullResponse {
        batches: vec![ScopeBatch {
            scope: "org".into(),
            after: 0,
            upto: rows,
            entries,
            has_more: false,
        }],
    }
}
