-- Imports of master data from the ERP (`lapak-server import`, docs/operations.md "Imports from
-- the ERP"): per source and collection, each row the source last wrote, with a fingerprint of
-- what it wrote and the version it got. A row whose fingerprint and version are unchanged is
-- not written again; a row the source no longer has is deleted.
CREATE TABLE lapak_import_state (
    source TEXT NOT NULL,
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fingerprint BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (source, collection, record_id)
);
