//! Business rules: per collection, checks that accept or reject a record with a code and a
//! message for the person who wrote it, and the names of the events an accepted write emits.
//!
//! A rule sees the record as it will be stored (a ledger entry, or a document after the
//! change). It runs inside the push's transaction, after the schema and permission checks.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use lapak_core::{Collection, Record, Value};

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

/// A business rule for one collection.
pub trait Rule: Send + Sync {
    /// Judges `record` (id `record_id`) of `collection`.
    fn check(&self, collection: &Collection, record_id: &str, record: &Record) -> RuleVerdict;
}

impl<F> Rule for F
where
    F: Fn(&Collection, &str, &Record) -> RuleVerdict + Send + Sync,
{
    fn check(&self, collection: &Collection, record_id: &str, record: &Record) -> RuleVerdict {
        self(collection, record_id, record)
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

    /// Runs the rules of `collection` on `record`.
    #[must_use]
    pub fn check(&self, collection: &Collection, record_id: &str, record: &Record) -> RuleVerdict {
        for rule in self.checks.get(collection.name()).into_iter().flatten() {
            let verdict = rule.check(collection, record_id, record);
            if verdict != RuleVerdict::Accept {
                return verdict;
            }
        }
        RuleVerdict::Accept
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
        .rule("sales", |_: &Collection, _: &str, r: &Record| {
            let total = r.get("total").and_then(Value::as_int).unwrap_or(0);
            if total <= 0 {
                return RuleVerdict::reject(
                    "invalid_total",
                    format!("a sale's total must be more than zero (it was {total}): void the sale instead of recording it"),
                );
            }
            let lines = r.get("lines").and_then(Value::as_list).unwrap_or(&[]);
            if !lines.is_empty() {
                let sum: i64 = lines
                    .iter()
                    .map(|l| {
                        let n = |k: &str| match l.get(k) {
                            Some(lapak_core::Scalar::Int(v)) => *v,
                            _ => 0,
                        };
                        n("qty").saturating_mul(n("price"))
                    })
                    .fold(0i64, i64::saturating_add);
                if sum != total {
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
    use lapak_core::{item, record};

    #[test]
    fn starter_rules_judge_sales() {
        let schema = lapak_core::catalog::starter();
        let c = schema.collection("sales").unwrap();
        let rules = starter();
        let ok = record! {"branch" => "A", "total" => 200, "lines" => Value::List(vec![item!{"sku" => "X", "qty" => 2, "price" => 100}])};
        assert_eq!(rules.check(c, "1", &ok), RuleVerdict::Accept);
        let zero = record! {"branch" => "A", "total" => 0};
        assert!(
            matches!(rules.check(c, "1", &zero), RuleVerdict::Reject { code, .. } if code == "invalid_total")
        );
        let off = record! {"branch" => "A", "total" => 150, "lines" => Value::List(vec![item!{"sku" => "X", "qty" => 2, "price" => 100}])};
        assert!(
            matches!(rules.check(c, "1", &off), RuleVerdict::Reject { code, .. } if code == "total_mismatch")
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
}
