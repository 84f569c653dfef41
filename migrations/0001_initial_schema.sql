-- Streams: one row per (organization, name) incarnation. A deleted stream keeps its row and
-- data (soft delete); the partial unique index lets the name be used again afterwards.
CREATE TABLE streams (
	id INTEGER PRIMARY KEY,
	org_id TEXT NOT NULL,
	name TEXT NOT NULL,
	dimension_keys TEXT NOT NULL, -- JSON array of the stream's associated_cost keys, sorted
	created_at TEXT NOT NULL,
	deleted_at TEXT
);
CREATE UNIQUE INDEX streams_live_name ON streams (org_id, name) WHERE deleted_at IS NULL;

-- Series: one row per distinct set of dimension values seen in a stream.
CREATE TABLE series (
	id INTEGER PRIMARY KEY,
	stream_id INTEGER NOT NULL REFERENCES streams (id),
	series_key TEXT NOT NULL, -- the dimensions as canonical JSON (keys sorted)
	UNIQUE (stream_id, series_key)
);

-- Daily aggregates: the live value of one series on one UTC day.
CREATE TABLE daily_values (
	stream_id INTEGER NOT NULL,
	day TEXT NOT NULL, -- YYYY-MM-DD, UTC
	series_id INTEGER NOT NULL,
	value REAL NOT NULL,
	PRIMARY KEY (stream_id, day, series_id)
) WITHOUT ROWID;
-- Reads filtered to some series of a stream.
CREATE INDEX daily_values_by_series ON daily_values (series_id, day);

-- Soft-deleted daily values: hidden from reads, kept for the record.
CREATE TABLE deleted_daily_values (
	stream_id INTEGER NOT NULL,
	day TEXT NOT NULL,
	series_id INTEGER NOT NULL,
	value REAL NOT NULL,
	deleted_at TEXT NOT NULL,
	request_id TEXT NOT NULL
);
CREATE INDEX deleted_daily_values_by_stream ON deleted_daily_values (stream_id, day);

-- Revoked stream tokens. KV takes up to a minute to forget a token everywhere; this table
-- is consulted on every request so a revocation takes effect at once.
CREATE TABLE token_revocations (
	token_id TEXT PRIMARY KEY,
	revoked_at TEXT NOT NULL
);
