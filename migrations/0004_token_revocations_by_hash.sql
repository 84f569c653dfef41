-- Revocations are also found by the token's hash, so that a request can check for one at the
-- same time as it looks the token up in KV (by the same hash) instead of after it.
-- Rows revoked before this migration have no hash: their KV entries were deleted when they
-- were revoked, and KV forgets them everywhere within about a minute.
ALTER TABLE token_revocations ADD COLUMN token_hash TEXT;
CREATE UNIQUE INDEX token_revocations_by_hash ON token_revocations (token_hash) WHERE token_hash IS NOT NULL;
