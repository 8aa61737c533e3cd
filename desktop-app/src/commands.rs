//! The Tauri commands: one request type each, answered with the response or a
//! [`CommandError`]. They only call [`Pos`]; `ui/pos/src/ipc.ts` is their one caller.

use tauri::State;

use crate::Pos;
use crate::api::*;
use crate::error::PosError;

type Answer<T> = Result<T, CommandError>;

/// The answer, or the error in the terminal's language.
async fn answer<T>(pos: &Pos, r: Result<T, PosError>) -> Answer<T> {
    match r {
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_command_error(pos.locale().await)),
    }
}

/// The app's state.
#[tauri::command]
pub async fn app_state(pos: State<'_, Pos>, request: AppStateRequest) -> Answer<AppState> {
    let AppStateRequest {} = request;
    answer(&pos, pos.app_state().await).await
}

/// Signs a cashier in.
#[tauri::command]
pub async fn sign_in(pos: State<'_, Pos>, request: SignInRequest) -> Answer<AppState> {
    answer(
        &pos,
        pos.sign_in(&request.server, &request.username, &request.password)
            .await,
    )
    .await
}

/// Picks the terminal.
#[tauri::command]
pub async fn pick_terminal(pos: State<'_, Pos>, request: PickTerminalRequest) -> Answer<AppState> {
    answer(
        &pos,
        pos.pick_terminal(&request.branch, &request.terminal).await,
    )
    .await
}

/// Signs out.
#[tauri::command]
pub async fn sign_out(pos: State<'_, Pos>, request: SignOutRequest) -> Answer<AppState> {
    let SignOutRequest {} = request;
    answer(&pos, pos.sign_out().await).await
}

/// Sets the language.
#[tauri::command]
pub async fn set_locale(pos: State<'_, Pos>, request: SetLocaleRequest) -> Answer<AppState> {
    answer(&pos, pos.set_locale(request.locale).await).await
}

/// Searches items.
#[tauri::command]
pub async fn search_items(
    pos: State<'_, Pos>,
    request: SearchItemsRequest,
) -> Answer<Vec<ItemHit>> {
    answer(&pos, pos.search_items(request.query, request.limit).await).await
}

/// Searches customers.
#[tauri::command]
pub async fn search_customers(
    pos: State<'_, Pos>,
    request: SearchCustomersRequest,
) -> Answer<Vec<CustomerView>> {
    answer(
        &pos,
        pos.search_customers(request.query, request.limit).await,
    )
    .await
}

/// One cart intent.
#[tauri::command]
pub async fn cart(pos: State<'_, Pos>, request: CartIntent) -> Answer<CartView> {
    answer(&pos, pos.cart(request).await).await
}

/// Holds the cart.
#[tauri::command]
pub async fn hold(pos: State<'_, Pos>, request: HoldRequest) -> Answer<HeldBillView> {
    answer(&pos, pos.hold(request.note).await).await
}

/// The branch's held bills.
#[tauri::command]
pub async fn held_bills(
    pos: State<'_, Pos>,
    request: HeldBillsRequest,
) -> Answer<Vec<HeldBillView>> {
    let HeldBillsRequest {} = request;
    answer(&pos, pos.held_bills().await).await
}

/// Resumes a held bill.
#[tauri::command]
pub async fn resume(pos: State<'_, Pos>, request: ResumeRequest) -> Answer<CartView> {
    answer(&pos, pos.resume(&request.id).await).await
}

/// Pays the cart.
#[tauri::command]
pub async fn checkout(pos: State<'_, Pos>, request: CheckoutRequest) -> Answer<Receipt> {
    answer(&pos, pos.checkout(request.tenders).await).await
}

/// The branch's invoices.
#[tauri::command]
pub async fn history(pos: State<'_, Pos>, request: HistoryRequest) -> Answer<Vec<InvoiceSummary>> {
    let limit = request.limit.unwrap_or(50).clamp(1, 200) as usize;
    answer(&pos, pos.history(request.query, limit).await).await
}

/// One receipt.
#[tauri::command]
pub async fn receipt(pos: State<'_, Pos>, request: ReceiptRequest) -> Answer<Receipt> {
    answer(&pos, pos.receipt(&request.invoice).await).await
}

/// A return.
#[tauri::command]
pub async fn return_items(pos: State<'_, Pos>, request: ReturnRequest) -> Answer<ReturnReceipt> {
    answer(
        &pos,
        pos.return_items(&request.invoice, request.lines, request.reason)
            .await,
    )
    .await
}

/// The shift.
#[tauri::command]
pub async fn shift(pos: State<'_, Pos>, request: ShiftIntent) -> Answer<ShiftState> {
    answer(&pos, pos.shift(request).await).await
}

/// The sync badge.
#[tauri::command]
pub async fn sync_status(pos: State<'_, Pos>, request: Empty) -> Answer<SyncBadge> {
    let Empty {} = request;
    Ok(pos.sync_badge())
}

/// Syncs now.
#[tauri::command]
pub async fn sync_now(pos: State<'_, Pos>, request: Empty) -> Answer<SyncBadge> {
    let Empty {} = request;
    answer(&pos, pos.sync_now().await).await
}

/// The rejections.
#[tauri::command]
pub async fn rejections(pos: State<'_, Pos>, request: Empty) -> Answer<Vec<RejectionView>> {
    let Empty {} = request;
    answer(&pos, pos.rejections().await).await
}

/// Every command, for the builder.
#[macro_export]
macro_rules! pos_commands {
    () => {
        tauri::generate_handler![
            $crate::commands::app_state,
            $crate::commands::sign_in,
            $crate::commands::pick_terminal,
            $crate::commands::sign_out,
            $crate::commands::set_locale,
            $crate::commands::search_items,
            $crate::commands::search_customers,
            $crate::commands::cart,
            $crate::commands::hold,
            $crate::commands::held_bills,
            $crate::commands::resume,
            $crate::commands::checkout,
            $crate::commands::history,
            $crate::commands::receipt,
            $crate::commands::return_items,
            $crate::commands::shift,
            $crate::commands::sync_status,
            $crate::commands::sync_now,
            $crate::commands::rejections,
        ]
    };
}
