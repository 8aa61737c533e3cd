//! The server over real HTTP and WebSocket, on port 0: token security, scope leaks, refresh
//! rotation, bad bodies, exactly-once pushes, live news, metrics and graceful shutdown. The
//! HTTP layer is the same on both backends; these run on SQLite, and the exactly-once and leak
//! cases also on Postgres.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestServer, count, device, sale};
use futures_util::{SinkExt as _, StreamExt as _};
use lapak_core::protocol::{
    Cursor, LiveMessage, LogOp, Message, Outcome, PullRequest, PullResponse, PushRequest,
};
use lapak_core::record;
use lapak_server::auth::{Claims, Keys, Role};
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn status_of(server: &TestServer, path: &str, token: &str) -> (u16, serde_json::Value) {
    let resp = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

fn claims(sub: &str, dev: Uuid, exp_in: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "lapak".into(),
        aud: "lapak-sync".into(),
        sub: sub.into(),
        dev,
        role: Role::Admin,
        session: 0,
        iat: now,
        exp: now + exp_in,
        jti: Uuid::now_v7().to_string(),
    }
}

/// The user id inside a token (its `sub`).
fn subject(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    v["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let server = TestServer::start(common::sqlite().await).await;
    server.user("boss", Role::Admin, &[]).await;
    let good = server.login("boss", Uuid::now_v7()).await;
    assert_eq!(status_of(&server, "/v1/me", &good.access).await.0, 200);
    let sub = subject(&good.access);

    let expired = server.keys.sign(&claims(&sub, good.device, -3600)).unwrap();
    let forged = Keys::hs256(b"some other secret of thirty-two bytes")
        .sign(&claims(&sub, good.device, 600))
        .unwrap();
    let ed = Keys::from_pem_files(
        "EdDSA",
        &fixture("test-ed25519.pem"),
        &fixture("test-ed25519.pub.pem"),
    )
    .unwrap();
    let wrong_alg = ed.sign(&claims(&sub, good.device, 600)).unwrap();
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&sub, good.device, 600)).unwrap());
    let none = format!(
        "{}.{body}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    let mut parts: Vec<&str> = good.access.split('.').collect();
    parts[1] = &body; // a payload swapped under a valid signature
    let tampered = parts.join(".");
    for (what, token) in [
        ("expired", expired.as_str()),
        ("forged", forged.as_str()),
        ("EdDSA on an HS256 server", wrong_alg.as_str()),
        ("alg none", none.as_str()),
        ("tampered", tampered.as_str()),
        ("garbage", "not-a-token"),
    ] {
        let (status, body) = status_of(&server, "/v1/me", token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_token", "{what}");
    }
    let (_, body) = status_of(&server, "/v1/me", &expired).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let resp = server
        .http
        .get(format!("{}/v1/me", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "no token at all");
}

#[tokio::test]
async fn eddsa_tokens_verify_with_the_published_jwks() {
    let keys = Keys::from_pem_files(
        "EdDSA",
        &fixture("test-ed25519.pem"),
        &fixture("test-ed25519.pub.pem"),
    )
    .unwrap();
    let jwks = keys.jwks();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
    let token = keys.sign(&claims("u", Uuid::now_v7(), 600)).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&["lapak-sync"]);
    let got = jsonwebtoken::decode::<Claims>(&token, &key, &v).unwrap();
    assert_eq!(
        got.claims.sub, "u",
        "another service verifies with the JWKS alone"
    );
    assert!(keys.verify(&token).is_ok());
    assert!(
        Keys::hs256(b"0123456789abcdef0123456789abcdef").jwks()["keys"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn leaks(server: &TestServer) {
    server
        .user(
            "kasir-a",
            Role::Cashier,
            &[("branch:A", true), ("org", false)],
        )
        .await;
    server.user("boss", Role::Admin, &[]).await;
    let a = server.login("kasir-a", Uuid::now_v7()).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    server
        .push(
            &boss.access,
            PushRequest {
                device_id: boss.device,
                changes: vec![sale("B", 700)],
            },
        )
        .await;
    // Pull branch B: refused, whatever the cursor.
    let (status, body) = server
        .send(
            "/v1/sync/pull",
            &a.access,
            &Message::PullRequest(PullRequest {
                cursors: vec![Cursor {
                    scope: "branch:B".into(),
                    position: 0,
                }],
                limit: 100,
            }),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body.unwrap_err()["error"]["code"], "forbidden_scope");
    // Bootstrap of branch B: refused too.
    assert_eq!(
        status_of(server, "/v1/sync/bootstrap?scope=branch:B", &a.access)
            .await
            .0,
        403
    );
    // Push into branch B: rejected, nothing stored there.
    let resp = server
        .push(
            &a.access,
            PushRequest {
                device_id: a.device,
                changes: vec![sale("B", 5), sale("A", 5)],
            },
        )
        .await;
    assert!(
        matches!(&resp.results[0].outcome, Outcome::Rejected { code, .. } if code == "forbidden_scope")
    );
    assert!(matches!(resp.results[1].outcome, Outcome::Accepted { .. }));
    assert_eq!(
        count(
            &server.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM sales WHERE branch = 'B'"
        )
        .await,
        1,
        "only the admin's sale is in branch B"
    );
    // Reference data: neither through the admin API nor as a pushed change.
    let resp = server
        .http
        .put(format!("{}/v1/admin/reference/items", server.base))
        .bearer_auth(&a.access)
        .json(&serde_json::json!({"rows": [{"id": "X", "fields": {"sku": "X"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let mut item = sale("A", 5);
    item.collection = "items".into();
    let resp = server
        .push(
            &a.access,
            PushRequest {
                device_id: a.device,
                changes: vec![item],
            },
        )
        .await;
    assert!(
        matches!(&resp.results[0].outcome, Outcome::Rejected { code, .. } if code == "wrong_kind")
    );
    assert_eq!(
        count(&server.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM items").await,
        0
    );
    // A device of branch A, synced fully, holds no row of branch B.
    let dir = tempfile::tempdir().unwrap();
    let mut store = device(dir.path(), "pos-a", &["branch:A", "org"]);
    let resp = server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "kasir-a", "password": "password-1", "device_id": store.device_id()}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    server
        .sync(v["access_token"].as_str().unwrap(), &mut store)
        .await;
    let rows = store.query("sales", &lapak_core::Query::new()).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows.iter()
            .all(|r| r.fields["branch"] == lapak_core::Value::Text("A".into()))
    );
}

#[tokio::test]
async fn a_cashier_of_one_branch_cannot_reach_another_sqlite() {
    leaks(&TestServer::start(common::sqlite().await).await).await;
}

#[sqlx::test(migrations = false)]
async fn a_cashier_of_one_branch_cannot_reach_another_postgres(pool: sqlx::PgPool) {
    leaks(&TestServer::start(common::postgres(pool).await).await).await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_device_sqlite() {
    reusing_a_rotated_refresh_token_revokes_the_device(
        TestServer::start(common::sqlite().await).await,
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn reusing_a_rotated_refresh_token_revokes_the_device_postgres(pool: sqlx::PgPool) {
    reusing_a_rotated_refresh_token_revokes_the_device(
        TestServer::start(common::postgres(pool).await).await,
    )
    .await;
}

async fn reusing_a_rotated_refresh_token_revokes_the_device(server: TestServer) {
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let first = server.login("kasir", Uuid::now_v7()).await;
    let refresh = |token: String| {
        let server = &server;
        async move {
            let resp = server
                .http
                .post(format!("{}/v1/auth/refresh", server.base))
                .json(&serde_json::json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap();
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, second) = refresh(first.refresh.clone()).await;
    assert_eq!(status, 200);
    let refresh2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, first.refresh, "refresh tokens rotate");
    // The device uses its new token: the chain moves on.
    let (status, third) = refresh(refresh2.clone()).await;
    assert_eq!(status, 200);
    let access3 = third["access_token"].as_str().unwrap().to_owned();
    let refresh3 = third["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(status_of(&server, "/v1/me", &access3).await.0, 200);
    // The first refresh token again: someone replayed a copy.
    let (status, body) = refresh(first.refresh.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "refresh_reused");
    let (status, body) = status_of(&server, "/v1/me", &access3).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("session_revoked"))
    );
    assert_eq!(
        refresh(refresh3).await.0,
        401,
        "the newest refresh token is revoked too"
    );
    // A client that lost a refresh's answer may retry it at once: it gets the same successor,
    // so a copier replaying it in those seconds gets no chain of its own.
    let again = server.login("kasir", first.device).await;
    let (status, lost) = refresh(again.refresh.clone()).await;
    assert_eq!(status, 200);
    let lost = lost["refresh_token"].as_str().unwrap().to_owned();
    let (status, retried) = refresh(again.refresh.clone()).await;
    assert_eq!(status, 200, "a retry within the grace period: {retried}");
    assert_eq!(
        retried["refresh_token"],
        lost.as_str(),
        "the same successor"
    );
    let retried_access = retried["access_token"].as_str().unwrap().to_owned();
    assert_eq!(status_of(&server, "/v1/me", &retried_access).await.0, 200);
    // The successor moves the chain on, whoever presents it first ...
    let (status, moved) = refresh(lost.clone()).await;
    assert_eq!(status, 200);
    assert_ne!(moved["refresh_token"], lost.as_str());
    // ... and the old token after that is a copy: the device's sessions end.
    let (status, body) = refresh(again.refresh.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("refresh_reused"))
    );
    assert_eq!(
        refresh(moved["refresh_token"].as_str().unwrap().to_owned())
            .await
            .0,
        401
    );
    // Logging in again works.
    let again = server.login("kasir", first.device).await;
    assert_eq!(status_of(&server, "/v1/me", &again.access).await.0, 200);
    // Logout revokes the session.
    let resp = server
        .http
        .post(format!("{}/v1/auth/logout", server.base))
        .bearer_auth(&again.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(status_of(&server, "/v1/me", &again.access).await.0, 401);
    // Wrong password.
    let resp = server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "kasir", "password": "nope", "device_id": Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_change_nothing() {
    let server =
        TestServer::start_with(common::sqlite().await, |c| c.max_body_bytes = 64 * 1024).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let t = server.login("kasir", Uuid::now_v7()).await;
    let post = |ct: &'static str, body: Vec<u8>| {
        let server = &server;
        let token = t.access.clone();
        async move {
            let resp = server
                .http
                .post(format!("{}/v1/sync/push", server.base))
                .bearer_auth(token)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let big = Message::PushRequest(PushRequest {
        device_id: t.device,
        changes: (0..2000).map(|i| sale("A", i + 1)).collect(),
    })
    .encode();
    assert!(big.len() > 64 * 1024);
    let mut wrong_version = Message::PushRequest(PushRequest {
        device_id: t.device,
        changes: vec![sale("A", 5)],
    })
    .encode();
    wrong_version[3] = 9;
    let pull = Message::PullRequest(PullRequest {
        cursors: vec![],
        limit: 1,
    })
    .encode();
    for (what, ct, body, status, code) in [
        ("oversized", "application/x-lapak", big, 413, "too_large"),
        (
            "garbage",
            "application/x-lapak",
            b"hello".to_vec(),
            400,
            "malformed",
        ),
        (
            "truncated",
            "application/x-lapak",
            b"LPK\x01\x00\x00\x10".to_vec(),
            400,
            "malformed",
        ),
        (
            "newer version",
            "application/x-lapak",
            wrong_version,
            400,
            "unsupported_version",
        ),
        (
            "bad json",
            "application/json",
            b"{\"v\":1,\"msg\":{".to_vec(),
            400,
            "malformed",
        ),
        (
            "wrong message",
            "application/x-lapak",
            pull,
            400,
            "unexpected_message",
        ),
        (
            "wrong type",
            "text/plain",
            b"hi".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ] {
        let (got, body) = post(ct, body).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["error"]["code"], code, "{what}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // Another device's id in the push.
    let (status, body) = server
        .send(
            "/v1/sync/push",
            &t.access,
            &Message::PushRequest(PushRequest {
                device_id: Uuid::now_v7(),
                changes: vec![sale("A", 5)],
            }),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body.unwrap_err()["error"]["code"], "device_mismatch");
    use lapak_server::Storage as _;
    assert_eq!(
        server.storage.head().await.unwrap(),
        0,
        "nothing was stored"
    );
    // Unknown endpoints say where the API is.
    let (status, body) = status_of(&server, "/v2/nothing", &t.access).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

async fn exactly_once(server: &TestServer) {
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let t = server.login("kasir", Uuid::now_v7()).await;
    let req = PushRequest {
        device_id: t.device,
        changes: (0..10).map(|i| sale("A", i + 1)).collect(),
    };
    let first = server.push(&t.access, req.clone()).await;
    for _ in 0..2 {
        assert_eq!(server.push(&t.access, req.clone()).await, first);
    }
    let req2 = PushRequest {
        device_id: t.device,
        changes: (0..10).map(|i| sale("A", i + 100)).collect(),
    };
    let (x, y, z) = tokio::join!(
        server.push(&t.access, req2.clone()),
        server.push(&t.access, req2.clone()),
        server.push(&t.access, req2.clone())
    );
    assert!(x == y && y == z);
    assert_eq!(
        count(&server.storage, "SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        20
    );
    assert_eq!(
        count(
            &server.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_log"
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &server.storage,
            "SELECT CAST(COUNT(*) AS TEXT) FROM lapak_outbox"
        )
        .await,
        20
    );
}

#[tokio::test]
async fn the_same_push_three_times_stores_each_change_once_sqlite() {
    exactly_once(&TestServer::start(common::sqlite().await).await).await;
}

#[sqlx::test(migrations = false)]
async fn the_same_push_three_times_stores_each_change_once_postgres(pool: sqlx::PgPool) {
    exactly_once(&TestServer::start(common::postgres(pool).await).await).await;
}

#[tokio::test]
async fn devices_are_rate_limited() {
    let server = TestServer::start_with(common::sqlite().await, |c| {
        c.rate_limit = 1;
        c.rate_burst = 3;
    })
    .await;
    server.user("kasir", Role::Cashier, &[]).await;
    let t = server.login("kasir", Uuid::now_v7()).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = server
            .http
            .get(format!("{}/v1/me", server.base))
            .bearer_auth(&t.access)
            .send()
            .await
            .unwrap();
        statuses.push((
            resp.status().as_u16(),
            resp.headers().get("retry-after").is_some(),
        ));
    }
    assert_eq!(
        statuses,
        [(200, false), (200, false), (200, false), (429, true)]
    );
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_live(server: &TestServer, token: &str, format: &str) -> Ws {
    use tungstenite::client::IntoClientRequest as _;
    let url = format!(
        "{}/v1/sync/live?format={format}",
        server.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn next_live(ws: &mut Ws) -> Option<LiveMessage> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")?
            .ok()?;
        let decoded = match msg {
            tungstenite::Message::Binary(b) => Message::decode(&b).unwrap(),
            tungstenite::Message::Text(t) => Message::from_json(t.as_str()).unwrap(),
            tungstenite::Message::Close(_) => return None,
            _ => continue,
        };
        let Message::Live(m) = decoded else {
            panic!("not a live message: {decoded:?}")
        };
        return Some(m);
    }
}

fn live_frame(msg: LiveMessage) -> tungstenite::Message {
    tungstenite::Message::Binary(Message::Live(msg).encode().into())
}

#[tokio::test]
async fn live_sockets_hear_news_of_their_scopes_only_and_close_with_a_reason() {
    let mut server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir-a", Role::Cashier, &[("branch:A", true)])
        .await;
    server.user("boss", Role::Admin, &[]).await;
    let a = server.login("kasir-a", Uuid::now_v7()).await;
    let a2 = server.login("kasir-a", Uuid::now_v7()).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    // Before the socket: one sale the hello must report.
    server
        .push(
            &a2.access,
            PushRequest {
                device_id: a2.device,
                changes: vec![sale("A", 1)],
            },
        )
        .await;
    let mut ws = connect_live(&server, &a.access, "binary").await;
    ws.send(live_frame(LiveMessage::Hello {
        device_id: a.device,
        cursors: vec![Cursor {
            scope: "branch:A".into(),
            position: 0,
        }],
    }))
    .await
    .unwrap();
    assert_eq!(
        next_live(&mut ws).await,
        Some(LiveMessage::News {
            heads: vec![Cursor {
                scope: "branch:A".into(),
                position: 1
            }]
        })
    );
    // News of branch B never reaches this socket; news of branch A does, at once.
    server
        .push(
            &boss.access,
            PushRequest {
                device_id: boss.device,
                changes: vec![sale("B", 2)],
            },
        )
        .await;
    server
        .push(
            &a2.access,
            PushRequest {
                device_id: a2.device,
                changes: vec![sale("A", 3)],
            },
        )
        .await;
    // A small write arrives whole: one batch of branch A, complete since A's previous entry.
    match next_live(&mut ws).await {
        Some(LiveMessage::Entries { batches }) => {
            assert_eq!(batches.len(), 1);
            assert_eq!(
                (batches[0].scope.as_str(), batches[0].after, batches[0].upto),
                ("branch:A", 1, 3)
            );
            assert_eq!(batches[0].entries.len(), 1);
        }
        other => panic!("expected entries, got {other:?}"),
    }
    ws.send(live_frame(LiveMessage::Ping(7))).await.unwrap();
    assert_eq!(next_live(&mut ws).await, Some(LiveMessage::Pong(7)));
    let metrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("lapak_live_devices 1"), "{metrics}");
    assert!(
        metrics.contains("lapak_changes_total{outcome=\"accepted\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lapak_push_duration_seconds_count 3"),
        "{metrics}"
    );
    // A JSON socket too, then a graceful shutdown closes both with a reason.
    let mut json_ws = connect_live(&server, &boss.access, "json").await;
    json_ws
        .send(tungstenite::Message::Text(
            Message::Live(LiveMessage::Ping(1)).to_json().into(),
        ))
        .await
        .unwrap();
    assert_eq!(next_live(&mut json_ws).await, Some(LiveMessage::Pong(1)));
    server.stop().await;
    for ws in [&mut ws, &mut json_ws] {
        assert!(matches!(
            next_live(ws).await,
            Some(LiveMessage::Close { code, .. }) if code == "shutdown"
        ));
    }
}

#[tokio::test]
async fn a_live_socket_may_not_follow_a_scope_it_cannot_read() {
    let server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir-a", Role::Cashier, &[("branch:A", true)])
        .await;
    let a = server.login("kasir-a", Uuid::now_v7()).await;
    let mut ws = connect_live(&server, &a.access, "binary").await;
    ws.send(live_frame(LiveMessage::Hello {
        device_id: a.device,
        cursors: vec![Cursor {
            scope: "branch:B".into(),
            position: 0,
        }],
    }))
    .await
    .unwrap();
    assert!(matches!(
        next_live(&mut ws).await,
        Some(LiveMessage::Close { code, .. }) if code == "forbidden_scope"
    ));
    // Without a token there is no socket.
    let url = format!("{}/v1/sync/live", server.base.replace("http://", "ws://"));
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn admins_manage_users_devices_and_reference_data() {
    let server = TestServer::start(common::sqlite().await).await;
    server.user("boss", Role::Admin, &[]).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    let resp = server
        .http
        .post(format!("{}/v1/admin/users", server.base))
        .bearer_auth(&boss.access)
        .json(&serde_json::json!({"username": "sales-1", "password": "password-1", "role": "salesperson",
            "grants": [{"scope": "territory:T1", "write": true}, {"scope": "org", "write": false}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let s1 = server.login("sales-1", Uuid::now_v7()).await;
    let (_, me) = status_of(&server, "/v1/me", &s1.access).await;
    assert_eq!(me["role"], "salesperson");
    assert_eq!(me["grants"].as_array().unwrap().len(), 2);
    let resp = server
        .http
        .put(format!("{}/v1/admin/reference/items", server.base))
        .bearer_auth(&boss.access)
        .json(&serde_json::json!({"rows": [
            {"id": "SKU-1", "fields": {"sku": "SKU-1", "name": "Kopi", "price": 5000}},
            {"id": "SKU-2", "fields": {"sku": "SKU-2", "price": "cheap"}}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        422,
        "a wrongly typed field refuses the batch"
    );
    let resp = server
        .http
        .put(format!("{}/v1/admin/reference/items", server.base))
        .bearer_auth(&boss.access)
        .json(&serde_json::json!({"rows": [{"id": "SKU-1", "fields": {"sku": "SKU-1", "name": "Kopi", "price": 5000}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = server
        .http
        .get(format!("{}/v1/sync/bootstrap?scope=org", server.base))
        .bearer_auth(&s1.access)
        .send()
        .await
        .unwrap();
    let Message::PullResponse(PullResponse { batches }) =
        Message::decode(&resp.bytes().await.unwrap()).unwrap()
    else {
        panic!("not a pull response")
    };
    assert!(
        matches!(&batches[0].entries[0].op, LogOp::Upsert { fields, .. } if fields == &record! {"sku" => "SKU-1", "name" => "Kopi", "price" => 5000})
    );
    // Revoking the device stops it at once.
    let resp = server
        .http
        .post(format!(
            "{}/v1/admin/devices/{}/revoke",
            server.base, s1.device
        ))
        .bearer_auth(&boss.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(status_of(&server, "/v1/me", &s1.access).await.0, 403);
    let (status, devices) = status_of(&server, "/v1/admin/devices", &boss.access).await;
    assert_eq!(status, 200);
    assert_eq!(devices["total"], 1, "a revoked device is left out");
    let (_, devices) = status_of(
        &server,
        "/v1/admin/devices?include_revoked=true",
        &boss.access,
    )
    .await;
    assert_eq!(devices["total"], 2);
    assert_eq!(devices["rows"].as_array().unwrap().len(), 2);
    let (status, events) = status_of(&server, "/v1/admin/outbox", &boss.access).await;
    assert_eq!(status, 200);
    assert_eq!(events[0]["event_type"], "items.updated");
    assert_eq!(
        status_of(&server, "/v1/admin/users", &s1.access).await.0,
        403
    );
    let (status, users) = status_of(&server, "/v1/admin/users", &boss.access).await;
    assert_eq!(status, 200);
    let sales1 = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "sales-1")
        .unwrap();
    assert_eq!(sales1["grants"].as_array().unwrap().len(), 2);
    assert_eq!(sales1["grants"][0]["scope"], "org");
}

#[tokio::test]
async fn health_readiness_and_jwks() {
    let server = TestServer::start(common::sqlite().await).await;
    let get = |p: &'static str| {
        let server = &server;
        async move {
            let r = server
                .http
                .get(format!("{}{p}", server.base))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    let (status, body) = get("/readyz").await;
    assert_eq!(status, 200);
    assert!(body.contains("sqlite"));
    let (status, body) = get("/.well-known/jwks.json").await;
    assert_eq!((status, body.as_str()), (200, "{\"keys\":[]}"));
}

#[tokio::test]
async fn revocations_reach_open_sockets_and_password_changes_end_other_sessions() {
    let server = TestServer::start_with(common::sqlite().await, |c| c.live_ping_seconds = 1).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    server.user("boss", Role::Admin, &[]).await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    let pos = server.login("kasir", Uuid::now_v7()).await;
    let phone = server.login("kasir", Uuid::now_v7()).await;
    let mut ws = connect_live(&server, &pos.access, "binary").await;
    let resp = server
        .http
        .post(format!(
            "{}/v1/admin/devices/{}/revoke",
            server.base, pos.device
        ))
        .bearer_auth(&boss.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // Within a ping interval the socket learns it and closes.
    loop {
        match next_live(&mut ws).await {
            Some(LiveMessage::Ping(n)) => ws.send(live_frame(LiveMessage::Pong(n))).await.unwrap(),
            Some(LiveMessage::Close { code, .. }) => {
                assert_eq!(code, "revoked");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Changing the password on the phone ends the sessions of the user's other devices.
    let pos2 = server.login("kasir", Uuid::now_v7()).await;
    let resp = server
        .http
        .post(format!("{}/v1/auth/password", server.base))
        .bearer_auth(&phone.access)
        .json(&serde_json::json!({"current_password": "password-1", "new_password": "password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(status_of(&server, "/v1/me", &phone.access).await.0, 200);
    assert_eq!(status_of(&server, "/v1/me", &pos2.access).await.0, 401);
}

#[sqlx::test(migrations = false)]
async fn live_news_crosses_server_processes_on_one_postgres(pool: sqlx::PgPool) {
    let one = TestServer::start(common::postgres(pool.clone()).await).await;
    let two = TestServer::start(common::postgres(pool).await).await;
    one.user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let writer = one.login("kasir", Uuid::now_v7()).await;
    let reader = two.login("kasir", Uuid::now_v7()).await;
    let mut ws = connect_live(&two, &reader.access, "binary").await;
    ws.send(live_frame(LiveMessage::Hello {
        device_id: reader.device,
        cursors: vec![Cursor {
            scope: "branch:A".into(),
            position: 0,
        }],
    }))
    .await
    .unwrap();
    // Give the socket a moment to be registered before the write.
    tokio::time::sleep(Duration::from_millis(200)).await;
    one.push(
        &writer.access,
        PushRequest {
            device_id: writer.device,
            changes: vec![sale("A", 9)],
        },
    )
    .await;
    assert_eq!(
        next_live(&mut ws).await,
        Some(LiveMessage::News {
            heads: vec![Cursor {
                scope: "branch:A".into(),
                position: 1
            }]
        }),
        "the write through the other process is announced here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_graceful_shutdown_finishes_the_push_in_flight() {
    let mut server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let t = server.login("kasir", Uuid::now_v7()).await;
    let req = PushRequest {
        device_id: t.device,
        changes: (0..5_000).map(|i| sale("A", i + 1)).collect(),
    };
    let body = Message::PushRequest(req).encode();
    let http = server.http.clone();
    let url = format!("{}/v1/sync/push", server.base);
    let access = t.access.clone();
    let push = tokio::spawn(async move {
        http.post(url)
            .bearer_auth(access)
            .header("content-type", "application/x-lapak")
            .body(body)
            .send()
            .await
    });
    // Shut down while the push is being judged and stored.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let storage = server.storage.clone();
    server.stop().await;
    let resp = push.await.unwrap().expect("the push in flight is answered");
    assert_eq!(resp.status(), 200);
    let Message::PushResponse(answer) = Message::decode(&resp.bytes().await.unwrap()).unwrap()
    else {
        panic!("not a push response")
    };
    assert_eq!(answer.results.len(), 5_000);
    assert!(
        answer
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Accepted { .. }))
    );
    // Reopened, the database holds the whole push.
    let reopened = lapak_server::SqlStorage::open(
        &format!(
            "sqlite://{}",
            server.harness.dir.path().join("server.sqlite3").display()
        ),
        lapak_core::catalog::starter(),
        lapak_server::rules::starter(),
    )
    .await
    .unwrap();
    drop(storage);
    assert_eq!(
        count(&reopened, "SELECT CAST(COUNT(*) AS TEXT) FROM sales").await,
        5_000
    );
}

#[tokio::test]
async fn the_back_office_lists_and_resolves_exceptions() {
    let server = TestServer::start(common::business_sqlite().await).await;
    let s = server.storage.as_ref();
    common::reference(
        s,
        "branches",
        &[(
            "JKT-01",
            serde_json::json!({"name": "Jakarta", "price_list": "retail"}),
        )],
    )
    .await;
    common::reference(s, "items", &[("TEA", serde_json::json!({"name": "Tea"}))]).await;
    common::reference(
        s,
        "prices",
        &[("retail/TEA", serde_json::json!({"price_list": "retail", "sku": "TEA", "price": 5000, "effective_from": 0}))],
    )
    .await;
    // A sale at the wrong price, of an item with no stock: two exceptions.
    let mut cashier = common::principal(Role::Cashier, &[("branch:JKT-01", true)]);
    cashier.username = "ani".into();
    let out = common::push(
        s,
        &cashier,
        vec![common::entry(
            "sales_invoices",
            serde_json::json!({"branch": "JKT-01", "sold_at": 1, "total": 4000,
                "lines": [{"sku": "TEA", "qty": 1, "price": 4000}], "payments": [{"method": "cash", "amount": 4000}]}),
        )],
    )
    .await;
    assert!(matches!(out[0], Outcome::Accepted { .. }), "{out:?}");
    server.user("boss", Role::Admin, &[]).await;
    server
        .user("kasir", Role::Cashier, &[("branch:JKT-01", true)])
        .await;
    let boss = server.login("boss", Uuid::now_v7()).await;
    let kasir = server.login("kasir", Uuid::now_v7()).await;
    let (status, list) = status_of(&server, "/v1/admin/exceptions", &boss.access).await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{list}");
    assert!(kinds.contains(&"price_mismatch") && kinds.contains(&"negative_stock"));
    let (status, one) = status_of(
        &server,
        "/v1/admin/exceptions?kind=price_mismatch",
        &boss.access,
    )
    .await;
    assert_eq!(status, 200);
    let id = one[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(one[0]["details"]["lines"][0]["list_price"], 5000);
    assert_eq!(
        status_of(&server, "/v1/admin/exceptions", &kasir.access)
            .await
            .0,
        403
    );
    let (status, body) =
        status_of(&server, "/v1/admin/exceptions?status=bogus", &boss.access).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("open, resolved, all")
    );
    let resolve = |id: String, note: &'static str| {
        let server = &server;
        let token = boss.access.clone();
        async move {
            let resp = server
                .http
                .post(format!("{}/v1/admin/exceptions/{id}/resolve", server.base))
                .bearer_auth(token)
                .json(&serde_json::json!({"note": note}))
                .send()
                .await
                .unwrap();
            (
                resp.status().as_u16(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, done) = resolve(id.clone(), "refunded 1,000 to the customer").await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["resolved_by"], "boss");
    let (status, again) = resolve(id.clone(), "again").await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    assert_eq!(resolve("no-such".into(), "x").await.0, 404);
    assert_eq!(resolve(id, "  ").await.0, 400);
    let (_, open) = status_of(&server, "/v1/admin/exceptions", &boss.access).await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, resolved) = status_of(
        &server,
        "/v1/admin/exceptions?status=resolved",
        &boss.access,
    )
    .await;
    assert_eq!(resolved.as_array().unwrap().len(), 1);
    let (status, stock) = status_of(
        &server,
        "/v1/admin/tallies?prefix=stock:JKT-01/",
        &boss.access,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        stock,
        serde_json::json!([{"key": "stock:JKT-01/TEA", "value": -1, "note": null}])
    );
}

#[tokio::test]
async fn only_the_live_socket_takes_a_token_in_the_query_and_metrics_name_no_device() {
    let server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = device(dir.path(), "pos", &["branch:A"]);
    let tokens = server.login("kasir", store.device_id()).await;
    store
        .create("outlets", record! {"name" => "Toko", "branch" => "A"})
        .unwrap();
    server.sync(&tokens.access, &mut store).await;
    for path in [
        "/v1/me",
        "/v1/sync/bootstrap?scope=branch:A",
        "/v1/admin/users",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = server
            .http
            .get(format!(
                "{}{path}{sep}access_token={}",
                server.base, tokens.access
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "token_in_query", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Authorization"),
            "{body}"
        );
    }
    // The live socket, which browsers open without headers, still takes it.
    let url = format!(
        "{}/v1/sync/live?format=json&access_token={}",
        server.base.replace("http://", "ws://"),
        tokens.access
    );
    let (ws, resp) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the live socket opens with ?access_token=");
    assert_eq!(resp.status(), 101);
    drop(ws);
    let metrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lapak_pull_lag_positions_count"),
        "{metrics}"
    );
    let id = store.device_id().to_string();
    assert!(
        !metrics.contains(&id),
        "/metrics names device {id}: {metrics}"
    );
    assert!(!metrics.contains(&id.replace('-', "")), "{metrics}");
}

async fn a_new_login_ends_the_earlier_session_of_the_device(server: TestServer) {
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let dev = Uuid::now_v7();
    let first = server.login("kasir", dev).await;
    let elsewhere = server.login("kasir", Uuid::now_v7()).await;
    assert_eq!(status_of(&server, "/v1/me", &first.access).await.0, 200);
    let second = server.login("kasir", dev).await;
    let (status, body) = status_of(&server, "/v1/me", &first.access).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("session_revoked")),
        "the earlier access token: {body}"
    );
    let resp = server
        .http
        .post(format!("{}/v1/auth/refresh", server.base))
        .json(&serde_json::json!({ "refresh_token": first.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "the earlier refresh token");
    assert_eq!(status_of(&server, "/v1/me", &second.access).await.0, 200);
    assert_eq!(
        status_of(&server, "/v1/me", &elsewhere.access).await.0,
        200,
        "other devices keep their sessions"
    );
}

#[tokio::test]
async fn a_new_login_ends_the_earlier_session_of_the_device_sqlite() {
    a_new_login_ends_the_earlier_session_of_the_device(
        TestServer::start(common::sqlite().await).await,
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_new_login_ends_the_earlier_session_of_the_device_postgres(pool: sqlx::PgPool) {
    a_new_login_ends_the_earlier_session_of_the_device(
        TestServer::start(common::postgres(pool).await).await,
    )
    .await;
}

#[tokio::test]
async fn a_device_holds_a_bounded_number_of_live_sockets() {
    let server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir-a", Role::Cashier, &[("branch:A", true)])
        .await;
    let a = server.login("kasir-a", Uuid::now_v7()).await;
    let mut open = Vec::new();
    for _ in 0..lapak_server::live::MAX_SOCKETS_PER_DEVICE {
        open.push(connect_live(&server, &a.access, "binary").await);
    }
    use tungstenite::client::IntoClientRequest as _;
    let url = format!("{}/v1/sync/live", server.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", a.access).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429);
            assert!(resp.headers().contains_key("retry-after"));
            let body: serde_json::Value =
                serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "too_many_sockets");
        }
        other => panic!("a fifth socket of one device must be refused: {other:?}"),
    }
    let b = server.login("kasir-a", Uuid::now_v7()).await;
    let _other = connect_live(&server, &b.access, "binary").await;
    // The open sockets still work.
    open[0]
        .send(live_frame(LiveMessage::Ping(3)))
        .await
        .unwrap();
    assert_eq!(next_live(&mut open[0]).await, Some(LiveMessage::Pong(3)));
}

/// A frame header declaring 16 MiB closes the socket at once: the server does not wait for, nor
/// buffer, more than the live message limit.
#[tokio::test]
async fn a_live_frame_past_the_limit_closes_the_socket_from_its_header() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir-a", Role::Cashier, &[("branch:A", true)])
        .await;
    let a = server.login("kasir-a", Uuid::now_v7()).await;
    let mut tcp = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let handshake = format!(
        "GET /v1/sync/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {}\r\n\r\n",
        a.access
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    // FIN + binary, masked, 64-bit length of 16 MiB - 1, a mask, then only a few bytes.
    let mut frame = vec![0x82, 0xff];
    frame.extend(((16u64 << 20) - 1).to_be_bytes());
    frame.extend([1, 2, 3, 4]);
    frame.extend([0u8; 100]);
    tcp.write_all(&frame).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) if buf[..n].contains(&0x88) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server waited for a 16 MiB frame");
}

/// Guesses of the current password on `POST /v1/auth/password` share the user's login budget:
/// after a burst of wrong guesses the endpoint answers 429, even for the right password.
#[tokio::test]
async fn guessing_the_current_password_is_rate_limited() {
    let server = TestServer::start(common::sqlite().await).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let pos = server.login("kasir", Uuid::now_v7()).await;
    let change = |current: &str| {
        server
            .http
            .post(format!("{}/v1/auth/password", server.base))
            .bearer_auth(&pos.access)
            .json(&serde_json::json!({"current_password": current, "new_password": "password-2"}))
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..30 {
        let resp = change(&format!("guess-{i}")).await.unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            assert!(resp.headers().contains_key("retry-after"));
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 403));
    assert_eq!(change("password-1").await.unwrap().status(), 429);
}

/// A client that sends half a request's headers is disconnected after the header timeout
/// instead of holding its connection forever.
#[tokio::test]
async fn a_slow_header_is_cut_off_after_the_timeout() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = TestServer::start_with(common::sqlite().await, |c| {
        c.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the half-sent header held its connection");
    // Whole requests are served as before.
    let resp = server
        .http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Made-up methods and unknown paths never become new metric series.
#[tokio::test]
async fn metric_labels_come_from_bounded_sets() {
    let server = TestServer::start(common::sqlite().await).await;
    for (method, path) in [
        ("FROBNICATE", "/healthz"),
        ("XYZZY", "/v1/sync/push"),
        ("GET", "/no/such/path/12345"),
    ] {
        let resp = server
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.base),
            )
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{method} {path}");
    }
    let metrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for raw in ["FROBNICATE", "XYZZY", "12345"] {
        assert!(!metrics.contains(raw), "{raw} became a label:\n{metrics}");
    }
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}
