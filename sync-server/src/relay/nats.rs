//! The NATS JetStream sink: each event on subject `<prefix>.<event type>` of a file-backed
//! stream that binds `<prefix>.>` (made when missing), with the event id as `Nats-Msg-Id`, so
//! the stream drops a duplicate that arrives within its duplicate window (10 minutes, longer
//! than any wait of the relay's). A batch's publishes go out back to back and their
//! acknowledgements are awaited in order; each but the first names its predecessor as the
//! stream's expected last message, so the stream keeps the outbox's order even when a broker
//! restart loses some of a batch and delivers the rest late.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use async_trait::async_trait;

use super::{Outgoing, Sink, SinkError, safe_address, topic_of};
use crate::config::NatsSinkConfig;

/// How long the stream remembers message ids to drop duplicates.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long a connection attempt and each acknowledgement may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes to a JetStream stream.
pub struct JetStreamSink {
    config: NatsSinkConfig,
    context: Option<jetstream::Context>,
}

impl JetStreamSink {
    /// A sink that connects on its first batch.
    #[must_use]
    pub fn new(config: NatsSinkConfig) -> Self {
        JetStreamSink {
            config,
            context: None,
        }
    }

    fn unreachable(&self, detail: impl std::fmt::Display) -> SinkError {
        SinkError::Unreachable {
            sink: "nats",
            address: safe_address(&self.config.url.0),
            detail: detail.to_string(),
        }
    }

    /// The JetStream context, connecting and making the stream when there is none.
    async fn context(&mut self) -> Result<jetstream::Context, SinkError> {
        if let Some(c) = &self.context {
            return Ok(c.clone());
        }
        let client = async_nats::ConnectOptions::new()
            .name("lapak-server outbox relay")
            .connection_timeout(TIMEOUT)
            .connect(self.config.url.0.as_str())
            .await
            .map_err(|e| self.unreachable(e))?;
        let context = jetstream::ContextBuilder::new()
            .timeout(TIMEOUT)
            .build(client);
        context
            .get_or_create_stream(stream::Config {
                name: self.config.stream.clone(),
                subjects: vec![format!("{}.>", self.config.subject_prefix)],
                duplicate_window: DUPLICATE_WINDOW,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| self.unreachable(format!("stream `{}`: {e}", self.config.stream)))?;
        self.context = Some(context.clone());
        Ok(context)
    }
}

#[async_trait]
impl Sink for JetStreamSink {
    fn name(&self) -> &'static str {
        "nats"
    }

    async fn publish(&mut self, events: &[Outgoing]) -> Result<(), SinkError> {
        let context = self.context().await?;
        let result = publish_all(&context, &self.config.subject_prefix, events).await;
        if let Err(e) = &result {
            // Start over with a fresh connection next time.
            if matches!(e, SinkError::Unreachable { .. }) {
                self.context = None;
            }
        }
        result.map_err(|e| match e {
            SinkError::Unreachable { detail, .. } => self.unreachable(detail),
            other => other,
        })
    }
}

async fn publish_all(
    context: &jetstream::Context,
    prefix: &str,
    events: &[Outgoing],
) -> Result<(), SinkError> {
    let lost = |detail: String| SinkError::Unreachable {
        sink: "nats",
        address: String::new(),
        detail,
    };
    let mut acks = Vec::with_capacity(events.len());
    let mut previous: Option<&str> = None;
    for e in events {
        let subject = format!("{prefix}.{}", topic_of(&e.event_type));
        let mut message = PublishMessage::build()
            .payload(e.body.clone().into())
            .message_id(e.event_id.as_str());
        // Stored only right after its predecessor: a message of a failed attempt that reaches
        // the stream late (a reconnecting client flushing what it held) cannot land after a
        // later one. The batch's first event follows one the stream acknowledged; a resent
        // event the stream already holds is dropped as a duplicate before this is checked.
        if let Some(p) = previous {
            message = message.expected_last_message_id(p);
        }
        previous = Some(e.event_id.as_str());
        let ack = context
            .send_publish(subject, message)
            .await
            .map_err(|err| lost(err.to_string()))?;
        acks.push((e, ack));
    }
    for (e, ack) in acks {
        ack.await.map_err(|err| match err.kind() {
            jetstream::context::PublishErrorKind::TimedOut
            | jetstream::context::PublishErrorKind::BrokenPipe => lost(err.to_string()),
            _ => SinkError::NotTaken {
                sink: "nats",
                event_id: e.event_id.clone(),
                detail: err.to_string(),
            },
        })?;
    }
    Ok(())
}
