//! The sync loop: one sync (push with one request in flight, then pull until done), the loop
//! that repeats it on local writes, news and timers with backoff on failure, and following the
//! current grants when the server withdraws one.

use std::time::Duration;

use super::{
    Backoff, Client, Progress, Result, SyncReport, Transport, followed_scopes, session_of,
};
use crate::error::ClientError;

impl Client {
    /// Pushes everything pending and pulls until nothing is left, once.
    ///
    /// # Errors
    /// [`ClientError::NotLoggedIn`], [`ClientError::Offline`], [`ClientError::Unauthorized`]
    /// (log in again), or store errors. What was applied before an error stays applied.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        self.sync_with_progress(|_| {}).await
    }

    /// [`Client::sync_once`], reporting progress.
    ///
    /// # Errors
    /// As [`Client::sync_once`].
    pub async fn sync_with_progress(&self, progress: impl Fn(Progress)) -> Result<SyncReport> {
        self.sync_run(&progress, false).await
    }

    /// One sync; when `interruptible` (the sync loop), no further request starts once the
    /// client is stopping.
    async fn sync_run(
        &self,
        progress: &impl Fn(Progress),
        interruptible: bool,
    ) -> Result<SyncReport> {
        let _one_at_a_time = self.inner.sync_lock.lock().await;
        let result = self.sync_inner(progress, interruptible).await;
        match &result {
            Ok(_) => self.synced(),
            Err(e) => {
                let transient = e.is_transient();
                let message = e.to_string();
                self.inner.status.send_modify(|s| {
                    if transient {
                        s.online = false;
                    }
                    s.last_error = Some(message);
                });
            }
        }
        self.refresh_status().await;
        result
    }

    async fn sync_inner(
        &self,
        progress: &impl Fn(Progress),
        interruptible: bool,
    ) -> Result<SyncReport> {
        let stopping = || interruptible && self.stopping();
        if self.inner.creds.lock().await.is_none() {
            return Err(ClientError::NotLoggedIn);
        }
        let mut report = SyncReport::default();
        let total = self.with_store(|s| s.pending_count()).await?;
        let batch = self.inner.options.push_batch;
        let mut retried = false;
        let mut push_failure = None;
        let mut scopes_refreshed = false;
        loop {
            if stopping() {
                return Ok(report);
            }
            let Some(push) = self.with_store(move |s| s.next_push(batch)).await? else {
                break;
            };
            let (t, access) = self.access().await?;
            let sent = push.changes.len();
            let answer = match t.push(&access, push).await {
                Err(ClientError::Unauthorized { .. }) if !retried => {
                    retried = true;
                    self.drop_access().await;
                    continue;
                }
                Err(e) if e.is_transient() || e.needs_login() => return Err(e),
                // Refused for good (a body the server will never take): keep receiving news,
                // and report the failure after the pull.
                Err(e) => {
                    push_failure = Some(e);
                    break;
                }
                Ok(a) => a,
            };
            let applied = match self
                .with_store(move |s| s.apply_push_response(&answer))
                .await
            {
                Ok(a) => a,
                Err(e) => {
                    push_failure = Some(e);
                    break;
                }
            };
            report.pushed += sent;
            report.accepted += applied.accepted;
            report.rejected += applied.rejected;
            progress(Progress::Pushed {
                done: report.pushed,
                total,
            });
            self.refresh_status().await;
            if applied.accepted
                + applied.rejected
                + applied.rebuilt_documents
                + applied.already_applied
                == 0
            {
                break; // only deferrals: the rest waits for other devices' changes
            }
        }
        let limit = self.inner.options.pull_limit;
        loop {
            if stopping() {
                return Ok(report);
            }
            let req = self.with_store(move |s| s.pull_request(limit)).await?;
            if req.cursors.is_empty() {
                break;
            }
            let (t, access) = self.access().await?;
            let answer = match t.pull(&access, req).await {
                Err(ClientError::Unauthorized { .. }) if !retried => {
                    retried = true;
                    self.drop_access().await;
                    continue;
                }
                // A grant was taken away: follow the grants the server gives now.
                Err(ClientError::Server { code, .. })
                    if code == "forbidden_scope" && !scopes_refreshed =>
                {
                    scopes_refreshed = true;
                    self.follow_current_grants().await?;
                    continue;
                }
                other => other?,
            };
            let n: usize = answer.batches.iter().map(|b| b.entries.len()).sum();
            let applied = self.with_store(move |s| s.apply_pull(&answer)).await?;
            report.pulled += n;
            progress(Progress::Pulled {
                done: report.pulled,
            });
            if !applied.has_more {
                break;
            }
        }
        // After the records: the server takes a photo only once a record references it.
        if push_failure.is_none() && !stopping() {
            report.photos_uploaded = self.upload_photos().await?;
        }
        match push_failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Refreshes the session and follows the scopes of the grants it carries (after the server
    /// said a followed scope is no longer granted).
    async fn follow_current_grants(&self) -> Result<()> {
        self.drop_access().await;
        let grants = {
            let mut session = self.inner.session.lock().await;
            let mut creds = self.inner.creds.lock().await;
            let Some(c) = creds.as_mut() else {
                return Err(ClientError::NotLoggedIn);
            };
            let t = Transport::new(&c.server)?;
            let answer = t.refresh(&c.refresh_token).await?;
            c.refresh_token = answer.refresh_token.clone();
            c.scopes = followed_scopes(&answer);
            c.save(&self.inner.options.dir)?;
            *session = Some(session_of(&answer));
            c.scopes.clone()
        };
        tracing::info!(scopes = ?grants, "grants changed: following the current ones");
        self.with_store(move |s| s.set_scopes(&grants)).await
    }

    /// The sync loop, until [`super::SyncTask::stop`]: it starts no request after the stop,
    /// and one in flight is abandoned after [`super::STOP_GRACE`].
    pub(super) async fn sync_loop(self) {
        tokio::select! {
            () = self.clone().sync_loop_inner() => {}
            () = self.stopped_after(super::STOP_GRACE) => {}
        }
    }

    async fn sync_loop_inner(self) {
        let mut backoff = Backoff::new(self.inner.options.max_backoff);
        loop {
            if *self.inner.shutdown.borrow() {
                return;
            }
            if self.inner.creds.lock().await.is_none() {
                if self
                    .sleep_or_stop(Duration::from_secs(3600), Some(&self.inner.signed_in))
                    .await
                {
                    return;
                }
                continue;
            }
            let wait = match self.sync_run(&|_| {}, true).await {
                Ok(_) => {
                    backoff.reset();
                    if self.inner.status.borrow().live {
                        self.inner.options.live_poll_interval
                    } else {
                        self.inner.options.poll_interval
                    }
                }
                Err(e) if e.needs_login() => Duration::from_secs(3600),
                Err(e) => {
                    tracing::debug!(error = %e, "sync failed; retrying");
                    let d = backoff.next();
                    if self.sleep_or_stop(d, None).await {
                        return;
                    }
                    continue;
                }
            };
            let early = if self.inner.creds.lock().await.is_some() {
                &self.inner.wake
            } else {
                &self.inner.signed_in
            };
            if self.sleep_or_stop(wait, Some(early)).await {
                return;
            }
        }
    }
}
