import { DurableObject } from "cloudflare:workers";
import { type ErrorDetail, streamNotEmpty, streamNotFound } from "../lib/api-error";
import { isStorable, MAX_STORED_VALUE } from "../lib/numbers";
import type { DeleteMatch, WriteAccepted } from "../schemas/cloudzero";
import {
	decodeValueChunks,
	findLiveStream,
	insertStream,
	markStreamDeleted,
	type StreamRow,
	seriesOnDays,
	softDeleteStatements,
	streamHasData,
	valueWriteStatements,
} from "../storage/streams";
import type { DeleteStreamCommand, DeleteStreamResult, StreamDeleted, WriteCommand, WriteResult } from "./cloudzero-stream-protocol";
import { asFailure, invalid, type StreamFailure } from "./outcome";
import { type Applied, type LedgerCall, WriteLedger } from "./write-ledger";

type Call = LedgerCall & { stream: string };

/** The id of a stream a change in the commit under way creates: not known before it commits. */
const PLANNED_STREAM_ID = -1;

/**
 * One object per stream; every change to the stream goes through its ledger (write-ledger.ts):
 * changes are planned in arrival order against the state the changes before them leave (the
 * stream's dimension names, idempotency keys), and committed with group commit: the changes
 * that queued while a commit was in flight go to D1 together, as one batch.
 */
export class StreamObject extends DurableObject<Env> {
	/** The stream as committed, or as the changes planned in the commit under way leave it; undefined until loaded. */
	private cached: StreamRow | null | undefined;
	private readonly ledger = new WriteLedger(this.ctx.storage, this.env.DB, () => (this.cached = undefined));

	async write(cmd: WriteCommand): Promise<WriteResult> {
		const records = cmd.op === "delete" ? cmd.matches.length : cmd.recordCount;
		// A delete finds its series by reading D1, so it plans after the changes before it committed.
		return this.change(
			cmd,
			cmd.op,
			records,
			() => (cmd.op === "delete" ? this.deleteRecords(cmd) : this.writeValues(cmd)),
			cmd.op === "delete",
		);
	}

	async deleteStream(cmd: DeleteStreamCommand): Promise<DeleteStreamResult> {
		return this.change(
			cmd,
			"delete_stream",
			0,
			async () => {
				const stream = await this.stream(cmd.org, cmd.stream);
				if (!stream) return asFailure(streamNotFound(cmd.stream));
				if (!cmd.force && (await streamHasData(this.env.DB, stream.id))) {
					return asFailure(streamNotEmpty(cmd.stream));
				}
				const deletedAt = new Date().toISOString();
				const response: StreamDeleted = { message: "Stream deleted", stream: cmd.stream, deleted_at: deletedAt, request_id: cmd.requestId };
				return {
					response,
					statements: [markStreamDeleted(this.env.DB, stream.id, deletedAt)],
					afterCommit: () => (this.cached = null),
				};
			},
			true,
		);
	}

	/** Expires this stream's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		await this.ledger.expireKeys();
	}

	private change<T>(
		cmd: Call,
		operation: string,
		recordCount: number,
		apply: () => Promise<Applied<T> | StreamFailure>,
		readsStorage = false,
	) {
		const scope = { org: cmd.org, firstStream: cmd.stream, lastStream: cmd.stream };
		return this.ledger.change(cmd, scope, [{ stream: cmd.stream, operation, recordCount }], apply, { readsStorage }).catch((err) => {
			// D1's outcome is unknown after an error: forget what we think the stream looks like.
			this.cached = undefined;
			throw err;
		});
	}

	private async stream(org: string, name: string): Promise<StreamRow | null> {
		if (this.cached === undefined) this.cached = await findLiveStream(this.env.DB, org, name);
		return this.cached;
	}

	private async writeValues(cmd: Extract<WriteCommand, { op: "sum" | "replace" }>): Promise<Applied<WriteAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (stream && !sameKeys(stream.dimension_keys, cmd.dimensionKeys)) {
			const expected = describeKeys(stream.dimension_keys);
			const details: ErrorDetail[] = Array.from({ length: cmd.recordCount }, (_, record) => ({
				code: "inconsistent_filter_keys",
				message: `All records in a stream must contain the same filter keys: stream '${cmd.stream}' has ${expected}, this record has ${describeKeys(cmd.dimensionKeys)}`,
				record,
				path: `records[${record}].associated_cost`,
			}));
			return invalid(details);
		}
		const statements = valueWriteStatements(this.env.DB, cmd.org, cmd.stream, cmd.op, cmd.chunks);
		const response = accepted(cmd, cmd.recordCount, !stream);
		if (stream) return { response, statements, explainOverflow: () => this.explainOverflow(stream, cmd) };

		const now = new Date().toISOString();
		const create = insertStream(this.env.DB, cmd.org, cmd.stream, cmd.dimensionKeys, now);
		// The changes after this one in the same commit find the stream as this one creates it
		// (their statements find it by name, in the same transaction).
		this.cached = { id: PLANNED_STREAM_ID, name: cmd.stream, dimension_keys: cmd.dimensionKeys, created_at: now };
		return {
			response,
			statements: [create, ...statements],
			// The new stream's id is only known after commit; it is read again on next use.
			afterCommit: () => (this.cached = undefined),
		};
	}

	/** The records of a sum whose day's value would overflow once added to the stored one. */
	private async explainOverflow(stream: StreamRow, cmd: Extract<WriteCommand, { op: "sum" | "replace" }>): Promise<StreamFailure> {
		const rows = decodeValueChunks(cmd.chunks);
		const stored = new Map<string, number>();
		for (const row of await seriesOnDays(this.env.DB, stream.id, [...new Set(rows.map(([day]) => day))])) {
			stored.set(`${row.day}\n${row.series_key}`, row.value);
		}
		const details: ErrorDetail[] = [];
		for (const [day, seriesKey, value, record] of rows) {
			const total = (stored.get(`${day}\n${seriesKey}`) ?? 0) + (cmd.op === "sum" ? value : 0);
			if (cmd.op === "sum" && !isStorable(total)) {
				details.push({
					code: "value_overflow",
					message: `${day}'s stored value plus this request's would be beyond the largest value stored, ${MAX_STORED_VALUE}`,
					record,
					path: `records[${record}].value`,
				});
			}
		}
		return details.length > 0
			? invalid(details)
			: invalid([{ code: "value_overflow", message: `a value would be beyond ${MAX_STORED_VALUE}` }]);
	}

	private async deleteRecords(cmd: Extract<WriteCommand, { op: "delete" }>): Promise<Applied<WriteAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (!stream) return asFailure(streamNotFound(cmd.stream));

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
