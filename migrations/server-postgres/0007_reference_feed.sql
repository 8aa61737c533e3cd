-- The Redis mirror of the master data (docs/operations.md, "Master data in Redis") reads
-- reference rows in the order of their versions, tombstones included, from where it stopped.
CREATE INDEX lapak_reference_version ON lapak_reference (version);
