//! The admin web in a real headless Chromium (Debian's `chromium` and `chromedriver`, driven
//! over WebDriver) against a real server with a small demo business: signing in, the pages
//! and what they show, the language, signing out. Without chromedriver the test fails under CI
//! and says how to get it elsewhere. `LAPAK_SCREENSHOTS=docs/screenshots` saves a picture of
//! every page (docs/admin.md's pictures come from here).

mod common;

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestServer, cashier, entry, free_port};
use lapak_client::{Client, ClientOptions};
use lapak_core::Value;
use lapak_server::auth::{self, Grant, Role};
use lapak_server::storage::{Accounts, Storage, WriteContext};
use lapak_webdriver::Session;
use serde_json::json;

/// The admin's password in these tests.
const PASSWORD: &str = "admin-pass-1";

/// A chromedriver process and one headless Chromium session on it.
struct Browser {
    driver: Child,
    page: Session,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Ends chromedriver and every Chromium process it started (its process group): killed
    /// alone, chromedriver would leave the browser running after a failed test.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts chromedriver and a headless Chromium; `None` (outside CI) when they are not installed.
async fn browser() -> Option<Browser> {
    let driver =
        std::env::var("LAPAK_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("LAPAK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&driver).exists() || !std::path::Path::new(&chromium).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{driver} or {chromium} is missing: scripts/test.sh installs chromium and chromium-driver"
        );
        eprintln!(
            "skipped: apt-get install chromium chromium-driver (or set LAPAK_CHROMEDRIVER and LAPAK_CHROMIUM)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        // A group of its own, so that dropping the browser ends Chromium too.
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    // No background traffic: this machine's network is closed, and tests must not wait on it.
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,900",
        "--lang=id",
        &format!("--user-data-dir={}", profile.path().display()),
    ];
    let page = Session::start(
        &url,
        json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }),
    )
    .await;
    Some(Browser {
        driver: child,
        page,
        _profile: profile,
    })
}

fn id(test_id: &str) -> String {
    format!("[data-testid='{test_id}']")
}

/// Saves a PNG of the page as `admin-<name>.png` in `LAPAK_SCREENSHOTS` when it is set.
async fn screenshot(page: &Session, name: &str) {
    let Some(dir) = std::env::var_os("LAPAK_SCREENSHOTS") else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = page.screenshot().await;
    std::fs::write(PathBuf::from(dir).join(format!("admin-{name}.png")), png).unwrap();
}

/// A server with a small demo business, an administrator `boss` and a few of today's sales
/// by the demo's sample cashier; with that cashier's user name and branch.
async fn demo_server() -> (TestServer, String, String) {
    let server = TestServer::start(common::business_sqlite().await).await;
    let summary = common::small_demo(&server.storage).await;
    server
        .storage
        .create_user(
            "boss",
            &auth::hash_password(PASSWORD).unwrap(),
            Role::Admin,
            &[Grant {
                scope: "*".into(),
                write: true,
            }],
            0,
        )
        .await
        .unwrap();
    let (user, branch, _) = summary.sample_cashier.clone();
    let who = cashier(&branch, &user);
    let now = lapak_server::app::AppState::now_ms();
    let changes = (1..=3)
        .map(|i| {
            entry(
                "sales_invoices",
                json!({
                    "number": format!("{branch}/POS-1/000{i}"),
                    "branch": branch, "terminal": "POS-1", "sold_at": now - i * 60_000,
                    "total": 25_000 * i,
                    "lines": [{"sku": "SKU-000001", "qty": i, "price": 25_000, "discount": 0, "tax": 0}],
                    "payments": [{"method": "cash", "amount": 25_000 * i}],
                }),
            )
        })
        .collect();
    let ctx = WriteContext {
        now_ms: now,
        trace_id: "browser-test".into(),
    };
    let request = lapak_core::protocol::PushRequest {
        device_id: who.device_id,
        changes,
    };
    server.storage.push(&ctx, &who, &request).await.unwrap();
    // One change the server refuses: a sale in a branch the cashier has no grant for.
    let refused = lapak_core::protocol::PushRequest {
        device_id: who.device_id,
        changes: vec![entry(
            "sales_invoices",
            json!({"branch": "NOWHERE", "sold_at": now, "total": 1, "lines": [], "payments": []}),
        )],
    };
    server.storage.push(&ctx, &who, &refused).await.unwrap();
    (server, user, branch)
}

/// Signs `boss` in on the admin web's first page.
async fn sign_in(page: &Session, base: &str) {
    page.go(&format!("{base}/admin/")).await;
    page.fill(&id("username"), "boss").await;
    page.fill(&id("password"), PASSWORD).await;
    page.click(&id("sign-in-submit")).await;
    page.find(&id("page-today")).await;
}

#[tokio::test]
async fn an_administrator_signs_in_sees_today_and_signs_out() {
    let Some(browser) = browser().await else {
        return;
    };
    let (server, _, branch) = demo_server().await;
    let page = &browser.page;
    page.go(&format!("{}/admin/", server.base)).await;
    page.find(&id("sign-in")).await;
    screenshot(page, "sign-in").await;

    // A wrong password: the page says so and keeps the user name.
    page.fill(&id("username"), "boss").await;
    page.fill(&id("password"), "wrong-password").await;
    page.click(&id("sign-in-submit")).await;
    page.wait_text(&id("error"), "the refusal", |t| {
        t.contains("wrong username")
    })
    .await;

    page.fill(&id("password"), PASSWORD).await;
    page.click(&id("sign-in-submit")).await;
    page.wait_text(&id("tile-sales-value"), "today's sales", |t| {
        t == "Rp 150.000"
    })
    .await;
    let row = page.read(&id(&format!("sales-{branch}"))).await;
    assert!(row.contains("Rp 150.000"), "{row}");
    page.wait_text(&id("tile-exceptions-value"), "open exceptions", |t| {
        t != "0"
    })
    .await;
    // Page scripts cannot read the session: the cookies are HttpOnly.
    let visible = page.script("return document.cookie", json!([])).await;
    assert_eq!(
        visible,
        json!(""),
        "no session cookie is visible to scripts"
    );
    screenshot(page, "today").await;

    // English, remembered across a reload.
    page.click(&id("locale-en")).await;
    page.wait_text(&id("nav-today"), "English", |t| t == "Today")
        .await;
    page.go(&format!("{}/admin/today", server.base)).await;
    page.wait_text(&id("nav-today"), "English after reload", |t| t == "Today")
        .await;

    // Signing out ends the session: a reload shows the sign-in.
    page.click(&id("sign-out")).await;
    page.find(&id("sign-in")).await;
    page.go(&format!("{}/admin/today", server.base)).await;
    page.find(&id("sign-in")).await;
    page.end().await;
}

/// A POS device of the demo's sample cashier, signed in and synced once.
async fn cashier_device(base: &str, dir: &std::path::Path, user: &str) -> Client {
    let mut options = ClientOptions::new(dir.join("pos"), lapak_core::catalog::business());
    options.device_name = "POS browser-test".into();
    let client = Client::open(options).await.unwrap();
    client
        .login(base, user, common::DEMO_PASSWORD, None)
        .await
        .unwrap();
    client.sync_once().await.unwrap();
    client
}

#[tokio::test]
async fn the_back_office_edits_a_price_imports_revokes_resolves_and_reports() {
    let Some(browser) = browser().await else {
        return;
    };
    let (server, user, _) = demo_server().await;
    let page = &browser.page;
    let dir = tempfile::tempdir().unwrap();
    let pos = cashier_device(&server.base, dir.path(), &user).await;
    let price = pos
        .query("prices", lapak_core::Query::new())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the device holds prices");
    sign_in(page, &server.base).await;

    // A price edited in the admin web reaches the device at its next sync.
    page.click(&id("nav-data")).await;
    page.click(&id("collection-prices")).await;
    page.fill(&id("data-search"), &price.id).await;
    page.click(&id(&format!("row-{}", price.id))).await;
    page.fill(&id("field-price"), "123456").await;
    page.click(&id("row-save")).await;
    page.wait_text(&id(&format!("row-{}", price.id)), "the new price", |t| {
        t.contains("123.456")
    })
    .await;
    pos.sync_once().await.unwrap();
    let row = pos.get("prices", &price.id).await.unwrap().unwrap();
    assert_eq!(row.fields.get("price"), Some(&Value::Int(123_456)));

    // A CSV file with a bad row: the row is named with its line, and nothing is written.
    page.click(&id("collection-items")).await;
    page.fill(&id("data-search"), "").await;
    screenshot(page, "data").await;
    page.click(&id("data-import")).await;
    let csv = dir.path().join("items.csv");
    std::fs::write(
        &csv,
        "id,name,tax_rate_bp\nNEW-1,Teh baru,1100\nNEW-2,Kopi baru,11a\n",
    )
    .unwrap();
    page.type_text(&id("import-file"), csv.to_str().unwrap())
        .await;
    let error = page.read(&id("import-error")).await;
    assert!(
        error.starts_with('3') && error.contains("tax_rate_bp"),
        "{error}"
    );
    let start = page.find(&id("import-start")).await;
    assert_eq!(
        page.script("return arguments[0].disabled", json!([start.as_arg()]))
            .await,
        json!(true)
    );
    screenshot(page, "import").await;
    // The fixed file (another name: choosing the same file again is no change to a browser)
    // imports, with its progress shown to the end.
    let fixed = dir.path().join("items-fixed.csv");
    std::fs::write(
        &fixed,
        "id,name,tax_rate_bp\nNEW-1,Teh baru,1100\nNEW-2,Kopi baru,1100\n",
    )
    .unwrap();
    page.type_text(&id("import-file"), fixed.to_str().unwrap())
        .await;
    page.click(&id("import-start")).await;
    page.wait_text(&id("import-progress-text"), "the import's end", |t| {
        t.contains('2') && !t.contains('…')
    })
    .await;
    page.click(&id("import-close")).await;
    page.fill(&id("data-search"), "NEW-").await;
    page.wait_count("[data-testid^='row-NEW-']", 2).await;

    // Users.
    page.click(&id("nav-users")).await;
    page.find(&id("user-boss")).await;
    screenshot(page, "users").await;

    // The cashier's device is listed with its app and revoked: it can no longer sync.
    page.click(&id("nav-devices")).await;
    let device = pos.credentials().await.unwrap().device_id;
    let line = id(&format!("device-{device}"));
    let shown = page.read(&line).await;
    assert!(shown.contains("POS browser-test"), "{shown}");
    screenshot(page, "devices").await;
    page.click(&format!("{line} [data-testid='device-revoke']"))
        .await;
    page.click(&id("revoke-confirm")).await;
    // It leaves the list of active devices, and shows as revoked among all of them.
    page.wait_count(&line, 0).await;
    page.click(&id("devices-include-revoked")).await;
    page.wait_text(
        &format!("{line} [data-testid='device-status']"),
        "revoked",
        |t| t == "Dicabut",
    )
    .await;
    assert!(
        pos.sync_once().await.is_err(),
        "a revoked device cannot sync"
    );

    // Rejections: the sale in a branch the cashier may not write.
    page.click(&id("nav-rejections")).await;
    let rejection = page.read(&id("rejection")).await;
    assert!(rejection.contains("forbidden"), "{rejection}");
    screenshot(page, "rejections").await;

    // An exception resolved with a note leaves the open list.
    page.click(&id("nav-exceptions")).await;
    // The list arrives after the page: wait for its first entry before counting them all.
    page.find("[data-testid='exception-resolve']").await;
    let open = page
        .find_all("[data-testid='exception-resolve']")
        .await
        .len();
    assert!(open > 0, "the demo raises exceptions");
    screenshot(page, "exceptions").await;
    page.click(&id("exception-resolve")).await;
    page.fill(&id("resolve-note"), "counted the shelf; stock corrected")
        .await;
    page.click(&id("resolve-confirm")).await;
    page.wait_count("[data-testid='exception-resolve']", open - 1)
        .await;

    // Every report opens, with a chart or saying there is nothing in the period.
    page.click(&id("nav-reports")).await;
    for kind in [
        "top_items",
        "payments",
        "vouchers",
        "field_activity",
        "stock",
        "sales_by_day",
    ] {
        page.click(&id(&format!("report-{kind}"))).await;
        page.wait_text(
            &format!("{}, {}", id("report"), id("report-empty")),
            kind,
            |_| true,
        )
        .await;
    }
    page.find(&id("report-chart")).await;
    screenshot(page, "reports").await;
    page.end().await;
}
