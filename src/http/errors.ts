// Errors over HTTP: the body and headers an ApiError is answered with, and the OpenAPI response
// entries that document a route's errors.
import type { Context } from "hono";
import { type ApiError, type ErrorCode, type ErrorDetail, type NamedError, NOT_AUTHORIZED_MESSAGE } from "../lib/api-error";
import { type ErrorResponse, ErrorResponseSchema } from "../schemas/errors";
import type { AppEnv } from "./app-env";

/** How many per-record problems one error response lists; the total is always given. */
export const MAX_LISTED_DETAILS = 100;

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

/** An error a route can answer with: a status, or a status with the route's own code and wording. */
export type DocumentedError = number | NamedError;

/** OpenAPI response entries for the errors a route can answer with, each with an example body. */
export function errorResponses(...errors: DocumentedError[]) {
	return Object.fromEntries(
		errors.map((error) => {
			const status = typeof error === "number" ? error : error.status;
			const example = typeof error === "number" ? ERROR_EXAMPLES[status] : exampleError(error.code, error.message);
			const description = (typeof error === "number" ? undefined : error.description) ?? ERROR_DESCRIPTIONS[status] ?? "Error";
			const headers = status === 429 ? RATE_LIMIT_HEADERS : status === 503 ? { "Retry-After": RETRY_AFTER_HEADER } : undefined;
			return [
				status,
				{
					description,
					...(headers ? { headers } : {}),
					content: { "application/json": { schema: ErrorResponseSchema, ...(example ? { example } : {}) } },
				},
			];
		}),
	);
}

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
	405: exampleError(
		"method_not_allowed",
		"PUT is not supported on /unit-cost/v1/telemetry/metric/my-metric-stream; allowed: GET, HEAD, OPTIONS",
	),
	409: exampleError("stream_not_empty", "Stream 'my-metric-stream' has data; send {\"force\": true} to delete it anyway"),
	413: exampleError("too_many_records", "A request may carry at most 10000 records; this one has 12000. Split it into several requests."),
	415: exampleError("unsupported_media_type", "Content-Type must be application/json, not text/plain"),
	429: exampleError("rate_limited", "Rate limit exceeded: at most 1000 requests per 10 seconds per token; retry after a short delay"),
	503: exampleError("storage_unavailable", "Storage is temporarily unavailable; nothing was applied. Retry with exponential backoff."),
};
