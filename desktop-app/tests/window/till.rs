//! A cashier at one POS window: each method is what a person does on the screen (type into
//! the field a test id names, press Enter, click a button) and waits for what they would wait
//! to see. Scripts only read the page; every change goes through keys and clicks.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::rig::Window;
use crate::webdriver::{ARROW_DOWN, ENTER, Session};

/// One POS window and the name its screenshots take.
pub struct Till {
    pub window: Window,
    pub name: &'static str,
}

/// `[data-testid="…"]`.
pub fn id(test_id: &str) -> String {
    format!("[data-testid=\"{test_id}\"]")
}

/// The amount in `Rp 12.500` (or `-Rp 1.000`).
pub fn rupiah(text: &str) -> i64 {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("not an amount: {text:?}"));
    if text.contains('-') || text.contains('−') {
        -value
    } else {
        value
    }
}

/// A receipt as the sell screen shows it after payment.
#[derive(Debug, Clone)]
pub struct Paid {
    pub number: String,
    pub total: i64,
}

impl Till {
    pub fn page(&self) -> &Session {
        &self.window.page
    }

    /// Saves a PNG of the window as `pos-<name>.png` in `LAPAK_SCREENSHOTS` when it is set
    /// (docs/pos.md's pictures come from here).
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("LAPAK_SCREENSHOTS") else {
            return;
        };
        // Let the last click's repaint reach the screen.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.window
            .screenshot(&PathBuf::from(dir).join(format!("pos-{name}.png")));
    }

    /// First run: the server address and the cashier's login.
    pub async fn sign_in(&self, server: &str, user: &str, password: &str) {
        let p = self.page();
        p.find(&id("sign-in")).await;
        p.fill(&id("server"), server).await;
        p.fill(&id("username"), user).await;
        p.fill(&id("password"), password).await;
        p.click(&id("sign-in-submit")).await;
        p.find(&id("pick-terminal")).await;
    }

    /// First run: which terminal this is (the branch offered first is the staff row's).
    pub async fn pick_terminal(&self, terminal: &str) {
        let p = self.page();
        p.fill(&id("terminal"), terminal).await;
        p.click(&id("pick-terminal-submit")).await;
        p.find(&id("terminal-name")).await;
    }

    /// Opens the shift from the gate the sell screen shows without one.
    pub async fn open_shift(&self, opening_cash: i64) {
        let p = self.page();
        self.go("sell").await;
        p.fill(&id("shift-open-cash"), &opening_cash.to_string())
            .await;
        p.click(&id("shift-open")).await;
        p.find(&id("sell")).await;
    }

    /// Switches screen with the nav (F1 … F6 on a keyboard).
    pub async fn go(&self, screen: &str) {
        self.page().click(&id(&format!("nav-{screen}"))).await;
    }

    /// Scans `code` as a scanner does (digits then Enter) and waits until the box is ready
    /// for the next scan (it clears once the line is in the cart).
    pub async fn scan(&self, code: &str) {
        let p = self.page();
        p.type_text(&id("scan-input"), &format!("{code}{ENTER}"))
            .await;
        self.wait_value(&id("scan-input"), "").await;
    }

    /// Types a name into the scan box, waits for the hits, walks down to `sku`'s with the
    /// arrow key (the first hit is active for words) and adds it with Enter.
    pub async fn search_and_add(&self, name: &str, sku: &str) {
        let p = self.page();
        p.fill(&id("scan-input"), name).await;
        p.wait_text(&id("search-results"), sku, |t| t.contains(sku))
            .await;
        self.screenshot("search").await;
        let index = p
            .script(
                "return [...document.querySelectorAll('[data-testid=search-hit] .hit-code')]\
                   .findIndex(c => c.textContent.startsWith(arguments[0]))",
                json!([sku]),
            )
            .await
            .as_u64()
            .expect("the item is among the hits");
        let keys = ARROW_DOWN.repeat(usize::try_from(index).unwrap()) + ENTER;
        p.type_text(&id("scan-input"), &keys).await;
        self.wait_value(&id("scan-input"), "").await;
        assert!(
            self.cart().await.iter().any(|(s, _)| s == sku),
            "{}: {sku} is in the cart",
            self.name
        );
    }

    /// The cart's lines: (sku, quantity).
    pub async fn cart(&self) -> Vec<(String, i64)> {
        let rows = self
            .page()
            .script(
                "return [...document.querySelectorAll('[data-testid=cart-line]')].map(r => [\
                   r.querySelector('.line-meta').firstChild.textContent.trim(),\
                   r.querySelector('[data-testid=line-qty]').value])",
                json!([]),
            )
            .await;
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }

    /// Waits until the cart holds exactly `lines` (sku, quantity), in order.
    pub async fn wait_cart(&self, lines: &[(&str, i64)]) {
        let want: Vec<(String, i64)> = lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect();
        let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
        loop {
            let now = self.cart().await;
            if now == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: the cart shows {now:?}, expected {want:?}",
                self.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
    }

    /// The cart's total.
    pub async fn total(&self) -> i64 {
        rupiah(&self.page().read(&id("cart-total")).await)
    }

    /// Types a new quantity into line `index` and presses Enter.
    pub async fn set_qty(&self, index: usize, qty: i64) {
        let p = self.page();
        let field = p.find_all(&id("line-qty")).await.remove(index);
        p.script("arguments[0].select()", json!([element_arg(&field)]))
            .await;
        p.type_into(&field, &format!("{qty}{ENTER}")).await;
    }

    /// Holds the bill with a note.
    pub async fn hold(&self, note: &str) {
        let p = self.page();
        p.click(&id("hold")).await;
        p.fill(&id("hold-note"), note).await;
        p.click(&id("hold-confirm")).await;
        p.find(&id("flash")).await;
        p.find(&id("cart-empty")).await;
    }

    /// Resumes the held bill whose row shows `note`, from the held bills screen.
    pub async fn resume(&self, note: &str) {
        let p = self.page();
        self.go("held").await;
        let row = format!("{}:has(.cell-note)", id("held-bill"));
        p.wait_text(&row, note, |t| t.contains(note)).await;
        let index = self
            .page()
            .script(
                "return [...document.querySelectorAll('[data-testid=held-bill] .cell-note')]\
                   .findIndex(c => c.textContent === arguments[0])",
                json!([note]),
            )
            .await
            .as_i64()
            .unwrap();
        let buttons = p.find_all(&id("held-resume")).await;
        p.click_element(&buttons[usize::try_from(index).expect("the held bill is listed")])
            .await
            .unwrap();
        p.find(&id("held-banner")).await;
    }

    /// Picks the customer a search for `query` finds first.
    pub async fn pick_customer(&self, query: &str) {
        let p = self.page();
        p.fill(&id("customer-search"), query).await;
        p.click(&id("customer-hit")).await;
        p.find(&id("customer-change")).await;
    }

    /// Applies a voucher code and waits until the cart shows it.
    pub async fn voucher(&self, code: &str) {
        let p = self.page();
        p.fill(&id("voucher-code"), code).await;
        p.click(&id("voucher-apply")).await;
        p.find(&id("voucher-remove")).await;
    }

    /// Pays with `tenders` (method, amount; `None` for what is still due), confirms, reads
    /// the receipt and starts a new sale. `shot` names a screenshot of the checkout dialog.
    pub async fn pay(&self, tenders: &[(&str, Option<i64>)], shot: Option<&str>) -> Paid {
        let p = self.page();
        p.click(&id("pay")).await;
        p.find(&id("checkout")).await;
        for (method, amount) in tenders {
            p.click(&id(&format!("method-{method}"))).await;
            let before = p.find_all(&id("tender")).await.len();
            let field = p.find(&id("tender-amount")).await;
            if let Some(a) = amount {
                p.script("arguments[0].select()", json!([element_arg(&field)]))
                    .await;
                p.type_into(&field, &a.to_string()).await;
            }
            p.type_into(&field, ENTER).await;
            p.wait_count(&id("tender"), before + 1).await;
        }
        if let Some(name) = shot {
            self.screenshot(name).await;
        }
        p.click(&id("checkout-confirm")).await;
        let number = p.read(&id("receipt-number")).await;
        let total = rupiah(&p.read(&id("receipt-total")).await);
        Paid { number, total }
    }

    /// Leaves the receipt for an empty cart.
    pub async fn new_sale(&self) {
        self.page().click(&id("new-sale")).await;
        self.page().find(&id("cart-empty")).await;
    }

    /// Finds `invoice` in the history and opens its receipt.
    pub async fn open_in_history(&self, invoice: &str) {
        let p = self.page();
        self.go("history").await;
        p.fill(&id("history-search"), invoice).await;
        p.wait_count(&id("history-row"), 1).await;
        p.click(&id("history-row")).await;
        p.wait_text(&id("receipt-number"), invoice, |t| t == invoice)
            .await;
    }

    /// From the open receipt, takes `qty` of line `index` back; returns the refund.
    pub async fn return_from_receipt(&self, index: usize, qty: i64, reason: &str) -> i64 {
        let p = self.page();
        p.click(&id("receipt-return")).await;
        p.find(&id("return-form")).await;
        let field = p.find_all(&id("return-qty")).await.remove(index);
        p.type_into(&field, &qty.to_string()).await;
        p.fill(&id("return-reason"), reason).await;
        p.click(&id("return-submit")).await;
        p.find(&id("return-receipt")).await;
        rupiah(&p.read(&id("return-refund")).await)
    }

    /// Closes the shift counting exactly what the drawer should hold; returns that amount.
    pub async fn close_shift(&self) -> i64 {
        let p = self.page();
        self.go("shift").await;
        let expected = rupiah(&p.read(&id("shift-current-expected")).await);
        p.fill(&id("shift-close-cash"), &expected.to_string()).await;
        p.click(&id("shift-close")).await;
        p.find(&id("shift-last-closed")).await;
        let difference = rupiah(&p.read(&id("shift-difference")).await);
        assert_eq!(difference, 0, "{}: the drawer is off", self.name);
        expected
    }

    /// Presses the badge's sync button and waits until nothing is pending and the badge is
    /// connected.
    pub async fn sync(&self) {
        let p = self.page();
        p.click(&id("sync-now")).await;
        p.wait_text(&id("sync-pending"), "nothing pending", |t| t == "0")
            .await;
        self.wait_connection(&["online", "live"]).await;
    }

    /// Waits until the badge's connection is one of `states`.
    pub async fn wait_connection(&self, states: &[&str]) {
        let css = format!("{}[data-connection]", id("sync-badge"));
        let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
        loop {
            let now = self
                .page()
                .script(
                    "return document.querySelector(arguments[0])?.dataset.connection ?? ''",
                    json!([css]),
                )
                .await;
            if states.contains(&now.as_str().unwrap_or_default()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: the badge says {now}, expected one of {states:?}",
                self.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the first `css` input holds `value`.
    async fn wait_value(&self, css: &str, value: &str) {
        let deadline = std::time::Instant::now() + crate::webdriver::PATIENCE;
        loop {
            let now = self
                .page()
                .script(
                    "return document.querySelector(arguments[0])?.value ?? null",
                    json!([css]),
                )
                .await;
            if now == value {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: {css} holds {now}, expected {value:?}",
                self.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// An element as a script argument.
fn element_arg(e: &crate::webdriver::Element) -> Value {
    e.as_arg()
}
