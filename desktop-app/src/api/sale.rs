//! Checkout, receipts, history and returns.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

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
    /// The cashier (the name on their staff row).
    pub cashier: String,
    /// Customer code.
    pub customer: Option<String>,
    /// The customer's name, when the terminal knows the customer.
    pub customer_name: Option<String>,
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
    /// How many came back by earlier returns against the invoice (spread over its lines of the
    /// same item in order); 0 on a return's own receipt.
    #[ts(type = "number")]
    pub returned: i64,
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
