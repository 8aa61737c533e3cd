//! Hostile text on every input path answers alike on SQLite and Postgres, and never as a 5xx:
//! generated values (an embedded NUL, other control characters, very long text, odd unicode)
//! go into record ids, collection names, list items' text (a line's `sku`), values the rules
//! look up (customers, payment methods, vouchers, tally keys), login names, device names and
//! pull cursors' scopes.
//! Each push also carries a valid change after the hostile ones, which must be accepted: a bad
//! change gets its own verdict and the push goes on.

mod common;

use common::{Harness, TestServer, business_device, cashier, ctx, entry, reference};
use lapak_core::protocol::{
    Change, ChangeBody, Cursor, Message, Outcome, PullRequest, PushRequest,
};
use lapak_core::{Value, item, record};
use lapak_server::Storage;
use lapak_server::auth::{Principal, Role};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::json;
use uuid::Uuid;

/// Generated cases per run (each pushes to both backends).
const CASES: usize = 16;

fn hostile() -> impl Strategy<Value = String> {
    let r = |re: &str| proptest::string::string_regex(re).unwrap();
    proptest::prop_oneof![
        r("[A-Z]{0,4}\\x00[A-Z0-9]{0,4}"),
        r("[a-z]{0,3}[\\x01-\\x1f\\x7f][a-z]{0,3}"),
        r("[a-z]{1100,1500}"),
        r("[\u{202e}\u{feff}\u{200b}\u{0301}\u{1F600}\u{10FFFF}\u{FFFD}a]{1,8}"),
        proptest::strategy::Just(String::new()),
    ]
}

async fn seed(s: &dyn Storage) {
    reference(
        s,
        "branches",
        &[(
            "JKT-01",
            json!({"name": "Jakarta 01", "price_list": "retail"}),
        )],
    )
    .await;
    reference(s, "items", &[("TEA", json!({"name": "Sari Tea"}))]).await;
}

fn invoice(sku: &str, customer: Option<&str>, method: &str) -> Change {
    let mut f = json!({
        "number": "INV-1", "branch": "JKT-01", "terminal": "POS-1", "sold_at": 1_700_000_000_000_i64,
        "total": 5_000,
        "lines": [{"sku": sku, "qty": 1, "price": 5_000, "discount": 0, "tax": 0}],
        "payments": [{"method": method, "amount": 5_000}],
    });
    if let Some(c) = customer {
        f["customer"] = json!(c);
    }
    entry("sales_invoices", f)
}

fn movement(sku: &str) -> Change {
    entry(
        "stock_movements",
        json!({"branch": "JKT-01", "sku": sku, "kind": "receipt", "qty": 1, "moved_at": 1_700_000_000_000_i64}),
    )
}

/// One push's changes, each carrying `v` in another place, then a valid receipt.
fn changes(v: &str, dir: &std::path::Path) -> Vec<Change> {
    let mut out = vec![
        invoice(v, None, "cash"),
        invoice("TEA", Some(v), "cash"),
        invoice("TEA", None, v),
        movement(v),
        entry(
            "voucher_redemptions",
            json!({"voucher": v, "branch": "JKT-01", "redeemed_at": 1_700_000_000_000_i64}),
        ),
    ];
    let mut weird_collection = movement("TEA");
    weird_collection.collection = v.to_owned();
    out.push(weird_collection);
    let mut d = business_device(dir, &Uuid::now_v7().to_string(), &["branch:JKT-01"]);
    let lines = Value::List(vec![
        item! {"sku" => v, "qty" => 1, "price" => 1, "discount" => 0},
    ]);
    if d.create(
        "held_bills",
        record! {"branch" => "JKT-01", "terminal" => "POS-1", "lines" => lines},
    )
    .is_ok()
    {
        out.extend(d.next_push(10).unwrap().unwrap().changes);
    }
    d.create("held_bills", record! {"branch" => "JKT-01"})
        .unwrap();
    if let Some(mut c) = d.next_push(10).unwrap().unwrap().changes.pop() {
        assert!(matches!(c.body, ChangeBody::Document { .. }));
        c.record_id = v.to_owned();
        out.push(c);
    }
    let mut ledger_id = movement("TEA");
    ledger_id.record_id = v.to_owned();
    out.push(ledger_id);
    out.push(movement("TEA"));
    out
}

fn code(o: &Outcome) -> String {
    match o {
        Outcome::Accepted { .. } => "accepted".into(),
        Outcome::Rejected { code, .. } => code.clone(),
        Outcome::Deferred { .. } => "deferred".into(),
    }
}

async fn verdicts(h: &Harness, who: &Principal, changes: &[Change]) -> Vec<String> {
    let plan = h
        .storage
        .push(
            &ctx(),
            who,
            &PushRequest {
                device_id: who.device_id,
                changes: changes.to_vec(),
            },
        )
        .await
        .unwrap_or_else(|e| {
            panic!("the push failed as a whole ({e}) instead of judging each change")
        });
    plan.results.iter().map(|r| code(&r.outcome)).collect()
}

#[sqlx::test(migrations = false)]
async fn hostile_text_in_pushes_gets_equal_verdicts_on_both_backends(pool: sqlx::PgPool) {
    let lite = common::business_sqlite().await;
    let pg = common::business_postgres(pool).await;
    seed(lite.storage.as_ref()).await;
    seed(pg.storage.as_ref()).await;
    let who = cashier("JKT-01", "ani");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::deterministic();
    for _ in 0..CASES {
        let v = hostile().new_tree(&mut runner).unwrap().current();
        let changes = changes(&v, dir.path());
        let on_sqlite = verdicts(&lite, &who, &changes).await;
        let on_postgres = verdicts(&pg, &who, &changes).await;
        assert_eq!(on_sqlite, on_postgres, "value {v:?}");
        assert_eq!(
            on_sqlite.last().map(String::as_str),
            Some("accepted"),
            "the valid change after the hostile ones, value {v:?}: {on_sqlite:?}"
        );
    }
}

async fn login_status(server: &TestServer, username: &str, device_name: &str) -> u16 {
    server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .json(&json!({"username": username, "password": "password-1", "device_id": Uuid::now_v7(), "device_name": device_name}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn pull_status(server: &TestServer, token: &str, scope: &str) -> u16 {
    let req = PullRequest {
        cursors: vec![Cursor {
            scope: scope.to_owned(),
            position: 0,
        }],
        limit: 10,
    };
    server
        .send("/v1/sync/pull", token, &Message::PullRequest(req))
        .await
        .0
}

#[sqlx::test(migrations = false)]
async fn hostile_names_and_scopes_over_http_answer_alike_on_both_backends(pool: sqlx::PgPool) {
    let lite = TestServer::start(common::sqlite().await).await;
    let pg = TestServer::start(common::postgres(pool).await).await;
    let mut admins = Vec::new();
    for s in [&lite, &pg] {
        s.user("kasir", Role::Cashier, &[("branch:A", true)]).await;
        s.user("boss", Role::Admin, &[]).await;
        admins.push(s.login("boss", Uuid::now_v7()).await.access);
    }
    let mut runner = TestRunner::deterministic();
    for _ in 0..CASES {
        let v = hostile().new_tree(&mut runner).unwrap().current();
        for (username, device_name) in [(v.as_str(), "POS 1"), ("kasir", v.as_str())] {
            let a = login_status(&lite, username, device_name).await;
            let b = login_status(&pg, username, device_name).await;
            assert_eq!(a, b, "login of {username:?} on {device_name:?}");
            assert!(a < 500, "login of {username:?} on {device_name:?}: {a}");
        }
        let a = pull_status(&lite, &admins[0], &v).await;
        let b = pull_status(&pg, &admins[1], &v).await;
        assert_eq!(a, b, "a pull of scope {v:?}");
        assert!(a < 500, "a pull of scope {v:?}: {a}");
    }
}
