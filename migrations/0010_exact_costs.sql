-- Exact money (issue 18). Costs were REAL and added in binary floating point: 1,000 rows of 0.10
-- read back as 99.9999999999986. Each cost type is now two integers: whole currency units
-- (`<type>_whole`, toward zero) and 10^-10 fractions (`<type>_frac`, |frac| < 10^10), so that
-- value = whole + frac / 10^10 exactly; sums of them are exact in SQL (src/storage/costs.ts).
-- Existing REAL values are converted once, rounded to 10 decimal places (99.9999999999986
-- becomes 100).
--
-- The tables are STRICT: a sum past SQLite's 64-bit integers (which SQLite would silently turn
-- into an inexact REAL) is refused by D1 instead ("cannot store REAL value in INTEGER column"),
-- and the drop gets 400 value_overflow with nothing applied (src/storage/finite-values.ts).
--
-- cost_daily is keyed by (org, connection, day, set) now, so that every read is a range scan of
-- the key per connection (one connection's or all of them), and it needs no second index: the
-- old key (org, day, ...) and its index by connection took about twice the space.

CREATE TABLE cost_hourly_exact (
	org_id TEXT NOT NULL,
	connection_id TEXT NOT NULL,
	hour TEXT NOT NULL, -- YYYY-MM-DDTHH:00:00Z, UTC
	dims_id INTEGER NOT NULL,
	cost_whole INTEGER NOT NULL,
	cost_frac INTEGER NOT NULL,
	discounted_cost_whole INTEGER NOT NULL,
	discounted_cost_frac INTEGER NOT NULL,
	amortized_cost_whole INTEGER NOT NULL,
	amortized_cost_frac INTEGER NOT NULL,
	discounted_amortized_cost_whole INTEGER NOT NULL,
	discounted_amortized_cost_frac INTEGER NOT NULL,
	on_demand_cost_whole INTEGER NOT NULL,
	on_demand_cost_frac INTEGER NOT NULL,
	PRIMARY KEY (org_id, connection_id, hour, dims_id)
) WITHOUT ROWID, STRICT;
INSERT INTO cost_hourly_exact (org_id, connection_id, hour, dims_id, cost_whole, cost_frac, discounted_cost_whole, discounted_cost_frac, amortized_cost_whole, amortized_cost_frac, discounted_amortized_cost_whole, discounted_amortized_cost_frac, on_demand_cost_whole, on_demand_cost_frac)
SELECT org_id, connection_id, hour, dims_id, CAST(cost AS INTEGER), CAST(round((cost - CAST(cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(discounted_cost AS INTEGER), CAST(round((discounted_cost - CAST(discounted_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(amortized_cost AS INTEGER), CAST(round((amortized_cost - CAST(amortized_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(discounted_amortized_cost AS INTEGER), CAST(round((discounted_amortized_cost - CAST(discounted_amortized_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(on_demand_cost AS INTEGER), CAST(round((on_demand_cost - CAST(on_demand_cost AS INTEGER)) * 10000000000) AS INTEGER) FROM cost_hourly;
DROP TABLE cost_hourly;
ALTER TABLE cost_hourly_exact RENAME TO cost_hourly;

CREATE TABLE cost_daily_exact (
	org_id TEXT NOT NULL,
	day TEXT NOT NULL, -- YYYY-MM-DD, UTC
	connection_id TEXT NOT NULL,
	dims_id INTEGER NOT NULL,
	cost_whole INTEGER NOT NULL,
	cost_frac INTEGER NOT NULL,
	discounted_cost_whole INTEGER NOT NULL,
	discounted_cost_frac INTEGER NOT NULL,
	amortized_cost_whole INTEGER NOT NULL,
	amortized_cost_frac INTEGER NOT NULL,
	discounted_amortized_cost_whole INTEGER NOT NULL,
	discounted_amortized_cost_frac INTEGER NOT NULL,
	on_demand_cost_whole INTEGER NOT NULL,
	on_demand_cost_frac INTEGER NOT NULL,
	PRIMARY KEY (org_id, connection_id, day, dims_id)
) WITHOUT ROWID, STRICT;
INSERT INTO cost_daily_exact (org_id, day, connection_id, dims_id, cost_whole, cost_frac, discounted_cost_whole, discounted_cost_frac, amortized_cost_whole, amortized_cost_frac, discounted_amortized_cost_whole, discounted_amortized_cost_frac, on_demand_cost_whole, on_demand_cost_frac)
SELECT org_id, day, connection_id, dims_id, CAST(cost AS INTEGER), CAST(round((cost - CAST(cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(discounted_cost AS INTEGER), CAST(round((discounted_cost - CAST(discounted_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(amortized_cost AS INTEGER), CAST(round((amortized_cost - CAST(amortized_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(discounted_amortized_cost AS INTEGER), CAST(round((discounted_amortized_cost - CAST(discounted_amortized_cost AS INTEGER)) * 10000000000) AS INTEGER), CAST(on_demand_cost AS INTEGER), CAST(round((on_demand_cost - CAST(on_demand_cost AS INTEGER)) * 10000000000) AS INTEGER) FROM cost_daily;
DROP TABLE cost_daily;
ALTER TABLE cost_daily_exact RENAME TO cost_daily;

-- A fraction rounded up to a whole unit (0.99999999999 -> 10^10) is carried.
UPDATE cost_hourly SET cost_whole = cost_whole + cost_frac / 10000000000, cost_frac = cost_frac % 10000000000, discounted_cost_whole = discounted_cost_whole + discounted_cost_frac / 10000000000, discounted_cost_frac = discounted_cost_frac % 10000000000, amortized_cost_whole = amortized_cost_whole + amortized_cost_frac / 10000000000, amortized_cost_frac = amortized_cost_frac % 10000000000, discounted_amortized_cost_whole = discounted_amortized_cost_whole + discounted_amortized_cost_frac / 10000000000, discounted_amortized_cost_frac = discounted_amortized_cost_frac % 10000000000, on_demand_cost_whole = on_demand_cost_whole + on_demand_cost_frac / 10000000000, on_demand_cost_frac = on_demand_cost_frac % 10000000000
WHERE abs(cost_frac) >= 10000000000 OR abs(discounted_cost_frac) >= 10000000000 OR abs(amortized_cost_frac) >= 10000000000 OR abs(discounted_amortized_cost_frac) >= 10000000000 OR abs(on_demand_cost_frac) >= 10000000000;
UPDATE cost_daily SET cost_whole = cost_whole + cost_frac / 10000000000, cost_frac = cost_frac % 10000000000, discounted_cost_whole = discounted_cost_whole + discounted_cost_frac / 10000000000, discounted_cost_frac = discounted_cost_frac % 10000000000, amortized_cost_whole = amortized_cost_whole + amortized_cost_frac / 10000000000, amortized_cost_frac = amortized_cost_frac % 10000000000, discounted_amortized_cost_whole = discounted_amortized_cost_whole + discounted_amortized_cost_frac / 10000000000, discounted_amortized_cost_frac = discounted_amortized_cost_frac % 10000000000, on_demand_cost_whole = on_demand_cost_whole + on_demand_cost_frac / 10000000000, on_demand_cost_frac = on_demand_cost_frac % 10000000000
WHERE abs(cost_frac) >= 10000000000 OR abs(discounted_cost_frac) >= 10000000000 OR abs(amortized_cost_frac) >= 10000000000 OR abs(discounted_amortized_cost_frac) >= 10000000000 OR abs(on_demand_cost_frac) >= 10000000000;
