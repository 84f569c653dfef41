// CloudZero streams, their series and daily values (migrations 0001 and 0006). Statements are
// parameterized; rows travel as JSON parameters (see json-params.ts).
import type { ValueRow } from "../schemas/cloudzero";
import type { DimensionFilter } from "../schemas/common";
import type { D1Reader } from "./d1";
import { filtersParam, jsonChunks, MAX_JSON_PARAM_CHARS } from "./json-params";

export interface StreamRow {
	id: number;
	name: string;
	dimension_keys: string[];
	created_at: string;
}

export interface StreamSummary extends StreamRow {
	first_day: string | null;
	last_day: string | null;
	series_count: number;
}

export interface ValueReadRow {
	day: string;
	series_id: number;
	series_key: string;
	value: number;
}

type RawStream = Omit<StreamRow, "dimension_keys"> & { dimension_keys: string };
const parseStream = <T extends RawStream>(row: T) => ({ ...row, dimension_keys: JSON.parse(row.dimension_keys) as string[] });

export async function findLiveStream(db: D1Reader, org: string, name: string): Promise<StreamRow | null> {
	return liveStreamRow(await liveStreamQuery(db, org, name).first<RawStream>());
}

/** The query of findLiveStream, to run in a batch; liveStreamRow reads its row. */
export function liveStreamQuery(db: D1Reader, org: string, name: string): D1PreparedStatement {
	return db
		.prepare("SELECT id, name, dimension_keys, created_at FROM streams WHERE org_id = ? AND name = ? AND deleted_at IS NULL")
		.bind(org, name);
}

export function liveStreamRow(row: unknown): StreamRow | null {
	return row ? parseStream(row as RawStream) : null;
}

/** An organization's live streams in name order, with their summaries (migration 0007): one row read per stream. */
export async function listStreams(db: D1Reader, org: string, after: string, limit: number): Promise<StreamSummary[]> {
	const { results } = await db
		.prepare(
			`SELECT s.id, s.name, s.dimension_keys, s.created_at, s.first_day, s.last_day, s.series_count
			FROM streams s
			WHERE s.org_id = ? AND s.deleted_at IS NULL AND s.name > ?
			ORDER BY s.name LIMIT ?`,
		)
		.bind(org, after, limit)
		.all<RawStream & Pick<StreamSummary, "first_day" | "last_day" | "series_count">>();
	return results.map(parseStream);
}

/** Creates a stream (inside the write's batch, so a failed write leaves no empty stream behind). */
export function insertStream(db: D1Database, org: string, name: string, dimensionKeys: string[], now: string): D1PreparedStatement {
	return db
		.prepare("INSERT INTO streams (org_id, name, dimension_keys, created_at) VALUES (?, ?, ?, ?) RETURNING id")
		.bind(org, name, JSON.stringify(dimensionKeys), now);
}

export async function streamHasData(db: D1Database, streamId: number): Promise<boolean> {
	return (await db.prepare("SELECT 1 FROM daily_values WHERE stream_id = ? LIMIT 1").bind(streamId).first()) !== null;
}

export function markStreamDeleted(db: D1Database, streamId: number, now: string): D1PreparedStatement {
	return db.prepare("UPDATE streams SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL").bind(now, streamId);
}

// The stream is looked up by name inside each statement so the same statements work in the
// batch that creates it.
const LIVE_STREAM = "(SELECT id FROM streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";

/**
 * A chunk of value rows in the compact form the write statements read: each distinct series key
 * once (`keys`), and rows as [day, index into keys, value]. A 1,000-record request over 200
 * series is then about a third of the bytes of one JSON object per row, which is what every hop
 * (RPC, D1's wire format, SQLite's JSON parser) pays for.
 */
export interface ValueChunk {
	keys: string;
	rows: string;
	/**
	 * Each row's first record (its index in the request), in the rows' order: it names the record
	 * in an error. Not sent to D1, whose JSON parser would read every row's a fifth longer.
	 */
	records: string;
	/** The chunk's earliest and latest day, for the stream's summary (migration 0007). */
	firstDay: string;
	lastDay: string;
}

/**
 * Splits rows into compact chunks whose keys and rows each stay within the per-parameter budget.
 * The JSON is written here, row by row, so each chunk is filled to its exact length (about 22
 * characters a row: a 10,000-record request over 200 series is one chunk, three statements).
 */
export function valueChunks(rows: ValueRow[]): ValueChunk[] {
	const chunks: ValueChunk[] = [];
	const dayJson = new Map<string, string>();
	let keyIndex = new Map<string, number>();
	let keys: string[] = [];
	let encoded: string[] = [];
	let records: number[] = [];
	let keyChars = 2;
	let rowChars = 2;
	let firstDay = "";
	let lastDay = "";
	const flush = () =>
		chunks.push({ keys: `[${keys.join(",")}]`, rows: `[${encoded.join(",")}]`, records: JSON.stringify(records), firstDay, lastDay });
	for (const [day, key, value, record] of rows) {
		let json = dayJson.get(day);
		if (json === undefined) {
			json = JSON.stringify(day);
			dayJson.set(day, json);
		}
		let index = keyIndex.get(key);
		let keyJson = index === undefined ? JSON.stringify(key) : "";
		// JSON.stringify writes a finite number as String does.
		let row = `[${json},${index ?? keys.length},${value}]`;
		if (encoded.length > 0 && (rowChars + row.length + 1 > MAX_JSON_PARAM_CHARS || keyChars + keyJson.length + 1 > MAX_JSON_PARAM_CHARS)) {
			flush();
			keyIndex = new Map();
			keys = [];
			encoded = [];
			records = [];
			keyChars = 2;
			rowChars = 2;
			if (index !== undefined) keyJson = JSON.stringify(key);
			index = undefined;
			row = `[${json},0,${value}]`;
		}
		if (index === undefined) {
			keyIndex.set(key, keys.length);
			keys.push(keyJson);
			keyChars += keyJson.length + 1;
		}
		if (encoded.length === 0 || day < firstDay) firstDay = day;
		if (encoded.length === 0 || day > lastDay) lastDay = day;
		encoded.push(row);
		records.push(record);
		rowChars += row.length + 1;
	}
	if (encoded.length > 0) flush();
	return chunks;
}

/** Statements that add (sum) or set (replace) each row's daily value (rows as valueChunks encodes them). Run them in one batch. */
export function valueWriteStatements(
	db: D1Database,
	org: string,
	name: string,
	mode: "sum" | "replace",
	chunks: ValueChunk[],
): D1PreparedStatement[] {
	const insertSeries = db.prepare(
		`INSERT INTO series (stream_id, series_key)
		SELECT ${LIVE_STREAM}, value FROM json_each(?3) WHERE true
		ON CONFLICT (stream_id, series_key) DO NOTHING`,
	);
	// The request's series are resolved to ids once (a materialized key index -> id table), then
	// each row is one lookup in it. CROSS JOIN keeps json_each as the outer loop: with a plain
	// JOIN SQLite may scan the stream's series outside and re-read the whole JSON array for each.
	// The Worker sends one row per (day, series) (the request's total for it).
	const upsertValues = db.prepare(
		`WITH request_series AS MATERIALIZED (
			SELECT k.key AS idx, se.id AS series_id, se.stream_id
			FROM json_each(?3) k CROSS JOIN series se ON se.stream_id = ${LIVE_STREAM} AND se.series_key = k.value
		)
		INSERT INTO daily_values (stream_id, day, series_id, value)
		SELECT rs.stream_id, r.value ->> 0, rs.series_id, r.value ->> 2
		FROM json_each(?4) r CROSS JOIN request_series rs ON rs.idx = r.value ->> 1
		WHERE true
		ON CONFLICT (stream_id, day, series_id) DO UPDATE SET value = ${mode === "sum" ? "value + excluded.value" : "excluded.value"}`,
	);
	// The stream's summary (migration 0007), before the chunk's values are stored: the chunk's days
	// widen the day range, and each of its series that has no live value yet is one more series.
	// One index probe per series of the chunk, whatever the stream holds.
	const summarize = db.prepare(
		`UPDATE streams SET
			first_day = min(coalesce(first_day, ?4), ?4),
			last_day = max(coalesce(last_day, ?5), ?5),
			series_count = series_count + (
				SELECT COUNT(*) FROM json_each(?3) k CROSS JOIN series se ON se.stream_id = streams.id AND se.series_key = k.value
				WHERE NOT EXISTS (SELECT 1 FROM daily_values v WHERE v.series_id = se.id))
		WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL`,
	);
	return chunks.flatMap(({ keys, rows, firstDay, lastDay }) => [
		insertSeries.bind(org, name, keys),
		summarize.bind(org, name, keys, firstDay, lastDay),
		upsertValues.bind(org, name, keys, rows),
	]);
}

/** Value rows decoded from valueChunks' form: [day, series key, value, record index]. */
export function decodeValueChunks(chunks: ValueChunk[]): ValueRow[] {
	return chunks.flatMap(({ keys, rows, records }) => {
		const seriesKeys = JSON.parse(keys) as string[];
		const first = JSON.parse(records) as number[];
		return (JSON.parse(rows) as Array<[string, number, number]>).map(
			([day, index, value], i): ValueRow => [day, seriesKeys[index], value, first[i]],
		);
	});
}

/** The live series of a stream that hold a value on any of the given days. */
export async function seriesOnDays(db: D1Database, streamId: number, days: string[]): Promise<ValueReadRow[]> {
	const { results } = await db
		.prepare(
			`SELECT v.day, v.series_id, s.series_key, v.value
			FROM daily_values v JOIN series s ON s.id = v.series_id
			WHERE v.stream_id = ?1 AND v.day IN (SELECT value FROM json_each(?2))`,
		)
		.bind(streamId, JSON.stringify(days))
		.all<ValueReadRow>();
	return results;
}

/** Statements that move the given (day, series) values to deleted_daily_values (soft delete). */
export function softDeleteStatements(
	db: D1Database,
	streamId: number,
	targets: Array<[day: string, seriesId: number]>,
	now: string,
	requestId: string,
): D1PreparedStatement[] {
	// CROSS JOIN: one primary-key probe per target rather than a scan of the stream per target.
	const archive = db.prepare(
		`INSERT INTO deleted_daily_values (stream_id, day, series_id, value, deleted_at, request_id)
		SELECT v.stream_id, v.day, v.series_id, v.value, ?3, ?4
		FROM json_each(?2) t CROSS JOIN daily_values v ON v.stream_id = ?1 AND v.day = t.value ->> 0 AND v.series_id = t.value ->> 1`,
	);
	const remove = db.prepare(
		`DELETE FROM daily_values WHERE stream_id = ?1 AND (day, series_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))`,
	);
	// The stream's summary (migration 0007), after each chunk's removal: the first and last day
	// again (two probes of the primary key), and each series of the chunk left with no live value
	// is one series less (its other values were either removed by an earlier chunk, which did not
	// count it then, or remain).
	const summarize = db.prepare(
		`UPDATE streams SET
			first_day = (SELECT MIN(day) FROM daily_values WHERE stream_id = ?1),
			last_day = (SELECT MAX(day) FROM daily_values WHERE stream_id = ?1),
			series_count = series_count - (
				SELECT COUNT(*) FROM (SELECT DISTINCT t.value ->> 1 AS series_id FROM json_each(?2) t) gone
				WHERE NOT EXISTS (SELECT 1 FROM daily_values v WHERE v.series_id = gone.series_id))
		WHERE id = ?1`,
	);
	return jsonChunks(targets).flatMap((json) => [
		archive.bind(streamId, json, now, requestId),
		remove.bind(streamId, json),
		summarize.bind(streamId, json),
	]);
}

export interface ValueQuery {
	org: string;
	/** The stream, by name: the query finds the live stream itself, so it can run in one batch with liveStreamQuery. */
	name: string;
	startDay: string;
	endDay: string;
	/** Every filter must pass: dim[key] when the series' value of key is one of its values, exclude[key] when it is none of them (a series without the key has none). None: every series. */
	filters: DimensionFilter[];
	/** Keyset cursor: rows after this (day, series id). */
	after: [day: string, seriesId: number] | null;
	limit: number;
}

const STREAM_BY_NAME = "(SELECT id FROM streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";

// The series passing the filters (?7, JSON [[key, [values], exclude]], see filtersParam), found
// from the series' keys: a filter fails when whether the series has one of its values equals its
// exclude flag. Dimensions are matched by key through json_each, so keys with dots or quotes need
// no escaping. A separate statement text, so that SQLite reads a filtered series through its
// index (daily_values_by_series) rather than every row of the stream.
const FILTERED_SERIES = `AND v.series_id IN (
	SELECT se.id FROM series se WHERE se.stream_id = ${STREAM_BY_NAME} AND NOT EXISTS (
		SELECT 1 FROM json_each(?7) f WHERE EXISTS (
			SELECT 1 FROM json_each(se.series_key) d JOIN json_each(f.value -> 1) w
			WHERE d.key = f.value ->> 0 AND d.value = w.value) = f.value ->> 2))`;

/** Daily values of a stream in (day, series) order (no rows when there is no such live stream), as one statement. */
export function valuesQuery(db: D1Reader, q: ValueQuery): D1PreparedStatement {
	const [afterDay, afterSeries] = q.after ?? ["", 0];
	const filtered = q.filters.length > 0;
	return db
		.prepare(
			`SELECT v.day, v.series_id, s.series_key, v.value
			FROM daily_values v JOIN series s ON s.id = v.series_id
			WHERE v.stream_id = ${STREAM_BY_NAME} AND v.day BETWEEN ?3 AND ?4
				AND (v.day, v.series_id) > (?5, ?6) ${filtered ? FILTERED_SERIES : "AND ?7 IS NULL"}
			ORDER BY v.day, v.series_id
			LIMIT ?8`,
		)
		.bind(q.org, q.name, q.startDay, q.endDay, afterDay, afterSeries, filtered ? filtersParam(q.filters) : null, q.limit);
}
