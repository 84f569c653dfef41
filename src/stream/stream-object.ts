import { DurableObject } from "cloudflare:workers";
import type { ErrorDetail } from "../http/errors";
import type { DeleteMatch, WriteAccepted } from "../schemas/telemetry";
import { summarizeDetails } from "../schemas/validation";
import {
	expireIdempotencyKeys,
	findIdempotentWrite,
	findLiveStream,
	ingestLogStatement,
	insertStream,
	markStreamDeleted,
	releaseExpiredIdempotencyKey,
	seriesOnDays,
	softDeleteStatements,
	streamHasData,
	valueWriteStatements,
	type StreamRow,
} from "../storage/telemetry-store";
import type { DeleteStreamCommand, DeleteStreamResult, StreamDeleted, StreamFailure, WriteCommand, WriteResult } from "./protocol";
import { SerialQueue } from "./serial-queue";

/** How long a repeated Idempotency-Key is answered with the first response. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

type Call = { org: string; stream: string; idempotency?: { key: string; requestHash: string } };
type Applied<T> = { response: T; statements: D1PreparedStatement[]; recordCount: number; afterCommit?: () => void };

/**
 * One object per stream; every change to the stream goes through it, and through its queue:
 * each change (check the stream's state and idempotency key, then one D1 transaction holding
 * the data, the ingest log row and the key) completes before the next starts.
 */
export class StreamObject extends DurableObject<Env> {
	private readonly queue = new SerialQueue();
	/** The stream as last read or written here; undefined until first loaded. */
	private cached: StreamRow | null | undefined;

	async write(cmd: WriteCommand): Promise<WriteResult> {
		return this.change(cmd, cmd.op, () => (cmd.op === "delete" ? this.deleteRecords(cmd) : this.writeValues(cmd)));
	}

	async deleteStream(cmd: DeleteStreamCommand): Promise<DeleteStreamResult> {
		return this.change(cmd, "delete_stream", async () => {
			const stream = await this.stream(cmd.org, cmd.stream);
			if (!stream) return notFound(cmd.stream);
			if (!cmd.force && (await streamHasData(this.env.DB, stream.id))) {
				return failure(409, "stream_not_empty", `Stream '${cmd.stream}' has data; send {"force": true} to delete it anyway`);
			}
			const deletedAt = new Date().toISOString();
			const response: StreamDeleted = { message: "Stream deleted", stream: cmd.stream, deleted_at: deletedAt, request_id: cmd.requestId };
			return {
				response,
				statements: [markStreamDeleted(this.env.DB, stream.id, deletedAt)],
				recordCount: 0,
				afterCommit: () => (this.cached = null),
			};
		});
	}

	/** Expires this stream's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		const identity = await this.ctx.storage.get<{ org: string; stream: string }>("identity");
		if (!identity) return;
		await this.queue.run(async () => {
			const oldest = await expireIdempotencyKeys(this.env.DB, identity.org, identity.stream, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS).toISOString());
			if (oldest) await this.ctx.storage.setAlarm(Date.parse(oldest) + IDEMPOTENCY_WINDOW_MS);
		});
	}

	/**
	 * Runs one change in the queue: answers a repeated idempotency key from the log, otherwise
	 * commits the change's statements together with its ingest log row, then responds.
	 */
	private change<T>(
		cmd: Call & { requestId: string; tokenId: string },
		operation: string,
		apply: () => Promise<Applied<T> | StreamFailure>,
	): Promise<{ ok: true; response: T; replayed: boolean } | StreamFailure> {
		return this.queue
			.run(async () => {
				const now = new Date();
				const since = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
				if (cmd.idempotency) {
					const earlier = await findIdempotentWrite(this.env.DB, cmd.org, cmd.stream, cmd.idempotency.key, since);
					if (earlier && earlier.request_hash !== cmd.idempotency.requestHash) {
						return failure(409, "idempotency_key_reused", "This Idempotency-Key was already used with a different request in the last 24 hours");
					}
					if (earlier) return { ok: true as const, response: JSON.parse(earlier.response) as T, replayed: true };
				}
				const applied = await apply();
				if ("ok" in applied) return applied;
				const log = ingestLogStatement(this.env.DB, {
					requestId: cmd.requestId,
					org: cmd.org,
					stream: cmd.stream,
					operation,
					tokenId: cmd.tokenId,
					recordCount: applied.recordCount,
					createdAt: now.toISOString(),
					idempotency: cmd.idempotency && { ...cmd.idempotency, response: JSON.stringify(applied.response) },
				});
				const release = cmd.idempotency ? [releaseExpiredIdempotencyKey(this.env.DB, cmd.org, cmd.stream, cmd.idempotency.key, since)] : [];
				await this.env.DB.batch([...applied.statements, ...release, log]);
				applied.afterCommit?.();
				if (cmd.idempotency) await this.scheduleExpiry(cmd, now.getTime());
				return { ok: true as const, response: applied.response, replayed: false };
			})
			.catch((err) => {
				// D1's outcome is unknown after an error: forget what we think the stream looks like.
				this.cached = undefined;
				throw err;
			});
	}

	private async scheduleExpiry(cmd: Call, recordedAt: number): Promise<void> {
		if ((await this.ctx.storage.getAlarm()) !== null) return;
		await this.ctx.storage.put("identity", { org: cmd.org, stream: cmd.stream });
		await this.ctx.storage.setAlarm(recordedAt + IDEMPOTENCY_WINDOW_MS);
	}

	private async stream(org: string, name: string): Promise<StreamRow | null> {
		if (this.cached === undefined) this.cached = await findLiveStream(this.env.DB, org, name);
		return this.cached;
	}

	private async writeValues(cmd: Extract<WriteCommand, { op: "sum" | "replace" }>): Promise<Applied<WriteAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (stream && !sameKeys(stream.dimension_keys, cmd.dimensionKeys)) {
			const expected = describeKeys(stream.dimension_keys);
			const details: ErrorDetail[] = cmd.rows.map((_, record) => ({
				code: "inconsistent_filter_keys",
				message: `All records in a stream must contain the same filter keys: stream '${cmd.stream}' has ${expected}, this record has ${describeKeys(cmd.dimensionKeys)}`,
				record,
				path: `records[${record}].associated_cost`,
			}));
			return invalid(details);
		}
		const statements = valueWriteStatements(this.env.DB, cmd.org, cmd.stream, cmd.op, cmd.rows);
		const response = accepted(cmd, cmd.rows.length, !stream);
		if (stream) return { response, statements, recordCount: cmd.rows.length };

		const now = new Date().toISOString();
		const create = insertStream(this.env.DB, cmd.org, cmd.stream, cmd.dimensionKeys, now);
		return {
			response,
			statements: [create, ...statements],
			recordCount: cmd.rows.length,
			// The new stream's id is only known after commit; it is read again on next use.
			afterCommit: () => (this.cached = undefined),
		};
	}

	private async deleteRecords(cmd: Extract<WriteCommand, { op: "delete" }>): Promise<Applied<WriteAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (!stream) return notFound(cmd.stream);

		const known = new Set(stream.dimension_keys);
		const details: ErrorDetail[] = [];
		cmd.matches.forEach(([, dims], record) => {
			const unknown = Object.keys(dims).filter((key) => !known.has(key));
			if (unknown.length > 0) {
				details.push({
					code: "unknown_filter_keys",
					message: `Unrecognized filter keys ${unknown.map((k) => `'${k}'`).join(", ")}: stream '${cmd.stream}' has ${describeKeys(stream.dimension_keys)}`,
					record,
					path: `records[${record}].associated_cost`,
				});
			}
		});
		if (details.length > 0) return invalid(details);

		const candidates = await seriesOnDays(this.env.DB, stream.id, [...new Set(cmd.matches.map(([day]) => day))]);
		const targets = new Map<string, [string, number]>();
		for (const row of candidates) {
			const dims = JSON.parse(row.series_key) as Record<string, string>;
			if (cmd.matches.some((match) => matches(match, row.day, dims))) targets.set(`${row.day}|${row.series_id}`, [row.day, row.series_id]);
		}
		const statements = softDeleteStatements(this.env.DB, stream.id, [...targets.values()], new Date().toISOString(), cmd.requestId);
		return {
			response: { ...accepted(cmd, cmd.matches.length, false), series_deleted: targets.size },
			statements,
			recordCount: cmd.matches.length,
		};
	}
}

function accepted(cmd: WriteCommand, records: number, streamCreated: boolean): WriteAccepted {
	return {
		message: "Telemetry accepted",
		operation: cmd.op,
		stream: cmd.stream,
		records,
		stream_created: streamCreated,
		request_id: cmd.requestId,
	};
}

function matches([day, wanted]: DeleteMatch, rowDay: string, dims: Record<string, string>): boolean {
	if (day !== rowDay) return false;
	for (const key in wanted) if (dims[key] !== wanted[key]) return false;
	return true;
}

function sameKeys(a: string[], b: string[]): boolean {
	return a.length === b.length && a.every((key, i) => key === b[i]);
}

function describeKeys(keys: string[]): string {
	return keys.length === 0 ? "no dimensions" : `dimensions [${keys.map((k) => `'${k}'`).join(", ")}]`;
}

function failure(status: StreamFailure["status"], code: string, message: string): StreamFailure {
	return { ok: false, status, code, message };
}

function notFound(stream: string): StreamFailure {
	return failure(404, "stream_not_found", `Stream '${stream}' does not exist`);
}

function invalid(details: ErrorDetail[]): StreamFailure {
	return { ok: false, status: 400, ...summarizeDetails(details), details };
}
