-- Imports of master data from the ERP (`lapak-server import`, docs/operations.md "Imports from
-- the ERP"): per source and collection, each row the source wrote, with a fingerprint of what
-- it read and the version it got, recorded in the transaction of the write. Any other write of
-- the row deletes its entry (by collection and id), so the next import writes it again. A row
-- whose fingerprint is unchanged is not written again; a row the source no longer has is
-- deleted.
CREATE TABLE lapak_import_state (
    source TEXT NOT NULL,
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fingerprint BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (source, collection, record_id)
);

CREATE INDEX lapak_import_state_row ON lapak_import_state (collection, record_id);
