//! The sync badge (offline, online, live; pending uploads; last sync) and what the server
//! rejected, each with what the cashier should do about it.

use lapak_client::Status;

use super::Pos;
use crate::api::{Connection, RejectionView, SyncBadge};
use crate::error::Result;

/// The badge of a client status.
#[must_use]
pub fn badge(s: &Status) -> SyncBadge {
    SyncBadge {
        connection: match (s.online, s.live) {
            (_, true) => Connection::Live,
            (true, false) => Connection::Online,
            (false, false) => Connection::Offline,
        },
        pending: s.pending,
        last_sync: s.last_sync_ms,
        rejected: u32::try_from(s.rejected.len()).unwrap_or(u32::MAX),
        error: s.last_error.clone(),
    }
}

/// What the cashier should do about a rejection with `code`.
#[must_use]
pub fn what_to_do(code: &str) -> &'static str {
    match code {
        "voucher_already_redeemed"
        | "unknown_voucher"
        | "voucher_expired"
        | "voucher_not_redeemable_here"
        | "voucher_not_verified" => {
            "The sale stands; the voucher's discount was not honoured by the office. Tell a supervisor, who settles the difference with the customer."
        }
        "out_of_stock" => {
            "The goods were not in stock at the server's count. Count the shelf and ask a supervisor to record an adjustment, then ring the sale up again."
        }
        "unknown_customer" => {
            "The customer is not known at this branch. Sync, pick the customer again and record the sale again."
        }
        "invoice_never_arrived" | "returned_at_in_future" => {
            "Check the invoice number and the terminal's clock, then record the return again."
        }
        "return_exceeds_sale" | "refund_exceeds_sale" => {
            "More was returned than sold. Check the invoice with a supervisor; take back only what it sold."
        }
        "forbidden_scope" => {
            "This terminal may not write there. Sign in again with your own account, or ask the back office for your grants."
        }
        _ => "Show this to a supervisor; the message says what the server found wrong.",
    }
}

impl Pos {
    /// The sync badge now.
    #[must_use]
    pub fn sync_badge(&self) -> SyncBadge {
        badge(&self.client.status().borrow())
    }

    /// Syncs now (if the server can be reached) and answers the badge.
    ///
    /// # Errors
    /// Never for an unreachable server (the badge says offline).
    pub async fn sync_now(&self) -> Result<SyncBadge> {
        if let Err(e) = self.client.sync_once().await {
            tracing::info!(error = %e, "sync now did not complete");
        }
        Ok(self.sync_badge())
    }

    /// What the server rejected, newest first.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn rejections(&self) -> Result<Vec<RejectionView>> {
        let list = self.client.rejections().await?;
        Ok(list
            .into_iter()
            .map(|r| RejectionView {
                what_to_do: what_to_do(&r.code).to_owned(),
                collection: r.collection,
                record: r.record_id,
                code: r.code,
                message: r.message,
                rejected_at: r.rejected_at,
            })
            .collect())
    }
}
