//! `lapak`: a device on the command line. It keeps a store and credentials in a directory
//! (`--dir`, default `./lapak-device`) and syncs it with a `lapak-server`.
//!
//! Exit codes: 0 done; 1 failed (the message says why); 2 wrong usage (flags, collections,
//! `field=value`); 3 not logged in or the
//! session ended (log in again); 4 the server cannot be reached (the work is kept; sync later).

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod list_edit;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use lapak_client::{Client, ClientError, ClientOptions, Progress, Status};
use lapak_core::schema::FieldType;
use lapak_core::{Collection, Op, Query, Record, Row, Verdict};

#[derive(Debug, Parser)]
#[command(name = "lapak", version, about = "A Lapak device on the command line")]
struct Cli {
    /// The device's directory: its store and credentials.
    #[arg(long, env = "LAPAK_DIR", default_value = "lapak-device", global = true)]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Log in on this device (the password from LAPAK_PASSWORD, standard input, or asked for
    /// without echo).
    Login {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "LAPAK_SERVER")]
        server: String,
        /// Your user name.
        #[arg(long)]
        user: String,
        /// Follow these scopes instead of all of your grants (repeat the flag).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A name for this device, shown to administrators.
        #[arg(long, default_value = "lapak CLI")]
        device_name: String,
    },
    /// End the session on this device and on the server; the store and its pending work stay.
    Logout,
    /// Push pending work and pull news, once, or keep doing it with --watch.
    Sync {
        /// Keep syncing (live socket, polling as a fallback) and print each change of status,
        /// until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Where this device stands: session, pending uploads, last sync, rejected changes.
    Status,
    /// One record, as JSON.
    Get {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
    },
    /// Records of a collection, one JSON object per line.
    Query {
        /// The collection.
        collection: String,
        /// A condition `field=value` (repeat the flag for more; all must hold).
        #[arg(long = "where")]
        conditions: Vec<String>,
        /// Order by this field.
        #[arg(long)]
        order: Option<String>,
        /// Descending order.
        #[arg(long)]
        desc: bool,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Create a document (`put outlets name=Toko branch=JKT-01`) or change its fields (`--id`).
    ///
    /// Lists of an existing record are edited item by item, so that items other devices add
    /// meanwhile are kept: `--add 'lines={"sku":"SKU-1","qty":1}'`, `--update 'lines[0]={"qty":2}'`
    /// or `--update 'lines[sku=SKU-1]={"qty":2}'`, `--remove 'lines[1]'`; `--replace
    /// 'lines=[...]'` replaces the whole list on purpose. Positions refer to the list before
    /// the command; all edits of one command are one change.
    Put {
        /// The collection.
        collection: String,
        /// The record to change; without it a new record is created.
        #[arg(long)]
        id: Option<String>,
        /// `field=value` pairs: text as is; numbers, true/false and lists as JSON (a list only
        /// when creating).
        fields: Vec<String>,
        /// Add an item to a list: `FIELD=ITEM` at the end, `FIELD[N]=ITEM` before position N.
        #[arg(long = "add", value_name = "FIELD=ITEM")]
        add: Vec<String>,
        /// Set some keys of one item: `FIELD[N]=KEYS` or `FIELD[key=value]=KEYS`.
        #[arg(long = "update", value_name = "FIELD[SEL]=KEYS")]
        update: Vec<String>,
        /// Remove one item: `FIELD[N]` or `FIELD[key=value]`.
        #[arg(long = "remove", value_name = "FIELD[SEL]")]
        remove: Vec<String>,
        /// Replace a whole list: `FIELD=[...]` (items others add meanwhile are lost).
        #[arg(long = "replace", value_name = "FIELD=LIST")]
        replace: Vec<String>,
    },
    /// Delete a document.
    Delete {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
    },
    /// Append a ledger entry (`append sales branch=JKT-01 total=25000 'lines=[...]'`).
    Append {
        /// The collection.
        collection: String,
        /// `field=value` pairs, as for put.
        fields: Vec<String>,
    },
    /// Changes the server rejected, with its reasons.
    Rejected,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let code = if e.needs_login() {
            3
        } else if e.is_transient() {
            4
        } else {
            1
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        message: message.into(),
    }
}

/// Wrong usage (a bad `field=value`, an unknown collection): exit code 2, as clap's.
fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

/// What stops `sync --watch`: Ctrl-C, or (on Unix) SIGTERM as an app or service manager
/// closing the CLI sends. Listened to from creation on, so a signal that arrives while nobody
/// waits is kept, not lost.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let failed = |e: std::io::Error| Failure {
                code: 1,
                message: format!("cannot listen for Ctrl-C: {e}"),
            };
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt()).map_err(failed)?,
                terminate: signal(SignalKind::terminate()).map_err(failed)?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    lapak_client::identify_app(concat!("lapak-cli/", env!("CARGO_PKG_VERSION")));
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("lapak: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn open(dir: PathBuf, device_name: &str) -> Result<Client, Failure> {
    let mut options = ClientOptions::new(dir, lapak_core::catalog::business());
    device_name.clone_into(&mut options.device_name);
    Ok(Client::open(options).await?)
}

fn collection(name: &str) -> Result<Collection, Failure> {
    lapak_core::catalog::business()
        .collection(name)
        .cloned()
        .map_err(|e| usage(e.to_string()))
}

/// `field=value` pairs as a record: text fields take the value as is, others parse it as JSON.
fn parse_fields(c: &Collection, pairs: &[String]) -> Result<Record, Failure> {
    let mut obj = serde_json::Map::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| usage(format!("`{pair}` is not field=value")))?;
        let f = c
            .field_named(k)
            .map_err(|_| usage(format!("`{}` has no field `{k}`", c.name())))?;
        let value = match &f.ty {
            FieldType::Scalar(lapak_core::ScalarType::Text) | FieldType::MergeText => {
                serde_json::Value::String(v.to_owned())
            }
            _ => serde_json::from_str(v).map_err(|e| {
                usage(format!("field `{k}`: `{v}` is not a valid value ({e}); numbers as 12, booleans as true, lists as JSON"))
            })?,
        };
        obj.insert(k.to_owned(), value);
    }
    c.record_from_json(&obj).map_err(fail)
}

fn row_json(row: &Row) -> serde_json::Value {
    let mut v = lapak_core::value::record_to_json(&row.fields);
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), row.id.clone().into());
        if let Some(verdict) = &row.verdict {
            let (status, detail) = match verdict {
                Verdict::Pending => ("pending", serde_json::Value::Null),
                Verdict::Accepted { position } => ("accepted", (*position).into()),
                Verdict::Rejected { code, message } => (
                    "rejected",
                    serde_json::json!({"code": code, "message": message}),
                ),
            };
            o.insert("_status".into(), status.into());
            if !detail.is_null() {
                o.insert("_detail".into(), detail);
            }
        }
    }
    v
}

fn read_password() -> Result<String, Failure> {
    if let Ok(p) = std::env::var("LAPAK_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        // Asked at the terminal without echoing it.
        return rpassword::prompt_password("password: ")
            .map_err(|e| fail(format!("cannot read the password: {e}")));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_to_string(&mut line)
        .map_err(|e| fail(format!("cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn ago(ms: Option<i64>) -> String {
    match ms {
        None => "never".into(),
        Some(t) => {
            let secs = (chrono::Utc::now().timestamp_millis() - t).max(0) / 1000;
            match secs {
                0..60 => format!("{secs} s ago"),
                60..3600 => format!("{} min ago", secs / 60),
                _ => format!("{} h ago", secs / 3600),
            }
        }
    }
}

fn print_status(s: &Status, server: Option<&str>) {
    let state = match (s.signed_in, s.online, s.live, &s.last_error) {
        (false, ..) => "signed out",
        (true, true, true, _) => "online (live)",
        (true, true, false, _) => "online",
        (true, false, _, Some(_)) => "offline",
        (true, false, _, None) => "signed in",
    };
    println!(
        "{state}{} · {} pending · last sync {} · {} rejected",
        server.map(|s| format!(" · {s}")).unwrap_or_default(),
        s.pending,
        ago(s.last_sync_ms),
        s.rejected.len()
    );
    if let Some(e) = &s.last_error {
        println!("  last error: {e}");
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let device_name = match &cli.command {
        Command::Login { device_name, .. } => device_name.clone(),
        _ => "lapak CLI".to_owned(),
    };
    let client = open(cli.dir.clone(), &device_name).await?;
    match cli.command {
        Command::Login {
            server,
            user,
            scopes,
            ..
        } => {
            let password = read_password()?;
            let info = client
                .login(
                    &server,
                    &user,
                    &password,
                    (!scopes.is_empty()).then_some(scopes),
                )
                .await?;
            println!(
                "logged in as {user} ({}) on {server}; following {}",
                info.role,
                if info.scopes.is_empty() {
                    "no scope (pass --scope to choose)".into()
                } else {
                    info.scopes.join(", ")
                }
            );
            println!("next: `lapak --dir {} sync`", cli.dir.display());
        }
        Command::Logout => {
            client.logout().await?;
            println!("logged out; the store and its pending work are kept");
        }
        Command::Sync { watch: false } => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let report = client
                .sync_with_progress(|p| match p {
                    Progress::Pushed { done, total } => {
                        bar.set_length(total);
                        bar.set_position(done as u64);
                        bar.set_message("pushing");
                    }
                    Progress::Pulled { done } => {
                        bar.set_length(bar.length().unwrap_or(0).max(done as u64));
                        bar.set_position(done as u64);
                        bar.set_message("pulling");
                    }
                })
                .await;
            bar.finish_and_clear();
            let report = report?;
            println!(
                "synced: sent {} ({} accepted, {} rejected), received {}",
                report.pushed, report.accepted, report.rejected, report.pulled
            );
            if report.rejected > 0 {
                println!("see why with `lapak rejected`");
            }
        }
        Command::Sync { watch: true } => {
            let mut signals = StopSignals::new()?;
            let task = client.start();
            let mut rx = client.status();
            let server = client.credentials().await.map(|c| c.server);
            println!("syncing {} (Ctrl-C to stop)", cli.dir.display());
            loop {
                let snapshot = rx.borrow_and_update().clone();
                print_status(&snapshot, server.as_deref());
                tokio::select! {
                    r = rx.changed() => if r.is_err() { break },
                    () = signals.recv() => break,
                }
                // Coalesce bursts of changes into one line.
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    () = signals.recv() => break,
                }
            }
            println!("stopping");
            // The stop takes at most about 2 s; a second Ctrl-C does not wait for it.
            tokio::select! {
                () = task.stop() => {}
                () = signals.recv() => {}
            }
        }
        Command::Status => {
            let creds = client.credentials().await;
            let status = client.status().borrow().clone();
            match &creds {
                Some(c) => println!(
                    "device {} · user {} ({}) · scopes {}",
                    c.device_id,
                    c.username,
                    c.role,
                    c.scopes.join(", ")
                ),
                None => println!("not logged in: run `lapak login --server <url> --user <name>`"),
            }
            print_status(&status, creds.as_ref().map(|c| c.server.as_str()));
        }
        Command::Get { collection: c, id } => {
            collection(&c)?;
            match client.get(&c, &id).await? {
                Some(row) => println!("{}", row_json(&row)),
                None => return Err(fail(format!("no record `{id}` in `{c}` on this device"))),
            }
        }
        Command::Query {
            collection: c,
            conditions,
            order,
            desc,
            limit,
        } => {
            let col = collection(&c)?;
            let mut q = Query::new();
            for cond in &conditions {
                let rec = parse_fields(&col, std::slice::from_ref(cond))?;
                for (k, v) in rec {
                    q = q.filter(&k, Op::Eq, v);
                }
            }
            if let Some(o) = &order {
                q = q.order_by(o, desc);
            }
            if let Some(n) = limit {
                q = q.limit(n);
            }
            for row in client.query(&c, q).await? {
                println!("{}", row_json(&row));
            }
        }
        Command::Put {
            collection: c,
            id,
            fields,
            add,
            update,
            remove,
            replace,
        } => {
            let col = collection(&c)?;
            let record = parse_fields(&col, &fields)?;
            let flags = list_edit::Flags {
                add: &add,
                update: &update,
                remove: &remove,
                replace: &replace,
            };
            let list_edits = list_edit::parse(&col, &flags).map_err(usage)?;
            let existing = match &id {
                Some(id) => client.get(&c, id).await?,
                None => None,
            };
            match (id, existing) {
                (Some(id), Some(row)) => {
                    if let Some(field) = record.keys().find(|f| list_edit::is_list(&col, f)) {
                        return Err(usage(list_edit::whole_list_refused(field)));
                    }
                    let mut edits: Vec<lapak_core::Edit> = record
                        .into_iter()
                        .map(|(field, value)| lapak_core::Edit::Set { field, value })
                        .collect();
                    edits.extend(list_edit::resolve(&row.fields, list_edits).map_err(usage)?);
                    client.edit(&c, &id, edits).await?;
                    println!("{id}");
                }
                (_, None) if !list_edits.is_empty() => {
                    return Err(usage(
                        "--add, --update, --remove and --replace edit an existing record: \
                         give its --id (a new record takes its lists as field=[...])",
                    ));
                }
                (Some(id), None) => {
                    client.create_with_id(&c, &id, record).await?;
                    println!("{id}");
                }
                (None, _) => println!("{}", client.create(&c, record).await?),
            }
        }
        Command::Delete { collection: c, id } => {
            client.delete(&c, &id).await?;
            println!("deleted {id}");
        }
        Command::Append {
            collection: c,
            fields,
        } => {
            let col = collection(&c)?;
            let record = parse_fields(&col, &fields)?;
            println!("{}", client.append(&c, record).await?);
        }
        Command::Rejected => {
            let rejected = client.rejections().await?;
            if rejected.is_empty() {
                println!("nothing was rejected");
            }
            for r in rejected {
                println!(
                    "{} {} {}: {} — {}",
                    r.collection, r.record_id, r.change_id, r.code, r.message
                );
            }
        }
    }
    Ok(())
}
