// The ingest log: one row per stream (or Cloudthread metric) an accepted write changed, written
// in the same transaction as the write. Rows written with an Idempotency-Key keep the request's
// hash and response for 24 hours: the write ledger (src/objects/write-ledger.ts) of both APIs'
// objects answers repeats from them.
import { jsonChunks } from "./json-params";

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

/**
 * The statements that find what was recorded under an idempotency key for any of the given
 * streams since the given time: run them in a batch (with other changes' look-ups) and flatten
 * their results, in order.
 */
export function idempotentWritesStatements(
	db: D1Database,
	org: string,
	streams: string[],
	key: string,
	since: string,
): D1PreparedStatement[] {
	const select = db.prepare(
		`SELECT stream, request_hash, response FROM ingest_log
		WHERE org_id = ?1 AND stream IN (SELECT value FROM json_each(?2)) AND idempotency_key = ?3 AND created_at >= ?4
		ORDER BY id`,
	);
	return jsonChunks(streams).map((json) => select.bind(org, json, key, since));
}

/**
 * Frees a key whose 24 hours are over but which the expiry alarm has not cleared yet, so that
 * reusing it does not collide with the unique index. Runs first in the batch that reuses it.
 */
export function releaseExpiredIdempotencyKeys(
	db: D1Database,
	org: string,
	streams: string[],
	key: string,
	since: string,
): D1PreparedStatement[] {
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
			.prepare(
				"SELECT MIN(created_at) AS created_at FROM ingest_log WHERE org_id = ?1 AND stream BETWEEN ?2 AND ?3 AND idempotency_key IS NOT NULL",
			)
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
export async function readIngestLog(
	db: Pick<D1Database, "prepare">,
	org: string,
	stream: string,
	beforeId: number,
	limit: number,
): Promise<IngestLogRow[]> {
	const { results } = await db
		.prepare(
			`SELECT id, request_id, operation, token_id, record_count, created_at, idempotency_key
			FROM ingest_log WHERE org_id = ? AND stream = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		)
		.bind(org, stream, beforeId, limit)
		.all<IngestLogRow>();
	return results;
}
