import { DurableObject } from "cloudflare:workers";
import type { ErrorDetail } from "../http/errors";
import type { DeleteMatch } from "../schemas/telemetry";
import { summarizeDetails } from "../schemas/validation";
import {
	findLiveStream,
	insertStream,
	markStreamDeleted,
	seriesOnDays,
	softDeleteStatements,
	streamHasData,
	valueWriteStatements,
	type StreamRow,
} from "../storage/telemetry-store";
import { SerialQueue } from "./serial-queue";
import type { DeleteStreamCommand, DeleteStreamResult, StreamFailure, WriteCommand, WriteResult } from "./protocol";

/**
 * One object per stream; every change to the stream goes through it, and through its queue:
 * each change (check the stream's state, then write to D1) completes before the next starts.
 */
export class StreamObject extends DurableObject<Env> {
	private readonly queue = new SerialQueue();
	/** The stream as last read or written here; undefined until first loaded. */
	private cached: StreamRow | null | undefined;

	async write(cmd: WriteCommand): Promise<WriteResult> {
		return this.serialized(() => (cmd.op === "delete" ? this.deleteRecords(cmd) : this.writeValues(cmd)));
	}

	async deleteStream(cmd: DeleteStreamCommand): Promise<DeleteStreamResult> {
		return this.serialized(async () => {
			const stream = await this.stream(cmd.org, cmd.stream);
			if (!stream) return notFound(cmd.stream);
			if (!cmd.force && (await streamHasData(this.env.DB, stream.id))) {
				return {
					ok: false,
					status: 409,
					code: "stream_not_empty",
					message: `Stream '${cmd.stream}' has data; send {"force": true} to delete it anyway`,
				};
			}
			const deletedAt = new Date().toISOString();
			await markStreamDeleted(this.env.DB, stream.id, deletedAt);
			this.cached = null;
			return { ok: true, deletedAt };
		});
	}

	private serialized<T>(change: () => Promise<T>): Promise<T> {
		return this.queue.run(change).catch((err) => {
			// D1's outcome is unknown after an error: forget what we think the stream looks like.
			this.cached = undefined;
			throw err;
		});
	}

	private async stream(org: string, name: string): Promise<StreamRow | null> {
		if (this.cached === undefined) this.cached = await findLiveStream(this.env.DB, org, name);
		return this.cached;
	}

	private async writeValues(cmd: Extract<WriteCommand, { op: "sum" | "replace" }>): Promise<WriteResult> {
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
		const now = new Date().toISOString();
		const statements = valueWriteStatements(this.env.DB, cmd.org, cmd.stream, cmd.op, cmd.rows);
		if (stream) {
			await this.env.DB.batch(statements);
			return { ok: true, applied: cmd.rows.length, streamCreated: false };
		}
		const [created] = await this.env.DB.batch([insertStream(this.env.DB, cmd.org, cmd.stream, cmd.dimensionKeys, now), ...statements]);
		const id = (created.results[0] as { id: number }).id;
		this.cached = { id, name: cmd.stream, dimension_keys: cmd.dimensionKeys, created_at: now };
		return { ok: true, applied: cmd.rows.length, streamCreated: true };
	}

	private async deleteRecords(cmd: Extract<WriteCommand, { op: "delete" }>): Promise<WriteResult> {
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
		if (targets.size > 0) {
			await this.env.DB.batch(softDeleteStatements(this.env.DB, stream.id, [...targets.values()], new Date().toISOString(), cmd.requestId));
		}
		return { ok: true, applied: cmd.matches.length, streamCreated: false, seriesDeleted: targets.size };
	}
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

function notFound(stream: string): StreamFailure {
	return { ok: false, status: 404, code: "stream_not_found", message: `Stream '${stream}' does not exist` };
}

function invalid(details: ErrorDetail[]): StreamFailure {
	return { ok: false, status: 400, ...summarizeDetails(details), details };
}
