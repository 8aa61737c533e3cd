//! What the outbox relay keeps in the database (`lapak_relay_sinks`, migration 6): per sink,
//! the last event it acknowledged and the lease that makes one server process its only relay.
//! See `crate::relay` for the loop that uses them.

use async_trait::async_trait;

use super::Result;
use super::db::{Arg, Dialect};
use super::sql::SqlStorage;

/// Where a sink stands, as its lease holder reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkState {
    /// Every outbox event up to this sequence number was acknowledged by the sink.
    pub upto_seq: i64,
    /// The newest outbox sequence number now.
    pub head_seq: i64,
}

/// The relay's half of the storage.
#[async_trait]
pub trait RelayLedger: Send + Sync {
    /// Takes the lease on `sink` for `holder` until `until` (ms), or renews it, unless another
    /// holder's lease is still good at `now`. `Some` with where the sink stands when `holder`
    /// holds it.
    async fn relay_lease(
        &self,
        sink: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<SinkState>>;

    /// Records that `sink` acknowledged every event up to `seq` at `now`, if `holder` still
    /// holds its lease (`false`: it was lost, and nothing changed), and marks the events every
    /// one of `sinks` has acknowledged as published.
    async fn relay_advance(
        &self,
        sink: &str,
        holder: &str,
        seq: i64,
        now: i64,
        sinks: &[String],
    ) -> Result<bool>;

    /// Gives up `holder`'s lease on `sink` (at shutdown), so another process takes over at once.
    async fn relay_release(&self, sink: &str, holder: &str) -> Result<()>;
}

#[async_trait]
impl RelayLedger for SqlStorage {
    async fn relay_lease(
        &self,
        sink: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<SinkState>> {
        let mut tx = self.pool.begin_write().await?;
        tx.execute(
            "INSERT INTO lapak_relay_sinks (sink, upto_seq, lease_until) VALUES ($1, 0, 0) \
             ON CONFLICT (sink) DO NOTHING",
            &[Arg::Text(sink.to_owned())],
        )
        .await?;
        let held = tx
            .fetch_optional(
                "UPDATE lapak_relay_sinks SET holder = $2, lease_until = $4 \
                 WHERE sink = $1 AND (holder IS NULL OR holder = $2 OR lease_until < $3) \
                 RETURNING upto_seq, (SELECT COALESCE(MAX(seq), 0) FROM lapak_outbox)",
                &[
                    Arg::Text(sink.to_owned()),
                    Arg::Text(holder.to_owned()),
                    Arg::Int(now),
                    Arg::Int(until),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(match held {
            Some(row) => Some(SinkState {
                upto_seq: row.int(0)?,
                head_seq: row.int(1)?,
            }),
            None => None,
        })
    }

    async fn relay_advance(
        &self,
        sink: &str,
        holder: &str,
        seq: i64,
        now: i64,
        sinks: &[String],
    ) -> Result<bool> {
        let mut tx = self.pool.begin_write().await?;
        let moved = tx
            .execute(
                "UPDATE lapak_relay_sinks SET upto_seq = $3, published_at = $4 \
                 WHERE sink = $1 AND holder = $2 AND upto_seq < $3",
                &[
                    Arg::Text(sink.to_owned()),
                    Arg::Text(holder.to_owned()),
                    Arg::Int(seq),
                    Arg::Int(now),
                ],
            )
            .await?;
        if moved == 0 {
            tx.commit().await?;
            return Ok(false);
        }
        let mut args = vec![Arg::Int(now)];
        let all = in_sinks(tx.dialect(), sinks, &mut args);
        tx.execute_dynamic(
            &format!(
                "UPDATE lapak_outbox SET published_at = $1 WHERE published_at IS NULL AND seq <= \
                 (SELECT MIN(upto_seq) FROM lapak_relay_sinks WHERE {all})"
            ),
            &args,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn relay_release(&self, sink: &str, holder: &str) -> Result<()> {
        self.pool
            .execute(
                "UPDATE lapak_relay_sinks SET holder = NULL, lease_until = 0 \
                 WHERE sink = $1 AND holder = $2",
                &[Arg::Text(sink.to_owned()), Arg::Text(holder.to_owned())],
            )
            .await?;
        Ok(())
    }
}

/// `sink IN (...)` for `sinks` (one list parameter).
fn in_sinks(d: Dialect, sinks: &[String], args: &mut Vec<Arg>) -> String {
    args.push(Arg::TextList(sinks.to_vec()));
    d.in_list("sink", args.len())
}
