-- One row per accepted write request, written in the same transaction as the data it
-- describes. A row written with an Idempotency-Key also keeps the request's hash and the
-- response sent, so a retry within 24 hours is answered with that response and applies
-- nothing; the stream's Durable Object clears those three columns after 24 hours (alarm).
CREATE TABLE ingest_log (
	id INTEGER PRIMARY KEY,
	request_id TEXT NOT NULL,
	org_id TEXT NOT NULL,
	stream TEXT NOT NULL,
	operation TEXT NOT NULL,
	token_id TEXT NOT NULL,
	record_count INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	idempotency_key TEXT,
	request_hash TEXT,
	response TEXT
);
CREATE INDEX ingest_log_by_stream ON ingest_log (org_id, stream, id);
-- Even a second writer could not apply the same key twice: the transaction would fail.
CREATE UNIQUE INDEX ingest_log_idempotency ON ingest_log (org_id, stream, idempotency_key) WHERE idempotency_key IS NOT NULL;
