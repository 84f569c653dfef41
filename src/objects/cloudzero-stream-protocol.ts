// What the Worker sends to a stream's Durable Object and what it answers (over RPC).

import type { DeleteMatch, WriteAccepted } from "../schemas/cloudzero";
import { configOf } from "../schemas/config";
import type { ValueChunk } from "../storage/streams";
import type { StreamFailure, StreamSuccess } from "./outcome";

interface StreamCall {
	org: string;
	stream: string;
	requestId: string;
	tokenId: string;
	/** The client's Idempotency-Key and a hash of what it asked for (operation and body). */
	idempotency?: { key: string; requestHash: string };
}

export type WriteCommand = StreamCall &
	// Rows already in the compact form the SQL reads: a few strings cross the RPC boundary
	// instead of one structured-clone array per record.
	(
		| { op: "sum" | "replace"; dimensionKeys: string[]; recordCount: number; chunks: ValueChunk[] }
		| { op: "delete"; matches: DeleteMatch[] }
	);

export type DeleteStreamCommand = StreamCall & { force: boolean };

export interface StreamDeleted {
	message: "Stream deleted";
	stream: string;
	deleted_at: string;
	request_id: string;
}

export type WriteResult = StreamSuccess<WriteAccepted> | StreamFailure;
export type DeleteStreamResult = StreamSuccess<StreamDeleted> | StreamFailure;

/** One Durable Object per (organization, stream): the name cannot collide because orgs contain no '/'. */
export function streamObjectName(org: string, stream: string): string {
	return `${org}/${stream}`;
}

/**
 * The Durable Object that owns (org, stream), placed near the D1 database (D1_LOCATION): its
 * writes are D1 round trips, the Worker's call to it is one. The hint counts when the object is
 * first created; later calls name the same place.
 */
export function streamObject(env: Env, org: string, stream: string) {
	return env.STREAM.get(env.STREAM.idFromName(streamObjectName(org, stream)), { locationHint: configOf(env).d1Location });
}
