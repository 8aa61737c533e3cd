//! The judgement of one Automerge change of a document: duplicates, dependencies, the
//! document's state after the change (schema, storable text, scopes, rules), its position and
//! what each scope's log gets (the change, the whole document, or an eviction).

use super::*;

/// One Automerge change of a document: the stored copy's scopes, duplicates, dependencies,
/// the state after the change (schema, storable text, scopes, rules); then one position and,
/// per scope, the change, the whole document (scopes it enters) or an eviction (scopes it
/// leaves).
#[allow(clippy::too_many_arguments)]
pub(super) fn judge_document(
    ctx: &Context<'_>,
    principal: &Principal,
    c: &lapak_core::Collection,
    ch: &lapak_core::protocol::Change,
    change: &[u8],
    device: Uuid,
    docs: &HashMap<(String, String), StoredDoc>,
    loaded: &mut HashMap<(String, String), LoadedDoc>,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Outcome {
    if change.len() > MAX_CHANGE_BYTES {
        return reject(
            "too_large",
            format!(
                "the change is {} bytes; at most {MAX_CHANGE_BYTES} are allowed: save smaller edits",
                change.len()
            ),
        );
    }
    let key = (ch.collection.clone(), ch.record_id.clone());
    // The scope check first, from the scopes alone: a change to a record the writer may not
    // touch costs no parsing (and reveals nothing of the record).
    let held = match loaded.get(&key) {
        Some(d) => (d.existed || d.dirty).then(|| d.scopes.clone()),
        None => docs.get(&key).map(|s| s.scopes.clone()),
    };
    if let Some(scopes) = held
        && let Some(o) = forbidden(principal, true, &scopes, &scopes)
    {
        return o;
    }
    let stored = docs.get(&key).map_or(0, |d| d.data.len());
    if let Some(o) = bounds::admit(
        (&ch.collection, &ch.record_id),
        change,
        stored,
        &mut plan.spent,
    ) {
        return o;
    }
    let Ok(am) = AmChange::from_bytes(change.to_vec()) else {
        return reject("malformed", "the change is not an Automerge change");
    };
    if let Some(o) = bounds::admit_ops(&am, bounds::MAX_CHANGE_OPS) {
        return o;
    }
    if let Err(r) = document::genesis::check_root_change(c, &am) {
        return reject(r.code, r.message);
    }
    if !loaded.contains_key(&key) {
        let d = match docs.get(&key) {
            Some(stored) => {
                match document::load(&stored.data, &server_actor(), c.name(), &ch.record_id) {
                    Ok(doc) => LoadedDoc {
                        doc,
                        scopes: stored.scopes.clone(),
                        existed: true,
                        dirty: false,
                    },
                    Err(_) => {
                        return reject(
                            "server_document_unreadable",
                            "the server cannot read its copy of this document; an administrator must repair it",
                        );
                    }
                }
            }
            None => LoadedDoc {
                doc: document::genesis::new_doc(c, &server_actor()),
                scopes: Vec::new(),
                existed: false,
                dirty: false,
            },
        };
        loaded.insert(key.clone(), d);
    }
    let Some(d) = loaded.get_mut(&key) else {
        return reject("internal", "document not loaded");
    };
    if d.doc.get_change_by_hash(&am.hash()).is_some() {
        // Already merged under another change id (a device restored from a backup):
        // accept without a new log entry.
        let position = next_position(plan);
        return Outcome::Accepted { position };
    }
    let missing: Vec<_> = am
        .deps()
        .iter()
        .filter(|h| d.doc.get_change_by_hash(h).is_none())
        .collect();
    if missing.iter().any(|h| document::genesis::is_genesis(c, h)) {
        // The stored document was created before genesis existed (its objects are its
        // creator's), and this change builds on the genesis: the two cannot merge.
        return reject(
            "created_elsewhere",
            format!(
                "record `{}` was created by an app older than this server's document format; \
                 your copy began separately and cannot merge with it: sync to receive it, then \
                 make your edits again",
                ch.record_id
            ),
        );
    }
    if !missing.is_empty() {
        return Outcome::Deferred {
                    reason: "the change depends on changes the server does not have yet; send it again after them".into(),
                };
    }
    let mut trial = d.doc.fork();
    if !bounds::apply_guarded(&mut trial, am.clone()) {
        return reject("malformed", "the change cannot be applied to the document");
    }
    if let Err(e) = document::shape::check(&trial, c, &ch.record_id) {
        return reject("invalid", e.to_string());
    }
    let Ok((record, deleted)) = document::project(&trial, c, &ch.record_id) else {
        return reject("malformed", "the document cannot be read after the change");
    };
    if !deleted && let Err(e) = c.check_record(&record) {
        return reject("invalid", e.to_string());
    }
    let new_scopes = c.scopes_of(&record);
    let mut touched: Vec<String> = d.scopes.clone();
    touched.extend(new_scopes.iter().cloned());
    // Scopes only the writer saw the record in (a creation of the same id elsewhere moved it):
    // evicted there, so the devices following them drop the version nobody else holds.
    // Guarded like the trial's apply: the change is replayed on an older state of the document.
    let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        document::scopes_as_written(&mut d.doc, &am, c, &ch.record_id)
    }));
    if let Ok(Ok(Some(seen))) = seen {
        touched.extend(seen);
    }
    touched.sort();
    touched.dedup();
    if let Err(m) = check_storable(c, &record, &new_scopes) {
        return reject("invalid", m);
    }
    if let Some(o) = forbidden(principal, d.existed || d.dirty, &d.scopes, &new_scopes) {
        return o;
    }
    let effects = if deleted {
        Effects::default()
    } else {
        match run_rules(ctx, principal, c, &ch.record_id, &record, device, facts) {
            Ok(e) => e,
            Err(o) => return o,
        }
    };
    let position = next_position(plan);
    let old: BTreeSet<&String> = d.scopes.iter().collect();
    let new: BTreeSet<&String> = new_scopes.iter().collect();
    let full = if new.difference(&old).next().is_some() {
        Some(trial.save())
    } else {
        None
    };
    for s in &touched {
        let op = match (old.contains(s), new.contains(s)) {
            (true, true) => LogOp::Document {
                data: change.to_vec(),
            },
            (false, true) => LogOp::Document {
                data: full.clone().unwrap_or_default(),
            },
            _ => LogOp::Evict,
        };
        plan.log.push(LogRow {
            scope: s.clone(),
            position,
            collection: c.name().to_owned(),
            record_id: ch.record_id.clone(),
            op,
        });
    }
    let kind = if deleted {
        WriteKind::Deleted
    } else if d.existed || d.dirty {
        WriteKind::Updated
    } else {
        WriteKind::Created
    };
    plan.rows.push(RowWrite {
        collection: c.name().to_owned(),
        id: ch.record_id.clone(),
        row: (!deleted).then(|| MaterialRow {
            record: record.clone(),
            scopes: new_scopes.clone(),
            position,
            device_id: Some(device),
        }),
    });
    plan.events.push(event(
        ctx,
        effects
            .event_type
            .clone()
            .unwrap_or_else(|| ctx.rules.event_type(c.name(), kind)),
        c.name(),
        &ch.record_id,
        &record,
        &new_scopes,
        position,
        Some(device),
    ));
    apply_effects(
        ctx,
        &effects,
        facts,
        c.name(),
        &ch.record_id,
        &new_scopes,
        position,
        plan,
    );
    d.doc = trial;
    d.scopes = new_scopes;
    d.dirty = true;
    Outcome::Accepted { position }
}
