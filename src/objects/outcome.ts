// What a writing Durable Object answers (both APIs' objects), and how a route turns it into its
// HTTP answer. Errors travel as values: an exception thrown over RPC keeps only its message.
import { ApiError, type ErrorCode, type ErrorDetail } from "../lib/api-error";
import { summarizeDetails } from "../schemas/validation";

/** A change that was refused: nothing of it was applied. */
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

/**
 * replayed: the response recorded for this idempotency key, nothing applied now.
 * bookmark: D1's session bookmark after the commit (D1DatabaseSession.getBookmark() of the
 * session the object's batch ran in), which the route answers in X-D1-Bookmark so that a read
 * sending it back sees this write. Optional: absent when nothing was committed, or the object
 * does not track it.
 */
export type StreamSuccess<T> = { ok: true; response: T; replayed: boolean; bookmark?: string };

/** The error for a failed change; refuseToken: the route's answer to an unknown or revoked token. */
export function failureToError(failure: StreamFailure, refuseToken: () => ApiError): ApiError {
	if (failure.code === "token_revoked") return refuseToken();
	return new ApiError(failure.status, failure.code, failure.message, failure.details);
}

/** An ApiError as an object answers it. */
export function asFailure(err: ApiError<"stream_not_found" | "stream_not_empty">): StreamFailure {
	return { ok: false, status: err.status, code: err.code, message: err.message };
}

/** A 400 listing every problem, with the shared code and headline when they agree. */
export function invalid(details: ErrorDetail[]): StreamFailure {
	return { ok: false, status: 400, ...summarizeDetails(details), details };
}
