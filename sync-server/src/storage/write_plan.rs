//! Writing a [`Plan`] the engine made: its verdicts, the log (superseded entries deleted),
//! documents, reference states with their import marks, plain rows, events and tallies, each
//! table in as few statements as the dialect allows. Pushes, reference writes, imports and the
//! derived rows' backfill all write through [`SqlStorage::write_plan`].

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::Result;
use super::db::{Arg, ColType, Dialect, Tx};
use super::import_state::ImportMark;
use super::materialize;
use super::pipeline::{Pipe, Stopped};
use super::sql::{NEWS_CHANNEL, SqlStorage, scopes_json, to_i64};
use crate::engine::Plan;
use lapak_core::protocol::Outcome;

impl SqlStorage {
    /// Writes `plan` in `tx`: verdicts, the log (superseded entries deleted), documents,
    /// reference states (marked as `import`'s where it wrote them), plain rows, events and
    /// tallies. Each statement is built while the one before runs ([`Tx::pipelined`]).
    pub(super) async fn write_plan(
        &self,
        tx: &mut Tx,
        plan: &Plan,
        device: Option<Uuid>,
        now_ms: i64,
        import: Option<&ImportMark<'_>>,
    ) -> Result<()> {
        tx.pipelined(async |pipe| {
            self.queue_plan(pipe, plan, device, now_ms, import).await?;
            self.queue_head(pipe, plan.head, &plan.heads()).await
        })
        .await?;
        Ok(())
    }

    /// Queues everything `plan` writes but the head: a plan made in parts queues each part
    /// and then the head once.
    pub(super) async fn queue_plan(
        &self,
        pipe: &Pipe,
        plan: &Plan,
        device: Option<Uuid>,
        now_ms: i64,
        import: Option<&ImportMark<'_>>,
    ) -> Result<(), Stopped> {
        queue_verdicts(pipe, plan, device, now_ms).await?;
        queue_log(pipe, plan).await?;
        queue_documents(pipe, plan).await?;
        queue_references(pipe, plan, import).await?;
        materialize::write_rows(pipe, &self.schema, &plan.rows).await?;
        queue_events(pipe, plan).await?;
        queue_tallies(pipe, plan).await?;
        queue_exceptions(pipe, plan, now_ms).await
    }

    /// The new head, and on Postgres the news for other server processes on this database
    /// (`heads`: the newest position of each scope written).
    pub(super) async fn queue_head(
        &self,
        pipe: &Pipe,
        head: u64,
        heads: &BTreeMap<String, u64>,
    ) -> Result<(), Stopped> {
        pipe.execute(
            "UPDATE lapak_head SET position = $1 WHERE id = 1",
            &[Arg::Int(to_i64(head))],
        )
        .await?;
        // Other server processes on this database hear of the write when it commits.
        if pipe.dialect() == Dialect::Postgres && !heads.is_empty() {
            let mut payload =
                serde_json::json!({ "from": self.instance, "heads": heads }).to_string();
            if payload.len() > 7_000 {
                // NOTIFY payloads stop at 8,000 bytes: say only that there is news everywhere.
                payload = serde_json::json!({ "from": self.instance, "heads": {} }).to_string();
            }
            pipe.execute(
                "SELECT pg_notify($1, $2)",
                &[Arg::Text(NEWS_CHANNEL.into()), Arg::Text(payload)],
            )
            .await?;
        }
        Ok(())
    }
}

/// The verdicts of a push's changes.
async fn queue_verdicts(
    pipe: &Pipe,
    plan: &Plan,
    device: Option<Uuid>,
    now_ms: i64,
) -> Result<(), Stopped> {
    let device_text = device.map(|d| d.to_string()).unwrap_or_default();
    let verdicts: Vec<Vec<Arg>> = plan
        .verdicts
        .iter()
        .map(|v| {
            let (status, position, code, message) = match &v.outcome {
                Outcome::Accepted { position } => ("accepted", Some(to_i64(*position)), None, None),
                Outcome::Rejected { code, message } => (
                    "rejected",
                    None,
                    Some(storable_label(code)),
                    Some(message.replace('\0', "\\0")),
                ),
                Outcome::Deferred { .. } => ("deferred", None, None, None),
            };
            vec![
                Arg::Text(v.change_id.to_string()),
                Arg::Text(device_text.clone()),
                // A refused change may carry any text: keep what Postgres can store.
                Arg::Text(storable_label(&v.collection)),
                Arg::Text(storable_label(&v.record_id)),
                Arg::Text(status.into()),
                position.into(),
                code.into(),
                message.into(),
                Arg::Int(now_ms),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_changes",
        &[
            ("change_id", ColType::Text),
            ("device_id", ColType::Text),
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("status", ColType::Text),
            ("position", ColType::Int),
            ("code", ColType::Text),
            ("message", ColType::Text),
            ("received_at", ColType::Int),
        ],
        verdicts,
        "ON CONFLICT (change_id) DO NOTHING",
    )
    .await?;

    Ok(())
}

/// The log: superseded entries deleted, new ones inserted.
async fn queue_log(pipe: &Pipe, plan: &Plan) -> Result<(), Stopped> {
    // The previous entries of rewritten reference rows leave the log, in the database
    // and in this plan alike (a row written twice in one batch).
    let stale: std::collections::HashSet<(&str, u64)> = plan
        .superseded
        .iter()
        .map(|s| (s.scope.as_str(), s.position))
        .collect();
    // One statement per scope (a push's derived rows supersede many entries of a branch).
    let mut by_scope: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in &plan.superseded {
        by_scope
            .entry(s.scope.as_str())
            .or_default()
            .push(s.position.to_string());
    }
    for (scope, positions) in by_scope {
        for chunk in positions.chunks(5_000) {
            pipe.execute_dynamic(
                &format!(
                    "DELETE FROM lapak_log WHERE scope = $1 AND {}",
                    pipe.dialect().in_int_list("position", 2)
                ),
                &[Arg::Text(scope.to_owned()), Arg::TextList(chunk.to_vec())],
            )
            .await?;
        }
    }
    let log: Vec<Vec<Arg>> = plan
        .log
        .iter()
        .filter(|r| !stale.contains(&(r.scope.as_str(), r.position)))
        .map(|r| {
            vec![
                Arg::Text(r.scope.clone()),
                Arg::Int(to_i64(r.position)),
                Arg::Text(r.collection.clone()),
                Arg::Text(r.record_id.clone()),
                Arg::Bytes(postcard::to_allocvec(&r.op).unwrap_or_default()),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_log",
        &[
            ("scope", ColType::Text),
            ("position", ColType::Int),
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("op", ColType::Bytes),
        ],
        log,
        "",
    )
    .await?;

    Ok(())
}

/// The documents (CRDT collections).
async fn queue_documents(pipe: &Pipe, plan: &Plan) -> Result<(), Stopped> {
    let docs: Vec<Vec<Arg>> = plan
        .docs
        .iter()
        .map(|((c, id), d)| {
            vec![
                Arg::Text(c.clone()),
                Arg::Text(id.clone()),
                Arg::Bytes(d.data.clone()),
                Arg::Text(scopes_json(&d.scopes)),
                Arg::Bool(d.deleted),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_documents",
        &[
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("data", ColType::Bytes),
            ("scopes", ColType::Text),
            ("deleted", ColType::Bool),
        ],
        docs,
        "ON CONFLICT (collection, record_id) DO UPDATE SET data = excluded.data, scopes = excluded.scopes, deleted = excluded.deleted",
    )
    .await?;

    Ok(())
}

/// The reference rows' states, with the import's marks.
async fn queue_references(
    pipe: &Pipe,
    plan: &Plan,
    import: Option<&ImportMark<'_>>,
) -> Result<(), Stopped> {
    let mut refs: HashMap<(&str, &str), Vec<Arg>> = HashMap::new();
    for ((c, id), r) in &plan.references {
        let [by, print] = ImportMark::columns(import, c, id, r.deleted);
        refs.insert(
            (c.as_str(), id.as_str()),
            vec![
                Arg::Text(c.clone()),
                Arg::Text(id.clone()),
                Arg::Int(to_i64(r.version)),
                Arg::Text(scopes_json(&r.scopes)),
                Arg::Bool(r.deleted),
                by,
                print,
            ],
        );
    }
    let refs: Vec<Vec<Arg>> = refs.into_values().collect();
    // Every write sets the import's mark: an import's own rows get it, any other write
    // (or deletion) clears it, so the import writes the row again next time.
    pipe.insert_rows(
        "lapak_reference",
        &[
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("version", ColType::Int),
            ("scopes", ColType::Text),
            ("deleted", ColType::Bool),
            ("imported_by", ColType::Text),
            ("import_print", ColType::Int),
        ],
        refs,
        "ON CONFLICT (collection, record_id) DO UPDATE SET version = excluded.version, \
         scopes = excluded.scopes, deleted = excluded.deleted, \
         imported_by = excluded.imported_by, import_print = excluded.import_print",
    )
    .await?;

    Ok(())
}

/// The outbox's events.
async fn queue_events(pipe: &Pipe, plan: &Plan) -> Result<(), Stopped> {
    let events: Vec<Vec<Arg>> = plan
        .events
        .iter()
        .map(|e| {
            vec![
                Arg::Text(e.event_id.to_string()),
                Arg::Text(e.event_type.clone()),
                Arg::Text(e.version.clone()),
                Arg::Text(e.timestamp.clone()),
                Arg::Text(e.trace_id.clone()),
                Arg::Text(e.source.clone()),
                Arg::Text(e.payload.as_str().to_owned()),
                Arg::Int(to_i64(e.position)),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_outbox",
        &[
            ("event_id", ColType::Text),
            ("event_type", ColType::Text),
            ("version", ColType::Text),
            ("timestamp", ColType::Text),
            ("trace_id", ColType::Text),
            ("source", ColType::Text),
            ("payload", ColType::Text),
            ("position", ColType::Int),
        ],
        events,
        "",
    )
    .await?;
    Ok(())
}

/// The tallies the rules keep.
async fn queue_tallies(pipe: &Pipe, plan: &Plan) -> Result<(), Stopped> {
    let tallies: Vec<Vec<Arg>> = plan
        .tallies
        .iter()
        .map(|(k, t)| {
            vec![
                Arg::Text(k.clone()),
                Arg::Int(t.value),
                t.note.clone().into(),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_tallies",
        &[
            ("key", ColType::Text),
            ("value", ColType::Int),
            ("note", ColType::Text),
        ],
        tallies,
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, note = excluded.note",
    )
    .await?;
    Ok(())
}

/// The exceptions the rules raised.
async fn queue_exceptions(pipe: &Pipe, plan: &Plan, now_ms: i64) -> Result<(), Stopped> {
    let exceptions: Vec<Vec<Arg>> = plan
        .exceptions
        .iter()
        .map(|x| {
            vec![
                Arg::Text(x.id.to_string()),
                Arg::Text(x.kind.clone()),
                Arg::Text(x.collection.clone()),
                Arg::Text(x.record_id.clone()),
                Arg::Text(scopes_json(&x.scopes)),
                Arg::Text(x.message.clone()),
                Arg::Text(x.details.to_string()),
                Arg::Int(to_i64(x.position)),
                Arg::Int(now_ms),
            ]
        })
        .collect();
    pipe.insert_rows(
        "lapak_exceptions",
        &[
            ("id", ColType::Text),
            ("kind", ColType::Text),
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("scopes", ColType::Text),
            ("message", ColType::Text),
            ("details", ColType::Text),
            ("position", ColType::Int),
            ("raised_at", ColType::Int),
        ],
        exceptions,
        "",
    )
    .await?;
    Ok(())
}

/// An id or name as a verdict row keeps it: at most 200 characters, control characters
/// (NUL included, which Postgres refuses) escaped.
fn storable_label(s: &str) -> String {
    s.chars()
        .take(200)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
