//! The few W3C WebDriver commands Lapak's end-to-end tests use (new session, go to a page, find,
//! click, type, read, run a script, take a screenshot), over the workspace's `reqwest`: the POS
//! window tests drive tauri-driver, the admin web's tests chromedriver. A full client such as
//! fantoccini would bring a second HTTP, cookie and ICU stack for the same dozen requests.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key WebDriver sends for Enter (the Unicode private-use code point of the spec).
pub const ENTER: &str = "\u{E007}";
/// Control+A, then the modifier released: selects a field's text.
pub const SELECT_ALL: &str = "\u{E009}a\u{E000}";
/// The Backspace key.
pub const BACKSPACE: &str = "\u{E003}";
/// The key WebDriver sends for the down arrow.
pub const ARROW_DOWN: &str = "\u{E015}";
/// The element reference key of the W3C protocol.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_*` helpers wait before failing the test.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One WebDriver session: one application window.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element of the page, found by a CSS selector.
#[derive(Clone, Debug)]
pub struct Element {
    id: String,
    what: String,
}

impl Element {
    /// The element as a script argument (`arguments[i]` in the page).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// A command the remote end refused, with the spec's error code (`no such element`, ...).
#[derive(Debug)]
pub struct Refused {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl Session {
    /// Starts a session on the driver at `driver` (`http://127.0.0.1:4444`) with `capabilities`
    /// as `alwaysMatch`.
    pub async fn start(driver: &str, capabilities: Value) -> Session {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let url = format!("{driver}/session");
        let deadline = Instant::now() + PATIENCE;
        // A driver that has just started may drop a connection before it can serve it.
        let answer = loop {
            match send(&http, reqwest::Method::POST, &url, Some(body.clone())).await {
                Err(r) if r.error == "unreachable" && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                answer => break answer,
            }
        }
        .unwrap_or_else(|r| panic!("the driver refused the session: {r}"));
        let id = answer["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Session {
            http,
            base: format!("{driver}/session/{id}"),
        }
    }

    /// Ends the session (the driver closes the application).
    pub async fn end(&self) {
        let _ = send(&self.http, reqwest::Method::DELETE, &self.base, None).await;
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, Refused> {
        let url = format!("{}{path}", self.base);
        send(&self.http, reqwest::Method::POST, &url, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, Refused> {
        let url = format!("{}{path}", self.base);
        send(&self.http, reqwest::Method::GET, &url, None).await
    }

    /// Moves and sizes the window.
    pub async fn set_window_rect(&self, x: u32, y: u32, width: u32, height: u32) {
        self.post(
            "/window/rect",
            json!({ "x": x, "y": y, "width": width, "height": height }),
        )
        .await
        .unwrap_or_else(|r| panic!("placing the window: {r}"));
    }

    /// Every element matching `css`, now. A match re-rendered away while WebKitWebDriver made
    /// its handle (`stale element reference`) means the page is changing: ask again.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let deadline = Instant::now() + PATIENCE;
        let found = loop {
            let query = json!({ "using": "css selector", "value": css });
            match self.post("/elements", query).await {
                Ok(found) => break found,
                Err(r) if r.error == "stale element reference" && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(r) => panic!("finding {css}: {r}"),
            }
        };
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Element {
                id: e[ELEMENT_KEY].as_str().unwrap().to_owned(),
                what: css.to_owned(),
            })
            .collect()
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            assert!(Instant::now() < deadline, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Waits until the text of the first `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                match self.try_text(&e).await {
                    Ok(t) if ok(&t) => return t,
                    Ok(t) => last = t,
                    Err(_) => {} // re-rendered between find and read
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        panic!("{css} never showed {what}; last text: {last:?}");
    }

    /// Waits until `count` elements match `css`.
    pub async fn wait_count(&self, css: &str, count: usize) -> Vec<Element> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self.find_all(css).await;
            if found.len() == count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: {} elements, expected {count}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Clicks the first `css`, waiting for it.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let e = self.find(css).await;
            match self.click_element(&e).await {
                Ok(()) => return,
                // Re-rendered, or not clickable yet (disabled, covered): try again.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
                Err(r) => panic!("clicking {css}: {r}"),
            }
        }
    }

    /// Clicks `element`.
    pub async fn click_element(&self, element: &Element) -> Result<(), Refused> {
        self.post(&format!("/element/{}/click", element.id), json!({}))
            .await
            .map(drop)
    }

    /// Empties the first `css` and types `text` into it, as a keyboard would (again, should
    /// the field be re-rendered before the keys reach it). The field is emptied by the keyboard
    /// too (select all, delete) after the driver's clear: a page that keeps the field's value
    /// in its own state (React) puts the old value back after a clear it did not see as input.
    pub async fn fill(&self, css: &str, text: &str) {
        for _ in 0..5 {
            let value = self
                .retry_stale(css, "filling", |e| async move {
                    self.post(&format!("/element/{}/clear", e.id), json!({}))
                        .await?;
                    self.try_type(&e, &format!("{SELECT_ALL}{BACKSPACE}"))
                        .await?;
                    self.try_type(&e, text).await?;
                    let script =
                        json!({ "script": "return arguments[0].value", "args": [e.as_arg()] });
                    self.post("/execute/sync", script).await
                })
                .await;
            // What was there before still in front of what was typed: the page put its own
            // value back between the keys. Anything else (a value the page formats) is its own.
            let kept_old = value
                .as_str()
                .is_some_and(|v| v.len() > text.len() && v.ends_with(text));
            if !kept_old {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} would not hold {text:?}");
    }

    /// Types `text` into `element` (keys such as [`ENTER`] included).
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.try_type(element, text)
            .await
            .unwrap_or_else(|r| panic!("typing into {}: {r}", element.what));
    }

    async fn try_type(&self, element: &Element, text: &str) -> Result<(), Refused> {
        self.post(
            &format!("/element/{}/value", element.id),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// Types `text` into the first `css`, waiting for it.
    pub async fn type_text(&self, css: &str, text: &str) {
        self.retry_stale(css, "typing into", |e| async move {
            self.try_type(&e, text).await
        })
        .await;
    }

    /// The visible text of the first `css`, waiting for it.
    pub async fn read(&self, css: &str) -> String {
        self.retry_stale(css, "reading", |e| async move { self.try_text(&e).await })
            .await
    }

    /// Runs `act` on the first `css`, finding it again while the page re-renders it away
    /// (`stale element reference`).
    async fn retry_stale<T, F, Fut>(&self, css: &str, what: &str, act: F) -> T
    where
        F: Fn(Element) -> Fut,
        Fut: Future<Output = Result<T, Refused>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let e = self.find(css).await;
            match act(e).await {
                Ok(v) => return v,
                Err(r) if r.error == "stale element reference" && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(r) => panic!("{what} {css}: {r}"),
            }
        }
    }

    async fn try_text(&self, element: &Element) -> Result<String, Refused> {
        let v = self.get(&format!("/element/{}/text", element.id)).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Opens `url` in the session's window and waits for it to load.
    pub async fn go(&self, url: &str) {
        self.post("/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|r| panic!("opening {url}: {r}"));
    }

    /// The address of the page shown.
    pub async fn url(&self) -> String {
        let v = self
            .get("/url")
            .await
            .unwrap_or_else(|r| panic!("reading the address: {r}"));
        v.as_str().unwrap_or_default().to_owned()
    }

    /// A PNG of the window as it is now.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let v = self
            .get("/screenshot")
            .await
            .unwrap_or_else(|r| panic!("taking a screenshot: {r}"));
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("the driver sends the screenshot as base64")
    }

    /// Runs `script` in the page (a function body; `arguments` holds `args`) and returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
            .unwrap_or_else(|r| panic!("running a script: {r}"))
    }
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, Refused> {
    let mut request = http.request(method, url);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.map_err(|e| Refused {
        error: "unreachable".into(),
        message: e.to_string(),
    })?;
    let ok = response.status().is_success();
    let mut answer: Value = response.json().await.map_err(|e| Refused {
        error: "unreadable".into(),
        message: e.to_string(),
    })?;
    let value = answer["value"].take();
    if ok {
        Ok(value)
    } else {
        Err(Refused {
            error: value["error"].as_str().unwrap_or("unknown").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        })
    }
}
