// What the Worker sends to an allocation stream's Durable Object and what it answers (over RPC).

import type { AllocationAccepted, AllocationGranularity, AllocationMatch } from "../schemas/allocation";
import { configOf } from "../schemas/config";
import type { AllocationChunk } from "../storage/allocation-streams";
import type { StreamDeleted } from "./cloudzero-stream-protocol";
import type { StreamFailure, StreamSuccess } from "./outcome";
import type { LedgerCall } from "./write-ledger";

type StreamCall = LedgerCall & { stream: string };

export type AllocationWriteCommand = StreamCall &
	// Rows already in the compact form the SQL reads (see allocationChunks).
	(
		| { op: "sum" | "replace"; granularity: AllocationGranularity; filterKeys: string[]; recordCount: number; chunks: AllocationChunk[] }
		| { op: "delete"; matches: AllocationMatch[] }
	);

export type AllocationDeleteStreamCommand = StreamCall & { force: boolean };

export type AllocationWriteResult = StreamSuccess<AllocationAccepted> | StreamFailure;
export type AllocationDeleteStreamResult = StreamSuccess<StreamDeleted> | StreamFailure;

/**
 * An allocation stream as ingest_log.stream names it, so that its log rows and idempotency keys
 * are its own: CloudZero metric stream names cannot contain ':', so a metric stream and an
 * allocation stream of the same name never share them.
 */
export function allocationLogName(stream: string): string {
	return `allocation:${stream}`;
}

/**
 * The Durable Object that owns an organization's allocation stream (one per stream; org ids contain
 * no '/'), placed near the D1 database as the metric stream objects are (see streamObject).
 */
export function allocationStreamObject(env: Env, org: string, stream: string) {
	return env.ALLOCATION.get(env.ALLOCATION.idFromName(`${org}/${stream}`), { locationHint: configOf(env).d1Location });
}
