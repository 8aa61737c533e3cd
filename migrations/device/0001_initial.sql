-- Device storage format v1: the engine's own tables. Collection tables (one per declared
-- collection) are created from the Rust schema declaration, not here.
-- Never edit this file once released: add 0002_*.sql instead.

CREATE TABLE lapak_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- Local changes not yet judged by the server, oldest first.
CREATE TABLE lapak_queue (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id   BLOB NOT NULL UNIQUE,          -- 16-byte UUIDv7
    collection  TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('document', 'ledger')),
    payload     BLOB NOT NULL,                 -- Automerge change, or postcard-encoded ledger entry
    change_hash BLOB,                          -- Automerge change hash (documents)
    op          TEXT,                          -- the write's intent as JSON (documents), for replay
    created_at  INTEGER NOT NULL               -- ms since the epoch
) STRICT;
CREATE INDEX lapak_queue_record ON lapak_queue (collection, record_id);

-- Automerge bytes of every document record, beside its plain row.
CREATE TABLE lapak_documents (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        BLOB NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    scopes     TEXT NOT NULL DEFAULT '',        -- scopes this device holds the record through, \n-separated
    PRIMARY KEY (collection, id)
) STRICT, WITHOUT ROWID;

-- One cursor per followed scope: the last server log position applied.
CREATE TABLE lapak_cursors (
    scope    TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Changes the server refused, for the UI's list of rejected work.
CREATE TABLE lapak_rejections (
    change_id   BLOB PRIMARY KEY NOT NULL,
    collection  TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    rejected_at INTEGER NOT NULL
) STRICT;

-- Deleted reference rows, so an older version arriving through another scope cannot revive them.
CREATE TABLE lapak_tombstones (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (collection, id)
) STRICT, WITHOUT ROWID;
