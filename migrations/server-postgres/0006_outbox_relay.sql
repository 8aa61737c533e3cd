-- The outbox relay (docs/operations.md, "Events to brokers"): one row per configured sink
-- (`nats`, `amqp`). `upto_seq` is the last outbox event the sink acknowledged, in order, and
-- `published_at` when it last moved; `lapak_outbox.published_at` is set once every configured
-- sink has an event. `holder` and `lease_until` say which server process relays to the sink:
-- with several replicas on one database exactly one holds the lease, and another takes it
-- when it lapses (the holder renews it while it lives).
CREATE TABLE lapak_relay_sinks (
    sink TEXT PRIMARY KEY,
    upto_seq BIGINT NOT NULL,
    published_at BIGINT,
    holder TEXT,
    lease_until BIGINT NOT NULL
);
