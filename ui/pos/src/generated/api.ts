// Generated from desktop-app/src/api/ by ts-rs: do not edit.
// Regenerate: LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-desktop bindings

/**
 * What went wrong, for the page to branch on.
 */
export type ErrorCode = "not_signed_in" | "no_terminal" | "no_shift" | "shift_open" | "bad_credentials" | "unreachable" | "not_found" | "invalid" | "empty_cart" | "payment" | "voucher" | "credit" | "return" | "out_of_stock" | "stale_cart" | "held_bill_gone" | "internal";

/**
 * The error every command returns.
 */
export type CommandError = { 
/**
 * For the page to branch on.
 */
code: ErrorCode, 
/**
 * For the cashier: what was wrong and what to do, in the terminal's language.
 */
message: string, };

/**
 * The interface language.
 */
export type Locale = "id" | "en";

/**
 * Where the app stands: what the first screen should be.
 */
export type Phase = "sign_in" | "pick_terminal" | "ready";

/**
 * `app_state`: no fields.
 */
export type AppStateRequest = Record<symbol, never>;

/**
 * The app's state.
 */
export type AppState = { 
/**
 * Which screen.
 */
phase: Phase, 
/**
 * The server last used (prefilled on the sign-in screen).
 */
server: string | null, 
/**
 * The signed-in cashier.
 */
user: UserView | null, 
/**
 * The terminal this app is.
 */
terminal: TerminalView | null, 
/**
 * Branches the cashier may sell at (write grants `branch:<code>`), the staff row's first.
 */
branches: Array<BranchView>, 
/**
 * The interface language.
 */
locale: Locale, 
/**
 * The open shift, if any.
 */
shift: ShiftView | null, };

/**
 * A signed-in user.
 */
export type UserView = { 
/**
 * Login name (`c-jkt01-1`).
 */
username: string, 
/**
 * Name from the `staff` row, else the login name.
 */
name: string, 
/**
 * `cashier`, `supervisor`, ...
 */
role: string, };

/**
 * A branch.
 */
export type BranchView = { 
/**
 * `JKT-01`.
 */
code: string, 
/**
 * `Jakarta Pusat`.
 */
name: string, };

/**
 * The terminal this app is: a branch and a terminal code.
 */
export type TerminalView = { 
/**
 * `JKT-01`.
 */
branch: string, 
/**
 * Its name.
 */
branch_name: string, 
/**
 * `POS-1`.
 */
terminal: string, };

/**
 * `sign_in`: the server's address and the cashier's credentials. Needs the network once;
 * after that the terminal works offline.
 */
export type SignInRequest = { 
/**
 * `http://10.0.0.5:8080`.
 */
server: string, 
/**
 * Login name.
 */
username: string, 
/**
 * Password (never stored).
 */
password: string, };

/**
 * `pick_terminal`: which terminal of which branch this app is.
 */
export type PickTerminalRequest = { 
/**
 * One of [`AppState::branches`].
 */
branch: string, 
/**
 * `POS-1` (letters, digits and `-`, at most 20).
 */
terminal: string, };

/**
 * `sign_out`: no fields. Refused while sales wait to be uploaded.
 */
export type SignOutRequest = Record<symbol, never>;

/**
 * `set_locale`.
 */
export type SetLocaleRequest = { 
/**
 * The new language.
 */
locale: Locale, };

/**
 * `search_items`: by name (words in any order), SKU or barcode.
 */
export type SearchItemsRequest = { 
/**
 * What the cashier typed.
 */
query: string, 
/**
 * At most this many hits (1 to 100; default 30).
 */
limit: number | null, };

/**
 * One item found.
 */
export type ItemHit = { 
/**
 * `SKU-000001`.
 */
sku: string, 
/**
 * Name.
 */
name: string, 
/**
 * Barcode, if any.
 */
barcode: string | null, 
/**
 * `pcs`, `box`, ...
 */
unit: string | null, 
/**
 * The price in force now on the cart's list; `None` when the item has no price.
 */
price: number | null, 
/**
 * Local stock estimate: the level the server delivered less this terminal's unsynced
 * sales, plus unsynced returns; `None` when the server delivered no level.
 */
stock: number | null, };

/**
 * `search_customers`: by name or code, among the branch's customers.
 */
export type SearchCustomersRequest = { 
/**
 * What the cashier typed.
 */
query: string, 
/**
 * At most this many (default 20).
 */
limit: number | null, };

/**
 * A customer, with what a credit sale needs to know.
 */
export type CustomerView = { 
/**
 * `OUT-000001`.
 */
code: string, 
/**
 * Name.
 */
name: string, 
/**
 * The customer's own price list, if any (`wholesale`).
 */
price_list: string | null, 
/**
 * Credit limit, if the customer may buy on credit.
 */
credit_limit: number | null, 
/**
 * What the customer owes as the server last said, plus this terminal's unsynced credit
 * sales; `None` when the server delivered nothing yet.
 */
due: number | null, };

/**
 * `cart`: one thing the cashier did to the cart. Answered with the whole cart.
 */
export type CartIntent = { "intent": "show" } | { "intent": "scan", 
/**
 * Digits from the scanner, or a SKU.
 */
code: string, } | { "intent": "add", 
/**
 * The item.
 */
sku: string, 
/**
 * How many (default 1).
 */
qty: number | null, } | { "intent": "set_qty", 
/**
 * The line's index, from 0.
 */
line: number, 
/**
 * The line's item, as the page showed it: when another terminal's edit moved the
 * lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
 * line.
 */
sku: string, 
/**
 * New quantity.
 */
qty: number, } | { "intent": "remove_line", 
/**
 * The line's index.
 */
line: number, 
/**
 * The line's item, as the page showed it: when another terminal's edit moved the
 * lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
 * line.
 */
sku: string, } | { "intent": "line_discount", 
/**
 * The line's index.
 */
line: number, 
/**
 * The line's item, as the page showed it: when another terminal's edit moved the
 * lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
 * line.
 */
sku: string, 
/**
 * Rupiah off the line.
 */
amount: number, } | { "intent": "bill_discount", 
/**
 * Rupiah off the bill.
 */
amount: number, } | { "intent": "customer", 
/**
 * A customer code, or `None` for a walk-in sale.
 */
code: string | null, } | { "intent": "voucher", 
/**
 * The voucher code, or `None` to remove.
 */
code: string | null, } | { "intent": "clear" };

/**
 * The cart as the page shows it: every figure computed in Rust.
 */
export type CartView = { 
/**
 * Its lines, in order.
 */
lines: Array<CartLineView>, 
/**
 * The price list in force (`retail`, `wholesale`).
 */
price_list: string, 
/**
 * The customer, if one is selected.
 */
customer: CustomerView | null, 
/**
 * The voucher applied, if any.
 */
voucher: VoucherView | null, 
/**
 * Sum of quantity × price.
 */
subtotal: number, 
/**
 * Discounts on lines.
 */
line_discounts: number, 
/**
 * The bill discount typed by the cashier.
 */
bill_discount: number, 
/**
 * The voucher's discount taken.
 */
voucher_discount: number, 
/**
 * Tax.
 */
tax: number, 
/**
 * What the customer pays.
 */
total: number, 
/**
 * The held bill this cart is, when it was resumed (edits merge with other terminals').
 */
held_bill: string | null, 
/**
 * Things to tell the cashier (an item without a price, low stock, credit limit).
 */
notices: Array<string>, };

/**
 * One cart line.
 */
export type CartLineView = { 
/**
 * The item.
 */
sku: string, 
/**
 * Its name.
 */
name: string, 
/**
 * Quantity.
 */
qty: number, 
/**
 * Unit price from the list in force.
 */
price: number, 
/**
 * Discount typed on this line.
 */
discount: number, 
/**
 * Tax on the line (after discounts, including its share of bill discounts).
 */
tax: number, 
/**
 * Quantity × price − discount.
 */
amount: number, 
/**
 * Local stock estimate.
 */
stock: number | null, 
/**
 * The item has no price in force on the list (sold at 0 until the office sets one).
 */
unpriced: boolean, };

/**
 * A voucher on the cart.
 */
export type VoucherView = { 
/**
 * Its code.
 */
code: string, 
/**
 * Its campaign.
 */
campaign: string, 
/**
 * Rupiah off.
 */
discount: number, };

/**
 * `hold`: put the cart on hold (a `held_bills` document every terminal of the branch sees).
 */
export type HoldRequest = { 
/**
 * A note for whoever resumes it (`table 4`, `coming back for rice`).
 */
note: string | null, };

/**
 * `held_bills`: no fields.
 */
export type HeldBillsRequest = Record<symbol, never>;

/**
 * A held bill.
 */
export type HeldBillView = { 
/**
 * Its id.
 */
id: string, 
/**
 * The terminal that held it.
 */
terminal: string, 
/**
 * Who held it (the name on their staff row).
 */
cashier: string, 
/**
 * The customer, if any.
 */
customer: string | null, 
/**
 * Its note.
 */
note: string, 
/**
 * Number of lines.
 */
lines: number, 
/**
 * Its total at today's prices.
 */
total: number, };

/**
 * `resume`: make a held bill the cart. It stays held until checkout removes it, so another
 * terminal can work on it at the same time; the lines merge.
 */
export type ResumeRequest = { 
/**
 * The held bill's id.
 */
id: string, };

/**
 * How a customer pays.
 */
export type PaymentMethod = "cash" | "card" | "qris" | "transfer" | "ewallet" | "credit";

/**
 * One tender.
 */
export type Tender = { 
/**
 * How.
 */
method: PaymentMethod, 
/**
 * How much was handed over (cash) or charged.
 */
amount: number, };

/**
 * `checkout`: pay the cart. The invoice, its voucher redemption and the removal of the held
 * bill it came from commit in one local transaction.
 */
export type CheckoutRequest = { 
/**
 * The tenders, in the order taken.
 */
tenders: Array<Tender>, };

/**
 * Where an entry stands with the server.
 */
export type ServerVerdict = { "state": "pending" } | { "state": "accepted" } | { "state": "rejected", 
/**
 * Machine-readable.
 */
code: string, 
/**
 * The server's message.
 */
message: string, };

/**
 * A receipt: what was sold, printed and reprinted.
 */
export type Receipt = { 
/**
 * The invoice's id.
 */
id: string, 
/**
 * `JKT-01/POS-1/261201/0007`.
 */
number: string, 
/**
 * Branch code.
 */
branch: string, 
/**
 * Branch name.
 */
branch_name: string, 
/**
 * Terminal.
 */
terminal: string, 
/**
 * The cashier (the name on their staff row).
 */
cashier: string, 
/**
 * Customer code.
 */
customer: string | null, 
/**
 * The customer's name, when the terminal knows the customer.
 */
customer_name: string | null, 
/**
 * When.
 */
sold_at: number, 
/**
 * The lines as recorded.
 */
lines: Array<ReceiptLine>, 
/**
 * Sum of quantity × price.
 */
subtotal: number, 
/**
 * All discounts.
 */
discount: number, 
/**
 * Tax.
 */
tax: number, 
/**
 * Total.
 */
total: number, 
/**
 * The payments recorded (cash net of change).
 */
payments: Array<Tender>, 
/**
 * Cash handed over.
 */
cash_tendered: number, 
/**
 * Change given.
 */
change: number, 
/**
 * The voucher redeemed, if any, and its verdict.
 */
voucher: VoucherOutcome | null, 
/**
 * The invoice's verdict.
 */
verdict: ServerVerdict, 
/**
 * Refunds taken against it so far.
 */
refunded: number, };

/**
 * A voucher redeemed with a sale.
 */
export type VoucherOutcome = { 
/**
 * Code.
 */
code: string, 
/**
 * Rupiah off.
 */
discount: number, 
/**
 * The server's verdict on the redemption.
 */
verdict: ServerVerdict, };

/**
 * One receipt line.
 */
export type ReceiptLine = { 
/**
 * SKU.
 */
sku: string, 
/**
 * Name.
 */
name: string, 
/**
 * Quantity.
 */
qty: number, 
/**
 * Unit price.
 */
price: number, 
/**
 * All discounts on it.
 */
discount: number, 
/**
 * Tax.
 */
tax: number, 
/**
 * Quantity × price − discount + tax.
 */
total: number, 
/**
 * How many came back by earlier returns against the invoice (spread over its lines of the
 * same item in order); 0 on a return's own receipt.
 */
returned: number, };

/**
 * `history`: this branch's invoices, newest first, optionally by number or customer.
 */
export type HistoryRequest = { 
/**
 * Part of a number or a customer code.
 */
query: string | null, 
/**
 * At most (default 50).
 */
limit: number | null, };

/**
 * One invoice in the history.
 */
export type InvoiceSummary = { 
/**
 * Id.
 */
id: string, 
/**
 * Number.
 */
number: string, 
/**
 * Terminal.
 */
terminal: string, 
/**
 * When.
 */
sold_at: number, 
/**
 * Total.
 */
total: number, 
/**
 * Customer.
 */
customer: string | null, 
/**
 * Verdict.
 */
verdict: ServerVerdict, };

/**
 * `receipt`: one invoice's receipt, by id or number (for reprints and returns).
 */
export type ReceiptRequest = { 
/**
 * Id or number.
 */
invoice: string, };

/**
 * `return_items`: take back part or all of an invoice and refund it in cash.
 */
export type ReturnRequest = { 
/**
 * The invoice's id or number.
 */
invoice: string, 
/**
 * What comes back.
 */
lines: Array<ReturnLineRequest>, 
/**
 * Why.
 */
reason: string | null, };

/**
 * A quantity of one item coming back.
 */
export type ReturnLineRequest = { 
/**
 * The item.
 */
sku: string, 
/**
 * How many.
 */
qty: number, };

/**
 * A return recorded.
 */
export type ReturnReceipt = { 
/**
 * The return's id.
 */
id: string, 
/**
 * The invoice.
 */
invoice_number: string, 
/**
 * Cash paid back.
 */
refund: number, 
/**
 * Lines returned with their refund.
 */
lines: Array<ReceiptLine>, };

/**
 * `shift`: open or close this terminal's shift.
 */
export type ShiftIntent = { "intent": "show" } | { "intent": "open", 
/**
 * Opening cash.
 */
opening_cash: number, } | { "intent": "close", 
/**
 * Counted cash.
 */
counted_cash: number, };

/**
 * `shift`'s answer: the open shift, and the last one closed on this terminal.
 */
export type ShiftState = { 
/**
 * The open shift.
 */
current: ShiftView | null, 
/**
 * The last closed shift (its counted cash and difference).
 */
last_closed: ShiftView | null, };

/**
 * A shift and its drawer.
 */
export type ShiftView = { 
/**
 * The `shifts` entry that opened it.
 */
id: string, 
/**
 * When it opened.
 */
opened_at: number, 
/**
 * Opening cash.
 */
opening_cash: number, 
/**
 * Cash taken by sales.
 */
cash_sales: number, 
/**
 * Cash paid back for returns.
 */
refunds: number, 
/**
 * Opening + cash sales − refunds.
 */
expected_cash: number, 
/**
 * Sales in the shift.
 */
sales: number, 
/**
 * When closed: counted cash.
 */
counted_cash: number | null, 
/**
 * When closed: counted − expected.
 */
difference: number | null, 
/**
 * When closed: when.
 */
closed_at: number | null, };

/**
 * The sync badge.
 */
export type Connection = "offline" | "online" | "live";

/**
 * `sync_status` (also sent as the `lapak://status` event whenever it changes).
 */
export type SyncBadge = { 
/**
 * Offline, online or live.
 */
connection: Connection, 
/**
 * Local writes not yet stored by the server.
 */
pending: number, 
/**
 * When the last sync finished, if ever.
 */
last_sync: number | null, 
/**
 * How many entries the server refused.
 */
rejected: number, 
/**
 * The last failure, for the curious.
 */
error: string | null, };

/**
 * The `lapak://changed` event: another device's changes arrived in these collections (the
 * page re-reads what shows them).
 */
export type ChangedEvent = { 
/**
 * Collection names, such as `held_bills`.
 */
collections: Array<string>, };

/**
 * `sync_status`, `sync_now` and `rejections`: no fields.
 */
export type Empty = Record<symbol, never>;

/**
 * Something the server refused.
 */
export type RejectionView = { 
/**
 * What kind of record (`sales_invoices`).
 */
collection: string, 
/**
 * Which (an invoice number where known, else its id).
 */
record: string, 
/**
 * Machine-readable.
 */
code: string, 
/**
 * The server's message (what was wrong).
 */
message: string, 
/**
 * What the cashier should do, in the terminal's language.
 */
what_to_do: string, 
/**
 * When the refusal arrived.
 */
rejected_at: number, };
