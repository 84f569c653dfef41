// The service's one closed set of error codes. Every error body's `code` and every detail's
// `code` is one of these; the OpenAPI document lists them with their status and meaning.
// A leaf module: it imports nothing, so schemas, storage and the CLI can all name codes.

export const ERROR_CATALOG = {
	// 400: the request is wrong; nothing was applied.
	invalid_json: [400, "The body is empty, not UTF-8, not JSON, or nested too deeply to parse."],
	invalid_schema: [400, "Problems of more than one kind; each is listed in `details` with its own code."],
	bad_request: [400, "The request is malformed in a way no more specific code describes."],
	missing_field: [400, "A required field is absent."],
	unknown_field: [400, "A field the endpoint does not define: it is refused, never silently dropped."],
	invalid_type: [400, "A field has the wrong JSON type."],
	invalid_value: [400, "A value is not one the field accepts (not a number, not one of the listed options, ...)."],
	invalid_format: [400, "A string does not have the documented format."],
	out_of_range: [400, "A number, a string's length or a list's size is outside its documented bounds."],
	negative_value: [400, "A CloudZero value is negative."],
	value_overflow: [
		400,
		"A value, or the day's value the write would store, is beyond the largest finite number (about 1.8e308). Nothing of the request is applied.",
	],
	value_underflow: [400, "A non-zero value is too small to be represented (below about 5e-324 in magnitude) and would be stored as 0."],
	invalid_timestamp: [400, "A timestamp is not a valid date-time, is before 1900-01-01 UTC, or has a UTC offset beyond ±14:00."],
	future_timestamp: [400, "Timestamp too far into the future (more than 24 hours ahead)."],
	timestamp_not_hourly: [400, "A Cloudthread timestamp is not on the hour once converted to UTC."],
	invalid_granularity: [
		400,
		"A CloudZero record's granularity is not one the endpoint takes: DAILY or HOURLY (allocation streams: also MONTHLY).",
	],
	inconsistent_granularity: [
		400,
		"All records in a stream must contain the same granularity as the stream's granularity: an allocation stream's granularity is fixed by its first write.",
	],
	invalid_dimension_name: [400, "A dimension name is empty, longer than 128 characters, only whitespace, or has control characters."],
	invalid_unicode: [400, "A string has a lone UTF-16 surrogate: it could not be stored and read back unchanged."],
	too_many_dimensions: [
		400,
		"More dimensions than allowed (CloudZero: 5 associated_cost names or allocation filter keys, Cloudthread: 10).",
	],
	inconsistent_filter_keys: [
		400,
		"All records in a stream must contain the same filter keys (associated_cost names; an allocation stream's filter keys).",
	],
	unknown_filter_keys: [400, "Unrecognized filter keys: a dimension the stream or metric does not have."],
	invalid_filter: [
		400,
		"A query parameter is neither an option of the read nor a filter written `dim[<name>]=<values>` or `exclude[<name>]=<values>`, or a filter value has a backslash that escapes neither a comma nor a backslash.",
	],
	invalid_stream_name: [400, "A stream or metric name that could not be addressed in a URL (`.`, `..`) or breaks the naming rule."],
	telemetry_stream_mismatch: [
		400,
		"A record's telemetry-stream is not the stream the request writes to (the path's stream; on POST /unit-cost/v1/telemetry, record 0's): one request writes to one stream.",
	],
	invalid_date: [400, "A date is not a calendar date in YYYY-MM-DD form."],
	invalid_date_range: [400, "start_date is after end_date."],
	invalid_cursor: [400, "A cursor that this service did not return for this read."],
	future_month: [400, "A billing drop's month (given, or its rows') is more than 12 months after the current UTC month."],
	row_outside_month: [400, "A billing drop's row is outside the drop's month, or a drop without `month` has rows of several months."],
	unknown_dimension: [
		400,
		"A cost dimension name that is not built-in (Service, Account, Region, UsageFamily, LineItemType, Resource, Connection), a tag (tag:<key>) or a custom dimension the organization defined.",
	],
	invalid_idempotency_key: [400, "An Idempotency-Key that is not 1 to 255 printable ASCII characters without spaces."],
	invalid_bookmark: [400, "An X-D1-Bookmark that is not a bookmark this service returned."],
	// 403: who is asking.
	not_authorized: [403, "Missing, unknown or revoked key (CloudZero's answer)."],
	insufficient_scope: [403, "The key lacks the scope the endpoint needs."],
	// 404: what is asked for.
	not_found: [404, "No endpoint at this path."],
	stream_not_found: [404, "The stream does not exist (or was deleted)."],
	dimension_not_found: [404, "No custom dimension with that name."],
	metric_not_found: [404, "No Cloudthread metric with that name and aggregation function."],
	token_not_found: [404, "No token with that id."],
	no_stream_found: [404, "The data_stream_token is unknown or revoked (Cloudthread's answer)."],
	// 405 and 409.
	method_not_allowed: [405, "The path exists but not with this method; `Allow` lists the methods it has."],
	stream_not_empty: [409, 'The stream has data; send {"force": true} to delete it anyway.'],
	currency_mismatch: [409, "The billing drop's currency differs from the one its connection was created with; nothing was applied."],
	hours_rolled_up: [
		409,
		"A replace_hourly billing drop has an hour before the first day whose hours its connection keeps (COST_HOURLY_RETENTION_DAYS): older hours were rolled up into daily totals and cannot be replaced one by one. Nothing was applied; replace_drop and sum are still accepted for that month.",
	],
	idempotency_key_reused: [409, "The Idempotency-Key was used in the last 24 hours with a different request; nothing was applied."],
	// 413, 415, 429.
	payload_too_large: [413, "The body is larger than the byte limit."],
	too_many_records: [413, "More records than one request may carry."],
	unsupported_media_type: [415, "Content-Type is not JSON."],
	rate_limited: [429, "Over a rate limit (per token, or failed authentications per client address); retry after Retry-After seconds."],
	// 5xx: the service's side.
	internal_error: [500, "An unexpected error; the request may not have been applied."],
	storage_unavailable: [503, "Storage is temporarily unavailable; nothing was applied. Retry with exponential backoff."],
	admin_disabled: [503, "The deployment has no ADMIN_TOKEN secret, so the admin API is off."],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export type ErrorStatus<C extends ErrorCode> = (typeof ERROR_CATALOG)[C][0];

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];

export function isErrorCode(code: unknown): code is ErrorCode {
	return typeof code === "string" && Object.hasOwn(ERROR_CATALOG, code);
}

/** The catalog as a Markdown table, for the OpenAPI document. */
export function errorCatalogMarkdown(): string {
	const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${ERROR_CATALOG[code][0]} | ${ERROR_CATALOG[code][1].replace(/\|/g, "\\|")} |`);
	return ["| code | status | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
