-- Each rotated refresh token remembers the token it was exchanged for, so that a client that
-- lost the answer of a refresh (a crash, a dropped connection) can retry within a short grace
-- period instead of being treated as a thief (see docs/protocol.md, section 9.3).
ALTER TABLE lapak_refresh_tokens ADD COLUMN replaced_by TEXT;
