-- Rollups of the sales invoices for the admin web's reports (see docs/admin-api.md, "Reports"):
-- a year of sales, payments or top items is summed from these rather than from two million
-- invoice lines. Folded in by the invoices' log positions (`_position`): writes are sequenced,
-- so the positions visible to a reader are always a prefix and `upto` says which invoices
-- are counted. Days begin at the business's UTC offset (`utc_offset_ms`; another offset
-- refolds everything); a block is 28 days, counted from the epoch's day 0.
CREATE TABLE lapak_report_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto BIGINT NOT NULL,
    utc_offset_ms BIGINT NOT NULL
);
INSERT INTO lapak_report_state (id, upto, utc_offset_ms) VALUES (1, 0, 0);
CREATE TABLE lapak_report_sales (
    day BIGINT NOT NULL,
    branch TEXT NOT NULL,
    invoices BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (branch, day)
);
CREATE TABLE lapak_report_payments (
    day BIGINT NOT NULL,
    branch TEXT NOT NULL,
    method TEXT NOT NULL,
    payments BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (branch, day, method)
);
-- Items sold per branch (for supervisors, who see some branches) and over all branches (for
-- administrators), per day and per block.
CREATE TABLE lapak_report_items_day (
    day BIGINT NOT NULL,
    branch TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (branch, day, sku)
);
CREATE TABLE lapak_report_items_block (
    block BIGINT NOT NULL,
    branch TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (branch, block, sku)
);
CREATE TABLE lapak_report_items_day_all (
    day BIGINT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (day, sku)
);
CREATE TABLE lapak_report_items_block_all (
    block BIGINT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (block, sku)
);
