-- Device storage format v2: every document begins with its collection's genesis changes
-- (docs/protocol.md section 5.3.1). Documents written before it whose creation the server has not
-- confirmed are rebuilt on the genesis when the store next opens (store::migrate), once: this
-- flag asks for that pass, which removes it.
-- Never edit this file once released: add 0003_*.sql instead.
INSERT OR REPLACE INTO lapak_meta (key, value) VALUES ('regenesis_pending', '1');
