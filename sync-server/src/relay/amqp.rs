//! The RabbitMQ sink: each event to a durable topic exchange (made when missing) with the
//! event type as routing key, persistent, its event id as `message_id`, on a channel with
//! publisher confirms. A batch's publishes go out back to back and their confirms are awaited
//! in order; a message no queue was bound to take counts as taken (the exchange is the sink's
//! end; binding queues is the consumers' business).

use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use super::{Outgoing, Sink, SinkError, safe_address, topic_of};
use crate::config::AmqpSinkConfig;

/// How long connecting and each confirm may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes to a RabbitMQ exchange.
pub struct AmqpSink {
    config: AmqpSinkConfig,
    /// The connection (kept so the channel lives) and the confirming channel.
    open: Option<(Connection, Channel)>,
}

impl AmqpSink {
    /// A sink that connects on its first batch.
    #[must_use]
    pub fn new(config: AmqpSinkConfig) -> Self {
        AmqpSink { config, open: None }
    }

    fn unreachable(&self, detail: impl std::fmt::Display) -> SinkError {
        SinkError::Unreachable {
            sink: "amqp",
            address: safe_address(&self.config.url.0),
            detail: detail.to_string(),
        }
    }

    /// The confirming channel, connecting and declaring the exchange when there is none.
    async fn channel(&mut self) -> Result<Channel, SinkError> {
        if let Some((conn, ch)) = &self.open
            && conn.status().connected()
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        self.open = None;
        let connect = Connection::connect(
            &self.config.url.0,
            ConnectionProperties::default()
                .with_connection_name("lapak-server outbox relay".into()),
        );
        let conn = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| self.unreachable("no answer within 5 s"))?
            .map_err(|e| self.unreachable(e))?;
        let ch = conn
            .create_channel()
            .await
            .map_err(|e| self.unreachable(e))?;
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| self.unreachable(e))?;
        ch.exchange_declare(
            self.config.exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| self.unreachable(format!("exchange `{}`: {e}", self.config.exchange)))?;
        self.open = Some((conn, ch.clone()));
        Ok(ch)
    }
}

#[async_trait]
impl Sink for AmqpSink {
    fn name(&self) -> &'static str {
        "amqp"
    }

    async fn publish(&mut self, events: &[Outgoing]) -> Result<(), SinkError> {
        let ch = self.channel().await?;
        let result = publish_all(&ch, &self.config.exchange, events).await;
        if let Err(SinkError::Unreachable { detail, .. }) = result {
            self.open = None;
            return Err(self.unreachable(detail));
        }
        result
    }
}

async fn publish_all(ch: &Channel, exchange: &str, events: &[Outgoing]) -> Result<(), SinkError> {
    let lost = |detail: String| SinkError::Unreachable {
        sink: "amqp",
        address: String::new(),
        detail,
    };
    let mut confirms = Vec::with_capacity(events.len());
    for e in events {
        let properties = BasicProperties::default()
            .with_message_id(e.event_id.as_str().into())
            .with_type(e.event_type.as_str().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2);
        let confirm = ch
            .basic_publish(
                exchange.into(),
                topic_of(&e.event_type).as_str().into(),
                BasicPublishOptions::default(),
                &e.body,
                properties,
            )
            .await
            .map_err(|err| lost(err.to_string()))?;
        confirms.push((e, confirm));
    }
    for (e, confirm) in confirms {
        let answer = tokio::time::timeout(TIMEOUT, confirm)
            .await
            .map_err(|_| lost("no confirm within 5 s".into()))?
            .map_err(|err| lost(err.to_string()))?;
        if let Confirmation::Nack(_) = answer {
            return Err(SinkError::NotTaken {
                sink: "amqp",
                event_id: e.event_id.clone(),
                detail: "the broker refused it (nack)".into(),
            });
        }
    }
    Ok(())
}
