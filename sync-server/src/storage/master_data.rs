//! Master data as the admin web pages through it: the reference collections of the schema
//! (items, prices, customers, branches, territories, vouchers, staff), each read from its plain
//! table one page at a time, searched over its text columns. Writes go through
//! [`Storage::put_reference`](super::Storage::put_reference) like any other.

use lapak_core::Collection;
use lapak_core::schema::{FieldType, Kind, ScalarType};
use serde::Serialize;
use ts_rs::TS;

use super::Result;
use super::db::{Arg, DbRow, quote_ident};
use super::fleet::{Page, contains_pattern};
use super::sql::SqlStorage;

/// A field's type as the admin web edits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Text.
    Text,
    /// A whole number (rupiah, quantities, basis points).
    Int,
    /// A number with decimals (coordinates).
    Real,
    /// Yes or no.
    Bool,
    /// A moment, ms since the epoch.
    Timestamp,
}

impl From<ScalarType> for FieldKind {
    fn from(t: ScalarType) -> Self {
        match t {
            ScalarType::Text => FieldKind::Text,
            ScalarType::Int => FieldKind::Int,
            ScalarType::Real => FieldKind::Real,
            ScalarType::Bool => FieldKind::Bool,
            ScalarType::Timestamp => FieldKind::Timestamp,
        }
    }
}

/// One field of a master-data collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DataField {
    /// Its name (the CSV column, the JSON key).
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// Whether every row must have it.
    pub required: bool,
}

/// A master-data collection: what its rows hold and how many there are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct DataCollection {
    /// Its name (`items`).
    pub name: String,
    /// Its fields, in order (the row id comes first, as `id`).
    pub fields: Vec<DataField>,
    /// Rows the server derives (stock levels, dues): read-only.
    pub derived: bool,
    /// Rows it holds.
    #[ts(type = "number")]
    pub rows: i64,
}

/// One row: its id and its fields (JSON in the shape of `PUT /v1/admin/reference`).
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
pub struct DataRow {
    /// The row's id.
    pub id: String,
    /// Its fields; a field without a value is `null`.
    #[ts(type = "Record<string, string | number | boolean | null>")]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// The scalar fields of a reference collection (reference collections have no others).
#[must_use]
pub fn data_fields(c: &Collection) -> Vec<DataField> {
    c.fields()
        .iter()
        .filter_map(|f| match f.ty {
            FieldType::Scalar(t) => Some(DataField {
                name: f.name.clone(),
                kind: t.into(),
                required: f.required,
            }),
            FieldType::MergeText => Some(DataField {
                name: f.name.clone(),
                kind: FieldKind::Text,
                required: f.required,
            }),
            FieldType::List(_) => None,
        })
        .collect()
}

/// The text fields a search looks in besides the id: the required ones (names, codes) and
/// the indexed ones (a barcode, a territory). Fewer columns than every text field, so that a
/// search through 100,000 outlets stays a fast scan.
fn searched_fields(c: &Collection, fields: &[DataField]) -> Vec<String> {
    let indexed: Vec<&str> = c
        .indexes()
        .iter()
        .flat_map(|i| i.fields.iter().map(String::as_str))
        .collect();
    fields
        .iter()
        .filter(|f| f.kind == FieldKind::Text && (f.required || indexed.contains(&f.name.as_str())))
        .map(|f| f.name.clone())
        .collect()
}

/// Whether the admin web's master data lists `c`.
#[must_use]
pub fn is_master_data(c: &Collection) -> bool {
    c.kind() == Kind::Reference
}

impl SqlStorage {
    /// The reference collections, with their row counts.
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn data_collections_now(&self) -> Result<Vec<DataCollection>> {
        let schema = super::Storage::schema(self);
        let mut out = Vec::new();
        for c in schema.collections().iter().filter(|c| is_master_data(c)) {
            let sql = format!("SELECT COUNT(*) FROM {}", quote_ident(c.name()));
            out.push(DataCollection {
                name: c.name().to_owned(),
                fields: data_fields(c),
                derived: c.is_derived(),
                rows: super::back_office::first(&self.read(&sql, &[]).await?)?.int(0)?,
            });
        }
        Ok(out)
    }

    /// One page of `c`'s rows in id order, those with `search` in their id or one of its
    /// searched fields ([`searched_fields`], any case) when it is given.
    ///
    /// # Errors
    /// When the database fails.
    pub(crate) async fn data_page_of(
        &self,
        c: &Collection,
        search: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Page<DataRow>> {
        let fields = data_fields(c);
        let mut args = Vec::new();
        let mut filter = String::new();
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            args.push(Arg::Text(contains_pattern(s)));
            let texts: Vec<String> = std::iter::once("id".to_owned())
                .chain(searched_fields(c, &fields))
                .map(|n| format!("LOWER({}) LIKE $1 ESCAPE '\\'", quote_ident(&n)))
                .collect();
            filter = format!("WHERE {}", texts.join(" OR "));
        }
        let table = quote_ident(c.name());
        let count_args = args.clone();
        let limit = limit.clamp(1, 500);
        let columns: Vec<String> = fields.iter().map(|f| quote_ident(&f.name)).collect();
        args.push(Arg::Int(i64::from(limit)));
        args.push(Arg::Int(i64::from(offset)));
        let sql = format!(
            "SELECT id{}{} FROM {table} {filter} ORDER BY id LIMIT ${} OFFSET ${}",
            if columns.is_empty() { "" } else { ", " },
            columns.join(", "),
            args.len() - 1,
            args.len()
        );
        let rows = self
            .read(&sql, &args)
            .await?
            .iter()
            .map(|r| data_row(r, &fields))
            .collect::<Result<Vec<_>>>()?;
        let total = match total_from_page(offset, limit, rows.len()) {
            Some(total) => total,
            None => super::back_office::first(
                &self
                    .read(
                        &format!("SELECT COUNT(*) FROM {table} {filter}"),
                        &count_args,
                    )
                    .await?,
            )?
            .int(0)?,
        };
        Ok(Page { rows, total })
    }
}

/// The number of matching rows when a page of at most `limit` rows from `offset` tells it: a
/// page that is not full is the last one. A search that matches few rows then costs one scan of
/// the table instead of two (the page's, and a count's).
fn total_from_page(offset: u32, limit: u32, got: usize) -> Option<i64> {
    let got = u32::try_from(got).ok()?;
    (got < limit && (got > 0 || offset == 0)).then(|| i64::from(offset) + i64::from(got))
}

fn data_row(r: &DbRow, fields: &[DataField]) -> Result<DataRow> {
    use serde_json::Value as J;
    let mut out = serde_json::Map::new();
    for (i, f) in fields.iter().enumerate() {
        let at = i + 1;
        let v = match f.kind {
            FieldKind::Text => r.opt_text(at)?.map_or(J::Null, J::String),
            FieldKind::Int | FieldKind::Timestamp => r.opt_int(at)?.map_or(J::Null, J::from),
            FieldKind::Real => r.opt_real(at)?.map_or(J::Null, J::from),
            FieldKind::Bool => r.opt_bool(at)?.map_or(J::Null, J::Bool),
        };
        out.insert(f.name.clone(), v);
    }
    Ok(DataRow {
        id: r.text(0)?,
        fields: out,
    })
}

#[cfg(test)]
mod tests {
    use super::total_from_page;

    #[test]
    fn a_page_that_is_not_full_tells_the_total() {
        assert_eq!(total_from_page(0, 50, 0), Some(0));
        assert_eq!(total_from_page(0, 50, 7), Some(7));
        assert_eq!(total_from_page(100, 50, 3), Some(103));
        // A full page, or nothing past the end, says nothing: count.
        assert_eq!(total_from_page(0, 50, 50), None);
        assert_eq!(total_from_page(200, 50, 0), None);
    }
}
