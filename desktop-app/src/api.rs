//! The typed boundary between the POS page and Rust: one request type per Tauri command, one
//! response type, and [`CommandError`] with a machine-readable [`ErrorCode`] and a message for
//! people. The page never computes money: every figure here was computed by
//! `lapak_core::commerce`.
//!
//! TypeScript types are generated from these with ts-rs into `ui/pos/src/generated/` (a test,
//! `bindings_are_current`, fails when the committed files differ; `LAPAK_UPDATE_BINDINGS=1`
//! rewrites them). Money and quantities are integers (rupiah, units) below 2^53, so they travel
//! as JSON numbers; times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What went wrong, for the page to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The terminal has no cashier signed in.
    NotSignedIn,
    /// The cashier has not picked the terminal yet.
    NoTerminal,
    /// Selling and returns need an open shift.
    NoShift,
    /// A shift is already open on this terminal.
    ShiftOpen,
    /// The server refused the user name or password.
    BadCredentials,
    /// The server could not be reached (only signing in needs it).
    Unreachable,
    /// No item, customer, voucher, held bill or invoice by that code.
    NotFound,
    /// A request field is out of range or malformed (the message names it).
    Invalid,
    /// Checkout of an empty cart.
    EmptyCart,
    /// The payments do not settle the bill.
    Payment,
    /// The voucher cannot be redeemed (expired, another branch, unverified, already used).
    Voucher,
    /// A credit sale without a customer, or to one who is not known here.
    Credit,
    /// A return more than was sold, or refunding more than was paid.
    Return,
    /// The item may not go below zero stock at this branch.
    OutOfStock,
    /// The cart changed (another terminal edited the held bill) since the page showed it:
    /// show the cart again and repeat.
    StaleCart,
    /// Something on this machine failed (disk, store); the message says what to do.
    Internal,
}

/// The error every command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommandError {
    /// For the page to branch on.
    pub code: ErrorCode,
    /// For the cashier: what was wrong and what to do, in the terminal's language.
    pub message: String,
}

/// The interface language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    /// Bahasa Indonesia (the default).
    #[default]
    Id,
    /// English.
    En,
}

// ----- session ---------------------------------------------------------------------------

/// Where the app stands: what the first screen should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No cashier signed in: ask for the server, user name and password.
    SignIn,
    /// Signed in, no terminal picked yet.
    PickTerminal,
    /// Ready to sell (a shift may still need opening).
    Ready,
}

/// `app_state`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct AppStateRequest {}

/// The app's state.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct AppState {
    /// Which screen.
    pub phase: Phase,
    /// The server last used (prefilled on the sign-in screen).
    pub server: Option<String>,
    /// The signed-in cashier.
    pub user: Option<UserView>,
    /// The terminal this app is.
    pub terminal: Option<TerminalView>,
    /// Branches the cashier may sell at (write grants `branch:<code>`), the staff row's first.
    pub branches: Vec<BranchView>,
    /// The interface language.
    pub locale: Locale,
    /// The open shift, if any.
    pub shift: Option<ShiftView>,
}

/// A signed-in user.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct UserView {
    /// Login name (`c-jkt01-1`).
    pub username: String,
    /// Name from the `staff` row, else the login name.
    pub name: String,
    /// `cashier`, `supervisor`, ...
    pub role: String,
}

/// A branch.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct BranchView {
    /// `JKT-01`.
    pub code: String,
    /// `Jakarta Pusat`.
    pub name: String,
}

/// The terminal this app is: a branch and a terminal code.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct TerminalView {
    /// `JKT-01`.
    pub branch: String,
    /// Its name.
    pub branch_name: String,
    /// `POS-1`.
    pub terminal: String,
}

/// `sign_in`: the server's address and the cashier's credentials. Needs the network once;
/// after that the terminal works offline.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SignInRequest {
    /// `http://10.0.0.5:8080`.
    pub server: String,
    /// Login name.
    pub username: String,
    /// Password (never stored).
    pub password: String,
}

/// `pick_terminal`: which terminal of which branch this app is.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct PickTerminalRequest {
    /// One of [`AppState::branches`].
    pub branch: String,
    /// `POS-1` (letters, digits and `-`, at most 20).
    pub terminal: String,
}

/// `sign_out`: no fields. Refused while sales wait to be uploaded.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct SignOutRequest {}

/// `set_locale`.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SetLocaleRequest {
    /// The new language.
    pub locale: Locale,
}

// ----- catalogue ---------------------------------------------------------------------------

/// `search_items`: by name (words in any order), SKU or barcode.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SearchItemsRequest {
    /// What the cashier typed.
    pub query: String,
    /// At most this many hits (1 to 100; default 30).
    pub limit: Option<u32>,
}

/// One item found.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ItemHit {
    /// `SKU-000001`.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Barcode, if any.
    pub barcode: Option<String>,
    /// `pcs`, `box`, ...
    pub unit: Option<String>,
    /// The price in force now on the cart's list; `None` when the item has no price.
    #[ts(type = "number | null")]
    pub price: Option<i64>,
    /// Local stock estimate: the level the server delivered less this terminal's unsynced
    /// sales, plus unsynced returns; `None` when the server delivered no level.
    #[ts(type = "number | null")]
    pub stock: Option<i64>,
}

/// `search_customers`: by name or code, among the branch's customers.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SearchCustomersRequest {
    /// What the cashier typed.
    pub query: String,
    /// At most this many (default 20).
    pub limit: Option<u32>,
}

/// A customer, with what a credit sale needs to know.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct CustomerView {
    /// `OUT-000001`.
    pub code: String,
    /// Name.
    pub name: String,
    /// The customer's own price list, if any (`wholesale`).
    pub price_list: Option<String>,
    /// Credit limit, if the customer may buy on credit.
    #[ts(type = "number | null")]
    pub credit_limit: Option<i64>,
    /// What the customer owes as the server last said, plus this terminal's unsynced credit
    /// sales; `None` when the server delivered nothing yet.
    #[ts(type = "number | null")]
    pub due: Option<i64>,
}

// ----- the cart -----------------------------------------------------------------------------

/// `cart`: one thing the cashier did to the cart. Answered with the whole cart.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum CartIntent {
    /// Only read the cart.
    Show,
    /// A scanned or typed code: a barcode or a SKU, exactly. Adds one, or one more.
    Scan {
        /// Digits from the scanner, or a SKU.
        code: String,
    },
    /// Add `qty` of an item picked from the search.
    Add {
        /// The item.
        sku: String,
        /// How many (default 1).
        #[ts(type = "number | null")]
        qty: Option<i64>,
    },
    /// Set a line's quantity (0 removes the line).
    SetQty {
        /// The line's index, from 0.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
        /// New quantity.
        #[ts(type = "number")]
        qty: i64,
    },
    /// Remove a line.
    RemoveLine {
        /// The line's index.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
    },
    /// A discount on one line, in rupiah (0 clears it).
    LineDiscount {
        /// The line's index.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
        /// Rupiah off the line.
        #[ts(type = "number")]
        amount: i64,
    },
    /// A discount on the whole bill, in rupiah (0 clears it).
    BillDiscount {
        /// Rupiah off the bill.
        #[ts(type = "number")]
        amount: i64,
    },
    /// Select a customer (their price list applies) or clear it.
    Customer {
        /// A customer code, or `None` for a walk-in sale.
        code: Option<String>,
    },
    /// Apply a voucher (checked against the local vouchers) or remove it.
    Voucher {
        /// The voucher code, or `None` to remove.
        code: Option<String>,
    },
    /// Empty the cart (a held bill it came from stays held).
    Clear,
}

/// The cart as the page shows it: every figure computed in Rust.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct CartView {
    /// Its lines, in order.
    pub lines: Vec<CartLineView>,
    /// The price list in force (`retail`, `wholesale`).
    pub price_list: String,
    /// The customer, if one is selected.
    pub customer: Option<CustomerView>,
    /// The voucher applied, if any.
    pub voucher: Option<VoucherView>,
    /// Sum of quantity × price.
    #[ts(type = "number")]
    pub subtotal: i64,
    /// Discounts on lines.
    #[ts(type = "number")]
    pub line_discounts: i64,
    /// The bill discount typed by the cashier.
    #[ts(type = "number")]
    pub bill_discount: i64,
    /// The voucher's discount taken.
    #[ts(type = "number")]
    pub voucher_discount: i64,
    /// Tax.
    #[ts(type = "number")]
    pub tax: i64,
    /// What the customer pays.
    #[ts(type = "number")]
    pub total: i64,
    /// The held bill this cart is, when it was resumed (edits merge with other terminals').
    pub held_bill: Option<String>,
    /// Things to tell the cashier (an item without a price, low stock, credit limit).
    pub notices: Vec<String>,
}

/// One cart line.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct CartLineView {
    /// The item.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Quantity.
    #[ts(type = "number")]
    pub qty: i64,
    /// Unit price from the list in force.
    #[ts(type = "number")]
    pub price: i64,
    /// Discount typed on this line.
    #[ts(type = "number")]
    pub discount: i64,
    /// Tax on the line (after discounts, including its share of bill discounts).
    #[ts(type = "number")]
    pub tax: i64,
    /// Quantity × price − discount.
    #[ts(type = "number")]
    pub amount: i64,
    /// Local stock estimate.
    #[ts(type = "number | null")]
    pub stock: Option<i64>,
    /// The item has no price in force on the list (sold at 0 until the office sets one).
    pub unpriced: bool,
}

/// A voucher on the cart.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct VoucherView {
    /// Its code.
    pub code: String,
    /// Its campaign.
    pub campaign: String,
    /// Rupiah off.
    #[ts(type = "number")]
    pub discount: i64,
}

// ----- held bills ---------------------------------------------------------------------------

/// `hold`: put the cart on hold (a `held_bills` document every terminal of the branch sees).
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct HoldRequest {
    /// A note for whoever resumes it (`table 4`, `coming back for rice`).
    pub note: Option<String>,
}

/// `held_bills`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct HeldBillsRequest {}

/// A held bill.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct HeldBillView {
    /// Its id.
    pub id: String,
    /// The terminal that held it.
    pub terminal: String,
    /// Who held it.
    pub cashier: String,
    /// The customer, if any.
    pub customer: Option<String>,
    /// Its note.
    pub note: String,
    /// Number of lines.
    pub lines: u32,
    /// Its total at today's prices.
    #[ts(type = "number")]
    pub total: i64,
}

/// `resume`: make a held bill the cart. It stays held until checkout removes it, so another
/// terminal can work on it at the same time; the lines merge.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ResumeRequest {
    /// The held bill's id.
    pub id: String,
}

// ----- checkout -----------------------------------------------------------------------------

/// How a customer pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Cash (may be more than due: the change is given back).
    Cash,
    /// Debit or credit card.
    Card,
    /// QRIS.
    Qris,
    /// Bank transfer.
    Transfer,
    /// E-wallet.
    Ewallet,
    /// On the selected customer's account.
    Credit,
}

/// One tender.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct Tender {
    /// How.
    pub method: PaymentMethod,
    /// How much was handed over (cash) or charged.
    #[ts(type = "number")]
    pub amount: i64,
}

/// `checkout`: pay the cart. The invoice, its voucher redemption and the removal of the held
/// bill it came from commit in one local transaction.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct CheckoutRequest {
    /// The tenders, in the order taken.
    pub tenders: Vec<Tender>,
}

/// Where an entry stands with the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServerVerdict {
    /// Not uploaded yet (or not judged).
    Pending,
    /// Stored by the server.
    Accepted,
    /// Refused: the code and the server's message.
    Rejected {
        /// Machine-readable.
        code: String,
        /// The server's message.
        message: String,
    },
}

/// A receipt: what was sold, printed and reprinted.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct Receipt {
    /// The invoice's id.
    pub id: String,
    /// `JKT-01/POS-1/261201/0007`.
    pub number: String,
    /// Branch code.
    pub branch: String,
    /// Branch name.
    pub branch_name: String,
    /// Terminal.
    pub terminal: String,
    /// Cashier.
    pub cashier: String,
    /// Customer code.
    pub customer: Option<String>,
    /// When.
    #[ts(type = "number")]
    pub sold_at: i64,
    /// The lines as recorded.
    pub lines: Vec<ReceiptLine>,
    /// Sum of quantity × price.
    #[ts(type = "number")]
    pub subtotal: i64,
    /// All discounts.
    #[ts(type = "number")]
    pub discount: i64,
    /// Tax.
    #[ts(type = "number")]
    pub tax: i64,
    /// Total.
    #[ts(type = "number")]
    pub total: i64,
    /// The payments recorded (cash net of change).
    pub payments: Vec<Tender>,
    /// Cash handed over.
    #[ts(type = "number")]
    pub cash_tendered: i64,
    /// Change given.
    #[ts(type = "number")]
    pub change: i64,
    /// The voucher redeemed, if any, and its verdict.
    pub voucher: Option<VoucherOutcome>,
    /// The invoice's verdict.
    pub verdict: ServerVerdict,
    /// Refunds taken against it so far.
    #[ts(type = "number")]
    pub refunded: i64,
}

/// A voucher redeemed with a sale.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct VoucherOutcome {
    /// Code.
    pub code: String,
    /// Rupiah off.
    #[ts(type = "number")]
    pub discount: i64,
    /// The server's verdict on the redemption.
    pub verdict: ServerVerdict,
}

/// One receipt line.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ReceiptLine {
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity.
    #[ts(type = "number")]
    pub qty: i64,
    /// Unit price.
    #[ts(type = "number")]
    pub price: i64,
    /// All discounts on it.
    #[ts(type = "number")]
    pub discount: i64,
    /// Tax.
    #[ts(type = "number")]
    pub tax: i64,
    /// Quantity × price − discount + tax.
    #[ts(type = "number")]
    pub total: i64,
}

/// `history`: this branch's invoices, newest first, optionally by number or customer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct HistoryRequest {
    /// Part of a number or a customer code.
    pub query: Option<String>,
    /// At most (default 50).
    pub limit: Option<u32>,
}

/// One invoice in the history.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct InvoiceSummary {
    /// Id.
    pub id: String,
    /// Number.
    pub number: String,
    /// Terminal.
    pub terminal: String,
    /// When.
    #[ts(type = "number")]
    pub sold_at: i64,
    /// Total.
    #[ts(type = "number")]
    pub total: i64,
    /// Customer.
    pub customer: Option<String>,
    /// Verdict.
    pub verdict: ServerVerdict,
}

/// `receipt`: one invoice's receipt, by id or number (for reprints and returns).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ReceiptRequest {
    /// Id or number.
    pub invoice: String,
}

// ----- returns ------------------------------------------------------------------------------

/// `return_items`: take back part or all of an invoice and refund it in cash.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ReturnRequest {
    /// The invoice's id or number.
    pub invoice: String,
    /// What comes back.
    pub lines: Vec<ReturnLineRequest>,
    /// Why.
    pub reason: Option<String>,
}

/// A quantity of one item coming back.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ReturnLineRequest {
    /// The item.
    pub sku: String,
    /// How many.
    #[ts(type = "number")]
    pub qty: i64,
}

/// A return recorded.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ReturnReceipt {
    /// The return's id.
    pub id: String,
    /// The invoice.
    pub invoice_number: String,
    /// Cash paid back.
    #[ts(type = "number")]
    pub refund: i64,
    /// Lines returned with their refund.
    pub lines: Vec<ReceiptLine>,
}

// ----- shift --------------------------------------------------------------------------------

/// `shift`: open or close this terminal's shift.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum ShiftIntent {
    /// Only read.
    Show,
    /// Open with the cash in the drawer.
    Open {
        /// Opening cash.
        #[ts(type = "number")]
        opening_cash: i64,
    },
    /// Close with the cash counted.
    Close {
        /// Counted cash.
        #[ts(type = "number")]
        counted_cash: i64,
    },
}

/// `shift`'s answer: the open shift, and the last one closed on this terminal.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct ShiftState {
    /// The open shift.
    pub current: Option<ShiftView>,
    /// The last closed shift (its counted cash and difference).
    pub last_closed: Option<ShiftView>,
}

/// A shift and its drawer.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ShiftView {
    /// The `shifts` entry that opened it.
    pub id: String,
    /// When it opened.
    #[ts(type = "number")]
    pub opened_at: i64,
    /// Opening cash.
    #[ts(type = "number")]
    pub opening_cash: i64,
    /// Cash taken by sales.
    #[ts(type = "number")]
    pub cash_sales: i64,
    /// Cash paid back for returns.
    #[ts(type = "number")]
    pub refunds: i64,
    /// Opening + cash sales − refunds.
    #[ts(type = "number")]
    pub expected_cash: i64,
    /// Sales in the shift.
    pub sales: u32,
    /// When closed: counted cash.
    #[ts(type = "number | null")]
    pub counted_cash: Option<i64>,
    /// When closed: counted − expected.
    #[ts(type = "number | null")]
    pub difference: Option<i64>,
    /// When closed: when.
    #[ts(type = "number | null")]
    pub closed_at: Option<i64>,
}

// ----- sync ---------------------------------------------------------------------------------

/// The sync badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// The server cannot be reached: everything keeps working and waits.
    Offline,
    /// Reached, syncing by polling.
    Online,
    /// Reached, with the live socket: others' changes arrive within a second.
    Live,
}

/// `sync_status` (also sent as the `lapak://status` event whenever it changes).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SyncBadge {
    /// Offline, online or live.
    pub connection: Connection,
    /// Local writes not yet stored by the server.
    #[ts(type = "number")]
    pub pending: u64,
    /// When the last sync finished, if ever.
    #[ts(type = "number | null")]
    pub last_sync: Option<i64>,
    /// How many entries the server refused.
    pub rejected: u32,
    /// The last failure, for the curious.
    pub error: Option<String>,
}

/// `sync_status`, `sync_now` and `rejections`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct Empty {}

/// Something the server refused.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct RejectionView {
    /// What kind of record (`sales_invoices`).
    pub collection: String,
    /// Which (an invoice number where known, else its id).
    pub record: String,
    /// Machine-readable.
    pub code: String,
    /// The server's message (what was wrong).
    pub message: String,
    /// What the cashier should do, in the terminal's language.
    pub what_to_do: String,
    /// When the refusal arrived.
    #[ts(type = "number")]
    pub rejected_at: i64,
}
