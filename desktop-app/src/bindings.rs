//! The TypeScript types of [`crate::api`], in one generated file the page imports
//! (`ui/pos/src/generated/api.ts`). `bindings_are_current` fails when the committed file is
//! not what these types generate; run it with `LAPAK_UPDATE_BINDINGS=1` to rewrite it.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::api::*;

/// The generated file, relative to this crate.
const OUT: &str = "../ui/pos/src/generated/api.ts";

macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(
            match <$t as TS>::docs() {
                Some(docs) => format!("{docs}export {}", <$t as TS>::decl($cfg)),
                None => format!("export {}", <$t as TS>::decl($cfg)),
            }
        ),*]
    };
}

/// The whole file.
fn generate() -> String {
    let cfg = Config::default();
    let decls = declarations!(&cfg;
        ErrorCode, CommandError, Locale, Phase, AppStateRequest, AppState, UserView, BranchView,
        TerminalView, SignInRequest, PickTerminalRequest, SignOutRequest, SetLocaleRequest,
        SearchItemsRequest, ItemHit, SearchCustomersRequest, CustomerView, CartIntent, CartView,
        CartLineView, VoucherView, HoldRequest, HeldBillsRequest, HeldBillView, ResumeRequest,
        PaymentMethod, Tender, CheckoutRequest, ServerVerdict, Receipt, VoucherOutcome,
        ReceiptLine, HistoryRequest, InvoiceSummary, ReceiptRequest, ReturnRequest,
        ReturnLineRequest, ReturnReceipt, ShiftIntent, ShiftState, ShiftView, Connection,
        SyncBadge, ChangedEvent, Empty, RejectionView,
    );
    let mut out = String::from(
        "// Generated from desktop-app/src/api/ by ts-rs: do not edit.\n\
         // Regenerate: LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-desktop bindings\n\n",
    );
    for d in decls {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(OUT);
    let want = generate();
    if std::env::var_os("LAPAK_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is not what desktop-app/src/api/ generates: run \
         `LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-desktop bindings` and commit it",
        path.display()
    );
}
