//! Imports from the ERP on both backends: from a CSV file, a JSON-lines file and a real
//! MariaDB table (`LAPAK_TEST_MYSQL_URL`, which scripts/test.sh provides). An import run twice
//! changes nothing the second time; changed rows and only those are written; rows gone from the
//! source are deleted, but not rows in error, and not more than a run may delete; a dry run
//! writes nothing; a row someone else changed is written again.

mod common;

use std::path::Path;

use common::{Harness, count};
use lapak_server::import::erp::{ImportError, ImportReport, RunOptions, run};
use lapak_server::import::mapping::Mapping;
use lapak_server::storage::Storage as _;
use sqlx::Connection as _;

on_both_backends!(business_sqlite, business_postgres;
    a_csv_import_writes_only_what_changed_and_deletes_what_is_gone,
    a_mariadb_table_is_imported_with_its_types_and_twice_changes_nothing,
    two_sources_of_one_row_each_write_it_again_after_the_other,
    a_chunk_planned_in_parts_is_written_whole_or_not_at_all,
);

fn options() -> RunOptions {
    RunOptions {
        dry_run: false,
        max_deletions: None,
        utc_offset_seconds: 7 * 3600,
    }
}

fn mapping(dir: &Path, name: &str, text: &str, h: &Harness) -> Mapping {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    Mapping::load(&path, &h.storage.schema(), |v| std::env::var(v).ok()).unwrap()
}

async fn import(h: &Harness, m: &Mapping, options: &RunOptions) -> ImportReport {
    run(h.storage.as_ref(), m, options, |_| {}).await.unwrap()
}

/// (new, changed, unchanged, deleted, errors)
fn counts(r: &ImportReport) -> (u64, u64, u64, u64, u64) {
    (r.new, r.changed, r.unchanged, r.deleted, r.error_count)
}

async fn name_of(h: &Harness, id: &str) -> Option<String> {
    let rows = h
        .storage
        .query_text(&format!("SELECT name FROM items WHERE id = '{id}'"))
        .await
        .unwrap();
    rows.first().and_then(|r| r[0].clone())
}

/// The mapping `erp-items` of `items.csv` in `dir` (columns KODE, NAMA, SATUAN, PPN) to `items`.
fn items_mapping(dir: &Path, h: &Harness) -> Mapping {
    mapping(
        dir,
        "erp-items",
        "collection = \"items\"\n[source]\ncsv = \"items.csv\"\n[fields]\nid = \"KODE\"\nname = \"NAMA\"\nunit = \"SATUAN\"\ntax_rate_bp = \"PPN\"\n",
        h,
    )
}

fn items_csv(rows: usize, renamed: &[usize], skip: &[usize]) -> String {
    let mut out = String::from("KODE,NAMA,SATUAN,PPN\n");
    for i in 0..rows {
        if skip.contains(&i) {
            continue;
        }
        let name = if renamed.contains(&i) {
            format!("Barang {i} baru")
        } else {
            format!("Barang {i}")
        };
        out.push_str(&format!("SKU-{i:04},{name},pcs,1100\n"));
    }
    out
}

async fn a_csv_import_writes_only_what_changed_and_deletes_what_is_gone(h: Harness) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("items.csv");
    std::fs::write(&csv, items_csv(100, &[], &[])).unwrap();
    let m = items_mapping(dir.path(), &h);
    assert_eq!(m.name, "erp-items");
    let first = import(&h, &m, &options()).await;
    assert_eq!(counts(&first), (100, 0, 0, 0, 0));
    assert_eq!(name_of(&h, "SKU-0007").await.as_deref(), Some("Barang 7"));
    let head = h.storage.head().await.unwrap();
    let again = import(&h, &m, &options()).await;
    assert_eq!(counts(&again), (0, 0, 100, 0, 0));
    assert_eq!(h.storage.head().await.unwrap(), head, "nothing was written");

    // Two renamed, three gone, one new; a dry run says so and writes nothing.
    let mut text = items_csv(100, &[3, 4], &[10, 11, 12]);
    text.push_str("SKU-9999,Barang baru,pcs,0\n");
    std::fs::write(&csv, &text).unwrap();
    let dry = import(
        &h,
        &m,
        &RunOptions {
            dry_run: true,
            ..options()
        },
    )
    .await;
    assert_eq!(counts(&dry), (1, 2, 95, 3, 0));
    assert_eq!(dry.samples.deleted, ["SKU-0010", "SKU-0011", "SKU-0012"]);
    assert_eq!(
        h.storage.head().await.unwrap(),
        head,
        "a dry run writes nothing"
    );
    let changed = import(&h, &m, &options()).await;
    assert_eq!(counts(&changed), (1, 2, 95, 3, 0));
    assert_eq!(
        name_of(&h, "SKU-0003").await.as_deref(),
        Some("Barang 3 baru")
    );
    assert_eq!(name_of(&h, "SKU-0010").await, None, "deleted");
    assert_eq!(
        name_of(&h, "SKU-9999").await.as_deref(),
        Some("Barang baru")
    );
    assert_eq!(counts(&import(&h, &m, &options()).await), (0, 0, 98, 0, 0));

    // Someone edits an imported row in the admin web: the next import writes the ERP's again.
    common::reference(
        h.storage.as_ref(),
        "items",
        &[("SKU-0005", serde_json::json!({"name": "edited by hand"}))],
    )
    .await;
    assert_eq!(counts(&import(&h, &m, &options()).await), (0, 1, 97, 0, 0));
    assert_eq!(name_of(&h, "SKU-0005").await.as_deref(), Some("Barang 5"));

    // A row in error is reported with its line, neither written nor deleted.
    let broken = items_csv(100, &[], &[10, 11, 12]).replace(
        "SKU-0020,Barang 20,pcs,1100",
        "SKU-0020,Barang 20,pcs,sebelas",
    );
    std::fs::write(&csv, format!("{broken}SKU-9999,Barang baru,pcs,0\n")).unwrap();
    let report = import(&h, &m, &options()).await;
    assert_eq!(counts(&report), (0, 2, 95, 0, 1));
    assert_eq!(report.errors[0].id, "SKU-0020");
    assert!(
        report.errors[0].message.contains("PPN"),
        "{:?}",
        report.errors[0]
    );
    assert_eq!(report.errors[0].line, 19);
    assert_eq!(name_of(&h, "SKU-0020").await.as_deref(), Some("Barang 20"));

    // An empty file would delete everything: refused, and nothing is lost.
    std::fs::write(&csv, "KODE,NAMA,SATUAN,PPN\n").unwrap();
    let refused = run(h.storage.as_ref(), &m, &options(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ImportError::TooManyDeletions { would: 98, .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("--max-deletions 98"),
        "{refused}"
    );
    assert_eq!(
        count(&h.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        98
    );
}

/// A chunk of more rows than the engine plans at a time (500) is planned in parts inside one
/// transaction: every row gets its own position, one after the other, with its log entry and
/// event; a row the database cannot store in a later part leaves nothing of the earlier ones
/// (written through the storage, which an import reaches only with rows it checked: from a
/// source, such a row is a row error).
async fn a_chunk_planned_in_parts_is_written_whole_or_not_at_all(h: Harness) {
    use lapak_core::{Record, Value};
    use lapak_server::storage::{ImportLedger as _, WriteContext};

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("items.csv");
    let m = items_mapping(dir.path(), &h);
    let sql_count = async |sql: &str| count(&h.storage, sql).await;
    let before = h.storage.head().await.unwrap();
    let items_before = sql_count("SELECT CAST(COUNT(*) AS TEXT) FROM items").await;

    // A NUL in the name of a row of the third part: the database cannot store it.
    let rows: Vec<(String, Option<Record>)> = (0..1_234)
        .map(|i| {
            let name = if i == 1_100 {
                format!("Barang\u{0}{i}")
            } else {
                format!("Barang {i}")
            };
            let mut r = Record::new();
            r.insert("name".into(), Value::Text(name));
            r.insert("unit".into(), Value::Text("pcs".into()));
            (format!("SKU-{i:04}"), Some(r))
        })
        .collect();
    let ctx = WriteContext {
        now_ms: 1,
        trace_id: "test".into(),
    };
    let refused = h
        .storage
        .put_imported(&ctx, "erp-items", "items", &rows, &[7; 1_234])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("SKU-1100"), "{refused}");
    assert!(refused.to_string().contains("NUL"), "{refused}");
    assert_eq!(h.storage.head().await.unwrap(), before, "nothing written");
    assert_eq!(
        sql_count("SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        items_before
    );

    // From a source, the same row is a row error and the others are written.
    let poisoned =
        items_csv(1_234, &[], &[]).replace("SKU-1100,Barang 1100,", "SKU-1100,Barang\u{0}1100,");
    std::fs::write(&csv, poisoned).unwrap();
    let report = import(&h, &m, &options()).await;
    assert_eq!(counts(&report), (1_233, 0, 0, 0, 1));
    assert_eq!(report.errors[0].id, "SKU-1100");
    assert!(
        report.errors[0].message.contains("NUL"),
        "{:?}",
        report.errors
    );
    std::fs::write(&csv, items_csv(1_234, &[], &[])).unwrap();
    assert_eq!(
        counts(&import(&h, &m, &options()).await),
        (1, 0, 1_233, 0, 0)
    );

    let head = h.storage.head().await.unwrap();
    assert_eq!(head, before + 1_234, "one position per row, no gaps");
    let versions = h
        .storage
        .query_text(&format!(
            "SELECT CAST(COUNT(DISTINCT version) AS TEXT), CAST(MIN(version) AS TEXT), \
             CAST(MAX(version) AS TEXT) FROM lapak_reference WHERE collection = 'items' \
             AND version > {before}"
        ))
        .await
        .unwrap();
    let first = before + 1;
    assert_eq!(
        versions[0],
        [
            Some("1234".to_owned()),
            Some(first.to_string()),
            Some(head.to_string())
        ]
    );
    for (what, sql) in [
        (
            "log entries",
            format!("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log WHERE position > {before}"),
        ),
        (
            "events",
            format!("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox WHERE position > {before}"),
        ),
    ] {
        assert_eq!(sql_count(&sql).await, 1_234, "{what}");
    }
    assert_eq!(
        name_of(&h, "SKU-1100").await.as_deref(),
        Some("Barang 1100")
    );
}

/// Two ERPs (a mistake, or a move from one to the other) writing the same rows: each run writes
/// the rows the other wrote since, then skips them until the other writes again.
async fn two_sources_of_one_row_each_write_it_again_after_the_other(h: Harness) {
    let dir = tempfile::tempdir().unwrap();
    let fields =
        "[fields]\nid = \"KODE\"\nname = \"NAMA\"\nunit = \"SATUAN\"\ntax_rate_bp = \"PPN\"\n";
    std::fs::write(dir.path().join("old.csv"), items_csv(20, &[], &[])).unwrap();
    std::fs::write(dir.path().join("new.csv"), items_csv(20, &[0, 1, 2], &[])).unwrap();
    let old = mapping(
        dir.path(),
        "erp-old",
        &format!("collection = \"items\"\n[source]\ncsv = \"old.csv\"\n{fields}"),
        &h,
    );
    let new = mapping(
        dir.path(),
        "erp-new",
        &format!("collection = \"items\"\n[source]\ncsv = \"new.csv\"\n{fields}"),
        &h,
    );
    assert_eq!(
        counts(&import(&h, &old, &options()).await),
        (20, 0, 0, 0, 0)
    );
    // The rows are there already: changed, not new.
    assert_eq!(
        counts(&import(&h, &new, &options()).await),
        (0, 20, 0, 0, 0)
    );
    assert_eq!(
        name_of(&h, "SKU-0001").await.as_deref(),
        Some("Barang 1 baru")
    );
    assert_eq!(
        counts(&import(&h, &new, &options()).await),
        (0, 0, 20, 0, 0)
    );
    assert_eq!(
        counts(&import(&h, &old, &options()).await),
        (0, 20, 0, 0, 0)
    );
    assert_eq!(name_of(&h, "SKU-0001").await.as_deref(), Some("Barang 1"));
    assert_eq!(
        counts(&import(&h, &old, &options()).await),
        (0, 0, 20, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_keep_their_types_and_a_wrong_column_is_named() {
    let h = common::business_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("customers.jsonl"),
        "{\"code\": \"C-1\", \"nama\": \"Toko Sinar\", \"cabang\": \"JKT-01\", \"limit\": 5000000, \"lat\": -6.2}\n\n{\"code\": 2, \"nama\": \"Warung Dua\", \"cabang\": \"JKT-01\"}\n",
    )
    .unwrap();
    let m = mapping(
        dir.path(),
        "crm",
        "collection = \"customers\"\n[source]\njsonl = \"customers.jsonl\"\n[fields]\nid = \"code\"\nname = \"nama\"\nbranch = \"cabang\"\ncredit_limit = \"limit\"\nlat = \"lat\"\n",
        &h,
    );
    let report = import(&h, &m, &options()).await;
    assert_eq!(counts(&report), (2, 0, 0, 0, 0));
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(credit_limit AS TEXT) FROM customers WHERE id = 'C-1'"
        )
        .await,
        5_000_000
    );
    std::fs::write(dir.path().join("items.csv"), "KODE,NAMA\nA,B\n").unwrap();
    let wrong = mapping(
        dir.path(),
        "wrong",
        "collection = \"items\"\n[source]\ncsv = \"items.csv\"\n[fields]\nid = \"KODE\"\nname = \"NAME\"\n",
        &h,
    );
    // A mapped column the file does not have: the message names it and the file's columns.
    let e = run(h.storage.as_ref(), &wrong, &options(), |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`NAME`") && e.contains("KODE, NAMA"), "{e}");
}

fn mysql_url() -> String {
    std::env::var("LAPAK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://lapak:lapak@127.0.0.1:3306/lapak_test".into())
}

async fn a_mariadb_table_is_imported_with_its_types_and_twice_changes_nothing(h: Harness) {
    let table = format!("harga_{}", uuid::Uuid::now_v7().simple());
    let mut db = sqlx::MySqlConnection::connect(&mysql_url())
        .await
        .expect("MariaDB answers at LAPAK_TEST_MYSQL_URL (scripts/test.sh provides it)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (kode VARCHAR(40) PRIMARY KEY, daftar VARCHAR(20), sku VARCHAR(40), \
         harga DECIMAL(14,2), mulai DATE, sampai DATETIME NULL, aktif BOOLEAN)"
    )))
    .execute(&mut db)
    .await
    .unwrap();
    let mut values = Vec::new();
    for i in 0..500 {
        values.push(format!(
            "('P-{i:04}', 'retail', 'SKU-{i:04}', {}.00, '2026-12-01', {}, {})",
            1_000 + i,
            if i % 2 == 0 {
                "'2027-01-01 08:30:00'"
            } else {
                "NULL"
            },
            i % 7 != 0
        ));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} VALUES {}",
        values.join(", ")
    )))
    .execute(&mut db)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let var = format!("ERP_URL_{}", table.to_uppercase());
    let m = Mapping::load(
        &{
            let p = dir.path().join("prices.toml");
            std::fs::write(
                &p,
                format!(
                    "collection = \"prices\"\nname = \"erp-prices\"\n[source]\nsql = \"SELECT kode, daftar, sku, harga, mulai, sampai FROM {table} WHERE aktif\"\nurl_env = \"{var}\"\n[fields]\nid = \"kode\"\nprice_list = \"daftar\"\nsku = \"sku\"\nprice = \"harga\"\neffective_from = \"mulai\"\neffective_to = \"sampai\"\n"
                ),
            )
            .unwrap();
            p
        },
        &h.storage.schema(),
        |v| (v == var).then(mysql_url),
    )
    .unwrap();
    let active = (0..500).filter(|i| i % 7 != 0).count() as u64;
    let first = import(&h, &m, &options()).await;
    assert_eq!(counts(&first), (active, 0, 0, 0, 0));
    // 2026-12-01 is Jakarta's midnight; 08:30 is Jakarta's morning.
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(effective_from AS TEXT) FROM prices WHERE id = 'P-0002'"
        )
        .await,
        1_796_058_000_000
    );
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(effective_to AS TEXT) FROM prices WHERE id = 'P-0002'"
        )
        .await,
        1_798_767_000_000
    );
    assert_eq!(
        count(
            &h.storage,
            "SELECT CAST(price AS TEXT) FROM prices WHERE id = 'P-0002'"
        )
        .await,
        1_002
    );
    assert_eq!(
        counts(&import(&h, &m, &options()).await),
        (0, 0, active, 0, 0)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET harga = harga + 1 WHERE kode IN ('P-0001', 'P-0002'); \
         UPDATE {table} SET aktif = FALSE WHERE kode = 'P-0003'"
    )))
    .execute(&mut db)
    .await
    .unwrap();
    assert_eq!(
        counts(&import(&h, &m, &options()).await),
        (0, 2, active - 3, 1, 0)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&mut db)
        .await
        .unwrap();
}
