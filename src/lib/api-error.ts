// The error a client receives, thrown from anywhere (schemas, storage, objects, routes) and
// rendered by the app's error handler. A leaf: it names codes from the catalog, nothing else.
import type { ErrorCode, ErrorStatus } from "./error-catalog";

export type { ErrorCode } from "./error-catalog";

/** One problem with one part of a request, e.g. one record's field. */
export interface ErrorDetail {
	code: ErrorCode;
	message: string;
	/** Index of the offending record in the request's array of records. */
	record?: number;
	/** Where in the request, e.g. records[3].value. */
	path?: string;
}

/** HTTP statuses an error is answered with (the catalog's). */
type ErrorHttpStatus = ErrorStatus<ErrorCode>;

/**
 * An error meant for the client. The code is one of the catalog's, and the status must be the
 * one the catalog gives it.
 */
export class ApiError<C extends ErrorCode = ErrorCode> extends Error {
	constructor(
		readonly status: ErrorStatus<C> & ErrorHttpStatus,
		readonly code: C,
		message: string,
		readonly details: ErrorDetail[] = [],
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "ApiError";
	}
}

/** An error with its own code and wording, documented in OpenAPI and thrown from the same constant. */
export interface NamedError<C extends ErrorCode = ErrorCode> {
	status: ErrorStatus<C> & ErrorHttpStatus;
	code: C;
	message: string;
	description?: string;
}

/** The ApiError to throw for a named error. */
export function namedError(error: NamedError): ApiError {
	return new ApiError(error.status, error.code, error.message);
}

/** CloudZero's own wording for a missing or unknown key. */
export const NOT_AUTHORIZED_MESSAGE = "Not authorized, make sure you're using a valid API key in the header Authorization";

/** The 404 of every endpoint that names a CloudZero stream. */
export function streamNotFound(stream: string): ApiError<"stream_not_found"> {
	return new ApiError(404, "stream_not_found", `Stream '${stream}' does not exist`);
}

/** A stream deletion without force, of a stream that has data. */
export function streamNotEmpty(stream: string): ApiError<"stream_not_empty"> {
	return new ApiError(409, "stream_not_empty", `Stream '${stream}' has data; send {"force": true} to delete it anyway`);
}

/** The 409 of every write endpoint: a reused key is not a transient error. */
export const IDEMPOTENCY_KEY_REUSED = {
	status: 409 as const,
	code: "idempotency_key_reused",
	message: "This Idempotency-Key was already used with a different request in the last 24 hours",
	description: "The Idempotency-Key was used in the last 24 hours with a different body; nothing was applied",
} satisfies NamedError;
