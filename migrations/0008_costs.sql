-- Cost from CloudZero AnyCost Stream billing drops (POST /v2/connections/billing/anycost/{id}/billing_drops).
-- A connection belongs to one organization, is created by its first drop and keeps one currency:
-- CBF has no currency column, and costs of different currencies are never added together.
CREATE TABLE cost_connections (
	org_id TEXT NOT NULL,
	connection_id TEXT NOT NULL,
	currency TEXT NOT NULL, -- ISO 4217 code, e.g. USD
	created_at TEXT NOT NULL,
	PRIMARY KEY (org_id, connection_id)
) WITHOUT ROWID;

-- Distinct dimension sets of an organization's cost rows: canonical JSON of Service, Account,
-- Region, UsageFamily, LineItemType, Resource and tag:<key> values. Line item ids, descriptions,
-- invoice ids, usage amounts and units, usage_end and action/operation, action/usage_type are
-- aggregated away.
CREATE TABLE cost_dimension_sets (
	id INTEGER PRIMARY KEY,
	org_id TEXT NOT NULL,
	dims TEXT NOT NULL,
	UNIQUE (org_id, dims)
);

-- The cost of one connection, hour and dimension set: the five CBF cost types summed over the
-- drop's rows. replace_hourly replaces whole hours of it, replace_drop a whole month.
CREATE TABLE cost_hourly (
	org_id TEXT NOT NULL,
	connection_id TEXT NOT NULL,
	hour TEXT NOT NULL, -- YYYY-MM-DDTHH:00:00Z, UTC
	dims_id INTEGER NOT NULL,
	cost REAL NOT NULL,
	discounted_cost REAL NOT NULL,
	amortized_cost REAL NOT NULL,
	discounted_amortized_cost REAL NOT NULL,
	on_demand_cost REAL NOT NULL,
	PRIMARY KEY (org_id, connection_id, hour, dims_id)
) WITHOUT ROWID;

-- Daily totals of cost_hourly, kept in the transaction of every drop (added to by sum and
-- replace_drop, recomputed from the hours by replace_hourly): the reads (cost and unit cost) scan these.
CREATE TABLE cost_daily (
	org_id TEXT NOT NULL,
	day TEXT NOT NULL, -- YYYY-MM-DD, UTC
	connection_id TEXT NOT NULL,
	dims_id INTEGER NOT NULL,
	cost REAL NOT NULL,
	discounted_cost REAL NOT NULL,
	amortized_cost REAL NOT NULL,
	discounted_amortized_cost REAL NOT NULL,
	on_demand_cost REAL NOT NULL,
	PRIMARY KEY (org_id, day, connection_id, dims_id)
) WITHOUT ROWID;
CREATE INDEX cost_daily_by_connection ON cost_daily (org_id, connection_id, day);

-- Custom dimensions (custom:<name>): an organization's name for one cost dimension.
CREATE TABLE cost_custom_dimensions (
	org_id TEXT NOT NULL,
	name TEXT NOT NULL,
	source TEXT NOT NULL, -- Service, Account, Region, UsageFamily, LineItemType, Resource, Connection or tag:<key>
	updated_at TEXT NOT NULL,
	PRIMARY KEY (org_id, name)
) WITHOUT ROWID;
