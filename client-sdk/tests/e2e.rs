//! End to end: a real server on port 0 (SQLite, and real Postgres), several real clients each
//! with its own SQLite store, over real HTTP and WebSocket.

mod common;

use lapak_server::Accounts as _;
use std::collections::BTreeSet;
use std::time::Duration;

use common::{Env, eventually};
use lapak_client::Client;
use lapak_core::{Edit, Query, Value, Verdict, item, record};
use lapak_server::Storage as _;
use lapak_server::auth::Role;

/// One test per scenario and backend.
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let env = super::common::Env::sqlite().await;
                    super::$case(env).await;
                }
            )*
        }
        mod postgres {
            $(
                #[sqlx::test(migrations = false)]
                async fn $case(pool: sqlx::PgPool) {
                    let env = super::common::Env::postgres(pool).await;
                    super::$case(env).await;
                }
            )*
        }
    };
}

both_backends!(
    offline_edits_converge_whatever_the_reconnect_order,
    offline_ledger_entries_arrive_once_everywhere,
    a_change_reaches_an_online_device_through_the_live_socket,
    clients_recover_when_the_server_restarts_mid_sync,
    a_rejected_entry_shows_in_its_writers_status,
    a_branch_a_device_never_receives_a_branch_b_row,
);

async fn branch_a_users(env: &Env) {
    env.user(
        "kasir1",
        Role::Cashier,
        &[("branch:A", true), ("org", false)],
    )
    .await;
    env.user(
        "kasir2",
        Role::Cashier,
        &[("branch:A", true), ("org", false)],
    )
    .await;
    env.user("sales1", Role::Salesperson, &[("branch:A", true)])
        .await;
}

async fn notes_of(c: &Client, id: &str) -> lapak_core::Record {
    c.get("outlets", id).await.unwrap().unwrap().fields
}

async fn offline_edits_converge_whatever_the_reconnect_order(mut env: Env) {
    branch_a_users(&env).await;
    let pos1 = env.client("pos1", "kasir1").await;
    let pos2 = env.client("pos2", "kasir2").await;
    let phone = env.client("phone", "sales1").await;
    let all = [&pos1, &pos2, &phone];
    for order in [[0usize, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let id = pos1
            .create(
                "outlets",
                record! {"name" => "Toko Maju", "branch" => "A", "notes" => "buka jam 7"},
            )
            .await
            .unwrap();
        for c in all {
            c.sync_once().await.unwrap();
        }
        // Offline, all three edit the same outlet.
        pos1.edit(
            "outlets",
            &id,
            vec![Edit::SpliceText {
                field: "notes".into(),
                index: 0,
                delete: 0,
                insert: "Pak Budi, ".into(),
            }],
        )
        .await
        .unwrap();
        pos2.set("outlets", &id, "phone", Value::Text("0812-1".into()))
            .await
            .unwrap();
        phone
            .edit(
                "outlets",
                &id,
                vec![
                    Edit::SpliceText {
                        field: "notes".into(),
                        index: 10,
                        delete: 0,
                        insert: " pagi".into(),
                    },
                    Edit::Set {
                        field: "credit_limit".into(),
                        value: Value::Int(5_000_000),
                    },
                ],
            )
            .await
            .unwrap();
        pos2.edit(
            "outlets",
            &id,
            vec![Edit::InsertItem {
                field: "lines".into(),
                index: 0,
                item: item! {"sku" => "KOPI", "qty" => 2},
            }],
        )
        .await
        .unwrap();
        // They come back in this order, then once more each.
        for i in order {
            all[i].sync_once().await.unwrap();
        }
        for c in all {
            c.sync_once().await.unwrap();
        }
        let want = notes_of(&pos1, &id).await;
        assert_eq!(
            want["notes"],
            Value::Text("Pak Budi, buka jam 7 pagi".into()),
            "{order:?}"
        );
        assert_eq!(want["phone"], Value::Text("0812-1".into()));
        assert_eq!(want["credit_limit"], Value::Int(5_000_000));
        assert_eq!(want["lines"].as_list().map(<[_]>::len), Some(1));
        for c in all {
            assert_eq!(
                notes_of(c, &id).await,
                want,
                "every device converged ({order:?})"
            );
        }
        let server = env
            .storage()
            .query_text(&format!(
                "SELECT notes, phone FROM outlets WHERE id = '{id}'"
            ))
            .await
            .unwrap();
        assert_eq!(server[0][0].as_deref(), Some("Pak Budi, buka jam 7 pagi"));
    }
    env.stop_server().await;
}

async fn offline_ledger_entries_arrive_once_everywhere(mut env: Env) {
    branch_a_users(&env).await;
    let devices = [
        env.client("pos1", "kasir1").await,
        env.client("pos2", "kasir2").await,
        env.client("phone", "sales1").await,
    ];
    let mut written = BTreeSet::new();
    for (d, c) in devices.iter().enumerate() {
        for i in 0..20 {
            let total = 1_000 * (d as i64 + 1) + i;
            let id = c
                .append(
                    "sales",
                    record! {"branch" => "A", "total" => total, "lines" => Value::List(vec![item!{"sku" => "X", "qty" => 1, "price" => total}])},
                )
                .await
                .unwrap();
            written.insert(id);
        }
    }
    // Sync in a scrambled order, some twice (a retried push changes nothing).
    for i in [2, 0, 2, 1, 0, 1, 2] {
        devices[i].sync_once().await.unwrap();
    }
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        60
    );
    assert_eq!(
        env.count("SELECT CAST(COUNT(DISTINCT record_id) AS TEXT) FROM lapak_log")
            .await,
        60
    );
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log")
            .await,
        60
    );
    for c in &devices {
        let rows = c.query("sales", Query::new()).await.unwrap();
        let ids: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(rows.len(), 60, "each entry once on every device");
        assert_eq!(ids, written);
        assert!(
            rows.iter()
                .all(|r| matches!(r.verdict, Some(Verdict::Accepted { .. })))
        );
        assert_eq!(c.status().borrow().pending, 0);
    }
    env.stop_server().await;
}

async fn a_change_reaches_an_online_device_through_the_live_socket(mut env: Env) {
    branch_a_users(&env).await;
    let open = |name: &'static str, user: &'static str| {
        let env = &env;
        async move {
            let mut o = env.options(name);
            // No polling: only the live socket can bring news.
            o.poll_interval = Duration::from_secs(3600);
            o.live_poll_interval = Duration::from_secs(3600);
            let c = Client::open(o).await.unwrap();
            c.login(&env.base, user, common::PASSWORD, None)
                .await
                .unwrap();
            c
        }
    };
    let a = open("pos1", "kasir1").await;
    let b = open("pos2", "kasir2").await;
    let (ta, tb) = (a.start(), b.start());
    eventually(5, "both live sockets open", || {
        let (la, lb) = (a.status().borrow().live, b.status().borrow().live);
        async move { la && lb }
    })
    .await;
    let id = a
        .append(
            "sales",
            record! {"branch" => "A", "total" => 500, "lines" => Value::List(vec![item!{"sku" => "T", "qty" => 1, "price" => 500}])},
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    eventually(5, "the sale reaches the other device", || {
        let (b, id) = (b.clone(), id.clone());
        async move { b.get("sales", &id).await.unwrap().is_some() }
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    // A document edit travels the same way.
    let outlet = b
        .create("outlets", record! {"name" => "Live", "branch" => "A"})
        .await
        .unwrap();
    eventually(5, "the outlet reaches the first device", || {
        let (a, outlet) = (a.clone(), outlet.clone());
        async move { a.get("outlets", &outlet).await.unwrap().is_some() }
    })
    .await;
    ta.stop().await;
    tb.stop().await;
    env.stop_server().await;
}

async fn clients_recover_when_the_server_restarts_mid_sync(mut env: Env) {
    branch_a_users(&env).await;
    let c = env.client("pos1", "kasir1").await;
    for i in 0..3_000 {
        c.append(
            "sales",
            record! {"branch" => "A", "total" => 100 + i, "lines" => Value::List(vec![item!{"sku" => "R", "qty" => 1, "price" => 100 + i}])},
        )
        .await
        .unwrap();
    }
    let mut o = env.options("pos1");
    o.push_batch = 100;
    drop(c);
    let c = Client::open(o).await.unwrap();
    let task = c.start();
    eventually(10, "some entries reached the server", || {
        let pending = c.status().borrow().pending;
        async move { pending < 3_000 }
    })
    .await;
    env.stop_server().await;
    eventually(10, "the client notices the server is gone", || {
        let online = c.status().borrow().online;
        async move { !online }
    })
    .await;
    assert!(c.status().borrow().pending > 0, "stopped mid-sync");
    env.start_server().await;
    eventually(30, "everything arrived after the restart", || {
        let pending = c.status().borrow().pending;
        async move { pending == 0 }
    })
    .await;
    task.stop().await;
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        3_000
    );
    let rows = c.query("sales", Query::new()).await.unwrap();
    assert_eq!(rows.len(), 3_000);
    assert!(
        rows.iter()
            .all(|r| matches!(r.verdict, Some(Verdict::Accepted { .. })))
    );
    env.stop_server().await;
}

async fn a_rejected_entry_shows_in_its_writers_status(mut env: Env) {
    branch_a_users(&env).await;
    let c = env.client("pos1", "kasir1").await;
    let id = c
        .append("sales", record! {"branch" => "A", "total" => 0})
        .await
        .unwrap();
    assert_eq!(c.status().borrow().pending, 1);
    let report = c.sync_once().await.unwrap();
    assert_eq!(report.rejected, 1);
    let status = c.status().borrow().clone();
    assert_eq!(status.pending, 0);
    assert_eq!(status.rejected.len(), 1);
    let r = &status.rejected[0];
    assert_eq!(
        (r.record_id.as_str(), r.code.as_str()),
        (id.as_str(), "invalid_total")
    );
    assert!(r.message.contains("more than zero"), "{}", r.message);
    // The other device never sees it.
    let other = env.client("pos2", "kasir2").await;
    other.sync_once().await.unwrap();
    assert!(other.get("sales", &id).await.unwrap().is_none());
    env.stop_server().await;
}

async fn a_branch_a_device_never_receives_a_branch_b_row(mut env: Env) {
    branch_a_users(&env).await;
    env.user("boss", Role::Admin, &[]).await;
    env.user("kasir-b", Role::Cashier, &[("branch:B", true)])
        .await;
    let a = env.client("pos-a", "kasir1").await;
    let task = a.start();
    let b = env.client("pos-b", "kasir-b").await;
    let boss = Client::open(env.options("boss")).await.unwrap();
    boss.login(
        &env.base,
        "boss",
        common::PASSWORD,
        Some(vec!["branch:A".into(), "branch:B".into()]),
    )
    .await
    .unwrap();
    for c in [&b, &boss] {
        c.append("sales", record! {"branch" => "B", "total" => 7})
            .await
            .unwrap();
        c.create("outlets", record! {"name" => "Only B", "branch" => "B"})
            .await
            .unwrap();
        c.sync_once().await.unwrap();
    }
    // A document moved from A to B leaves branch A's device.
    let moving = boss
        .create("outlets", record! {"name" => "Moving", "branch" => "A"})
        .await
        .unwrap();
    boss.sync_once().await.unwrap();
    eventually(5, "branch A receives the outlet", || {
        let (a, m) = (a.clone(), moving.clone());
        async move { a.get("outlets", &m).await.unwrap().is_some() }
    })
    .await;
    boss.set("outlets", &moving, "branch", Value::Text("B".into()))
        .await
        .unwrap();
    boss.sync_once().await.unwrap();
    eventually(5, "the moved outlet leaves branch A", || {
        let (a, m) = (a.clone(), moving.clone());
        async move { a.get("outlets", &m).await.unwrap().is_none() }
    })
    .await;
    a.sync_once().await.unwrap();
    task.stop().await;
    for collection in ["sales", "outlets"] {
        let rows = a.query(collection, Query::new()).await.unwrap();
        assert!(
            rows.iter()
                .all(|r| r.fields.get("branch") != Some(&Value::Text("B".into()))),
            "{collection}: {rows:?}"
        );
    }
    assert!(
        env.storage().head().await.unwrap() >= 5,
        "branch B's rows exist on the server"
    );
    env.stop_server().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_started_before_login_syncs_and_goes_live_after_it() {
    let mut env = Env::sqlite().await;
    branch_a_users(&env).await;
    let c = Client::open(env.options("early")).await.unwrap();
    let task = c.start();
    c.append("sales", record! {"branch" => "A", "total" => 5, "lines" => Value::List(vec![item!{"sku" => "E", "qty" => 1, "price" => 5}])})
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!c.status().borrow().signed_in);
    assert_eq!(c.status().borrow().pending, 1, "kept while signed out");
    c.login(&env.base, "kasir1", common::PASSWORD, None)
        .await
        .unwrap();
    eventually(5, "pushed and live after the login", || {
        let s = c.status().borrow().clone();
        async move { s.pending == 0 && s.live }
    })
    .await;
    task.stop().await;
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        1
    );
    env.stop_server().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_process_per_device_stop_start_and_changed_grants() {
    let mut env = Env::sqlite().await;
    branch_a_users(&env).await;
    let c = env.client("pos1", "kasir1").await;
    // A second process (or client) on the same device is refused while this one is open.
    let err = Client::open(env.options("pos1")).await.unwrap_err();
    assert!(
        matches!(err, lapak_client::ClientError::Busy { .. }),
        "{err}"
    );
    // Stop, then start again: the loops run again.
    c.start().stop().await;
    let task = c.start();
    c.append("sales", record! {"branch" => "A", "total" => 3, "lines" => Value::List(vec![item!{"sku" => "S", "qty" => 1, "price" => 3}])})
        .await
        .unwrap();
    eventually(5, "synced after a restart of the loops", || {
        let p = c.status().borrow().pending;
        async move { p == 0 }
    })
    .await;
    task.stop().await;
    // The administrator takes branch A away: the device follows what is left.
    env.storage()
        .set_grants(
            "kasir1",
            &[lapak_server::auth::Grant {
                scope: "org".into(),
                write: false,
            }],
        )
        .await
        .unwrap();
    c.sync_once().await.unwrap();
    assert_eq!(c.credentials().await.unwrap().scopes, ["org"]);
    assert!(
        c.query("sales", Query::new()).await.unwrap().is_empty(),
        "branch A's rows left"
    );
    env.stop_server().await;
}
