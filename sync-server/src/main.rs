//! The `lapak-server` binary: reads its settings, opens storage (an SQLite file in the data
//! directory unless `--database-url postgres://…` is given), creates the first admin on a new
//! database, and serves until SIGINT or SIGTERM.

use std::io::Read as _;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use lapak_server::app::{self, FirstAdmin, Server};
use lapak_server::auth::{self, Grant, Role};
use lapak_server::config::{Cli, Command, Config};
use lapak_server::demo::DemoSize;
use lapak_server::storage::Accounts as _;
use lapak_server::{SqlStorage, Storage};

/// mimalloc rather than glibc's malloc: a write batch allocates and frees many small strings
/// and maps, where glibc's consolidation of freed chunks took a third of an import's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lapak-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logs(&config);
    let command = cli.command.unwrap_or(Command::Serve {
        demo: false,
        size: DemoSize::default(),
    });
    match run(command, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lapak-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_storage(config: &Config) -> anyhow::Result<SqlStorage> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
    }
    let schema = lapak_core::catalog::business();
    SqlStorage::open(
        &config.database_url,
        schema,
        lapak_server::rules::business(),
    )
    .await
    .with_context(|| {
        format!(
            "cannot open the database {}",
            redact_url(&config.database_url)
        )
    })
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let storage = open_storage(&config).await?;
            storage.close().await;
            println!(
                "lapak-server: database {} is up to date",
                redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::CreateUser {
            username,
            role,
            scopes,
            read_scopes,
        } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let password = match std::env::var("LAPAK_NEW_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password for {username} (then end of input):");
                    let mut p = String::new();
                    std::io::stdin().read_to_string(&mut p)?;
                    p.trim_end_matches(['\n', '\r']).to_owned()
                }
            };
            anyhow::ensure!(
                password.chars().count() >= 8,
                "a password must be at least 8 characters"
            );
            let grants: Vec<Grant> = scopes
                .into_iter()
                .map(|scope| Grant { scope, write: true })
                .chain(read_scopes.into_iter().map(|scope| Grant {
                    scope,
                    write: false,
                }))
                .collect();
            let storage = open_storage(&config).await?;
            let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            let user = storage
                .create_user(&username, &hash, role, &grants, app::AppState::now_ms())
                .await?;
            storage.close().await;
            println!(
                "created {} `{}` with {} grant(s)",
                role.as_str(),
                user.username,
                user.grants.len()
            );
            Ok(())
        }
        Command::Demo { size } => {
            let storage = open_storage(&config).await?;
            let first =
                app::ensure_admin(&storage, std::env::var("LAPAK_ADMIN_PASSWORD").ok()).await?;
            announce_admin(&first);
            let seeded = seed_demo(&storage, &size).await;
            storage.close().await;
            seeded
        }
        Command::RedisResync => redis_resync(&config).await,
        Command::Import {
            mapping,
            dry_run,
            every,
            max_deletions,
        } => {
            let options = lapak_server::import::erp::RunOptions {
                dry_run,
                max_deletions,
                utc_offset_seconds: config.utc_offset_seconds,
            };
            import(&config, &mapping, &options, every).await
        }
        Command::Serve { demo, size } => serve(config, demo.then_some(size)).await,
    }
}

/// Seeds the demo business, printing progress and how to log in as its users.
async fn seed_demo(storage: &SqlStorage, size: &DemoSize) -> anyhow::Result<()> {
    let (password, generated) = match std::env::var("LAPAK_DEMO_PASSWORD") {
        Ok(p) if p.chars().count() >= 8 => (p, false),
        Ok(_) => anyhow::bail!("LAPAK_DEMO_PASSWORD must be at least 8 characters"),
        Err(_) => (auth::random_secret()[..12].to_owned(), true),
    };
    let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    println!(
        "Seeding the demo business (seed {}): {} branches, {} terminals, {} salespeople, {} outlets, {} items, {} vouchers",
        size.seed,
        size.branches,
        size.terminals,
        size.salespeople,
        size.outlets,
        size.items,
        size.vouchers
    );
    let summary = lapak_server::demo::seed(storage, size, &hash, |step| println!("  {step}"))
        .await
        .context("seeding the demo business failed")?;
    let (cashier, branch, terminal) = &summary.sample_cashier;
    let (sales, territory) = &summary.sample_salesperson;
    println!(
        "Seeded {} reference rows and {} opening stock receipts. Demo users ({} of them) share the password {password}{}",
        summary.reference_rows,
        summary.receipts,
        summary.users,
        if generated {
            " (shown only this once; set LAPAK_DEMO_PASSWORD to choose it)"
        } else {
            ""
        }
    );
    println!("  a cashier: {cashier} (branch {branch}, terminal {terminal})");
    println!("  a salesperson: {sales} (territory {territory})");
    println!(
        "  supervisors: sup-<branch>, for example sup-{}",
        branch.to_lowercase().replace('-', "")
    );
    Ok(())
}

/// Imports from the ERP as `mapping` says, once or every `every` until a signal.
async fn import(
    config: &Config,
    mapping: &std::path::Path,
    options: &lapak_server::import::erp::RunOptions,
    every: Option<std::time::Duration>,
) -> anyhow::Result<()> {
    let storage = open_storage(config).await?;
    let mapping = lapak_server::import::mapping::Mapping::load(mapping, &storage.schema(), |v| {
        std::env::var(v).ok()
    })?;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let outcome = loop {
        let started = std::time::Instant::now();
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!(
            "importing {} from {}",
            mapping.collection.name(),
            mapping.name
        ));
        let run = lapak_server::import::erp::run(&storage, &mapping, options, |p| {
            bar.set_message(format!("{} rows read, {} written", p.read, p.written));
            bar.tick();
        });
        let result = tokio::select! {
            r = run => r,
            () = &mut stop => break Ok(()),
        };
        bar.finish_and_clear();
        match result {
            Ok(report) => print_import(&report, started.elapsed()),
            Err(e) if every.is_some() => eprintln!("lapak-server: import {}: {e}", mapping.name),
            Err(e) => break Err(anyhow::Error::new(e)),
        }
        let Some(every) = every else { break Ok(()) };
        tokio::select! {
            () = tokio::time::sleep(every.saturating_sub(started.elapsed())) => {}
            () = &mut stop => break Ok(()),
        }
    };
    storage.close().await;
    outcome
}

fn print_import(r: &lapak_server::import::erp::ImportReport, took: std::time::Duration) {
    let verb = if r.dry_run { "would write" } else { "wrote" };
    let seconds = took.as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let rate = r.read as f64 / seconds;
    println!(
        "{}: {} rows of `{}` read in {seconds:.1} s ({rate:.0} rows/s): {verb} {} new and {} changed, {} unchanged, {} deleted{}",
        r.source,
        r.read,
        r.collection,
        r.new,
        r.changed,
        r.unchanged,
        r.deleted,
        if r.error_count > 0 {
            format!(
                ", {} rows in error (not written, not deleted)",
                r.error_count
            )
        } else {
            String::new()
        }
    );
    for (what, ids) in [
        ("new", &r.samples.new),
        ("changed", &r.samples.changed),
        ("deleted", &r.samples.deleted),
    ] {
        if !ids.is_empty() {
            println!(
                "  {what}: {}{}",
                ids.join(", "),
                if ids.len() == 10 { ", ..." } else { "" }
            );
        }
    }
    for e in &r.errors {
        println!(
            "  row {} ({}): {}",
            e.line,
            if e.id.is_empty() { "no id" } else { &e.id },
            e.message
        );
    }
}

/// Rewrites every reference row into the configured Redis, printing progress.
async fn redis_resync(config: &Config) -> anyhow::Result<()> {
    let redis = config
        .redis
        .clone()
        .context("no Redis is configured: give its URL with --redis-url or LAPAK_REDIS_URL")?;
    let prefix = redis.prefix.clone();
    let storage = open_storage(config).await?;
    let mut target = lapak_server::mirror::redis::RedisTarget::new(redis);
    let mut shown = 0;
    let done = lapak_server::mirror::resync(&storage, &mut target, |so_far| {
        if so_far.read >= shown + 10_000 {
            shown = so_far.read;
            eprintln!("  {} rows read, {} written", so_far.read, so_far.written);
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!(e));
    storage.close().await;
    let done = done?;
    println!(
        "Rewrote the master data into Redis under `{prefix}:`: {} rows read, {} written (the rest Redis held at a newer version), up to version {}",
        done.read, done.written, done.upto
    );
    Ok(())
}

async fn serve(config: Config, demo: Option<DemoSize>) -> anyhow::Result<()> {
    let signal = shutdown_signal();
    let storage = Arc::new(open_storage(&config).await?);
    // Before the demo, whose users would otherwise look like an existing administration.
    let first =
        app::ensure_admin(storage.as_ref(), std::env::var("LAPAK_ADMIN_PASSWORD").ok()).await?;
    if let Some(size) = demo {
        if lapak_server::demo::has_business(&storage).await? {
            println!("The database already holds a business: not seeding the demo.");
        } else {
            tokio::select! {
                r = seed_demo(&storage, &size) => r?,
                () = shutdown_signal() => {
                    anyhow::bail!("interrupted while seeding the demo: the database holds part of it; delete it (the data directory) and start again");
                }
            }
        }
    }
    let keys = app::load_keys(&config.jwt)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another server using it? Choose another with --listen",
                config.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let backend = storage.dialect().name();
    println!(
        "Lapak sync server listening on http://{addr} ({backend}: {})",
        redact_url(&config.database_url)
    );
    announce_admin(&first);
    println!("Admin web: http://{addr}/admin/ (sign in as `admin`)");
    println!("Log in from a script:");
    println!(
        "  curl -s http://{addr}/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"username\":\"admin\",\"password\":\"<password>\",\"device_id\":\"{}\",\"device_name\":\"my laptop\"}}'",
        uuid::Uuid::now_v7()
    );
    println!(
        "Health: http://{addr}/healthz  Readiness: http://{addr}/readyz  Metrics: http://{addr}/metrics"
    );
    let storage: Arc<dyn Storage> = storage;
    Server::new(storage, config, keys)?
        .serve(listener, signal)
        .await?;
    println!("lapak-server stopped");
    Ok(())
}

/// Says how the first administrator was made, if this start made one.
fn announce_admin(first: &FirstAdmin) {
    match first {
        FirstAdmin::Generated(password) => {
            println!("First start: created the administrator `admin` with password {password}");
            println!(
                "  (shown only this once; set LAPAK_ADMIN_PASSWORD before the first start to choose it)"
            );
        }
        FirstAdmin::FromEnvironment => {
            println!(
                "First start: created the administrator `admin` with the password from LAPAK_ADMIN_PASSWORD"
            );
        }
        FirstAdmin::Exists => {}
    }
}

/// A future that completes on SIGINT or SIGTERM. The handlers are installed when this is
/// called (before the address is printed), so a signal sent right after start is not missed.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(term) => {},
        }
    }
}
