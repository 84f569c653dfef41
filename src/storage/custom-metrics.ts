// SQL for the Cloudthread-compatible custom metrics. As everywhere in storage/, statements are
// parameterized and record data travels as JSON parameters unpacked with json_each.
import type { AggFunc } from "../schemas/cloudthread";
import type { DimensionFilter } from "../schemas/common";
import type { D1Reader } from "./d1";
import { filtersParam, jsonChunks } from "./json-params";

/**
 * A validated ingest request of one organization and aggregation function, ready to apply in
 * one transaction. It may touch several metric names; every array is keyed by metric name.
 */
export interface IngestWrite {
	org: string;
	aggFunc: AggFunc;
	/** Each metric name with its earliest and latest hour and its number of data points in the request. */
	metrics: Array<[metricName: string, firstHour: string, lastHour: string, dataPoints: number]>;
	/** Each custom dimension key seen per metric. */
	dimensionKeys: Array<[metricName: string, key: string]>;
	/** Distinct records: record ID with its canonical dimensions JSON. */
	records: Array<[metricName: string, recordId: string, dimensions: string]>;
	/** Distinct (record, hour) points, the last of repeated ones kept, with that one's index in the request's data. */
	points: Array<[metricName: string, recordId: string, hour: string, value: number, dataPoint: number]>;
}

export interface MetricRow {
	id: number;
	name: string;
	agg_func: AggFunc;
	dimension_keys: string[];
	first_hour: string;
	last_hour: string;
	record_count: number;
	created_at: string;
}

export interface MetricPointRow {
	timestamp: string;
	record_id: string;
	value: number;
	hours: number | null;
	dimensions: string;
}

// The metric of a JSON row whose first element is the metric name (?1 org, ?2 function).
// Always after CROSS JOIN: json_each must stay the outer loop, or SQLite may scan the
// organization's metrics outside and re-read the whole JSON parameter once per metric.
const METRIC_OF_ROW = "custom_metrics m ON m.org_id = ?1 AND m.agg_func = ?2 AND m.name = r.value ->> 0";

/**
 * Statements that create the request's metrics, upsert their hourly points and recompute the
 * daily aggregate of every (record, day) touched from that day's stored points. Run them in
 * one batch: the recomputation then reads the points as this same transaction left them, so
 * the aggregates always match the points.
 */
export function ingestStatements(db: D1Database, write: IngestWrite, now: string): D1PreparedStatement[] {
	const { org, aggFunc } = write;
	const upsertMetrics = db.prepare(
		`INSERT INTO custom_metrics (org_id, name, agg_func, created_at, first_hour, last_hour)
		SELECT ?1, r.value ->> 0, ?2, ?4, r.value ->> 1, r.value ->> 2 FROM json_each(?3) r WHERE true
		ON CONFLICT (org_id, name, agg_func) DO UPDATE SET
			first_hour = min(first_hour, excluded.first_hour), last_hour = max(last_hour, excluded.last_hour)`,
	);
	const insertKeys = db.prepare(
		`INSERT INTO custom_metric_dimension_keys (metric_id, key)
		SELECT m.id, r.value ->> 1 FROM json_each(?3) r CROSS JOIN ${METRIC_OF_ROW} WHERE true
		ON CONFLICT (metric_id, key) DO NOTHING`,
	);
	const insertRecords = db.prepare(
		`INSERT INTO custom_metric_records (metric_id, record_id, dimensions)
		SELECT m.id, r.value ->> 1, r.value ->> 2 FROM json_each(?3) r CROSS JOIN ${METRIC_OF_ROW} WHERE true
		ON CONFLICT (metric_id, record_id) DO NOTHING`,
	);
	const upsertPoints = db.prepare(
		`INSERT INTO custom_metric_hourly_values (metric_id, record_id, hour, value)
		SELECT m.id, r.value ->> 1, r.value ->> 2, r.value ->> 3 FROM json_each(?3) r CROSS JOIN ${METRIC_OF_ROW} WHERE true
		ON CONFLICT (metric_id, record_id, hour) DO UPDATE SET value = excluded.value`,
	);
	// The function comes from the bound, validated metric_agg_func; an unknown one yields NULL,
	// which the NOT NULL column refuses, failing the whole batch. An Average of values near the
	// largest double is taken over values scaled by 2^-5 (exact), so their sum cannot overflow;
	// a Sum that overflows is refused by migration 0006's trigger.
	const recomputeDays = db.prepare(
		`INSERT INTO custom_metric_daily_values (metric_id, day, record_id, value, hours)
		SELECT h.metric_id, a.day, h.record_id,
			CASE ?2 WHEN 'Sum' THEN SUM(h.value)
				WHEN 'Average' THEN CASE WHEN MAX(ABS(h.value)) > 1e300 THEN AVG(h.value * 0.03125) * 32 ELSE AVG(h.value) END
				WHEN 'Maximum' THEN MAX(h.value) WHEN 'Minimum' THEN MIN(h.value) END,
			COUNT(*)
		FROM (SELECT DISTINCT m.id AS metric_id, r.value ->> 1 AS record_id, r.value ->> 2 AS day FROM json_each(?3) r CROSS JOIN ${METRIC_OF_ROW}) a
		JOIN custom_metric_hourly_values h ON h.metric_id = a.metric_id AND h.record_id = a.record_id
			AND h.hour BETWEEN a.day || 'T00:00:00Z' AND a.day || 'T23:00:00Z'
		WHERE true
		GROUP BY h.metric_id, a.day, h.record_id
		ON CONFLICT (metric_id, day, record_id) DO UPDATE SET value = excluded.value, hours = excluded.hours`,
	);
	const recordDays = recordDaysOf(write);
	const bindAll = (statement: D1PreparedStatement, rows: unknown[], ...extra: string[]) =>
		jsonChunks(rows).map((json) => statement.bind(org, aggFunc, json, ...extra));
	return [
		...bindAll(upsertMetrics, write.metrics, now),
		...bindAll(insertKeys, write.dimensionKeys),
		...bindAll(insertRecords, write.records),
		...bindAll(upsertPoints, write.points),
		...bindAll(recomputeDays, recordDays),
	];
}

/** The distinct (metric, record, day)s an ingest touches. */
export function recordDaysOf(write: Pick<IngestWrite, "points">): Array<[metricName: string, recordId: string, day: string]> {
	return [...new Set(write.points.map(([name, id, hour]) => JSON.stringify([name, id, hour.slice(0, 10)])))].map(
		(json) => JSON.parse(json) as [string, string, string],
	);
}

/** The stored hourly points of the given (metric, record, day)s. */
export async function hourlyPointsOnRecordDays(
	db: D1Database,
	org: string,
	aggFunc: AggFunc,
	recordDays: Array<[metricName: string, recordId: string, day: string]>,
): Promise<Array<{ metric_name: string; record_id: string; hour: string; value: number }>> {
	const select = db.prepare(
		`SELECT m.name AS metric_name, h.record_id, h.hour, h.value
		FROM json_each(?3) r CROSS JOIN ${METRIC_OF_ROW}
		JOIN custom_metric_hourly_values h ON h.metric_id = m.id AND h.record_id = r.value ->> 1
			AND h.hour BETWEEN (r.value ->> 2) || 'T00:00:00Z' AND (r.value ->> 2) || 'T23:00:00Z'`,
	);
	const results = await db.batch<{ metric_name: string; record_id: string; hour: string; value: number }>(
		jsonChunks(recordDays).map((json) => select.bind(org, aggFunc, json)),
	);
	return results.flatMap((r) => r.results);
}

const METRIC_COLUMNS = `m.id, m.name, m.agg_func, m.created_at, m.first_hour, m.last_hour,
	(SELECT json_group_array(key) FROM (SELECT key FROM custom_metric_dimension_keys WHERE metric_id = m.id ORDER BY key)) AS dimension_keys,
	(SELECT COUNT(*) FROM custom_metric_records WHERE metric_id = m.id) AS record_count`;

type RawMetric = Omit<MetricRow, "dimension_keys"> & { dimension_keys: string };
const parseMetric = (row: RawMetric): MetricRow => ({ ...row, dimension_keys: JSON.parse(row.dimension_keys) as string[] });

/** An organization's metrics in (name, function) order, after a keyset cursor. */
export async function listMetrics(
	db: D1Reader,
	org: string,
	after: [name: string, aggFunc: string] | null,
	limit: number,
): Promise<MetricRow[]> {
	const [afterName, afterFunc] = after ?? ["", ""];
	const { results } = await db
		.prepare(
			`SELECT ${METRIC_COLUMNS} FROM custom_metrics m
			WHERE m.org_id = ?1 AND (m.name, m.agg_func) > (?2, ?3)
			ORDER BY m.name, m.agg_func LIMIT ?4`,
		)
		.bind(org, afterName, afterFunc, limit)
		.all<RawMetric>();
	return results.map(parseMetric);
}

/** The query of one metric, to run in a batch; metricRow reads its row. */
export function metricQuery(db: D1Reader, org: string, name: string, aggFunc: AggFunc): D1PreparedStatement {
	return db
		.prepare(`SELECT ${METRIC_COLUMNS} FROM custom_metrics m WHERE m.org_id = ?1 AND m.name = ?2 AND m.agg_func = ?3`)
		.bind(org, name, aggFunc);
}

export function metricRow(row: unknown): MetricRow | null {
	return row ? parseMetric(row as RawMetric) : null;
}

export interface MetricPointQuery {
	/** The metric, by organization, name and function: the query finds it itself, so it can run in one batch with metricQuery. */
	org: string;
	name: string;
	aggFunc: AggFunc;
	granularity: "day" | "hour";
	startDay: string;
	endDay: string;
	/** Every filter must pass: dim[key] when the record's value of key is one of its values, exclude[key] when it is none of them (a record without the key has none). */
	filters: DimensionFilter[];
	/** Keyset cursor: points after this (timestamp, record ID). */
	after: [timestamp: string, recordId: string] | null;
	limit: number;
}

// Filters travel as one JSON parameter (filtersParam); a filter fails when whether the record
// has one of its values equals its exclude flag. Dimensions are matched by key through
// json_each, so keys with dots or quotes need no JSON-path escaping.
const DIMENSION_FILTER = `(?6 IS NULL OR NOT EXISTS (
	SELECT 1 FROM json_each(?6) f WHERE EXISTS (
		SELECT 1 FROM json_each(r.dimensions) d JOIN json_each(f.value -> 1) w
		WHERE d.key = f.value ->> 0 AND d.value = w.value) = f.value ->> 2))`;

// ?1 org, ?8 name, ?9 function.
const METRIC_BY_NAME = "(SELECT id FROM custom_metrics WHERE org_id = ?1 AND name = ?8 AND agg_func = ?9)";

const READ_DAILY = `SELECT v.day AS timestamp, v.record_id, v.value, v.hours, r.dimensions
	FROM custom_metric_daily_values v
	JOIN custom_metric_records r ON r.metric_id = v.metric_id AND r.record_id = v.record_id
	WHERE v.metric_id = ${METRIC_BY_NAME} AND v.day BETWEEN ?2 AND ?3 AND (v.day, v.record_id) > (?4, ?5) AND ${DIMENSION_FILTER}
	ORDER BY v.day, v.record_id LIMIT ?7`;

const READ_HOURLY = `SELECT h.hour AS timestamp, h.record_id, h.value, NULL AS hours, r.dimensions
	FROM custom_metric_hourly_values h
	JOIN custom_metric_records r ON r.metric_id = h.metric_id AND r.record_id = h.record_id
	WHERE h.metric_id = ${METRIC_BY_NAME} AND h.hour BETWEEN ?2 || 'T00:00:00Z' AND ?3 || 'T23:00:00Z'
		AND (h.hour, h.record_id) > (?4, ?5) AND ${DIMENSION_FILTER}
	ORDER BY h.hour, h.record_id LIMIT ?7`;

/** A metric's daily aggregates or hourly points in (timestamp, record ID) order (none when there is no such metric), as one statement. */
export function metricPointsQuery(db: D1Reader, q: MetricPointQuery): D1PreparedStatement {
	const [afterTimestamp, afterRecord] = q.after ?? ["", ""];
	return db
		.prepare(q.granularity === "day" ? READ_DAILY : READ_HOURLY)
		.bind(
			q.org,
			q.startDay,
			q.endDay,
			afterTimestamp,
			afterRecord,
			q.filters.length > 0 ? filtersParam(q.filters) : null,
			q.limit,
			q.name,
			q.aggFunc,
		);
}
