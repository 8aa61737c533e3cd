-- State the business rules keep (see docs/domain.md): running tallies derived from accepted
-- facts (stock of an item at a branch, quantity returned of an invoice's item, whether a
-- voucher was redeemed and where), and the exceptions accepted records raise for the back
-- office. Both are written in the same transaction as the facts they come from.
CREATE TABLE lapak_tallies (
    key TEXT PRIMARY KEY,
    value BIGINT NOT NULL,
    note TEXT
);
CREATE TABLE lapak_exceptions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    position BIGINT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX lapak_exceptions_open ON lapak_exceptions (raised_at) WHERE resolved_at IS NULL;
CREATE INDEX lapak_exceptions_record ON lapak_exceptions (collection, record_id);
