-- Cloudthread-compatible custom data (POST /streams/ingest).
-- A metric is (organization, name, aggregation function): the same name can exist once per function.
CREATE TABLE custom_metrics (
	id INTEGER PRIMARY KEY,
	org_id TEXT NOT NULL,
	name TEXT NOT NULL,
	agg_func TEXT NOT NULL CHECK (agg_func IN ('Sum', 'Average', 'Maximum', 'Minimum')),
	created_at TEXT NOT NULL,
	first_hour TEXT NOT NULL, -- earliest hour ever written, YYYY-MM-DDTHH:00:00Z
	last_hour TEXT NOT NULL,
	UNIQUE (org_id, name, agg_func)
);

-- Every custom dimension key seen in a metric's records (records may use different keys).
CREATE TABLE custom_metric_dimension_keys (
	metric_id INTEGER NOT NULL REFERENCES custom_metrics (id),
	key TEXT NOT NULL,
	PRIMARY KEY (metric_id, key)
) WITHOUT ROWID;

-- Records: one per distinct set of custom dimensions. record_id is Cloudthread's record ID,
-- a hash of metric name, aggregation function and dimensions.
CREATE TABLE custom_metric_records (
	metric_id INTEGER NOT NULL REFERENCES custom_metrics (id),
	record_id TEXT NOT NULL,
	dimensions TEXT NOT NULL, -- canonical JSON object, keys sorted
	PRIMARY KEY (metric_id, record_id)
) WITHOUT ROWID;

-- Hourly points as sent: sending the same record and hour again replaces the value.
CREATE TABLE custom_metric_hourly_values (
	metric_id INTEGER NOT NULL,
	record_id TEXT NOT NULL,
	hour TEXT NOT NULL, -- YYYY-MM-DDTHH:00:00Z, UTC
	value REAL NOT NULL,
	PRIMARY KEY (metric_id, record_id, hour),
	FOREIGN KEY (metric_id, record_id) REFERENCES custom_metric_records (metric_id, record_id)
) WITHOUT ROWID;
-- Reads in hour order across records.
CREATE INDEX custom_metric_hourly_values_by_hour ON custom_metric_hourly_values (metric_id, hour, record_id);

-- Daily aggregates: the metric's function over one record's hourly points of one UTC day,
-- recomputed from those points in the transaction that changes any of them.
CREATE TABLE custom_metric_daily_values (
	metric_id INTEGER NOT NULL,
	day TEXT NOT NULL, -- YYYY-MM-DD, UTC
	record_id TEXT NOT NULL,
	value REAL NOT NULL,
	hours INTEGER NOT NULL, -- how many hourly points the value aggregates
	PRIMARY KEY (metric_id, day, record_id),
	FOREIGN KEY (metric_id, record_id) REFERENCES custom_metric_records (metric_id, record_id)
) WITHOUT ROWID;
