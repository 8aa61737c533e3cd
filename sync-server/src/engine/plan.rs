//! The [`Plan`] of a push or a back-office write: everything to store in one transaction
//! (verdicts, log entries per scope, document bytes, materialized rows, outbox events,
//! tallies and exceptions), and the stored state a judgement reads.

use super::*;

/// A stored verdict (rejections and acceptances are final; deferrals are never stored).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredVerdict {
    /// The stored outcome.
    pub outcome: Outcome,
    /// The device that sent the change.
    pub device_id: Option<Uuid>,
}

/// A document as stored: its whole Automerge save and the scopes its fields put it in.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDoc {
    /// `AutoCommit::save` bytes.
    pub data: Vec<u8>,
    /// Scopes of its current fields.
    pub scopes: Vec<String>,
    /// Whether it is deleted.
    pub deleted: bool,
}

/// The current state of a reference row (for scope moves and supersession).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReference {
    /// Scopes it is delivered to.
    pub scopes: Vec<String>,
    /// Whether it is deleted.
    pub deleted: bool,
    /// Its version: the position of its last write, where its log entries sit.
    pub version: u64,
}

/// A verdict to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVerdict {
    /// The change.
    pub change_id: Uuid,
    /// Its collection.
    pub collection: String,
    /// Its record.
    pub record_id: String,
    /// Accepted (with position) or rejected.
    pub outcome: Outcome,
}

/// One entry of one scope's log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// The scope.
    pub scope: String,
    /// The global position.
    pub position: u64,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// What devices of this scope apply.
    pub op: LogOp,
}

/// A row of a materialized table to write (`None`: delete the row).
#[derive(Clone, Debug, PartialEq)]
pub struct RowWrite {
    /// The collection (and table).
    pub collection: String,
    /// The record id (the table's key).
    pub id: String,
    /// The new row, or `None` to delete it.
    pub row: Option<MaterialRow>,
}

/// The content of a materialized row.
#[derive(Clone, Debug, PartialEq)]
pub struct MaterialRow {
    /// The record's fields.
    pub record: Record,
    /// The scopes it is in.
    pub scopes: Vec<String>,
    /// The position of the change that wrote it.
    pub position: u64,
    /// The device that wrote it (ledgers and documents).
    pub device_id: Option<Uuid>,
}

/// An outbox event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Unique id.
    pub event_id: Uuid,
    /// `invoice.issued`, `outlets.updated`, ...
    pub event_type: String,
    /// Envelope version (`v1`).
    pub version: String,
    /// RFC 3339 time the change was accepted.
    pub timestamp: String,
    /// The trace of the request that carried the change.
    pub trace_id: String,
    /// The emitting service.
    pub source: String,
    /// The event's data.
    pub payload: Payload,
    /// The position of the change.
    pub position: u64,
}

impl Event {
    /// The event as other systems receive it (the admin API's outbox, the brokers): its
    /// envelope with the outbox sequence number `seq`.
    #[must_use]
    pub fn envelope(&self, seq: i64) -> serde_json::Value {
        serde_json::json!({
            "seq": seq,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "version": self.version,
            "timestamp": self.timestamp,
            "trace_id": self.trace_id,
            "source": self.source,
            "payload": self.payload.value(),
        })
    }
}

/// An event's data as JSON text: written once when the event is made, stored and sent as it
/// is (a write of a million rows makes a million of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// `data` as JSON.
    #[must_use]
    pub fn of(data: &impl serde::Serialize) -> Self {
        Payload(serde_json::to_string(data).unwrap_or_else(|_| "null".into()))
    }

    /// JSON text read back from the outbox.
    ///
    /// # Errors
    /// When `text` is not JSON.
    pub fn from_json(text: String) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Payload(text))
    }

    /// The JSON text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The data as a JSON value.
    #[must_use]
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

/// A stale log entry to delete: a reference row's previous entry in one scope (at the position
/// of its previous write, which is its previous version).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Superseded {
    /// The scope.
    pub scope: String,
    /// The entry's position.
    pub position: u64,
}

/// An exception raised by an accepted record, for the back office to resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct NewException {
    /// Its id.
    pub id: Uuid,
    /// `price_mismatch`, `negative_stock`, ...
    pub kind: String,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// The record's scopes (who it concerns).
    pub scopes: Vec<String>,
    /// What happened.
    pub message: String,
    /// Particulars (JSON).
    pub details: serde_json::Value,
    /// The position of the record's change.
    pub position: u64,
}

/// Everything a push or back-office write stores, in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Answers to the device, in request order.
    pub results: Vec<ChangeResult>,
    /// The log head after the plan (unchanged when nothing was accepted).
    pub head: u64,
    /// Verdicts to store.
    pub verdicts: Vec<NewVerdict>,
    /// Log entries to append.
    pub log: Vec<LogRow>,
    /// Log entries made stale by this plan (older versions of reference rows).
    pub superseded: Vec<Superseded>,
    /// Documents to store.
    pub docs: Vec<((String, String), StoredDoc)>,
    /// Reference rows' new state.
    pub references: Vec<((String, String), StoredReference)>,
    /// Materialized rows to write.
    pub rows: Vec<RowWrite>,
    /// Outbox events.
    pub events: Vec<Event>,
    /// Tallies the accepted changes moved, with their new state.
    pub tallies: BTreeMap<String, Tally>,
    /// The derived reference rows those tallies feed (`engine::derived`), one per tally:
    /// storage loads their stored state and writes them with [`place_derived`].
    pub derived: Vec<DerivedRow>,
    /// Exceptions the accepted changes raised.
    pub exceptions: Vec<NewException>,
    /// The newest position of each scope this plan writes, before it (filled by storage under
    /// the head lock; absent: the scope had no entry). Makes [`Plan::live_batches`] exact.
    pub previous_heads: BTreeMap<String, u64>,
    /// What the push's document changes cost so far (bounded before Automerge parses them).
    pub spent: Spent,
}

impl Plan {
    /// The plan's log entries as one batch per scope, each complete for `(previous head of the
    /// scope, new head]` (positions commit in order, so no other entry of the scope lies in
    /// between): what a live device applies without pulling.
    #[must_use]
    pub fn live_batches(&self) -> Vec<lapak_core::protocol::ScopeBatch> {
        let stale: HashSet<(&str, u64)> = self
            .superseded
            .iter()
            .map(|s| (s.scope.as_str(), s.position))
            .collect();
        let mut by_scope: BTreeMap<&str, Vec<lapak_core::protocol::LogEntry>> = BTreeMap::new();
        for r in &self.log {
            if stale.contains(&(r.scope.as_str(), r.position)) {
                continue;
            }
            by_scope
                .entry(r.scope.as_str())
                .or_default()
                .push(lapak_core::protocol::LogEntry {
                    position: r.position,
                    collection: r.collection.clone(),
                    record_id: r.record_id.clone(),
                    op: r.op.clone(),
                });
        }
        by_scope
            .into_iter()
            .map(|(scope, entries)| lapak_core::protocol::ScopeBatch {
                scope: scope.to_owned(),
                after: self.previous_heads.get(scope).copied().unwrap_or(0),
                upto: self.head,
                entries,
                has_more: false,
            })
            .collect()
    }

    /// The push answer.
    #[must_use]
    pub fn response(&self) -> PushResponse {
        PushResponse {
            results: self.results.clone(),
        }
    }

    /// The newest position per scope this plan writes (for live notifications).
    #[must_use]
    pub fn heads(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in &self.log {
            let e = out.entry(r.scope.clone()).or_insert(0);
            *e = (*e).max(r.position);
        }
        out
    }

    /// How many changes were accepted and rejected.
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        let accepted = self
            .verdicts
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Accepted { .. }))
            .count() as u64;
        (accepted, self.verdicts.len() as u64 - accepted)
    }
}
