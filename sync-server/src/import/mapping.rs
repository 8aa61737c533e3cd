//! The mapping file of an import from the ERP (`lapak-server import <mapping.toml>`): which
//! collection, where its rows come from (a CSV or JSON-lines file, or an SQL query against
//! Postgres or MariaDB/MySQL), and which source column fills each field. Checked against the
//! schema before anything is read, with messages that name the key to fix.
//!
//! ```toml
//! collection = "items"
//! name = "erp-items"            # rows this source wrote and no longer has are deleted
//!
//! [source]
//! sql = "SELECT item_code, item_name, uom FROM erp_items WHERE active = 1"
//! url_env = "ERP_DATABASE_URL"  # or url = "mysql://user:pass@host:3306/erp"
//! # csv = "items.csv" or jsonl = "items.jsonl", relative to this file
//!
//! [fields]                      # Lapak field = source column
//! id = "item_code"
//! name = "item_name"
//! unit = "uom"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lapak_core::Collection;
use lapak_core::schema::Kind;
use serde::Deserialize;

use crate::config::Secret;
use crate::storage::master_data::{DataField, data_fields};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    collection: String,
    name: Option<String>,
    source: SourceFile,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    csv: Option<PathBuf>,
    jsonl: Option<PathBuf>,
    sql: Option<String>,
    url: Option<Secret>,
    url_env: Option<String>,
}

/// Where the rows come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A CSV file with a header line.
    Csv(PathBuf),
    /// A file of one JSON object per line.
    JsonLines(PathBuf),
    /// A query against a database (`postgres://` or `mysql://`/`mariadb://`).
    Sql {
        /// The database's URL (may hold credentials).
        url: Secret,
        /// The query; its columns are the source columns.
        query: String,
    },
}

/// A checked mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The collection written.
    pub collection: Collection,
    /// The source's name: what it wrote is remembered under it.
    pub name: String,
    /// Where the rows come from.
    pub source: Source,
    /// The source column of the row id.
    pub id_column: String,
    /// Each mapped field with its source column, in the collection's order.
    pub fields: Vec<(DataField, String)>,
}

/// Why a mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read the mapping file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("the mapping file {path} is not valid: {detail}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and what to write instead.
        detail: String,
    },
}

impl Mapping {
    /// Reads and checks the mapping file at `path` against `schema`. Relative file sources are
    /// relative to the mapping file; `url_env` is read from `env`.
    ///
    /// # Errors
    /// [`MappingError`] naming what to fix.
    pub fn load(
        path: &Path,
        schema: &lapak_core::Schema,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let invalid = |detail: String| MappingError::Invalid {
            path: path.display().to_string(),
            detail,
        };
        let file: MappingFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let default_name = path
            .file_stem()
            .map_or_else(|| "import".to_owned(), |s| s.to_string_lossy().into_owned());
        Mapping::check(file, base, default_name, schema, env).map_err(invalid)
    }

    fn check(
        file: MappingFile,
        base: &Path,
        default_name: String,
        schema: &lapak_core::Schema,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Mapping, String> {
        let collection = schema
            .collection(&file.collection)
            .ok()
            .filter(|c| c.kind() == Kind::Reference && !c.is_derived())
            .ok_or_else(|| {
                let names: Vec<&str> = schema
                    .collections()
                    .iter()
                    .filter(|c| c.kind() == Kind::Reference && !c.is_derived())
                    .map(Collection::name)
                    .collect();
                format!(
                    "`collection = \"{}\"` is not master data an import can write: use one of {}",
                    file.collection,
                    names.join(", ")
                )
            })?
            .clone();
        let name = file.name.unwrap_or(default_name);
        if name.is_empty() || name.len() > 100 {
            return Err("`name` must be 1 to 100 characters".into());
        }
        let source = source(file.source, base, env)?;
        let (id_column, fields) = fields(&collection, file.fields)?;
        Ok(Mapping {
            collection,
            name,
            source,
            id_column,
            fields,
        })
    }
}

fn source(
    s: SourceFile,
    base: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Source, String> {
    let given = [s.csv.is_some(), s.jsonl.is_some(), s.sql.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(
            "`[source]` needs exactly one of `csv = \"file.csv\"`, `jsonl = \"file.jsonl\"` or `sql = \"SELECT ...\"`"
                .into(),
        );
    }
    if let Some(p) = s.csv {
        return Ok(Source::Csv(base.join(p)));
    }
    if let Some(p) = s.jsonl {
        return Ok(Source::JsonLines(base.join(p)));
    }
    let query = s.sql.unwrap_or_default();
    let url = match (s.url, s.url_env) {
        (Some(u), None) => u,
        (None, Some(var)) => Secret(env(&var).ok_or_else(|| {
            format!("`url_env = \"{var}\"` names an environment variable that is not set: set it to the database's URL")
        })?),
        _ => {
            return Err(
                "an `sql` source needs one of `url = \"mysql://...\"` or `url_env = \"VARIABLE\"` (keeps the password out of the file)"
                    .into(),
            );
        }
    };
    let scheme_fine = ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|p| url.0.starts_with(p));
    if !scheme_fine {
        return Err(format!(
            "the source URL {} is not one: it starts with postgres://, mysql:// or mariadb://",
            crate::relay::safe_address(&url.0)
        ));
    }
    Ok(Source::Sql { url, query })
}

fn fields(
    c: &Collection,
    mut given: BTreeMap<String, String>,
) -> Result<(String, Vec<(DataField, String)>), String> {
    let id_column = given.remove("id").ok_or_else(|| {
        "`[fields]` has no `id = \"COLUMN\"`: name the source column that holds each row's id (the SKU, the customer code)".to_owned()
    })?;
    let known = data_fields(c);
    if let Some(unknown) = given.keys().find(|k| !known.iter().any(|f| &f.name == *k)) {
        let names: Vec<&str> = known.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "`{unknown}` in `[fields]` is not a field of `{}`: its fields are id, {}",
            c.name(),
            names.join(", ")
        ));
    }
    if let Some(missing) = known
        .iter()
        .find(|f| f.required && !given.contains_key(&f.name))
    {
        return Err(format!(
            "`[fields]` does not map `{}`, which every row of `{}` needs",
            missing.name,
            c.name()
        ));
    }
    let fields = known
        .into_iter()
        .filter_map(|f| given.remove(&f.name).map(|column| (f, column)))
        .collect();
    Ok((id_column, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Mapping, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| e.to_string())?;
        Mapping::check(
            file,
            Path::new("/etc/lapak"),
            "items-erp".into(),
            &lapak_core::catalog::business(),
            |v| (v == "ERP_URL").then(|| "mysql://u:secret@erp:3306/erp".to_owned()),
        )
    }

    #[test]
    fn a_mapping_names_its_collection_source_and_columns() {
        let m = load(
            "collection = \"items\"\n[source]\nsql = \"SELECT * FROM items\"\nurl_env = \"ERP_URL\"\n[fields]\nid = \"code\"\nname = \"nama\"\nunit = \"uom\"\n",
        )
        .unwrap();
        assert_eq!(m.name, "items-erp");
        assert_eq!(m.id_column, "code");
        let mapped: Vec<(&str, &str)> = m
            .fields
            .iter()
            .map(|(f, c)| (f.name.as_str(), c.as_str()))
            .collect();
        assert_eq!(mapped, [("name", "nama"), ("unit", "uom")]);
        assert!(matches!(m.source, Source::Sql { .. }));
        let csv = load("collection = \"items\"\n[source]\ncsv = \"items.csv\"\n[fields]\nid = \"code\"\nname = \"nama\"\n").unwrap();
        assert_eq!(
            csv.source,
            Source::Csv(PathBuf::from("/etc/lapak/items.csv"))
        );
    }

    #[test]
    fn mistakes_are_named_with_what_to_write() {
        let err = |t: &str| load(t).unwrap_err();
        assert!(
            err("collection = \"stock_levels\"\n[source]\ncsv = \"a\"\n[fields]\nid = \"x\"\n")
                .contains("not master data")
        );
        assert!(
            err("collection = \"items\"\n[source]\ncsv = \"a\"\n[fields]\nname = \"x\"\n")
                .contains("no `id")
        );
        assert!(
            err("collection = \"items\"\n[source]\ncsv = \"a\"\n[fields]\nid = \"x\"\n")
                .contains("`name`")
        );
        assert!(err("collection = \"items\"\n[source]\ncsv = \"a\"\n[fields]\nid = \"x\"\nname = \"n\"\nnama = \"y\"\n").contains("`nama`"));
        assert!(err("collection = \"items\"\n[source]\ncsv = \"a\"\njsonl = \"b\"\n[fields]\nid = \"x\"\nname = \"n\"\n").contains("exactly one"));
        assert!(err("collection = \"items\"\n[source]\nsql = \"SELECT 1\"\nurl_env = \"NOPE\"\n[fields]\nid = \"x\"\nname = \"n\"\n").contains("NOPE"));
        let scheme = err(
            "collection = \"items\"\n[source]\nsql = \"SELECT 1\"\nurl = \"oracle://u:hunter2@h/x\"\n[fields]\nid = \"x\"\nname = \"n\"\n",
        );
        assert!(
            scheme.contains("mysql://") && !scheme.contains("hunter2"),
            "{scheme}"
        );
        assert!(err("collection = \"items\"\ncolour = 1\n[source]\ncsv = \"a\"\n[fields]\nid = \"x\"\nname = \"n\"\n").contains("colour"));
    }
}
