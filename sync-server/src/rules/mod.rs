//! Business rules: per collection, checks that accept, reject or defer a record with a code and
//! a message for the person who wrote it, the exceptions an accepted record raises for the back
//! office, and the names of the events an accepted write emits.
//!
//! Rules do no I/O. A rule that needs stored state (the voucher a redemption names, the stock
//! of an item, the invoice a return is against) says so in [`Rule::reads`]; storage loads those
//! [`Facts`] inside the push's transaction, under the sequencer lock, and the engine then calls
//! [`Rule::check`]. A rule's [`Effects`] (tally updates, raised exceptions) are applied only when
//! every rule of the collection accepted, and later changes of the same push see them.
//!
//! Rules act only within the writer's scopes: a rule that reads a row of another collection
//! (the customer of a credit sale, the invoice of a return) asks [`Write::may_act_on`] whether
//! the writer holds a write grant in one of that row's scopes, and treats a row out of the
//! writer's scopes exactly like a row that does not exist, so a rejection reveals neither its
//! contents nor its existence. Rule arithmetic is checked: [`Effects::add_checked`] moves a
//! tally only within [`MAX_TALLY`], and the business rules bound quantities and amounts.
//!
//! [`business`] holds the rules of [`lapak_core::catalog::business`]; [`starter`] those of the
//! small starter schema.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use lapak_core::{Collection, Record, Schema, Value};

use crate::auth::Principal;

mod business;

pub use business::{DEFERRAL_LIMIT_MS, MAX_AMOUNT, MAX_QUANTITY, business};

/// The largest magnitude a tally may reach; a move past it is rejected (`tally_out_of_range`)
/// rather than wrapped or saturated.
pub const MAX_TALLY: i64 = 1_000_000_000_000_000_000;

/// A rule's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleVerdict {
    /// The record may be stored.
    Accept,
    /// The record is refused, for good.
    Reject {
        /// Machine-readable (`voucher_already_redeemed`).
        code: String,
        /// For the person who made the change: what was wrong and what to do.
        message: String,
    },
    /// The record cannot be judged yet (the invoice a return names has not reached the server):
    /// the device keeps it and sends it again.
    Defer {
        /// Why, for the person waiting.
        reason: String,
    },
}

impl From<lapak_core::commerce::Refusal> for RuleVerdict {
    fn from(r: lapak_core::commerce::Refusal) -> Self {
        RuleVerdict::Reject {
            code: r.code.to_owned(),
            message: r.message,
        }
    }
}

impl RuleVerdict {
    /// A rejection.
    #[must_use]
    pub fn reject(code: &str, message: impl Into<String>) -> Self {
        RuleVerdict::Reject {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The write a rule judges.
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The schema served (to find the scopes of a row a rule reads).
    pub schema: &'a Schema,
    /// Its collection.
    pub collection: &'a Collection,
    /// The record's id (a ledger entry's id is its change id).
    pub record_id: &'a str,
    /// The record as it will be stored.
    pub record: &'a Record,
    /// The user who sent it.
    pub user: &'a str,
    /// The writer: their role and grants.
    pub principal: &'a Principal,
    /// The device that sent it.
    pub device: uuid::Uuid,
    /// Now, in milliseconds since the epoch (server time).
    pub now_ms: i64,
}

impl Write<'_> {
    /// A text field, or `""`.
    #[must_use]
    pub fn text(&self, field: &str) -> &str {
        self.record
            .get(field)
            .and_then(Value::as_text)
            .unwrap_or("")
    }

    /// An integer (or timestamp) field, or 0.
    #[must_use]
    pub fn int(&self, field: &str) -> i64 {
        self.record.get(field).and_then(Value::as_int).unwrap_or(0)
    }

    /// A real field (integers widen), when present.
    #[must_use]
    pub fn real(&self, field: &str) -> Option<f64> {
        real_of(self.record.get(field))
    }

    /// The scopes `row` of `collection` is in (as its collection derives them).
    #[must_use]
    pub fn scopes_of(&self, collection: &str, row: &Record) -> Vec<String> {
        self.schema
            .collection(collection)
            .map(|c| c.scopes_of(row))
            .unwrap_or_default()
    }

    /// Whether the writer may act on `row` of `collection`: they hold a write grant in at least
    /// one of its scopes. A rule that would change what depends on a row (a customer's dues, an
    /// invoice's returned quantities) treats a row it may not act on as absent, with the same
    /// message, so that neither its contents nor its existence leak to another scope.
    #[must_use]
    pub fn may_act_on(&self, collection: &str, row: &Record) -> bool {
        self.scopes_of(collection, row)
            .iter()
            .any(|s| self.principal.can_write(s))
    }

    /// The row `id` of `collection` when it is loaded, present and the writer may act on it
    /// ([`Write::may_act_on`]); `None` otherwise, whichever the reason.
    #[must_use]
    pub fn row_in_scope<'f>(
        &self,
        facts: &'f Facts,
        collection: &str,
        id: &str,
    ) -> Option<&'f Record> {
        facts
            .row(collection, id)
            .filter(|r| self.may_act_on(collection, r))
    }

    /// A list field's items (empty when absent).
    #[must_use]
    pub fn list(&self, field: &str) -> &[lapak_core::Item] {
        self.record
            .get(field)
            .and_then(Value::as_list)
            .unwrap_or(&[])
    }
}

/// A real value of a field (integers widen).
#[must_use]
pub fn real_of(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Real(f)) => Some(*f),
        #[allow(clippy::cast_precision_loss)]
        Some(Value::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

/// A stored read a rule needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lookup {
    /// One record by id, from its collection's plain table (reference rows, ledger entries,
    /// documents' current state).
    Row {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
    },
    /// Every record whose text fields equal the given values (use an indexed prefix).
    Where {
        /// The collection.
        collection: String,
        /// `(field, value)` pairs, all of which must match.
        equal: Vec<(String, String)>,
    },
    /// A tally: a running number the server keeps from accepted facts (stock of an item at a
    /// branch, returned quantity of an invoice line, whether a voucher was redeemed).
    Tally(String),
}

/// A tally's state: a number and an optional note (where and when a voucher was redeemed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// The running value (0 when never written).
    pub value: i64,
    /// What the last writer noted.
    pub note: Option<String>,
}

/// A [`Lookup::Where`] as a key: the collection and its `(field, value)` pairs.
type QueryKey = (String, Vec<(String, String)>);

/// What rules have read: loaded by storage, kept current by the engine as a push is judged.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    rows: HashMap<(String, String), Option<Record>>,
    queries: HashMap<QueryKey, Vec<(String, Record)>>,
    tallies: HashMap<String, Tally>,
    changed: BTreeSet<String>,
}

impl Facts {
    /// No facts loaded.
    #[must_use]
    pub fn new() -> Self {
        Facts::default()
    }

    /// Whether `lookup` has been loaded.
    #[must_use]
    pub fn has(&self, lookup: &Lookup) -> bool {
        match lookup {
            Lookup::Row { collection, id } => {
                self.rows.contains_key(&(collection.clone(), id.clone()))
            }
            Lookup::Where { collection, equal } => self
                .queries
                .contains_key(&(collection.clone(), equal.clone())),
            Lookup::Tally(k) => self.tallies.contains_key(k),
        }
    }

    /// Stores the answer to a [`Lookup::Row`] (`None`: no such record).
    pub fn put_row(&mut self, collection: &str, id: &str, record: Option<Record>) {
        self.rows
            .insert((collection.to_owned(), id.to_owned()), record);
    }

    /// Stores the answer to a [`Lookup::Where`].
    pub fn put_query(
        &mut self,
        collection: &str,
        equal: Vec<(String, String)>,
        rows: Vec<(String, Record)>,
    ) {
        self.queries.insert((collection.to_owned(), equal), rows);
    }

    /// Stores a tally as loaded (absent tallies are loaded as the default).
    pub fn put_tally(&mut self, key: &str, tally: Tally) {
        self.tallies.insert(key.to_owned(), tally);
    }

    /// A record by id, when loaded and present.
    #[must_use]
    pub fn row(&self, collection: &str, id: &str) -> Option<&Record> {
        self.rows
            .get(&(collection.to_owned(), id.to_owned()))
            .and_then(Option::as_ref)
    }

    /// The records a [`Lookup::Where`] found (empty when not loaded).
    #[must_use]
    pub fn rows_where(&self, collection: &str, equal: &[(&str, &str)]) -> &[(String, Record)] {
        let key = (
            collection.to_owned(),
            equal
                .iter()
                .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
                .collect(),
        );
        self.queries.get(&key).map_or(&[], Vec::as_slice)
    }

    /// A tally (the default when never written or not loaded).
    #[must_use]
    pub fn tally(&self, key: &str) -> Tally {
        self.tallies.get(key).cloned().unwrap_or_default()
    }

    /// Applies an accepted write's effects: tallies move, and later rules see them.
    pub fn apply(&mut self, effects: &Effects) {
        for op in &effects.tallies {
            match op {
                TallyOp::Add(k, d) => {
                    let t = self.tallies.entry(k.clone()).or_default();
                    t.value = t.value.saturating_add(*d);
                    self.changed.insert(k.clone());
                }
                TallyOp::Set(k, v, note) => {
                    self.tallies.insert(
                        k.clone(),
                        Tally {
                            value: *v,
                            note: note.clone(),
                        },
                    );
                    self.changed.insert(k.clone());
                }
            }
        }
    }

    /// Makes an accepted ledger entry visible to later rules of the same push (a return
    /// against an invoice sent just before it).
    pub fn remember(&mut self, collection: &str, id: &str, record: &Record) {
        self.put_row(collection, id, Some(record.clone()));
    }

    /// The tallies accepted writes changed, with their new state: what storage writes.
    #[must_use]
    pub fn changed_tallies(&self) -> BTreeMap<String, Tally> {
        self.changed
            .iter()
            .map(|k| (k.clone(), self.tally(k)))
            .collect()
    }
}

/// The reads rules ask for, minus what is already loaded.
#[derive(Debug)]
pub struct Needs<'f> {
    facts: &'f Facts,
    wanted: BTreeSet<Lookup>,
}

impl<'f> Needs<'f> {
    /// Collects reads not yet in `facts`.
    #[must_use]
    pub fn new(facts: &'f Facts) -> Self {
        Needs {
            facts,
            wanted: BTreeSet::new(),
        }
    }

    fn want(&mut self, l: Lookup) {
        if !self.facts.has(&l) {
            self.wanted.insert(l);
        }
    }

    /// A record by id.
    pub fn row(&mut self, collection: &str, id: &str) {
        if !id.is_empty() {
            self.want(Lookup::Row {
                collection: collection.to_owned(),
                id: id.to_owned(),
            });
        }
    }

    /// Records whose fields equal these values.
    pub fn rows_where(&mut self, collection: &str, equal: &[(&str, &str)]) {
        self.want(Lookup::Where {
            collection: collection.to_owned(),
            equal: equal
                .iter()
                .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
                .collect(),
        });
    }

    /// A tally.
    pub fn tally(&mut self, key: &str) {
        self.want(Lookup::Tally(key.to_owned()));
    }

    /// What is still to load.
    #[must_use]
    pub fn into_lookups(self) -> BTreeSet<Lookup> {
        self.wanted
    }
}

/// A change to a tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TallyOp {
    /// Adds to the value (negative to subtract).
    Add(String, i64),
    /// Sets value and note.
    Set(String, i64, Option<String>),
}

/// An exception an accepted record raises for the back office to look at and resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct Raised {
    /// Machine-readable kind (`price_mismatch`, `negative_stock`, `gps_implausible`).
    pub kind: String,
    /// What happened, for the back office.
    pub message: String,
    /// Particulars (the lines, the expected and found values).
    pub details: serde_json::Value,
}

/// What an accepted record does besides being stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Tally updates.
    pub tallies: Vec<TallyOp>,
    /// Exceptions raised.
    pub raised: Vec<Raised>,
    /// Overrides the event type of the write (`shift.closed` rather than `shift.opened`).
    pub event_type: Option<String>,
}

impl Effects {
    /// Adds `delta` to tally `key`. The rule must have asked for `key` in [`Rule::reads`]:
    /// the sum is computed on the loaded value and stored as the new value.
    pub fn add(&mut self, key: impl Into<String>, delta: i64) {
        self.tallies.push(TallyOp::Add(key.into(), delta));
    }

    /// What earlier tally moves of this write add to `key` (not yet in the facts).
    #[must_use]
    pub fn pending(&self, key: &str) -> i128 {
        self.tallies
            .iter()
            .map(|t| match t {
                TallyOp::Add(k, d) if k == key => i128::from(*d),
                _ => 0,
            })
            .sum()
    }

    /// Adds `delta` to tally `key` when the result, counted from the loaded value and this
    /// write's earlier moves, stays within ±[`MAX_TALLY`]; returns the value before and after.
    ///
    /// # Errors
    /// A `tally_out_of_range` rejection naming `what` (the stock of `SKU` at `JKT-01`) when it
    /// would not.
    pub fn add_checked(
        &mut self,
        facts: &Facts,
        key: &str,
        delta: i64,
        what: &str,
    ) -> Result<(i64, i64), RuleVerdict> {
        let before = i128::from(facts.tally(key).value) + self.pending(key);
        let after = before + i128::from(delta);
        let bound = i128::from(MAX_TALLY);
        match (i64::try_from(before), i64::try_from(after)) {
            (Ok(b), Ok(a)) if (-bound..=bound).contains(&after) => {
                self.add(key, delta);
                Ok((b, a))
            }
            _ => Err(RuleVerdict::reject(
                "tally_out_of_range",
                format!(
                    "this would take {what} from {before} to {after}, past the ±{MAX_TALLY} the server keeps: check the quantities and amounts of the entry"
                ),
            )),
        }
    }

    /// Sets tally `key`.
    pub fn set(&mut self, key: impl Into<String>, value: i64, note: Option<String>) {
        self.tallies.push(TallyOp::Set(key.into(), value, note));
    }

    /// Raises an exception.
    pub fn raise(&mut self, kind: &str, message: impl Into<String>, details: serde_json::Value) {
        self.raised.push(Raised {
            kind: kind.to_owned(),
            message: message.into(),
            details,
        });
    }
}

/// A business rule for one collection.
pub trait Rule: Send + Sync {
    /// The stored state the rule needs to judge `write` (called again with more facts loaded,
    /// so a read may depend on an earlier one: the branch's price list, then its prices).
    /// Only ledger entries get these reads loaded; a document rule declares what it needs from
    /// the record's id in [`Rule::document_reads`].
    fn reads(&self, write: &Write<'_>, facts: &Facts, needs: &mut Needs<'_>) {
        let _ = (write, facts, needs);
    }

    /// The stored state a rule of a document collection needs, known from the record's id
    /// alone (a document's state after a change is known only when it is judged): the
    /// `customers` row an outlet profile is keyed by.
    fn document_reads(&self, record_id: &str, needs: &mut Needs<'_>) {
        let _ = (record_id, needs);
    }

    /// Judges `write`, noting what accepting it does in `effects`.
    fn check(&self, write: &Write<'_>, facts: &Facts, effects: &mut Effects) -> RuleVerdict;
}

impl<F> Rule for F
where
    F: Fn(&Write<'_>) -> RuleVerdict + Send + Sync,
{
    fn check(&self, write: &Write<'_>, _: &Facts, _: &mut Effects) -> RuleVerdict {
        self(write)
    }
}

/// What an accepted write did, for naming its event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    /// A ledger entry was recorded.
    Recorded,
    /// A document was created.
    Created,
    /// A document or reference row was changed.
    Updated,
    /// A document or reference row was deleted.
    Deleted,
}

impl WriteKind {
    fn suffix(self) -> &'static str {
        match self {
            WriteKind::Recorded => "recorded",
            WriteKind::Created => "created",
            WriteKind::Updated => "updated",
            WriteKind::Deleted => "deleted",
        }
    }
}

/// The rules and event names of every collection.
#[derive(Clone, Default)]
pub struct Rules {
    checks: HashMap<String, Vec<Arc<dyn Rule>>>,
    events: HashMap<(String, &'static str), String>,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("collections", &self.checks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Rules {
    /// No rules: every valid, permitted write is accepted.
    #[must_use]
    pub fn new() -> Self {
        Rules::default()
    }

    /// Adds a rule for `collection` (rules run in the order added; the first rejection wins).
    #[must_use]
    pub fn rule(mut self, collection: &str, rule: impl Rule + 'static) -> Self {
        self.checks
            .entry(collection.to_owned())
            .or_default()
            .push(Arc::new(rule));
        self
    }

    /// Names the event emitted when `collection` has a write of `kind` (the default is
    /// `<collection>.<recorded|created|updated|deleted>`).
    #[must_use]
    pub fn event(mut self, collection: &str, kind: WriteKind, event_type: &str) -> Self {
        self.events.insert(
            (collection.to_owned(), kind.suffix()),
            event_type.to_owned(),
        );
        self
    }

    /// Adds the reads the rules of `write`'s collection need and `facts` lacks.
    pub fn reads(&self, write: &Write<'_>, facts: &Facts, needs: &mut Needs<'_>) {
        for rule in self
            .checks
            .get(write.collection.name())
            .into_iter()
            .flatten()
        {
            rule.reads(write, facts, needs);
        }
    }

    /// Adds the reads the rules of a document of `collection` need from its id alone.
    pub fn document_reads(&self, collection: &str, record_id: &str, needs: &mut Needs<'_>) {
        for rule in self.checks.get(collection).into_iter().flatten() {
            rule.document_reads(record_id, needs);
        }
    }

    /// Runs the rules of `write`'s collection: the first verdict other than accept wins, and
    /// the effects are those of every rule when all accepted (none otherwise).
    #[must_use]
    pub fn check(&self, write: &Write<'_>, facts: &Facts) -> (RuleVerdict, Effects) {
        let mut effects = Effects::default();
        for rule in self
            .checks
            .get(write.collection.name())
            .into_iter()
            .flatten()
        {
            let verdict = rule.check(write, facts, &mut effects);
            if verdict != RuleVerdict::Accept {
                return (verdict, Effects::default());
            }
        }
        (RuleVerdict::Accept, effects)
    }

    /// The event type of a write.
    #[must_use]
    pub fn event_type(&self, collection: &str, kind: WriteKind) -> String {
        self.events
            .get(&(collection.to_owned(), kind.suffix()))
            .cloned()
            .unwrap_or_else(|| format!("{collection}.{}", kind.suffix()))
    }
}

/// The rules of the starter catalogue ([`lapak_core::catalog::starter`]): a sale's total must be
/// positive and equal the sum of its lines.
#[must_use]
pub fn starter() -> Rules {
    Rules::new()
        .rule("sales", |w: &Write<'_>| {
            let r = w.record;
            let total = r.get("total").and_then(Value::as_int).unwrap_or(0);
            if total <= 0 {
                return RuleVerdict::reject(
                    "invalid_total",
                    format!("a sale's total must be more than zero (it was {total}): void the sale instead of recording it"),
                );
            }
            let lines = r.get("lines").and_then(Value::as_list).unwrap_or(&[]);
            if !lines.is_empty() {
                // The starter's lines have no discount or tax: the sum is of quantity × price.
                let sum = lapak_core::commerce::lines::sum(
                    &lapak_core::commerce::lines::Line::from_items(lines),
                );
                if sum != i128::from(total) {
                    return RuleVerdict::reject(
                        "total_mismatch",
                        format!("the sale's total {total} is not the sum of its lines {sum}: ring the sale up again"),
                    );
                }
            }
            RuleVerdict::Accept
        })
        .event("sales", WriteKind::Recorded, "invoice.issued")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Grant, Role};
    use lapak_core::{item, record};

    fn test_principal(grants: &[(&str, bool)]) -> Principal {
        Principal {
            user_id: "u".into(),
            username: "u".into(),
            role: Role::Cashier,
            device_id: uuid::Uuid::nil(),
            grants: grants
                .iter()
                .map(|(s, w)| Grant {
                    scope: (*s).to_owned(),
                    write: *w,
                })
                .collect(),
        }
    }

    #[test]
    fn starter_rules_judge_sales() {
        let schema = lapak_core::catalog::starter();
        let c = schema.collection("sales").unwrap();
        let rules = starter();
        let facts = Facts::new();
        let who = test_principal(&[("branch:A", true)]);
        let check = |r: &Record| {
            rules
                .check(
                    &Write {
                        schema: &schema,
                        collection: c,
                        record_id: "1",
                        record: r,
                        user: "u",
                        principal: &who,
                        device: uuid::Uuid::nil(),
                        now_ms: 0,
                    },
                    &facts,
                )
                .0
        };
        let ok = record! {"branch" => "A", "total" => 200, "lines" => Value::List(vec![item!{"sku" => "X", "qty" => 2, "price" => 100}])};
        assert_eq!(check(&ok), RuleVerdict::Accept);
        let zero = record! {"branch" => "A", "total" => 0};
        assert!(
            matches!(check(&zero), RuleVerdict::Reject { code, .. } if code == "invalid_total")
        );
        let off = record! {"branch" => "A", "total" => 150, "lines" => Value::List(vec![item!{"sku" => "X", "qty" => 2, "price" => 100}])};
        assert!(
            matches!(check(&off), RuleVerdict::Reject { code, .. } if code == "total_mismatch")
        );
        assert_eq!(
            rules.event_type("sales", WriteKind::Recorded),
            "invoice.issued"
        );
        assert_eq!(
            rules.event_type("outlets", WriteKind::Updated),
            "outlets.updated"
        );
    }

    #[test]
    fn tally_moves_past_the_bound_are_rejected_not_wrapped() {
        let mut facts = Facts::new();
        facts.put_tally(
            "stock:A/X",
            Tally {
                value: MAX_TALLY - 1,
                note: None,
            },
        );
        let mut fx = Effects::default();
        assert_eq!(
            fx.add_checked(&facts, "stock:A/X", 1, "the stock"),
            Ok((MAX_TALLY - 1, MAX_TALLY))
        );
        // This write's own earlier move counts: one more is past the bound.
        let err = fx
            .add_checked(&facts, "stock:A/X", 1, "the stock")
            .unwrap_err();
        assert!(
            matches!(err, RuleVerdict::Reject { ref code, .. } if code == "tally_out_of_range")
        );
        assert!(
            fx.add_checked(&facts, "stock:A/X", i64::MIN, "the stock")
                .is_err()
        );
        assert_eq!(fx.tallies.len(), 1);
        facts.apply(&fx);
        assert_eq!(facts.tally("stock:A/X").value, MAX_TALLY);
    }
}
