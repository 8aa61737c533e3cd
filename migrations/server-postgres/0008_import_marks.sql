-- Imports of master data from the ERP (`lapak-server import`, docs/operations.md "Imports from
-- the ERP"): a reference row an import wrote carries the import's name and a fingerprint of
-- what it read, set by the write itself. Every other write of the row (the admin API, the admin
-- web's CSV import, another import, a deletion) sets them back to NULL in the same statement,
-- so the next import writes the row again. A row whose fingerprint is unchanged is not written
-- again; a row the import no longer has is deleted.
ALTER TABLE lapak_reference ADD COLUMN imported_by TEXT;
ALTER TABLE lapak_reference ADD COLUMN import_print BIGINT;
