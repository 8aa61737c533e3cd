//! The admin web's API over real HTTP on both backends, with a small demo business: devices
//! (app version, how far behind), rejections, exceptions, users, master data with CSV imports,
//! and reports; administrators see everything, a supervisor only their region, and is refused
//! another region's data.

mod common;

use std::time::Duration;

use common::{TestServer, Tokens, entry};
use lapak_core::protocol::{Cursor, Message, PullRequest, PushRequest};
use lapak_server::auth::Role;

use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(business_sqlite, business_postgres;
    a_supervisor_sees_only_their_region,
    master_data_pages_and_imports_all_or_nothing,
    users_are_disabled_and_given_new_passwords,
);

/// A server with a small demo business: three branches, a few items and outlets.
async fn demo_server(h: common::Harness) -> TestServer {
    let server = TestServer::start(h).await;
    common::small_demo(&server.storage).await;
    server.user("boss", Role::Admin, &[("*", true)]).await;
    server
}

async fn call(
    server: &TestServer,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .http
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    call(server, reqwest::Method::GET, token, path, None).await
}

/// Logs `name` in on a new device that says it runs `lapak-pos/9.9.9`.
async fn login_as_pos(server: &TestServer, name: &str) -> Tokens {
    let device = Uuid::now_v7();
    let resp = server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .header("user-agent", "lapak-pos/9.9.9 lapak-client/0.1.0")
        .json(&json!({"username": name, "password": "password-1", "device_id": device, "device_name": format!("POS of {name}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    Tokens {
        access: v["access_token"].as_str().unwrap().to_owned(),
        refresh: v["refresh_token"].as_str().unwrap().to_owned(),
        device,
    }
}

/// The demo's branch codes, in order.
async fn branches(server: &TestServer, boss: &str) -> Vec<String> {
    let (status, page) = get(server, boss, "/v1/admin/data/branches").await;
    assert_eq!(status, 200, "{page}");
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A sale of `branch` with a line priced off every list (raises `price_mismatch`).
fn odd_sale(branch: &str) -> lapak_core::protocol::Change {
    let now = lapak_server::app::AppState::now_ms();
    entry(
        "sales_invoices",
        json!({
            "branch": branch, "terminal": "POS-1", "sold_at": now, "total": 7,
            "lines": [{"sku": "SKU-000001", "qty": 1, "price": 7, "discount": 0, "tax": 0}],
            "payments": [{"method": "cash", "amount": 7}],
        }),
    )
}

async fn pull(server: &TestServer, token: &Tokens, scope: &str, limit: u32) {
    let req = PullRequest {
        cursors: vec![Cursor {
            scope: scope.to_owned(),
            position: 0,
        }],
        limit,
    };
    let (status, _) = server
        .send("/v1/sync/pull", &token.access, &Message::PullRequest(req))
        .await;
    assert_eq!(status, 200);
}

fn rows<'v>(v: &'v Value, key: &str) -> Vec<&'v str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap_or_default())
        .collect()
}

async fn a_supervisor_sees_only_their_region(h: common::Harness) {
    let server = demo_server(h).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    let b = branches(&server, &boss.access).await;
    let (mine, theirs) = (b[0].clone(), b[1].clone());
    server
        .user(
            "sup",
            Role::Supervisor,
            &[(&format!("branch:{mine}"), true)],
        )
        .await;
    server
        .user("k1", Role::Cashier, &[(&format!("branch:{mine}"), true)])
        .await;
    server
        .user("k2", Role::Cashier, &[(&format!("branch:{theirs}"), true)])
        .await;
    let sup = server.login("sup", Uuid::now_v7()).await;
    let (k1, k2) = (
        login_as_pos(&server, "k1").await,
        login_as_pos(&server, "k2").await,
    );
    // Each cashier sells off the list (an exception) and sends one sale it may not (rejected).
    for (k, branch) in [(&k1, &mine), (&k2, &theirs)] {
        let req = PushRequest {
            device_id: k.device,
            changes: vec![odd_sale(branch), odd_sale("NOWHERE")],
        };
        server.push(&k.access, req).await;
    }

    // Devices: the app each reported; a supervisor sees only their region's.
    let (status, all) = get(&server, &boss.access, "/v1/admin/devices?search=POS%20of").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 2);
    assert_eq!(all["rows"][0]["app_version"], "lapak-pos/9.9.9");
    let (_, seen) = get(&server, &sup.access, "/v1/admin/devices?search=POS%20of").await;
    assert_eq!(rows(&seen["rows"], "username"), ["k1"]);

    // How far behind: a partial pull leaves k1 behind, a full one catches it up.
    let scope = format!("branch:{mine}");
    pull(&server, &k1, &scope, 3).await;
    let behind = |v: &Value| v["rows"][0]["behind"].as_i64();
    let (_, d) = get(&server, &boss.access, "/v1/admin/devices?search=k1").await;
    assert!(behind(&d).is_some_and(|n| n > 0), "{d}");
    pull(&server, &k1, &scope, 100_000).await;
    let (_, d) = get(&server, &boss.access, "/v1/admin/devices?search=k1").await;
    assert_eq!(behind(&d), Some(0), "{d}");

    // Rejections: everyone's for the administrator, the region's for the supervisor.
    let (_, r) = get(&server, &boss.access, "/v1/admin/rejections").await;
    assert_eq!(rows(&r, "username").len(), 2, "{r}");
    let (_, r) = get(&server, &sup.access, "/v1/admin/rejections").await;
    assert_eq!(rows(&r, "username"), ["k1"]);
    let (_, r) = get(
        &server,
        &boss.access,
        "/v1/admin/rejections?username=k2&limit=1",
    )
    .await;
    assert_eq!(rows(&r, "code"), ["forbidden_scope"]);

    // Exceptions: listed and resolved only within the region.
    let mismatches = "/v1/admin/exceptions?kind=price_mismatch";
    let (_, all) = get(&server, &boss.access, mismatches).await;
    let (_, seen) = get(&server, &sup.access, mismatches).await;
    let scopes_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|x| x["scopes"].as_array().unwrap().clone())
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(scopes_of(&all).contains(&format!("branch:{theirs}")));
    assert!(!seen.as_array().unwrap().is_empty());
    assert!(scopes_of(&seen).iter().all(|s| *s == scope), "{seen}");
    let other = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["scopes"][0] == format!("branch:{theirs}"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resolve = format!("/v1/admin/exceptions/{other}/resolve");
    let note = Some(json!({"note": "not mine to judge"}));
    let (status, _) = call(
        &server,
        reqwest::Method::POST,
        &sup.access,
        &resolve,
        note.clone(),
    )
    .await;
    assert_eq!(
        status, 404,
        "another region's exception is not there for a supervisor"
    );
    let own = seen[0]["id"].as_str().unwrap();
    let (status, done) = call(
        &server,
        reqwest::Method::POST,
        &sup.access,
        &format!("/v1/admin/exceptions/{own}/resolve"),
        Some(json!({"note": "refunded the difference"})),
    )
    .await;
    assert_eq!((status, done["resolved_by"].as_str()), (200, Some("sup")));

    // Reports: every one answers; the supervisor's sales are their branch's only.
    for kind in [
        "sales_by_day",
        "top_items",
        "payments",
        "vouchers",
        "field_activity",
        "stock",
    ] {
        let (status, r) = get(&server, &boss.access, &format!("/v1/admin/reports/{kind}")).await;
        assert_eq!(status, 200, "{kind}: {r}");
        let (status, _) = get(&server, &sup.access, &format!("/v1/admin/reports/{kind}")).await;
        assert_eq!(status, 200, "{kind}");
    }
    let branches_in = |v: &Value| -> Vec<String> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = get(&server, &boss.access, "/v1/admin/reports/sales_by_day").await;
    assert!(branches_in(&all).contains(&theirs), "{all}");
    let (_, seen) = get(&server, &sup.access, "/v1/admin/reports/sales_by_day").await;
    assert_eq!(branches_in(&seen), std::slice::from_ref(&mine));
    let (_, stock) = get(&server, &sup.access, "/v1/admin/reports/stock").await;
    let stocked: Vec<&str> = stock["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert_eq!(
        stocked,
        [mine.as_str()],
        "the supervisor's branch only, and it is stocked"
    );
    let resp = server
        .http
        .get(format!(
            "{}/v1/admin/reports/payments?format=csv",
            server.base
        ))
        .bearer_auth(&boss.access)
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("method,payments,amount\ncash,"), "{csv}");
    let (status, _) = get(&server, &boss.access, "/v1/admin/reports/profits").await;
    assert_eq!(status, 404);
    let (status, _) = get(
        &server,
        &boss.access,
        "/v1/admin/reports/payments?from=10&to=5",
    )
    .await;
    assert_eq!(status, 400);

    // What stays the administrators': master data, users, revoking.
    for path in ["/v1/admin/data", "/v1/admin/data/items", "/v1/admin/users"] {
        assert_eq!(get(&server, &sup.access, path).await.0, 403, "{path}");
    }
    let revoke = format!("/v1/admin/devices/{}/revoke", k1.device);
    let (status, _) = call(&server, reqwest::Method::POST, &sup.access, &revoke, None).await;
    assert_eq!(status, 403);
    // Cashiers have no back office at all.
    assert_eq!(get(&server, &k1.access, "/v1/admin/today").await.0, 403);
}

/// Sends a CSV file to the import endpoint.
async fn import(server: &TestServer, token: &str, query: &str, csv: &str) -> (u16, Value) {
    let resp = server
        .http
        .post(format!("{}/v1/admin/data/items/import{query}", server.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn item_count(server: &TestServer, token: &str) -> i64 {
    let (_, v) = get(server, token, "/v1/admin/data/items?limit=1").await;
    v["total"].as_i64().unwrap()
}

async fn master_data_pages_and_imports_all_or_nothing(h: common::Harness) {
    let server = demo_server(h).await;
    let boss = server.login("boss", Uuid::now_v7()).await.access;
    let (status, collections) = get(&server, &boss, "/v1/admin/data").await;
    assert_eq!(status, 200);
    let items = collections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "items")
        .unwrap();
    assert_eq!(items["rows"], 40);
    assert_eq!(
        items["fields"][0],
        json!({"name": "name", "kind": "text", "required": true})
    );

    // Paging and search happen on the server.
    let (_, page) = get(&server, &boss, "/v1/admin/data/items?offset=35&limit=10").await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["rows"].as_array().unwrap().len()
        ),
        (Some(40), 5)
    );
    let (_, found) = get(&server, &boss, "/v1/admin/data/items?search=sku-00003").await;
    let ids = rows(&found["rows"], "id");
    assert_eq!(ids.len(), 10, "SKU-000030 to SKU-000039: {found}");
    assert!(ids.iter().all(|id| id.starts_with("SKU-00003")), "{found}");
    // The total is the same whether the page told it (not full) or a count did (full, or
    // past the end).
    assert_eq!(found["total"], 10, "{found}");
    let (_, full) = get(
        &server,
        &boss,
        "/v1/admin/data/items?search=sku-00003&limit=4",
    )
    .await;
    assert_eq!(
        (full["total"].as_i64(), rows(&full["rows"], "id").len()),
        (Some(10), 4)
    );
    let (_, past) = get(
        &server,
        &boss,
        "/v1/admin/data/items?search=sku-00003&offset=20",
    )
    .await;
    assert_eq!(
        (past["total"].as_i64(), rows(&past["rows"], "id").len()),
        (Some(10), 0)
    );
    assert_eq!(
        get(&server, &boss, "/v1/admin/data/sales_invoices").await.0,
        404
    );

    // A file with a bad row: the check names its line, the import writes nothing.
    let bad = "id,name,tax_rate_bp\nNEW-1,Teh baru,1100\nNEW-2,Kopi baru,11a\n";
    let (status, report) = import(&server, &boss, "?dry_run=true", bad).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["rows"].as_i64(), report["error_count"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["preview"][0]["fields"]["tax_rate_bp"], 1100);
    let (status, e) = import(&server, &boss, "", bad).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_rows"))
    );
    assert_eq!(item_count(&server, &boss).await, 40, "nothing was written");
    let (status, e) = import(&server, &boss, "", "id,nama\nX,Y\n").await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("invalid_file"))
    );

    // A good file is written by a job whose progress ends at every row; twice changes nothing.
    let good = "id,name,tax_rate_bp\nNEW-1,Teh baru,1100\nNEW-2,Kopi baru,1100\n";
    for _ in 0..2 {
        let (status, job) = import(&server, &boss, "", good).await;
        assert_eq!(status, 202, "{job}");
        let path = format!("/v1/admin/imports/{}", job["id"].as_str().unwrap());
        let mut progress = job;
        for _ in 0..200 {
            if progress["done"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            progress = get(&server, &boss, &path).await.1;
        }
        assert_eq!(
            (progress["written"].as_i64(), progress["error"].clone()),
            (Some(2), Value::Null)
        );
        assert_eq!(item_count(&server, &boss).await, 42);
    }
    let (_, row) = get(&server, &boss, "/v1/admin/data/items?search=NEW-2").await;
    assert_eq!(row["rows"][0]["fields"]["name"], "Kopi baru");
}

async fn users_are_disabled_and_given_new_passwords(h: common::Harness) {
    let server = demo_server(h).await;
    let boss = server.login("boss", Uuid::now_v7()).await.access;
    server
        .user("k1", Role::Cashier, &[("branch:X", true)])
        .await;
    let k1 = server.login("k1", Uuid::now_v7()).await;
    let put = reqwest::Method::PUT;
    let (status, _) = call(
        &server,
        put.clone(),
        &boss,
        "/v1/admin/users/boss/disabled",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 409, "one cannot disable oneself");
    let (status, user) = call(
        &server,
        put.clone(),
        &boss,
        "/v1/admin/users/k1/disabled",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!((status, user["disabled"].as_bool()), (200, Some(true)));
    assert_ne!(
        get(&server, &k1.access, "/v1/me").await.0,
        200,
        "a disabled user's session ends"
    );
    call(
        &server,
        put.clone(),
        &boss,
        "/v1/admin/users/k1/disabled",
        Some(json!({"disabled": false})),
    )
    .await;
    let again = server.login("k1", Uuid::now_v7()).await;
    let (status, e) = call(
        &server,
        put.clone(),
        &boss,
        "/v1/admin/users/k1/password",
        Some(json!({"password": "short"})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("weak_password"))
    );
    let (status, _) = call(
        &server,
        put,
        &boss,
        "/v1/admin/users/k1/password",
        Some(json!({"password": "a-new-password-1"})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        get(&server, &again.access, "/v1/me").await.0,
        401,
        "a new password ends the sessions"
    );
    let resp = server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .json(&json!({"username": "k1", "password": "password-1", "device_id": Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "the old password no longer works");
}
