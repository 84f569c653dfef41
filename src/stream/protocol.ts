// What the Worker sends to a stream's Durable Object and what it answers (over RPC).
import type { ErrorDetail } from "../http/errors";
import type { DeleteMatch, ValueRow } from "../schemas/telemetry";

interface StreamCall {
	org: string;
	stream: string;
	requestId: string;
}

export type WriteCommand = StreamCall &
	(
		| { op: "sum" | "replace"; dimensionKeys: string[]; rows: ValueRow[] }
		| { op: "delete"; matches: DeleteMatch[] }
	);

export type DeleteStreamCommand = StreamCall & { force: boolean };

/** Errors travel as values: an exception thrown over RPC keeps only its message. */
export interface StreamFailure {
	ok: false;
	status: 400 | 404 | 409;
	code: string;
	message: string;
	details?: ErrorDetail[];
}

export type WriteResult = { ok: true; applied: number; streamCreated: boolean; seriesDeleted?: number } | StreamFailure;
export type DeleteStreamResult = { ok: true; deletedAt: string } | StreamFailure;

/** One Durable Object per (organization, stream): the name cannot collide because orgs contain no '/'. */
export function streamObjectName(org: string, stream: string): string {
	return `${org}/${stream}`;
}
