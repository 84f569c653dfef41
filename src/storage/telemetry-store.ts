// All SQL of the service. Statements are parameterized; record data travels as one JSON
// parameter per statement and is unpacked with json_each, so a 10,000-record request is a
// handful of statements in one transaction rather than 10,000 round trips.
import type { ValueRow } from "../schemas/telemetry";

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

// D1 allows 2 MB per string value; chunks stay well below it.
const MAX_JSON_PARAM_CHARS = 400_000;

/** Splits rows into JSON arrays no longer than the per-parameter budget. */
export function jsonChunks(rows: unknown[]): string[] {
	const chunks: string[] = [];
	let current: string[] = [];
	let size = 2;
	for (const row of rows) {
		const json = JSON.stringify(row);
		if (current.length > 0 && size + json.length + 1 > MAX_JSON_PARAM_CHARS) {
			chunks.push(`[${current.join(",")}]`);
			current = [];
			size = 2;
		}
		current.push(json);
		size += json.length + 1;
	}
	if (current.length > 0) chunks.push(`[${current.join(",")}]`);
	return chunks;
}

// ---- tokens ---------------------------------------------------------------------------

export async function isTokenRevoked(db: D1Database, tokenHash: string): Promise<boolean> {
	return (await db.prepare("SELECT 1 FROM token_revocations WHERE token_hash = ?").bind(tokenHash).first()) !== null;
}

export async function isTokenIdRevoked(db: D1Database, tokenId: string): Promise<boolean> {
	return (await db.prepare("SELECT 1 FROM token_revocations WHERE token_id = ?").bind(tokenId).first()) !== null;
}

/** True for the error of a write batch whose ingest_log insert was refused because its token is revoked (migration 0005). */
export function isRevokedTokenError(err: unknown): boolean {
	return String(err).includes("meterline_token_revoked");
}

export async function recordTokenRevocation(db: D1Database, tokenId: string, tokenHash: string, revokedAt: string): Promise<void> {
	await db
		.prepare("INSERT INTO token_revocations (token_id, token_hash, revoked_at) VALUES (?, ?, ?) ON CONFLICT (token_id) DO NOTHING")
		.bind(tokenId, tokenHash, revokedAt)
		.run();
}

// ---- streams --------------------------------------------------------------------------

type RawStream = Omit<StreamRow, "dimension_keys"> & { dimension_keys: string };
const parseStream = <T extends RawStream>(row: T) => ({ ...row, dimension_keys: JSON.parse(row.dimension_keys) as string[] });

export async function findLiveStream(db: D1Database, org: string, name: string): Promise<StreamRow | null> {
	const row = await db
		.prepare("SELECT id, name, dimension_keys, created_at FROM streams WHERE org_id = ? AND name = ? AND deleted_at IS NULL")
		.bind(org, name)
		.first<RawStream>();
	return row ? parseStream(row) : null;
}

export async function listStreams(db: D1Database, org: string, after: string, limit: number): Promise<StreamSummary[]> {
	const { results } = await db
		.prepare(
			`SELECT s.id, s.name, s.dimension_keys, s.created_at,
				(SELECT MIN(day) FROM daily_values WHERE stream_id = s.id) AS first_day,
				(SELECT MAX(day) FROM daily_values WHERE stream_id = s.id) AS last_day,
				(SELECT COUNT(DISTINCT series_id) FROM daily_values WHERE stream_id = s.id) AS series_count
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

// ---- writes ---------------------------------------------------------------------------

// The stream is looked up by name inside each statement so the same statements work in the
// batch that creates it.
const LIVE_STREAM = "(SELECT id FROM streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";

/**
 * A chunk of value rows in the compact form the write statements read: each distinct series key
 * once (`keys`), and rows as [day, index into keys, value, record index]. The record index is
 * not read by SQL; it names the record in an error. A 1,000-record request over 200
 * series is then about a third of the bytes of one JSON object per row, which is what every hop
 * (RPC, D1's wire format, SQLite's JSON parser) pays for.
 */
export interface ValueChunk {
	keys: string;
	rows: string;
}

// Upper bound of one encoded row with its comma, ["YYYY-MM-DD",index,value,record]: 12 + 5 + 24 (longest number) + 5 + 6.
const MAX_ENCODED_ROW_CHARS = 54;

/** Splits rows into compact chunks whose keys and rows each stay within the per-parameter budget. */
export function valueChunks(rows: ValueRow[]): ValueChunk[] {
	const chunks: ValueChunk[] = [];
	let keyIndex = new Map<string, number>();
	let keys: string[] = [];
	let encoded: Array<[string, number, number, number]> = [];
	let keyChars = 2;
	for (const [day, key, value, record] of rows) {
		let index = keyIndex.get(key);
		const keyCost = index === undefined ? JSON.stringify(key).length + 1 : 0;
		const full = (encoded.length + 1) * MAX_ENCODED_ROW_CHARS > MAX_JSON_PARAM_CHARS || keyChars + keyCost > MAX_JSON_PARAM_CHARS;
		if (full && encoded.length > 0) {
			chunks.push({ keys: JSON.stringify(keys), rows: JSON.stringify(encoded) });
			keyIndex = new Map();
			keys = [];
			encoded = [];
			keyChars = 2;
			index = undefined;
		}
		if (index === undefined) {
			index = keys.push(key) - 1;
			keyIndex.set(key, index);
			keyChars += JSON.stringify(key).length + 1;
		}
		encoded.push([day, index, value, record]);
	}
	if (encoded.length > 0) chunks.push({ keys: JSON.stringify(keys), rows: JSON.stringify(encoded) });
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
	return chunks.flatMap(({ keys, rows }) => [insertSeries.bind(org, name, keys), upsertValues.bind(org, name, keys, rows)]);
}

/** Value rows decoded from valueChunks' form: [day, series key, value, record index]. */
export function decodeValueChunks(chunks: ValueChunk[]): ValueRow[] {
	return chunks.flatMap(({ keys, rows }) => {
		const seriesKeys = JSON.parse(keys) as string[];
		return (JSON.parse(rows) as Array<[string, number, number, number]>).map(([day, index, value, record]): ValueRow => [day, seriesKeys[index], value, record]);
	});
}

/** True for the error of a batch that would have stored a value beyond MAX_STORED_VALUE (migration 0006). */
export function isValueOverflowError(err: unknown): boolean {
	return String(err).includes("meterline_value_overflow");
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
	return jsonChunks(targets).flatMap((json) => [archive.bind(streamId, json, now, requestId), remove.bind(streamId, json)]);
}

// ---- reads ----------------------------------------------------------------------------

export async function seriesOfStream(db: D1Database, streamId: number): Promise<Array<{ id: number; series_key: string }>> {
	const { results } = await db.prepare("SELECT id, series_key FROM series WHERE stream_id = ?").bind(streamId).all<{ id: number; series_key: string }>();
	return results;
}

export interface ValueQuery {
	streamId: number;
	startDay: string;
	endDay: string;
	/** Only these series; all when null. */
	seriesIds: number[] | null;
	/** Keyset cursor: rows after this (day, series id). */
	after: [day: string, seriesId: number] | null;
	limit: number;
}

/** Daily values of a stream in (day, series) order. */
export async function readValues(db: D1Database, q: ValueQuery): Promise<ValueReadRow[]> {
	const [afterDay, afterSeries] = q.after ?? ["", 0];
	const { results } = await db
		.prepare(
			`SELECT v.day, v.series_id, s.series_key, v.value
			FROM daily_values v JOIN series s ON s.id = v.series_id
			WHERE v.stream_id = ?1 AND v.day BETWEEN ?2 AND ?3
				AND (?4 IS NULL OR v.series_id IN (SELECT value FROM json_each(?4)))
				AND (v.day, v.series_id) > (?5, ?6)
			ORDER BY v.day, v.series_id
			LIMIT ?7`,
		)
		.bind(q.streamId, q.startDay, q.endDay, q.seriesIds ? JSON.stringify(q.seriesIds) : null, afterDay, afterSeries, q.limit)
		.all<ValueReadRow>();
	return results;
}

// ---- ingest log and idempotency keys ------------------------------------------------------

/** One ingest_log row of an accepted write: the stream (or Cloudthread metric) it wrote to. */
export interface IngestLogTarget {
	stream: string;
	operation: string;
	recordCount: number;
}

export interface IngestLogEntry {
	requestId: string;
	org: string;
	tokenId: string;
	createdAt: string;
	/** One row each; a CloudZero write has one target, a Cloudthread ingest one per metric. */
	targets: IngestLogTarget[];
	idempotency?: { key: string; requestHash: string; response: string };
}

/**
 * The log rows of an accepted write; they go into the same batch as the write itself. Every
 * row carries the idempotency key and request hash; the response, which can be large, is
 * kept once, on the first target's row.
 */
export function ingestLogStatements(db: D1Database, e: IngestLogEntry): D1PreparedStatement[] {
	const insert = db.prepare(
		`INSERT INTO ingest_log (request_id, org_id, stream, operation, token_id, record_count, created_at, idempotency_key, request_hash, response)
		SELECT ?1, ?2, t.value ->> 0, t.value ->> 1, ?3, t.value ->> 2, ?4, ?5, ?6, CASE WHEN t.key = 0 THEN ?7 END
		FROM json_each(?8) t`,
	);
	const rows = e.targets.map((t) => [t.stream, t.operation, t.recordCount]);
	return jsonChunks(rows).map((json, chunk) =>
		insert.bind(
			e.requestId,
			e.org,
			e.tokenId,
			e.createdAt,
			e.idempotency?.key ?? null,
			e.idempotency?.requestHash ?? null,
			chunk === 0 ? (e.idempotency?.response ?? null) : null,
			json,
		),
	);
}

export interface IdempotentWrite {
	stream: string;
	request_hash: string;
	response: string | null;
}

/** What was recorded under an idempotency key for any of the given streams since the given time. */
export async function findIdempotentWrites(db: D1Database, org: string, streams: string[], key: string, since: string): Promise<IdempotentWrite[]> {
	const select = db.prepare(
		`SELECT stream, request_hash, response FROM ingest_log
		WHERE org_id = ?1 AND stream IN (SELECT value FROM json_each(?2)) AND idempotency_key = ?3 AND created_at >= ?4
		ORDER BY id`,
	);
	const chunks = jsonChunks(streams).map((json) => select.bind(org, json, key, since));
	if (chunks.length === 1) return (await chunks[0].all<IdempotentWrite>()).results;
	return (await db.batch<IdempotentWrite>(chunks)).flatMap((r) => r.results);
}

/**
 * Frees a key whose 24 hours are over but which the expiry alarm has not cleared yet, so that
 * reusing it does not collide with the unique index. Runs first in the batch that reuses it.
 */
export function releaseExpiredIdempotencyKeys(db: D1Database, org: string, streams: string[], key: string, since: string): D1PreparedStatement[] {
	const release = db.prepare(
		`UPDATE ingest_log SET idempotency_key = NULL, request_hash = NULL, response = NULL
		WHERE org_id = ?1 AND stream IN (SELECT value FROM json_each(?2)) AND idempotency_key = ?3 AND created_at < ?4`,
	);
	return jsonChunks(streams).map((json) => release.bind(org, json, key, since));
}

/**
 * Forgets the idempotency keys recorded before the given time for the streams between
 * firstStream and lastStream (inclusive); returns when the oldest remaining one was recorded.
 */
export async function expireIdempotencyKeys(
	db: D1Database,
	scope: { org: string; firstStream: string; lastStream: string },
	before: string,
): Promise<string | null> {
	const [, oldest] = await db.batch<{ created_at: string }>([
		db
			.prepare(
				`UPDATE ingest_log SET idempotency_key = NULL, request_hash = NULL, response = NULL
				WHERE org_id = ?1 AND stream BETWEEN ?2 AND ?3 AND idempotency_key IS NOT NULL AND created_at < ?4`,
			)
			.bind(scope.org, scope.firstStream, scope.lastStream, before),
		db
			.prepare("SELECT MIN(created_at) AS created_at FROM ingest_log WHERE org_id = ?1 AND stream BETWEEN ?2 AND ?3 AND idempotency_key IS NOT NULL")
			.bind(scope.org, scope.firstStream, scope.lastStream),
	]);
	return oldest.results[0]?.created_at ?? null;
}

export interface IngestLogRow {
	id: number;
	request_id: string;
	operation: string;
	token_id: string;
	record_count: number;
	created_at: string;
	idempotency_key: string | null;
}

/** A stream's ingest log, newest first, before the given row id. */
export async function readIngestLog(db: D1Database, org: string, stream: string, beforeId: number, limit: number): Promise<IngestLogRow[]> {
	const { results } = await db
		.prepare(
			`SELECT id, request_id, operation, token_id, record_count, created_at, idempotency_key
			FROM ingest_log WHERE org_id = ? AND stream = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		)
		.bind(org, stream, beforeId, limit)
		.all<IngestLogRow>();
	return results;
}
