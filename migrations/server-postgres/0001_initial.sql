-- Lapak sync server, Postgres: engine tables. Materialized collection tables are created from
-- the schema at start (see sync-server/src/storage/materialize.rs). Never edit an applied
-- migration: add the next one.

CREATE TABLE lapak_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO lapak_head (id, position) VALUES (1, 0);

CREATE TABLE lapak_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE lapak_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE lapak_grants (
    user_id TEXT NOT NULL REFERENCES lapak_users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    can_write BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, scope)
);

CREATE TABLE lapak_devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES lapak_users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at BIGINT,
    session_generation BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX lapak_devices_user ON lapak_devices (user_id);

CREATE TABLE lapak_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES lapak_devices (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX lapak_refresh_tokens_device ON lapak_refresh_tokens (device_id);

CREATE TABLE lapak_changes (
    change_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    status TEXT NOT NULL,
    position BIGINT,
    code TEXT,
    message TEXT,
    received_at BIGINT NOT NULL
);

CREATE TABLE lapak_log (
    scope TEXT NOT NULL,
    position BIGINT NOT NULL,
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op BYTEA NOT NULL,
    PRIMARY KEY (scope, position)
);

CREATE TABLE lapak_documents (
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    data BYTEA NOT NULL,
    scopes TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (collection, record_id)
);

CREATE TABLE lapak_reference (
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (collection, record_id)
);

CREATE TABLE lapak_outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    version TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL,
    position BIGINT NOT NULL,
    published_at BIGINT
);
CREATE INDEX lapak_outbox_unpublished ON lapak_outbox (seq) WHERE published_at IS NULL;
