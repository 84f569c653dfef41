import { DurableObject } from "cloudflare:workers";
import { type ErrorDetail, streamNotEmpty, streamNotFound } from "../lib/api-error";
import { MAX_STORED_VALUE } from "../lib/numbers";
import type { AllocationAccepted } from "../schemas/allocation";
import {
	type AllocationStreamRow,
	allocationStreamHasData,
	allocationWriteStatements,
	deleteTargets,
	findLiveAllocationStream,
	insertAllocationStream,
	markAllocationStreamDeleted,
	overflowingRecords,
	softDeleteAllocationStatements,
} from "../storage/allocation-streams";
import {
	type AllocationDeleteStreamCommand,
	type AllocationDeleteStreamResult,
	type AllocationWriteCommand,
	type AllocationWriteResult,
	allocationLogName,
} from "./allocation-stream-protocol";
import type { StreamDeleted } from "./cloudzero-stream-protocol";
import { asFailure, invalid, type StreamFailure } from "./outcome";
import { type Applied, type LedgerCall, WriteLedger } from "./write-ledger";

type Call = LedgerCall & { stream: string };
type ValueWrite = Extract<AllocationWriteCommand, { op: "sum" | "replace" }>;
type DeleteWrite = Extract<AllocationWriteCommand, { op: "delete" }>;

/** The id of a stream a change in the commit under way creates: not known before it commits. */
const PLANNED_STREAM_ID = -1;

/**
 * One object per allocation stream, a class of its own beside the metric StreamObject: its stream
 * has a granularity and filter keys to hold to, its rows another shape, and its name space is its
 * own (a metric stream and an allocation stream may share a name). Every change to the stream goes
 * through its ledger's queue, as in StreamObject: each change (check the stream's state and
 * idempotency key, then one D1 transaction with the values, the ingest log row and the key)
 * completes before the next starts, and changes queued meanwhile commit together (group commit).
 */
export class AllocationStreamObject extends DurableObject<Env> {
	/** The stream as committed, or as the changes planned in the commit under way leave it; undefined until loaded. */
	private cached: AllocationStreamRow | null | undefined;
	private readonly ledger = new WriteLedger(this.ctx.storage, this.env.DB, () => (this.cached = undefined));

	async write(cmd: AllocationWriteCommand): Promise<AllocationWriteResult> {
		const records = cmd.op === "delete" ? cmd.matches.length : cmd.recordCount;
		// A delete finds its values by reading D1, so it plans after the changes before it committed.
		return this.change(
			cmd,
			cmd.op,
			records,
			() => (cmd.op === "delete" ? this.deleteRecords(cmd) : this.writeValues(cmd)),
			cmd.op === "delete",
		);
	}

	async deleteStream(cmd: AllocationDeleteStreamCommand): Promise<AllocationDeleteStreamResult> {
		return this.change(
			cmd,
			"delete_stream",
			0,
			async () => {
				const stream = await this.stream(cmd.org, cmd.stream);
				if (!stream) return asFailure(streamNotFound(cmd.stream));
				if (!cmd.force && (await allocationStreamHasData(this.env.DB, stream.id))) return asFailure(streamNotEmpty(cmd.stream));
				const deletedAt = new Date().toISOString();
				const response: StreamDeleted = { message: "Stream deleted", stream: cmd.stream, deleted_at: deletedAt, request_id: cmd.requestId };
				return {
					response,
					statements: [markAllocationStreamDeleted(this.env.DB, stream.id, deletedAt)],
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
		const logName = allocationLogName(cmd.stream);
		const scope = { org: cmd.org, firstStream: logName, lastStream: logName };
		return this.ledger.change(cmd, scope, [{ stream: logName, operation, recordCount }], apply, { readsStorage }).catch((err) => {
			// D1's outcome is unknown after an error: forget what we think the stream looks like.
			this.cached = undefined;
			throw err;
		});
	}

	private async stream(org: string, name: string): Promise<AllocationStreamRow | null> {
		if (this.cached === undefined) this.cached = await findLiveAllocationStream(this.env.DB, org, name);
		return this.cached;
	}

	private async writeValues(cmd: ValueWrite): Promise<Applied<AllocationAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (stream) {
			const details: ErrorDetail[] = [];
			if (stream.granularity !== cmd.granularity) {
				details.push(
					...everyRecord(cmd.recordCount, "granularity", {
						code: "inconsistent_granularity",
						message: `All records in a stream must contain the same granularity as the stream's granularity: stream '${cmd.stream}' is ${stream.granularity}, this record is ${cmd.granularity}`,
					}),
				);
			}
			if (!sameKeys(stream.filter_keys, cmd.filterKeys)) {
				details.push(
					...everyRecord(cmd.recordCount, "filter", {
						code: "inconsistent_filter_keys",
						message: `All records in a stream must contain the same filter keys: stream '${cmd.stream}' has ${describeKeys(stream.filter_keys)}, this record has ${describeKeys(cmd.filterKeys)}`,
					}),
				);
			}
			// In record order, as the Worker lists problems.
			if (details.length > 0) return invalid(details.sort((a, b) => a.record! - b.record!));
		}
		const statements = allocationWriteStatements(this.env.DB, cmd.org, cmd.stream, cmd.op, cmd.chunks);
		const response = accepted(cmd, cmd.recordCount, !stream);
		if (stream) return { response, statements, explainOverflow: () => this.explainOverflow(stream, cmd) };

		const now = new Date().toISOString();
		const create = insertAllocationStream(this.env.DB, cmd.org, cmd.stream, cmd.granularity, cmd.filterKeys, now);
		// The changes after this one in the same commit find the stream as this one creates it
		// (their statements find it by name, in the same transaction).
		this.cached = { id: PLANNED_STREAM_ID, name: cmd.stream, granularity: cmd.granularity, filter_keys: cmd.filterKeys, created_at: now };
		return {
			response,
			statements: [create, ...statements],
			// The new stream's id is only known after commit; it is read again on next use.
			afterCommit: () => (this.cached = undefined),
		};
	}

	/** The records of a sum whose stored value would overflow once this request's is added. */
	private async explainOverflow(stream: AllocationStreamRow, cmd: ValueWrite): Promise<StreamFailure> {
		const records = cmd.op === "sum" ? await overflowingRecords(this.env.DB, stream.id, cmd.chunks) : [];
		const details: ErrorDetail[] = [...new Set(records)]
			.sort((a, b) => a - b)
			.map((record) => ({
				code: "value_overflow",
				message: `the stored value plus this request's would be beyond the largest value stored, ${MAX_STORED_VALUE}`,
				record,
				path: `records[${record}].value`,
			}));
		return invalid(details.length > 0 ? details : [{ code: "value_overflow", message: `a value would be beyond ${MAX_STORED_VALUE}` }]);
	}

	private async deleteRecords(cmd: DeleteWrite): Promise<Applied<AllocationAccepted> | StreamFailure> {
		const stream = await this.stream(cmd.org, cmd.stream);
		if (!stream) return asFailure(streamNotFound(cmd.stream));

		const known = new Set(stream.filter_keys);
		const details: ErrorDetail[] = [];
		cmd.matches.forEach(([, granularity, filter], record) => {
			if (granularity !== stream.granularity) {
				details.push({
					code: "inconsistent_granularity",
					message: `stream '${cmd.stream}' is ${stream.granularity}: a ${granularity} record matches none of its values`,
					record,
					path: `records[${record}].granularity`,
				});
			}
			const unknown = Object.keys(filter ?? {}).filter((key) => !known.has(key));
			if (unknown.length > 0) {
				details.push({
					code: "unknown_filter_keys",
					message: `Unrecognized filter keys ${unknown.map((k) => `'${k}'`).join(", ")}: stream '${cmd.stream}' has ${describeKeys(stream.filter_keys)}`,
					record,
					path: `records[${record}].filter`,
				});
			}
		});
		if (details.length > 0) return invalid(details);

		const targets = await deleteTargets(
			this.env.DB,
			stream.id,
			cmd.matches.map(([period, , filter, element]) => [period, filter, element]),
		);
		const statements = softDeleteAllocationStatements(this.env.DB, stream.id, targets, new Date().toISOString(), cmd.requestId);
		return { response: { ...accepted(cmd, cmd.matches.length, false), values_deleted: targets.length }, statements };
	}
}

function accepted(cmd: AllocationWriteCommand, records: number, streamCreated: boolean): AllocationAccepted {
	return {
		message: "Telemetry accepted",
		operation: cmd.op,
		stream: cmd.stream,
		records,
		stream_created: streamCreated,
		request_id: cmd.requestId,
	};
}

/** The same problem for each record of a request, at the given field. */
function everyRecord(count: number, field: string, problem: Pick<ErrorDetail, "code" | "message">): ErrorDetail[] {
	return Array.from({ length: count }, (_, record) => ({ ...problem, record, path: `records[${record}].${field}` }));
}

function sameKeys(a: string[], b: string[]): boolean {
	return a.length === b.length && a.every((key, i) => key === b[i]);
}

function describeKeys(keys: string[]): string {
	return keys.length === 0 ? "no filter keys" : `filter keys [${keys.map((k) => `'${k}'`).join(", ")}]`;
}
