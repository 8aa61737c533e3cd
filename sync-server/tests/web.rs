//! The admin web over real HTTP: browser sessions in cookies (HttpOnly, SameSite=Strict),
//! refused across sites and without the anti-forgery token, ended by sign-out; the pages under
//! `/admin` with their security and cache headers, compressed. Sessions run on both backends.

mod common;

use common::TestServer;
use lapak_server::Accounts as _;
use lapak_server::auth::Role;
use reqwest::header::{HeaderMap, HeaderValue};

/// A browser: the cookies it holds for the server, sent back like a browser would.
struct Browser<'s> {
    server: &'s TestServer,
    access: Option<String>,
    refresh: Option<String>,
    csrf: String,
}

/// The value of cookie `name` set by `headers`, with its attributes.
fn set_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set: &str) -> Option<String> {
    let value = set.split(';').next()?.split_once('=')?.1;
    (!value.is_empty()).then(|| value.to_owned())
}

impl<'s> Browser<'s> {
    fn new(server: &'s TestServer) -> Self {
        Browser {
            server,
            access: None,
            refresh: None,
            csrf: String::new(),
        }
    }

    fn origin(&self) -> String {
        self.server.base.clone()
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        if let Some(set) = set_cookie(headers, "lapak_access") {
            self.access = cookie_value(set);
        }
        if let Some(set) = set_cookie(headers, "lapak_refresh") {
            self.refresh = cookie_value(set);
        }
    }

    fn cookies(&self, path: &str) -> String {
        let mut c = Vec::new();
        if let Some(a) = &self.access {
            c.push(format!("lapak_access={a}"));
        }
        if let (Some(r), true) = (&self.refresh, path.starts_with("/v1/web/session")) {
            c.push(format!("lapak_refresh={r}"));
        }
        c.join("; ")
    }

    /// Sends a request as the admin web's page would: cookies, its origin, the CSRF token.
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        tweak: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .server
            .http
            .request(method, format!("{}{path}", self.server.base))
            .header("cookie", self.cookies(path))
            .header("origin", self.origin())
            .header("x-lapak-csrf", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = tweak(req).send().await.unwrap();
        self.keep_cookies(resp.headers());
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    async fn sign_in(&mut self, username: &str) -> (u16, serde_json::Value) {
        let body = serde_json::json!({ "username": username, "password": "password-1" });
        let (status, v) = self
            .send(reqwest::Method::POST, "/v1/web/session", Some(body), |r| r)
            .await;
        if status == 201 {
            self.csrf = v["csrf_token"].as_str().unwrap().to_owned();
        }
        (status, v)
    }
}

async fn sessions(server: TestServer) {
    server.user("boss", Role::Admin, &[]).await;
    server
        .user("kasir", Role::Cashier, &[("branch:A", true)])
        .await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    // Signing in sets two HttpOnly, SameSite=Strict cookies; the body holds no token.
    let resp = server
        .http
        .post(format!("{}/v1/web/session", server.base))
        .json(&serde_json::json!({ "username": "boss", "password": "password-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let access = set_cookie(resp.headers(), "lapak_access").unwrap();
    let refresh = set_cookie(resp.headers(), "lapak_refresh").unwrap();
    for c in [access, refresh] {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    assert!(refresh.contains("Path=/v1/web/session"), "{refresh}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["role"], "admin");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());

    let mut browser = Browser::new(&server);
    assert_eq!(browser.sign_in("boss").await.0, 201);
    let (status, me) = browser
        .send(get.clone(), "/v1/web/session", None, |r| r)
        .await;
    assert_eq!((status, me["username"].as_str()), (200, Some("boss")));
    assert_eq!(me["csrf_token"].as_str(), Some(browser.csrf.as_str()));
    let (status, _) = browser
        .send(get.clone(), "/v1/admin/users", None, |r| r)
        .await;
    assert_eq!(status, 200);

    // A change of state: without the token, or from another site, it is refused.
    let grants = serde_json::json!([{ "scope": "branch:B", "write": true }]);
    let path = "/v1/admin/users/kasir/grants";
    let put = reqwest::Method::PUT;
    let (status, e) = browser
        .send(put.clone(), path, Some(grants.clone()), |r| {
            r.header("x-lapak-csrf", "lpc_forged")
        })
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("csrf")),
        "{e}"
    );
    let (status, e) = browser
        .send(put.clone(), path, Some(grants.clone()), |r| {
            r.header("origin", "https://evil.example")
        })
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("cross_site")),
        "{e}"
    );
    let (status, e) = browser
        .send(put.clone(), path, Some(grants.clone()), |r| {
            r.header("sec-fetch-site", "cross-site")
        })
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("cross_site")),
        "{e}"
    );
    let users = server.storage.list_users().await.unwrap();
    let kasir = users.iter().find(|u| u.username == "kasir").unwrap();
    assert_eq!(
        kasir.grants[0].scope, "branch:A",
        "a refused request changed nothing"
    );
    let (status, _) = browser.send(put, path, Some(grants), |r| r).await;
    assert_eq!(status, 200);

    // The cookie is for the back office only: a device endpoint does not take it.
    let (status, _) = browser
        .send(
            post.clone(),
            "/v1/sync/pull",
            Some(serde_json::json!({})),
            |r| r,
        )
        .await;
    assert_eq!(status, 401);

    // A refresh rotates both cookies and keeps the anti-forgery token.
    let before = (browser.access.clone(), browser.refresh.clone());
    let (status, v) = browser
        .send(post.clone(), "/v1/web/session/refresh", None, |r| r)
        .await;
    assert_eq!(status, 200, "{v}");
    assert_ne!(browser.refresh, before.1);
    assert_eq!(v["csrf_token"].as_str(), Some(browser.csrf.as_str()));

    // Signing out ends the session on the server: the old cookies no longer work.
    let kept = (browser.access.clone(), browser.refresh.clone());
    let (status, _) = browser
        .send(reqwest::Method::DELETE, "/v1/web/session", None, |r| r)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        (browser.access.as_deref(), browser.refresh.as_deref()),
        (None, None)
    );
    (browser.access, browser.refresh) = kept;
    let (status, _) = browser
        .send(get.clone(), "/v1/admin/users", None, |r| r)
        .await;
    assert_eq!(status, 401);
    let (status, _) = browser
        .send(post.clone(), "/v1/web/session/refresh", None, |r| r)
        .await;
    assert_eq!(status, 401);

    // Cashiers have the POS: the admin web refuses them.
    let mut cashier = Browser::new(&server);
    let (status, e) = cashier.sign_in("kasir").await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("not_for_role"))
    );
    // A sign-in posted from another site is refused before the password is checked.
    let mut evil = Browser::new(&server);
    let body = serde_json::json!({ "username": "boss", "password": "password-1" });
    let (status, _) = evil
        .send(post, "/v1/web/session", Some(body), |r| {
            r.header("origin", "https://evil.example")
        })
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn browser_sessions_live_in_cookies_and_refuse_forgery_sqlite() {
    sessions(TestServer::start(common::sqlite().await).await).await;
}

#[sqlx::test(migrations = false)]
async fn browser_sessions_live_in_cookies_and_refuse_forgery_postgres(pool: sqlx::PgPool) {
    sessions(TestServer::start(common::postgres(pool).await).await).await;
}

#[tokio::test]
async fn the_pages_carry_a_strict_policy_and_are_compressed() {
    let server = TestServer::start(common::sqlite().await).await;
    let resp = server
        .http
        .get(format!("{}/admin/", server.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["content-encoding"], HeaderValue::from_static("gzip"));
    // The page's own routes answer the page; a file it lacks is a 404, not the page.
    let resp = server
        .http
        .get(format!("{}/admin/reports", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = server
        .http
        .get(format!("{}/admin/assets/gone-1234.js", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = server
        .http
        .get(format!("{}/admin", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/admin/", "/admin redirects to /admin/");
}
