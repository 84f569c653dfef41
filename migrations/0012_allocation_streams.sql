-- CloudZero allocation telemetry (issue 19): POST /unit-cost/v1/telemetry/allocation/{stream}/sum,
-- /replace, /delete, the bare /allocation/{stream} and the oldest POST /unit-cost/v1/telemetry.
-- An allocation value is the usage of one element (a customer, a team) on one period, within one
-- filter group (the part of the cost it splits: dimension name -> list of values). The later
-- cost-splitting reads divide a filter group's cost over its elements in proportion to these values.
-- Apart from CloudZero metric streams: a metric stream and an allocation stream may share a name.

-- Streams: one row per (organization, name) incarnation, as `streams` (migration 0001): a deleted
-- stream keeps its row and data, and the partial unique index lets the name be used again.
-- granularity and filter_keys are fixed by the first write. The summary columns are kept by the
-- writes (src/storage/allocation-streams.ts), so that listing streams reads one row per stream:
--   first_period, last_period: the earliest and latest period with a live value (NULL: none);
--   element_count: the elements with at least one live value.
CREATE TABLE allocation_streams (
	id INTEGER PRIMARY KEY,
	org_id TEXT NOT NULL,
	name TEXT NOT NULL,
	granularity TEXT NOT NULL CHECK (granularity IN ('HOURLY', 'DAILY', 'MONTHLY')),
	filter_keys TEXT NOT NULL, -- JSON array of the stream's filter keys, sorted
	created_at TEXT NOT NULL,
	deleted_at TEXT,
	first_period TEXT,
	last_period TEXT,
	element_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX allocation_streams_live_name ON allocation_streams (org_id, name) WHERE deleted_at IS NULL;

-- Filter groups: one row per distinct filter of a stream, as canonical JSON (keys sorted, each
-- key's values sorted and deduplicated), so that the order a client lists them in never matters.
CREATE TABLE allocation_filter_groups (
	id INTEGER PRIMARY KEY,
	stream_id INTEGER NOT NULL REFERENCES allocation_streams (id),
	filter TEXT NOT NULL,
	UNIQUE (stream_id, filter)
);

-- Elements: one row per element name of a stream (stored once, however many values it has).
CREATE TABLE allocation_elements (
	id INTEGER PRIMARY KEY,
	stream_id INTEGER NOT NULL REFERENCES allocation_streams (id),
	name TEXT NOT NULL,
	UNIQUE (stream_id, name)
);

-- The live value of one element in one filter group on one period. period is the record's UTC
-- timestamp reduced to the stream's granularity: YYYY-MM-DDTHH:00:00Z (HOURLY), YYYY-MM-DD (DAILY)
-- or YYYY-MM-01 (MONTHLY), so periods sort in time order and read back as sendable timestamps.
-- The key puts a filter group's elements of one period together: what splitting a period's cost reads.
CREATE TABLE allocation_values (
	stream_id INTEGER NOT NULL,
	period TEXT NOT NULL,
	group_id INTEGER NOT NULL,
	element_id INTEGER NOT NULL,
	value REAL NOT NULL,
	PRIMARY KEY (stream_id, period, group_id, element_id)
) WITHOUT ROWID;
-- Reads filtered to some elements, and the element_count kept by the writes (is an element live?).
CREATE INDEX allocation_values_by_element ON allocation_values (element_id, period);

-- Soft-deleted values: hidden from reads, kept for the record.
CREATE TABLE deleted_allocation_values (
	stream_id INTEGER NOT NULL,
	period TEXT NOT NULL,
	group_id INTEGER NOT NULL,
	element_id INTEGER NOT NULL,
	value REAL NOT NULL,
	deleted_at TEXT NOT NULL,
	request_id TEXT NOT NULL
);
CREATE INDEX deleted_allocation_values_by_stream ON deleted_allocation_values (stream_id, period);

-- Stored values stay finite and readable, as CloudZero metric values do (migration 0006).
CREATE TRIGGER allocation_values_finite_on_insert
BEFORE INSERT ON allocation_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;

CREATE TRIGGER allocation_values_finite_on_update
BEFORE UPDATE OF value ON allocation_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;
