//! `cargo bench -p lapak-server --bench import`: an import of items from a MariaDB table of one
//! million rows (`LAPAK_TEST_MYSQL_URL`, else the local `lapak` user of scripts/test.sh), into
//! the embedded SQLite and, when `DATABASE_URL` names a Postgres, into a fresh database there.
//! Three runs each: the first (every row new: detection and writes), a repeat with nothing
//! changed, and a repeat after 1% of the rows changed in the ERP. The targets: at least
//! 50,000 rows/s for the first, 200,000 rows/s for the unchanged repeat.
//! Set `LAPAK_BENCH_QUICK=1` for 100,000 rows, `LAPAK_BENCH_ONLY=sqlite` or `postgres` for one
//! backend.

use std::time::Instant;

/// The allocator `lapak-server` runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use lapak_server::SqlStorage;
use lapak_server::import::erp::{RunOptions, run};
use lapak_server::import::mapping::Mapping;
use lapak_server::storage::Storage as _;
use sqlx::Connection as _;

fn rows() -> u64 {
    if std::env::var_os("LAPAK_BENCH_QUICK").is_some() {
        100_000
    } else {
        1_000_000
    }
}

fn mysql_url() -> String {
    std::env::var("LAPAK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://lapak:lapak@127.0.0.1:3306/lapak_test".into())
}

async fn exec(db: &mut sqlx::MySqlConnection, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(db)
        .await
        .unwrap();
}

/// A table of `n` items in MariaDB, made with its Sequence engine.
async fn erp_table(db: &mut sqlx::MySqlConnection, table: &str, n: u64) {
    exec(
        db,
        format!(
            "CREATE TABLE {table} (kode VARCHAR(40) PRIMARY KEY, nama VARCHAR(100), satuan VARCHAR(10), \
             kategori VARCHAR(40), ppn INT, barcode VARCHAR(20))"
        ),
    )
    .await;
    exec(
        db,
        format!(
            "INSERT INTO {table} SELECT CONCAT('SKU-', LPAD(seq, 7, '0')), CONCAT('Barang nomor ', seq), \
             'pcs', CONCAT('kategori-', seq % 40), 1100, CONCAT('899', LPAD(seq, 10, '0')) FROM seq_1_to_{n}"
        ),
    )
    .await;
}

async fn bench(
    label: &str,
    storage: &SqlStorage,
    mapping: &Mapping,
    db: &mut sqlx::MySqlConnection,
    table: &str,
) {
    let options = RunOptions {
        dry_run: false,
        max_deletions: None,
        utc_offset_seconds: 7 * 3600,
    };
    let timed = async |what: &str| {
        let started = Instant::now();
        let report = run(storage, mapping, &options, |_| {}).await.unwrap();
        let s = started.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let rate = report.read as f64 / s;
        println!(
            "| {label} | {what} | {} | {} new, {} changed, {} unchanged | {s:.1} s | {rate:.0} rows/s |",
            report.read, report.new, report.changed, report.unchanged
        );
    };
    timed("first import").await;
    timed("repeat, nothing changed").await;
    exec(
        db,
        format!(
            "UPDATE {table} SET ppn = 1200 WHERE MOD(CAST(SUBSTRING(kode, 5) AS UNSIGNED), 100) = 0"
        ),
    )
    .await;
    timed("repeat, 1% changed").await;
    exec(db, format!("UPDATE {table} SET ppn = 1100")).await;
}

/// The baseline: the source read and turned into cells, nothing compared or written.
async fn read_only(mapping: &Mapping) {
    let started = Instant::now();
    let mut rows = 0u64;
    lapak_server::import::source::read(mapping, async |_| {
        rows += 1;
        Ok(())
    })
    .await
    .unwrap();
    let s = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = rows as f64 / s;
    println!(
        "| MariaDB | the source read alone (baseline) | {rows} | - | {s:.1} s | {rate:.0} rows/s |"
    );
}

fn mapping_for(dir: &std::path::Path, table: &str, schema: &lapak_core::Schema) -> Mapping {
    let path = dir.join("erp-items.toml");
    std::fs::write(
        &path,
        format!(
            "collection = \"items\"\n[source]\nsql = \"SELECT kode, nama, satuan, kategori, ppn, barcode FROM {table}\"\nurl_env = \"LAPAK_BENCH_ERP_URL\"\n[fields]\nid = \"kode\"\nname = \"nama\"\nunit = \"satuan\"\ncategory = \"kategori\"\ntax_rate_bp = \"ppn\"\nbarcode = \"barcode\"\n"
        ),
    )
    .unwrap();
    Mapping::load(&path, schema, |v| {
        (v == "LAPAK_BENCH_ERP_URL").then(mysql_url)
    })
    .unwrap()
}

#[tokio::main]
async fn main() {
    let n = rows();
    let table = format!("bench_items_{}", uuid::Uuid::now_v7().simple());
    let mut db = sqlx::MySqlConnection::connect(&mysql_url())
        .await
        .expect("MariaDB answers at LAPAK_TEST_MYSQL_URL (scripts/lib/setup.sh's ensure_mariadb)");
    let started = Instant::now();
    erp_table(&mut db, &table, n).await;
    println!(
        "# {n} rows in MariaDB's {table} ({:.1} s to make)",
        started.elapsed().as_secs_f64()
    );
    println!("| database | run | rows | found | took | rate |");
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let schema = lapak_core::catalog::business();
    let mapping = mapping_for(dir.path(), &table, &schema);
    read_only(&mapping).await;
    let url = format!("sqlite://{}", dir.path().join("lapak.sqlite3").display());
    let sqlite = SqlStorage::open(&url, schema.clone(), lapak_server::rules::business())
        .await
        .unwrap();
    let only = std::env::var("LAPAK_BENCH_ONLY").unwrap_or_default();
    if only != "postgres" {
        bench("SQLite", &sqlite, &mapping, &mut db, &table).await;
    }
    sqlite.close().await;
    if let Ok(pg) = std::env::var("DATABASE_URL")
        && only != "sqlite"
    {
        let mut admin = sqlx::PgConnection::connect(&pg).await.unwrap();
        let name = format!("lapak_bench_{}", uuid::Uuid::now_v7().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = pg.rsplit_once('/').unwrap();
        let postgres = SqlStorage::open(
            &format!("{base}/{name}"),
            schema.clone(),
            lapak_server::rules::business(),
        )
        .await
        .unwrap();
        bench("Postgres", &postgres, &mapping, &mut db, &table).await;
        postgres.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    exec(&mut db, format!("DROP TABLE {table}")).await;
}
