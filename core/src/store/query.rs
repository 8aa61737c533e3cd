//! Reading the plain tables: [`Query`] (filters, ordering, paging), [`Row`] and a ledger
//! entry's [`Verdict`]. Field names are checked against the schema before they reach SQL.

use super::{Store, tables};
use crate::error::{Error, Result};
use crate::schema::{FieldType, Kind};
use crate::value::{Record, Value};

/// The pseudo-field of a ledger's verdict in a [`Query`] filter: `pending` (not yet judged),
/// `accepted` or `rejected`.
pub const STATUS: &str = "_status";

/// The server's verdict on a ledger entry, as the device knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not yet judged.
    Pending,
    /// Accepted at this server log position.
    Accepted {
        /// Server log position.
        position: u64,
    },
    /// Refused, with the server's reason.
    Rejected {
        /// Machine-readable code.
        code: String,
        /// Message for the user.
        message: String,
    },
}

/// One record as read from a plain table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The record id.
    pub id: String,
    /// Every declared field (null when unset).
    pub fields: Record,
    /// For ledger entries, the server's verdict.
    pub verdict: Option<Verdict>,
}

/// Comparison operators of a [`Query`] filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=` (with null: `IS NULL`).
    Eq,
    /// `<>` (with null: `IS NOT NULL`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// SQL `LIKE` (`%` and `_` wildcards; ASCII letters match either case).
    Like,
}

/// A query on a collection's plain table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    filters: Vec<(String, Op, Value)>,
    order: Vec<(String, bool)>,
    limit: Option<u64>,
    offset: u64,
}

impl Query {
    /// All records.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps records whose `field` compares to `value` by `op` (`field` may be `id`, and for a
    /// ledger [`STATUS`]: `pending`, `accepted` or `rejected`).
    #[must_use]
    pub fn filter(mut self, field: &str, op: Op, value: impl Into<Value>) -> Self {
        self.filters.push((field.to_owned(), op, value.into()));
        self
    }

    /// Shorthand for `filter(field, Op::Eq, value)`.
    #[must_use]
    pub fn eq(self, field: &str, value: impl Into<Value>) -> Self {
        self.filter(field, Op::Eq, value)
    }

    /// Orders by `field`, ascending or descending; later calls break ties.
    #[must_use]
    pub fn order_by(mut self, field: &str, descending: bool) -> Self {
        self.order.push((field.to_owned(), descending));
        self
    }

    /// At most `n` records.
    #[must_use]
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` records.
    #[must_use]
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }
}

impl Store {
    /// One record, or `None`.
    ///
    /// # Errors
    /// [`Error::UnknownCollection`], or [`Error::Sqlite`].
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Row>> {
        Ok(self
            .query(collection, &Query::new().eq("id", id).limit(1))?
            .pop())
    }

    /// Records matching `query`.
    ///
    /// # Errors
    /// [`Error::UnknownField`] for a field the collection does not declare, or
    /// [`Error::InvalidValue`] for a filter value of the wrong type.
    pub fn query(&self, collection: &str, query: &Query) -> Result<Vec<Row>> {
        let c = self.schema.collection(collection)?;
        let ledger = c.kind() == Kind::Ledger;
        let mut sql = format!("SELECT id, {}", tables::field_list(c));
        if c.fields().is_empty() {
            sql = "SELECT id".to_owned();
        }
        if ledger {
            sql.push_str(", _status, _code, _message, _position");
        }
        sql.push_str(&format!(" FROM {}", tables::quote(c.name())));
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        for (i, (field, op, value)) in query.filters.iter().enumerate() {
            sql.push_str(if i == 0 { " WHERE " } else { " AND " });
            let column = if field == "id" {
                "id".to_owned()
            } else if field == STATUS && ledger {
                STATUS.to_owned()
            } else {
                let f = c.field_named(field)?;
                if *value != Value::Null && !matches!(op, Op::Like) {
                    c.check_value(field, value)?;
                }
                if matches!(f.ty, FieldType::List(_)) {
                    return Err(Error::InvalidValue {
                        collection: c.name().to_owned(),
                        field: field.clone(),
                        detail: "list fields cannot be filtered".into(),
                    });
                }
                tables::quote(field)
            };
            if *value == Value::Null {
                match op {
                    Op::Eq => sql.push_str(&format!("{column} IS NULL")),
                    Op::Ne => sql.push_str(&format!("{column} IS NOT NULL")),
                    _ => sql.push('0'),
                }
                continue;
            }
            let sym = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Like => "LIKE",
            };
            sql.push_str(&format!("{column} {sym} ?"));
            args.push(match value {
                Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                Value::Int(n) => rusqlite::types::Value::Integer(*n),
                Value::Real(r) => rusqlite::types::Value::Real(*r),
                Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
                Value::Null | Value::List(_) => rusqlite::types::Value::Null,
            });
        }
        for (i, (field, desc)) in query.order.iter().enumerate() {
            if field != "id" {
                c.field_named(field)?;
            }
            sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            sql.push_str(&tables::quote(field));
            if *desc {
                sql.push_str(" DESC");
            }
        }
        if query.order.is_empty() {
            sql.push_str(" ORDER BY id");
        }
        sql.push_str(&format!(
            " LIMIT {} OFFSET {}",
            query
                .limit
                .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX)),
            query.offset
        ));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        let n = c.fields().len();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let fields = tables::read_fields(c, row, 1)?;
            let verdict = if ledger {
                let status: String = row.get(n + 1)?;
                Some(match status.as_str() {
                    "accepted" => Verdict::Accepted {
                        position: row
                            .get::<_, Option<i64>>(n + 4)?
                            .unwrap_or(0)
                            .try_into()
                            .unwrap_or(0),
                    },
                    "rejected" => Verdict::Rejected {
                        code: row.get::<_, Option<String>>(n + 2)?.unwrap_or_default(),
                        message: row.get::<_, Option<String>>(n + 3)?.unwrap_or_default(),
                    },
                    _ => Verdict::Pending,
                })
            } else {
                None
            };
            out.push(Row {
                id,
                fields,
                verdict,
            });
        }
        Ok(out)
    }

    /// How many records a collection's table holds.
    ///
    /// # Errors
    /// [`Error::UnknownCollection`], or [`Error::Sqlite`].
    pub fn count(&self, collection: &str) -> Result<u64> {
        let c = self.schema.collection(collection)?;
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM {}", tables::quote(c.name())),
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
