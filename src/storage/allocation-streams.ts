// Allocation streams, their filter groups, elements and values (migration 0012). Statements are
// parameterized; rows travel as JSON parameters (see json-params.ts), so a request of 10,000 records
// is a handful of statements whatever its size.
import type { AllocationGranularity, AllocationRow, Filter } from "../schemas/allocation";
import type { DimensionFilter } from "../schemas/common";
import type { D1Reader } from "./d1";
import { filtersParam, jsonChunks, MAX_JSON_PARAM_CHARS } from "./json-params";

export interface AllocationStreamRow {
	id: number;
	name: string;
	granularity: AllocationGranularity;
	filter_keys: string[];
	created_at: string;
}

export interface AllocationStreamSummary extends AllocationStreamRow {
	first_period: string | null;
	last_period: string | null;
	element_count: number;
}

type RawStream = Omit<AllocationStreamRow, "filter_keys"> & { filter_keys: string };
const parseStream = <T extends RawStream>(row: T) => ({ ...row, filter_keys: JSON.parse(row.filter_keys) as string[] });

export async function findLiveAllocationStream(db: D1Reader, org: string, name: string): Promise<AllocationStreamRow | null> {
	return liveAllocationStreamRow(await liveAllocationStreamQuery(db, org, name).first<RawStream>());
}

/** The query of findLiveAllocationStream, to run in a batch; liveAllocationStreamRow reads its row. */
export function liveAllocationStreamQuery(db: D1Reader, org: string, name: string): D1PreparedStatement {
	return db
		.prepare(
			"SELECT id, name, granularity, filter_keys, created_at FROM allocation_streams WHERE org_id = ? AND name = ? AND deleted_at IS NULL",
		)
		.bind(org, name);
}

export function liveAllocationStreamRow(row: unknown): AllocationStreamRow | null {
	return row ? parseStream(row as RawStream) : null;
}

/** An organization's live allocation streams in name order, with their summaries: one row read per stream. */
export async function listAllocationStreams(db: D1Reader, org: string, after: string, limit: number): Promise<AllocationStreamSummary[]> {
	const { results } = await db
		.prepare(
			`SELECT id, name, granularity, filter_keys, created_at, first_period, last_period, element_count
			FROM allocation_streams
			WHERE org_id = ? AND deleted_at IS NULL AND name > ?
			ORDER BY name LIMIT ?`,
		)
		.bind(org, after, limit)
		.all<RawStream & Pick<AllocationStreamSummary, "first_period" | "last_period" | "element_count">>();
	return results.map(parseStream);
}

/** Creates a stream (inside the write's batch, so a failed write leaves no empty stream behind). */
export function insertAllocationStream(
	db: D1Database,
	org: string,
	name: string,
	granularity: AllocationGranularity,
	filterKeys: string[],
	now: string,
): D1PreparedStatement {
	return db
		.prepare("INSERT INTO allocation_streams (org_id, name, granularity, filter_keys, created_at) VALUES (?, ?, ?, ?, ?)")
		.bind(org, name, granularity, JSON.stringify(filterKeys), now);
}

export async function allocationStreamHasData(db: D1Database, streamId: number): Promise<boolean> {
	return (await db.prepare("SELECT 1 FROM allocation_values WHERE stream_id = ? LIMIT 1").bind(streamId).first()) !== null;
}

export function markAllocationStreamDeleted(db: D1Database, streamId: number, now: string): D1PreparedStatement {
	return db.prepare("UPDATE allocation_streams SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL").bind(now, streamId);
}

// The stream is looked up by name inside each statement so the same statements work in the batch
// that creates it.
const LIVE_STREAM = "(SELECT id FROM allocation_streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";

/**
 * A chunk of rows in the compact form the write statements read: each distinct filter group and
 * element of the chunk once (`groups`, `elements`: JSON arrays of strings), and rows as
 * [period, group index, element index, value, record index]. The record index is not read by SQL;
 * it names the record in an error.
 */
export interface AllocationChunk {
	groups: string;
	elements: string;
	rows: string;
	/** The chunk's earliest and latest period, for the stream's summary. */
	firstPeriod: string;
	lastPeriod: string;
}

// Upper bound of one encoded row with its comma: ["YYYY-MM-DDTHH:00:00Z",index,index,value,record].
const MAX_ENCODED_ROW_CHARS = 24 + 6 + 6 + 25 + 6 + 4;

/** Splits rows into compact chunks whose groups, elements and rows each stay within the per-parameter budget. */
export function allocationChunks(rows: AllocationRow[]): AllocationChunk[] {
	const chunks: AllocationChunk[] = [];
	let groups = new Map<string, number>();
	let elements = new Map<string, number>();
	let groupChars = 2;
	let elementChars = 2;
	let encoded: Array<[string, number, number, number, number]> = [];
	let firstPeriod = "";
	let lastPeriod = "";
	const flush = () =>
		chunks.push({
			groups: JSON.stringify([...groups.keys()]),
			elements: JSON.stringify([...elements.keys()]),
			rows: JSON.stringify(encoded),
			firstPeriod,
			lastPeriod,
		});
	for (const [period, filter, element, value, record] of rows) {
		const groupCost = groups.has(filter) ? 0 : JSON.stringify(filter).length + 1;
		const elementCost = elements.has(element) ? 0 : JSON.stringify(element).length + 1;
		const full =
			(encoded.length + 1) * MAX_ENCODED_ROW_CHARS > MAX_JSON_PARAM_CHARS ||
			groupChars + groupCost > MAX_JSON_PARAM_CHARS ||
			elementChars + elementCost > MAX_JSON_PARAM_CHARS;
		if (full && encoded.length > 0) {
			flush();
			groups = new Map();
			elements = new Map();
			groupChars = 2;
			elementChars = 2;
			encoded = [];
		}
		let groupIndex = groups.get(filter);
		if (groupIndex === undefined) {
			groupIndex = groups.size;
			groups.set(filter, groupIndex);
			groupChars += JSON.stringify(filter).length + 1;
		}
		let elementIndex = elements.get(element);
		if (elementIndex === undefined) {
			elementIndex = elements.size;
			elements.set(element, elementIndex);
			elementChars += JSON.stringify(element).length + 1;
		}
		if (encoded.length === 0 || period < firstPeriod) firstPeriod = period;
		if (encoded.length === 0 || period > lastPeriod) lastPeriod = period;
		encoded.push([period, groupIndex, elementIndex, value, record]);
	}
	if (encoded.length > 0) flush();
	return chunks;
}

/** Statements that add (sum) or set (replace) each row's value (rows as allocationChunks encodes them). Run them in one batch. */
export function allocationWriteStatements(
	db: D1Database,
	org: string,
	name: string,
	mode: "sum" | "replace",
	chunks: AllocationChunk[],
): D1PreparedStatement[] {
	const insertGroups = db.prepare(
		`INSERT INTO allocation_filter_groups (stream_id, filter)
		SELECT ${LIVE_STREAM}, value FROM json_each(?3) WHERE true
		ON CONFLICT (stream_id, filter) DO NOTHING`,
	);
	const insertElements = db.prepare(
		`INSERT INTO allocation_elements (stream_id, name)
		SELECT ${LIVE_STREAM}, value FROM json_each(?3) WHERE true
		ON CONFLICT (stream_id, name) DO NOTHING`,
	);
	// The stream's summary, before the chunk's values are stored: the chunk's periods widen the
	// range, and each of its elements without a live value yet is one more element. One index
	// probe per element of the chunk, whatever the stream holds.
	const summarize = db.prepare(
		`UPDATE allocation_streams SET
			first_period = min(coalesce(first_period, ?4), ?4),
			last_period = max(coalesce(last_period, ?5), ?5),
			element_count = element_count + (
				SELECT COUNT(*) FROM json_each(?3) k CROSS JOIN allocation_elements e ON e.stream_id = allocation_streams.id AND e.name = k.value
				WHERE NOT EXISTS (SELECT 1 FROM allocation_values v WHERE v.element_id = e.id))
		WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL`,
	);
	// The chunk's groups and elements are resolved to ids once (materialized index -> id tables),
	// then each row is one lookup in each. CROSS JOIN keeps json_each as the outer loop.
	const upsertValues = db.prepare(
		`WITH request_groups AS MATERIALIZED (
			SELECT k.key AS idx, g.id AS group_id, g.stream_id
			FROM json_each(?3) k CROSS JOIN allocation_filter_groups g ON g.stream_id = ${LIVE_STREAM} AND g.filter = k.value
		), request_elements AS MATERIALIZED (
			SELECT k.key AS idx, e.id AS element_id
			FROM json_each(?4) k CROSS JOIN allocation_elements e ON e.stream_id = ${LIVE_STREAM} AND e.name = k.value
		)
		INSERT INTO allocation_values (stream_id, period, group_id, element_id, value)
		SELECT g.stream_id, r.value ->> 0, g.group_id, e.element_id, r.value ->> 3
		FROM json_each(?5) r CROSS JOIN request_groups g ON g.idx = r.value ->> 1 CROSS JOIN request_elements e ON e.idx = r.value ->> 2
		WHERE true
		ON CONFLICT (stream_id, period, group_id, element_id) DO UPDATE SET value = ${mode === "sum" ? "value + excluded.value" : "excluded.value"}`,
	);
	return chunks.flatMap(({ groups, elements, rows, firstPeriod, lastPeriod }) => [
		insertGroups.bind(org, name, groups),
		insertElements.bind(org, name, elements),
		summarize.bind(org, name, elements, firstPeriod, lastPeriod),
		upsertValues.bind(org, name, groups, elements, rows),
	]);
}

/**
 * The records of a sum whose stored value would overflow once this request's is added (after D1
 * refused the commit): each chunk's rows joined with the values stored for them. Reads only those.
 */
export async function overflowingRecords(db: D1Database, streamId: number, chunks: AllocationChunk[]): Promise<number[]> {
	const query = db.prepare(
		`SELECT r.value ->> 4 AS record
		FROM json_each(?4) r
		CROSS JOIN allocation_filter_groups g ON g.stream_id = ?1 AND g.filter = ?2 ->> (r.value ->> 1)
		CROSS JOIN allocation_elements e ON e.stream_id = ?1 AND e.name = ?3 ->> (r.value ->> 2)
		CROSS JOIN allocation_values v ON v.stream_id = ?1 AND v.period = r.value ->> 0 AND v.group_id = g.id AND v.element_id = e.id
		WHERE abs(v.value + (r.value ->> 3)) > 1.79769313486231e308`,
	);
	if (chunks.length === 0) return [];
	const results = await db.batch<{ record: number }>(chunks.map((c) => query.bind(streamId, c.groups, c.elements, c.rows)));
	return results.flatMap((r) => r.results.map((row) => row.record));
}

/**
 * The live values a delete's records match: [period, group id, element id]. A record matches the
 * values of its period, of its element if it names one, and whose filter has, for each key the
 * record's filter names, exactly the values it lists (both canonical). Matching runs in SQL over
 * the values of the records' periods only.
 */
export async function deleteTargets(
	db: D1Database,
	streamId: number,
	matches: Array<[period: string, filter: Filter | null, element: string | null]>,
): Promise<Array<[period: string, groupId: number, elementId: number]>> {
	const query = db.prepare(
		`SELECT DISTINCT v.period, v.group_id, v.element_id
		FROM json_each(?2) m
		CROSS JOIN allocation_values v ON v.stream_id = ?1 AND v.period = m.value ->> 0
		JOIN allocation_filter_groups g ON g.id = v.group_id
		JOIN allocation_elements e ON e.id = v.element_id
		WHERE (m.value ->> 2 IS NULL OR e.name = m.value ->> 2)
			AND NOT EXISTS (
				SELECT 1 FROM json_each(m.value -> 1) f
				WHERE NOT EXISTS (SELECT 1 FROM json_each(g.filter) gf WHERE gf.key = f.key AND gf.value = f.value))`,
	);
	// No filter matches as an empty one: json_each of a JSON null would yield a row (the null itself).
	const chunks = jsonChunks(matches.map(([period, filter, element]) => [period, filter ?? {}, element]));
	const results = await db.batch<{ period: string; group_id: number; element_id: number }>(
		chunks.map((json) => query.bind(streamId, json)),
	);
	const targets = new Map<string, [string, number, number]>();
	for (const row of results.flatMap((r) => r.results)) {
		targets.set(`${row.period}|${row.group_id}|${row.element_id}`, [row.period, row.group_id, row.element_id]);
	}
	return [...targets.values()];
}

/** Statements that move the given values to deleted_allocation_values (soft delete). */
export function softDeleteAllocationStatements(
	db: D1Database,
	streamId: number,
	targets: Array<[period: string, groupId: number, elementId: number]>,
	now: string,
	requestId: string,
): D1PreparedStatement[] {
	// CROSS JOIN: one primary-key probe per target.
	const archive = db.prepare(
		`INSERT INTO deleted_allocation_values (stream_id, period, group_id, element_id, value, deleted_at, request_id)
		SELECT v.stream_id, v.period, v.group_id, v.element_id, v.value, ?3, ?4
		FROM json_each(?2) t CROSS JOIN allocation_values v
			ON v.stream_id = ?1 AND v.period = t.value ->> 0 AND v.group_id = t.value ->> 1 AND v.element_id = t.value ->> 2`,
	);
	const remove = db.prepare(
		`DELETE FROM allocation_values WHERE stream_id = ?1
			AND (period, group_id, element_id) IN (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?2))`,
	);
	// The summary after each chunk's removal: the first and last period again (two probes of the
	// primary key), and each element of the chunk left without a live value is one element less.
	const summarize = db.prepare(
		`UPDATE allocation_streams SET
			first_period = (SELECT MIN(period) FROM allocation_values WHERE stream_id = ?1),
			last_period = (SELECT MAX(period) FROM allocation_values WHERE stream_id = ?1),
			element_count = element_count - (
				SELECT COUNT(*) FROM (SELECT DISTINCT t.value ->> 2 AS element_id FROM json_each(?2) t) gone
				WHERE NOT EXISTS (SELECT 1 FROM allocation_values v WHERE v.element_id = gone.element_id))
		WHERE id = ?1`,
	);
	return jsonChunks(targets).flatMap((json) => [
		archive.bind(streamId, json, now, requestId),
		remove.bind(streamId, json),
		summarize.bind(streamId, json),
	]);
}

export interface AllocationValueRow {
	period: string;
	group_id: number;
	element_id: number;
	filter: string;
	element: string;
	value: number;
}

export interface AllocationValueQuery {
	org: string;
	/** The stream, by name: the query finds the live stream itself, so it runs in one batch with liveAllocationStreamQuery. */
	name: string;
	/** First and last day (YYYY-MM-DD, inclusive): the values of the periods that overlap them. */
	startDay: string;
	endDay: string;
	/** Every filter must pass: dim[key] when the group's values of key include one of the filter's, exclude[key] when they include none (a group without the key has none). None: every group. */
	filters: DimensionFilter[];
	/** Element names wanted; none: every element. */
	elements: string[];
	/** Keyset cursor: rows after this (period, group id, element id). */
	after: [period: string, groupId: number, elementId: number] | null;
	limit: number;
}

const STREAM_BY_NAME = "(SELECT id FROM allocation_streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";

// The groups passing the filters (?8, JSON [[key, [values], exclude]], see filtersParam): a filter
// fails when whether the group lists one of its values for the key equals its exclude flag. Keys
// are matched through json_each, so keys with dots or quotes need no escaping.
const FILTERED_GROUPS = `AND v.group_id IN (
	SELECT fg.id FROM allocation_filter_groups fg WHERE fg.stream_id = ${STREAM_BY_NAME} AND NOT EXISTS (
		SELECT 1 FROM json_each(?8) f WHERE EXISTS (
			SELECT 1 FROM json_each(fg.filter) gk, json_each(gk.value) gv, json_each(f.value -> 1) w
			WHERE gk.key = f.value ->> 0 AND gv.value = w.value) = f.value ->> 2))`;
// The elements wanted (?9, JSON array of names), found by name; their values through allocation_values_by_element.
const FILTERED_ELEMENTS = `AND v.element_id IN (
	SELECT fe.id FROM allocation_elements fe WHERE fe.stream_id = ${STREAM_BY_NAME} AND fe.name IN (SELECT value FROM json_each(?9)))`;

// A period is YYYY-MM-DDTHH:00:00Z, YYYY-MM-DD or YYYY-MM-01: the first one overlapping the start
// day ?3 is the day itself, or its month's for a MONTHLY stream; every period up to the end day ?4
// sorts before ?4 || 'T~' ('~' sorts after the digits and 'Z').
const PERIOD_OF_START_DAY = `CASE (SELECT granularity FROM allocation_streams WHERE id = ${STREAM_BY_NAME})
	WHEN 'MONTHLY' THEN substr(?3, 1, 8) || '01' ELSE ?3 END`;

/** Values of a stream in (period, group, element) order (no rows when there is no such live stream), as one statement. */
export function allocationValuesQuery(db: D1Reader, q: AllocationValueQuery): D1PreparedStatement {
	const [afterPeriod, afterGroup, afterElement] = q.after ?? ["", 0, 0];
	const byGroup = q.filters.length > 0;
	const byElement = q.elements.length > 0;
	return db
		.prepare(
			`SELECT v.period, v.group_id, v.element_id, g.filter, e.name AS element, v.value
			FROM allocation_values v
			JOIN allocation_filter_groups g ON g.id = v.group_id
			JOIN allocation_elements e ON e.id = v.element_id
			WHERE v.stream_id = ${STREAM_BY_NAME} AND v.period BETWEEN ${PERIOD_OF_START_DAY} AND ?4 || 'T~'
				AND (v.period, v.group_id, v.element_id) > (?5, ?6, ?7)
				${byGroup ? FILTERED_GROUPS : "AND ?8 IS NULL"}
				${byElement ? FILTERED_ELEMENTS : "AND ?9 IS NULL"}
			ORDER BY v.period, v.group_id, v.element_id
			LIMIT ?10`,
		)
		.bind(
			q.org,
			q.name,
			q.startDay,
			q.endDay,
			afterPeriod,
			afterGroup,
			afterElement,
			byGroup ? filtersParam(q.filters) : null,
			byElement ? JSON.stringify(q.elements) : null,
			q.limit,
		);
}
