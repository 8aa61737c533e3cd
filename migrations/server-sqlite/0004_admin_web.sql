-- What the admin web shows about devices and rejections: the app version a device reported at
-- login, the position of each scope it has pulled up to (how far behind it is), and an index
-- for listing rejected changes newest first.
ALTER TABLE lapak_devices ADD COLUMN app_version TEXT;
CREATE TABLE lapak_device_cursors (
    device_id TEXT NOT NULL REFERENCES lapak_devices (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    position BIGINT NOT NULL,
    pulled_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, scope)
);
CREATE INDEX lapak_changes_rejected ON lapak_changes (received_at) WHERE status = 'rejected';
