-- Each stream's summary, kept up to date by the writes that change its daily values
-- (src/storage/streams.ts), so that listing streams reads one row per stream instead of
-- scanning every daily value of every stream listed:
--   first_day, last_day: the earliest and latest day with a live value (NULL: none);
--   series_count: the series with at least one live value.
ALTER TABLE streams ADD COLUMN first_day TEXT;
ALTER TABLE streams ADD COLUMN last_day TEXT;
ALTER TABLE streams ADD COLUMN series_count INTEGER NOT NULL DEFAULT 0;

-- Backfill from the values stored so far (deleted streams too: they keep their data).
UPDATE streams SET
	first_day = (SELECT MIN(day) FROM daily_values WHERE stream_id = streams.id),
	last_day = (SELECT MAX(day) FROM daily_values WHERE stream_id = streams.id),
	series_count = (SELECT COUNT(DISTINCT series_id) FROM daily_values WHERE stream_id = streams.id);
