//! Where the engine meets the business rules: which stored state a push's rules need
//! ([`needs`]: a ledger entry's reads, and a document's reads by its id), running them on a
//! write that passed every other check (with the writer's grants, so a rule acts only within
//! them), and applying an accepted write's effects (tallies, exceptions with their
//! `exception.raised` events) to the plan.

use std::collections::{BTreeSet, HashMap};

use lapak_core::Record;
use lapak_core::protocol::{ChangeBody, Outcome, PushRequest};
use uuid::Uuid;

use super::{Context, NewException, Payload, Plan, StoredVerdict, event, reject};
use crate::auth::Principal;
use crate::rules::{Effects, Facts, Lookup, Needs, RuleVerdict, Write};

/// The stored state the rules need to judge `request`'s new ledger entries, beyond `facts`
/// already loaded, with what the derived rows of the tallies they read need (a due's customer,
/// `engine::derived::reads`). Storage loads these and asks again (a read may depend on an earlier one)
/// until nothing is missing.
#[must_use]
pub fn needs(
    ctx: &Context<'_>,
    principal: &Principal,
    request: &PushRequest,
    known: &HashMap<Uuid, StoredVerdict>,
    facts: &Facts,
) -> BTreeSet<Lookup> {
    let mut needs = Needs::new(facts);
    for ch in &request.changes {
        if known.contains_key(&ch.change_id) {
            continue;
        }
        let Ok(c) = ctx.schema.collection(&ch.collection) else {
            continue;
        };
        let entry = match &ch.body {
            ChangeBody::Ledger { entry } => entry,
            ChangeBody::Document { .. } => {
                ctx.rules
                    .document_reads(c.name(), &ch.record_id, &mut needs);
                continue;
            }
        };
        let write = Write {
            schema: ctx.schema,
            collection: c,
            record_id: &ch.record_id,
            record: entry,
            user: &principal.username,
            principal,
            device: request.device_id,
            now_ms: ctx.now_ms,
        };
        ctx.rules.reads(&write, facts, &mut needs);
    }
    // What the derived rows of the tallies read need besides them (a due's customer).
    let mut lookups = needs.into_lookups();
    let mut more = Needs::new(facts);
    for l in &lookups {
        if let Lookup::Tally(key) = l {
            super::derived::reads(ctx.schema, key, &mut more);
        }
    }
    lookups.extend(more.into_lookups());
    lookups
}

/// Runs the rules on a write that passed every other check: a rejection or deferral as an
/// outcome, or the effects to apply once the write has its position.
pub(super) fn run_rules(
    ctx: &Context<'_>,
    principal: &Principal,
    c: &lapak_core::Collection,
    record_id: &str,
    record: &Record,
    device: Uuid,
    facts: &Facts,
) -> Result<Effects, Outcome> {
    let write = Write {
        schema: ctx.schema,
        collection: c,
        record_id,
        record,
        user: &principal.username,
        principal,
        device,
        now_ms: ctx.now_ms,
    };
    match ctx.rules.check(&write, facts) {
        (RuleVerdict::Accept, effects) => Ok(effects),
        (RuleVerdict::Reject { code, message }, _) => Err(reject(&code, message)),
        (RuleVerdict::Defer { reason }, _) => Err(Outcome::Deferred { reason }),
    }
}

/// Applies an accepted write's effects: tallies, exceptions (each with an `exception.raised`
/// event).
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_effects(
    ctx: &Context<'_>,
    effects: &Effects,
    facts: &mut Facts,
    collection: &str,
    record_id: &str,
    scopes: &[String],
    position: u64,
    plan: &mut Plan,
) {
    facts.apply(effects);
    for r in &effects.raised {
        let x = NewException {
            id: Uuid::now_v7(),
            kind: r.kind.clone(),
            collection: collection.to_owned(),
            record_id: record_id.to_owned(),
            scopes: scopes.to_vec(),
            message: r.message.clone(),
            details: r.details.clone(),
            position,
        };
        let mut e = event(
            ctx,
            "exception.raised".into(),
            collection,
            record_id,
            &Record::new(),
            scopes,
            position,
            None,
        );
        e.payload = Payload::of(&serde_json::json!({
            "exception_id": x.id,
            "kind": x.kind,
            "collection": collection,
            "id": record_id,
            "scopes": scopes,
            "message": x.message,
            "details": x.details,
            "position": position,
        }));
        plan.events.push(e);
        plan.exceptions.push(x);
    }
}
