-- Stored values are always finite numbers whose 15-significant-digit form is finite too, so
-- that every read can show them. Before this migration, two sums of 1e308 into one day stored
-- Infinity, which D1 hands back as null and every later read of the stream failed on.
-- 1.79769313486231e308 is the largest 15-digit number below the largest double: anything
-- larger rounds to Infinity when shown. The writes check the same bound before they commit
-- (src/lib/numbers.ts); these triggers also cover what only the database sees: a sum of a
-- request's value and the stored one. Their message is matched by the storage modules.

-- CloudZero daily values already non-finite are soft-deleted (kept in deleted_daily_values
-- for the record, hidden from reads) rather than guessed at.
INSERT INTO deleted_daily_values (stream_id, day, series_id, value, deleted_at, request_id)
SELECT stream_id, day, series_id, value, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'migration:0006_finite_values'
FROM daily_values WHERE abs(value) > 1.79769313486231e308;
DELETE FROM daily_values WHERE abs(value) > 1.79769313486231e308;

CREATE TRIGGER daily_values_finite_on_insert
BEFORE INSERT ON daily_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;

CREATE TRIGGER daily_values_finite_on_update
BEFORE UPDATE OF value ON daily_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;

-- Cloudthread daily aggregates are recomputed from the hourly points (always finite); a day
-- whose Sum overflowed loses its aggregate (its hourly points stay readable), and Averages are
-- now computed without overflowing (src/storage/metric-store.ts), so one that overflowed is
-- recomputed here the same way.
UPDATE custom_metric_daily_values SET value = (
	SELECT AVG(h.value * 0.03125) * 32 FROM custom_metric_hourly_values h
	WHERE h.metric_id = custom_metric_daily_values.metric_id AND h.record_id = custom_metric_daily_values.record_id
		AND h.hour BETWEEN custom_metric_daily_values.day || 'T00:00:00Z' AND custom_metric_daily_values.day || 'T23:00:00Z'
)
WHERE abs(value) > 1.79769313486231e308
	AND metric_id IN (SELECT id FROM custom_metrics WHERE agg_func = 'Average');
DELETE FROM custom_metric_daily_values WHERE abs(value) > 1.79769313486231e308;

CREATE TRIGGER custom_metric_daily_values_finite_on_insert
BEFORE INSERT ON custom_metric_daily_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;

CREATE TRIGGER custom_metric_daily_values_finite_on_update
BEFORE UPDATE OF value ON custom_metric_daily_values
WHEN abs(NEW.value) > 1.79769313486231e308
BEGIN
	SELECT RAISE(ABORT, 'meterline_value_overflow');
END;
