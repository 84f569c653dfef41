import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "./app-env";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_CODES, errorCatalogMarkdown, type ErrorCode, type ErrorStatus } from "./error-catalog";

export type { ErrorCode } from "./error-catalog";

const ErrorCodeSchema = z.enum(ERROR_CODES);

/** One problem with one part of a request, e.g. one record's field. */
export const ErrorDetailSchema = z
	.object({
		code: ErrorCodeSchema.openapi({ description: "One of the service's error codes (see ErrorResponse)", example: "negative_value" }),
		message: z.string().openapi({ example: "value must not be negative" }),
		record: z.number().int().optional().openapi({ description: "Index of the offending record in the request's records array", example: 3 }),
		path: z.string().optional().openapi({ example: "records[3].value" }),
	})
	.openapi("ErrorDetail");

/** The one error shape every endpoint answers with. */
export const ErrorResponseSchema = z
	.object({
		error: z.object({
			code: ErrorCodeSchema.openapi({
				description: `Machine-readable error code, one of a closed set:\n\n${errorCatalogMarkdown()}`,
				example: "invalid_schema",
			}),
			message: z.string().openapi({ example: "Invalid Schema: 1 record is invalid" }),
			request_id: z.string().openapi({ example: "3f1c0a52-2a57-4cf3-9d2c-51b5b5b0f9c1" }),
			details: z.array(ErrorDetailSchema).optional().openapi({ description: "Per-record problems (at most 100 are listed)" }),
			details_total: z.number().int().optional().openapi({ description: "How many problems were found in all" }),
		}),
	})
	.openapi("ErrorResponse");

export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** How many per-record problems one error response lists; the total is always given. */
export const MAX_LISTED_DETAILS = 100;

/** CloudZero's own wording for a missing or unknown key. */
export const NOT_AUTHORIZED_MESSAGE = "Not authorized, make sure you're using a valid API key in the header Authorization";

/**
 * An error meant for the client: thrown anywhere, rendered by the app's error handler. The
 * code is one of the catalog's, and the status must be the one the catalog gives it.
 */
export class ApiError<C extends ErrorCode = ErrorCode> extends Error {
	constructor(
		readonly status: ErrorStatus<C> & ContentfulStatusCode,
		readonly code: C,
		message: string,
		readonly details: ErrorDetail[] = [],
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "ApiError";
	}
}

export function errorBody(c: Context<AppEnv>, err: ApiError): ErrorResponse {
	const body: ErrorResponse = {
		error: { code: err.code, message: err.message, request_id: c.get("requestId") ?? "" },
	};
	if (err.details.length > 0) {
		body.error.details = err.details.slice(0, MAX_LISTED_DETAILS);
		body.error.details_total = err.details.length;
	}
	return body;
}

export function errorResponse(c: Context<AppEnv>, err: ApiError): Response {
	for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
	return c.json(errorBody(c, err), err.status);
}

/** An error with its own code and wording, documented in OpenAPI and thrown from the same constant. */
export interface NamedError<C extends ErrorCode = ErrorCode> {
	status: ErrorStatus<C> & ContentfulStatusCode;
	code: C;
	message: string;
	description?: string;
}

/** An error a route can answer with: a status, or a status with the route's own code and wording. */
export type DocumentedError = number | NamedError;

/** The ApiError to throw for a named error. */
export function namedError(error: NamedError): ApiError {
	return new ApiError(error.status, error.code, error.message);
}

/** The 404 of every endpoint that names a CloudZero stream. */
export function streamNotFound(stream: string): ApiError {
	return new ApiError(404, "stream_not_found", `Stream '${stream}' does not exist`);
}

/** OpenAPI response entries for the errors a route can answer with, each with an example body. */
export function errorResponses(...errors: DocumentedError[]) {
	return Object.fromEntries(
		errors.map((error) => {
			const status = typeof error === "number" ? error : error.status;
			const example = typeof error === "number" ? ERROR_EXAMPLES[status] : exampleError(error.code, error.message);
			const description = (typeof error === "number" ? undefined : error.description) ?? ERROR_DESCRIPTIONS[status] ?? "Error";
			const headers = status === 429 ? RATE_LIMIT_HEADERS : status === 503 ? { "Retry-After": RETRY_AFTER_HEADER } : undefined;
			return [status, { description, ...(headers ? { headers } : {}), content: { "application/json": { schema: ErrorResponseSchema, ...(example ? { example } : {}) } } }];
		}),
	);
}

/** Documents the 409 of write endpoints, so clients know a reused key is not a transient error. */
export const IDEMPOTENCY_KEY_REUSED = {
	status: 409 as const,
	code: "idempotency_key_reused",
	message: "This Idempotency-Key was already used with a different request in the last 24 hours",
	description: "The Idempotency-Key was used in the last 24 hours with a different body; nothing was applied",
} satisfies NamedError;

const ERROR_DESCRIPTIONS: Record<number, string> = {
	400: "Invalid request (see error.code and error.details)",
	403: "Missing, unknown or revoked key, or a key without the needed scope",
	404: "No such stream or token",
	405: "The path exists, but not for this method: the Allow header lists the methods it supports",
	409: "Conflict with the stream's current state",
	413: "Request body or record count over the limit",
	415: "Unsupported content type",
	429: "Rate limit exceeded (the token's requests, or failed authentications from the client's address); retry after Retry-After seconds",
	503: "Temporarily unavailable; nothing was applied. Retry with exponential backoff",
};

const integerHeader = (description: string) => ({ description, schema: { type: "integer" as const } });
const RETRY_AFTER_HEADER = integerHeader("Seconds to wait before retrying");
const RATE_LIMIT_HEADERS = {
	"Retry-After": RETRY_AFTER_HEADER,
	"RateLimit-Policy": { description: "The token's limit and window, e.g. `1000;w=10`", schema: { type: "string" as const } },
	"RateLimit-Limit": integerHeader("Requests allowed per window"),
	"RateLimit-Remaining": integerHeader("Requests left in the window (0)"),
	"RateLimit-Reset": integerHeader("Seconds until the window resets"),
};

const exampleError = (code: ErrorCode, message: string, details?: ErrorDetail[]): ErrorResponse => ({
	error: {
		code,
		message,
		request_id: "3f1c0a52-2a57-4cf3-9d2c-51b5b5b0f9c1",
		...(details ? { details, details_total: details.length } : {}),
	},
});

/** One realistic body per status, shown in the OpenAPI document. */
const ERROR_EXAMPLES: Record<number, ErrorResponse> = {
	400: exampleError("invalid_schema", "Invalid Schema: 2 problems in 2 records", [
		{ code: "negative_value", message: "value must not be negative", record: 3, path: "records[3].value" },
		{ code: "unknown_field", message: "unknown field 'filters'", record: 7, path: "records[7]" },
	]),
	403: exampleError("not_authorized", NOT_AUTHORIZED_MESSAGE),
	404: exampleError("stream_not_found", "Stream 'my-metric-stream' does not exist"),
	405: exampleError("method_not_allowed", "PUT is not supported on /unit-cost/v1/telemetry/metric/my-metric-stream; allowed: GET, HEAD, OPTIONS"),
	409: exampleError("stream_not_empty", "Stream 'my-metric-stream' has data; send {\"force\": true} to delete it anyway"),
	413: exampleError("too_many_records", "A request may carry at most 10000 records; this one has 12000. Split it into several requests."),
	415: exampleError("unsupported_media_type", "Content-Type must be application/json, not text/plain"),
	429: exampleError("rate_limited", "Rate limit exceeded: at most 1000 requests per 10 seconds per token; retry after a short delay"),
	503: exampleError("storage_unavailable", "Storage is temporarily unavailable; nothing was applied. Retry with exponential backoff."),
};
