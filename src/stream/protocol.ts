// What the Worker sends to a stream's Durable Object and what it answers (over RPC).
import type { ErrorCode, ErrorDetail } from "../http/errors";
import type { DeleteMatch, WriteAccepted } from "../schemas/telemetry";
import type { ValueChunk } from "../storage/telemetry-store";

interface StreamCall {
	org: string;
	stream: string;
	requestId: string;
	tokenId: string;
	/** The client's Idempotency-Key and a hash of what it asked for (operation and body). */
	idempotency?: { key: string; requestHash: string };
}

export type WriteCommand = StreamCall &
	(
		// Rows already in the compact form the SQL reads: a few strings cross the RPC boundary
		// instead of one structured-clone array per record.
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

/** Errors travel as values: an exception thrown over RPC keeps only its message. */
export interface StreamFailure {
	ok: false;
	status: 400 | 403 | 404 | 409;
	/** A catalog code, or token_revoked, which the route turns into its answer to a revoked token. */
	code: ErrorCode | "token_revoked";
	message: string;
	details?: ErrorDetail[];
}

/**
 * The request's token was revoked. Writes find out in the Durable Object (see WriteLedger);
 * the route answers it as it answers an unknown token.
 */
export const TOKEN_REVOKED: StreamFailure = { ok: false, status: 403, code: "token_revoked", message: "The token was revoked" };

/** replayed: the response recorded for this idempotency key, nothing applied now. */
export type StreamSuccess<T> = { ok: true; response: T; replayed: boolean };

export type WriteResult = StreamSuccess<WriteAccepted> | StreamFailure;
export type DeleteStreamResult = StreamSuccess<StreamDeleted> | StreamFailure;

/** One Durable Object per (organization, stream): the name cannot collide because orgs contain no '/'. */
export function streamObjectName(org: string, stream: string): string {
	return `${org}/${stream}`;
}
