import type { ErrorCode } from "../lib/error-catalog";
import { z } from "./zod";

/**
 * "." and ".." cannot be addressed in a URL: clients and runtimes resolve them as dot segments
 * (also written %2E), so `…/metric/./replace` would arrive as `…/metric/replace`.
 */
export const DOT_SEGMENTS: readonly string[] = [".", ".."];
/** JSON Schema for "not a dot segment", shown in the OpenAPI document. */
export const NOT_DOT_SEGMENT_SCHEMA: object = { not: { enum: DOT_SEGMENTS } };

const STREAM_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
export const STREAM_NAME_RULE = "stream names are 1 to 256 characters of A-Z, a-z, 0-9, '_', '.' and '-', and not '.' or '..'";
export const STREAM_NAME_PATTERN = STREAM_NAME.source;

/** CloudZero's stream naming rule (metric and allocation streams alike). */
export function isStreamName(name: string): boolean {
	return STREAM_NAME.test(name) && !DOT_SEGMENTS.includes(name);
}

/** CloudZero: up to 256 characters of [A-Za-z0-9_.-], except the dot segments "." and "..". */
export const StreamNameSchema = z
	.string()
	.refine((name) => isStreamName(name), {
		message: STREAM_NAME_RULE,
		params: { code: "invalid_stream_name" },
	})
	.openapi({
		param: { name: "name", in: "path" },
		description: "1 to 256 characters of A-Z, a-z, 0-9, `_`, `.` and `-`; not `.` or `..` (URLs resolve those as dot segments)",
		pattern: STREAM_NAME_PATTERN,
		...NOT_DOT_SEGMENT_SCHEMA,
		example: "my-metric-stream",
	});

export const StreamParamsSchema = z.object({ name: StreamNameSchema });

/** Organization ids name a tenant; kept plain because they are part of KV keys and object names. */
export const OrgSchema = z
	.string()
	.regex(/^[A-Za-z0-9_.-]{1,64}$/, "org must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'")
	.openapi({ example: "acme" });

/**
 * An organization a token is created for: as OrgSchema, and not a dot segment. Such an org's
 * dimensions could never be addressed (/admin/v1/orgs/./dimensions/... resolves to another path).
 */
export const NewOrgSchema = OrgSchema.refine((org) => !DOT_SEGMENTS.includes(org), {
	message: "org must not be '.' or '..'",
	params: { code: "invalid_format" },
}).openapi({
	description: "1 to 64 characters of A-Z, a-z, 0-9, `_`, `.` and `-`; not `.` or `..` (URLs resolve those as dot segments)",
	...NOT_DOT_SEGMENT_SCHEMA,
	example: "acme",
});

export const DaySchema = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, "dates are YYYY-MM-DD")
	.refine((s) => isValidDay(s), { message: "not a calendar date", params: { code: "invalid_date" } });

export function isValidDay(day: string): boolean {
	const [y, m, d] = day.split("-").map(Number);
	const date = new Date(Date.UTC(2000, m - 1, d));
	date.setUTCFullYear(y);
	return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** An Idempotency-Key: 1 to 255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Documents the Idempotency-Key header of write endpoints (checked by the handler). */
export const IdempotencyHeadersSchema = z.object({
	"idempotency-key": z.string().optional().openapi({
		description:
			"Makes a retry safe: the same key with the same body within 24 hours returns the first response and applies nothing; with a different body, 409. 1 to 255 printable ASCII characters, no spaces.",
		pattern: IDEMPOTENCY_KEY.source,
		example: "backfill-2024-01-batch-0007",
	}),
});

/**
 * JSON.parse keeps a "__proto__" key as an own property, but z.record skips it silently; a key
 * must never be dropped without an error, so it is refused before the record is parsed.
 */
export function withoutProtoKey<T extends z.ZodType>(schema: T) {
	return z.preprocess((input, ctx) => {
		if (input !== null && typeof input === "object" && Object.hasOwn(input, "__proto__")) {
			ctx.addIssue({
				code: "custom",
				message: "'__proto__' is not allowed as a key",
				path: ["__proto__"],
				params: { code: "invalid_dimension_name" },
			});
		}
		return input;
	}, schema);
}

/** A lone UTF-16 surrogate cannot be stored as UTF-8: it would come back altered. */
export function wellFormed<T extends z.ZodType<string>>(schema: T, what: string) {
	return schema.refine((s) => s.isWellFormed(), {
		message: `${what} must be valid Unicode (no lone surrogates)`,
		params: { code: "invalid_unicode" },
	});
}

/** Raises an issue from one of our own checks, with its machine-readable code in params.code. */
export function fail(ctx: z.RefinementCtx, code: ErrorCode, message: string): typeof z.NEVER {
	ctx.addIssue({ code: "custom", message, params: { code } });
	return z.NEVER;
}

/**
 * Dimensions as canonical JSON, keys sorted, so key order never changes an identity: a CloudZero
 * stream's series key, a Cloudthread record's dimensions. Pass the sorted keys if already known.
 */
export function canonicalDimensions(dims: Record<string, string> | undefined, keys = dims ? Object.keys(dims).sort() : []): string {
	if (!dims) return "{}";
	const sorted: Record<string, string> = {};
	for (const key of keys) sorted[key] = dims[key];
	return JSON.stringify(sorted);
}

/**
 * Read filters are `dim[<dimension name>]=<values>` (keep what has one of the values) and
 * `exclude[<dimension name>]=<values>` (keep what has none of them): every dimension name,
 * whatever its characters (`limit`, `custom:Client`, `a]b`), is addressable and never mistaken
 * for a query option. The name runs from the first `[` to the last `]`. The values are split on
 * commas; in a value, `\,` is a comma and `\\` a backslash (http/reads.ts parses them).
 */
export const FILTER_PARAM = /^(dim|exclude)\[(.+)\]$/s;

/** The two filter parameters: `dim` includes, `exclude` excludes. */
export type FilterKind = "dim" | "exclude";

/** A filter's values as written: every backslash starts an escape, `\\` or `\,`. */
export const FILTER_VALUES_PATTERN = String.raw`^(?:[^\\]|\\[\\,])*$`;

/** One filter of a read, parsed (http/reads.ts filterParams); a read's filters must all pass. */
export interface DimensionFilter {
	/** The dimension name as written between the brackets (a cost read resolves it: Tag:x is tag:x). */
	name: string;
	/** The values, unescaped: the filter's parameter values, each split on its unescaped commas. */
	values: string[];
	/** exclude[...]: passes what has none of the values; dim[...]: what has one of them. */
	exclude: boolean;
	/** The parameter as written, `dim[<name>]` or `exclude[<name>]` (the name cut to 200 characters), for error details. */
	param: string;
}

export const FILTER_SYNTAX_DESCRIPTION =
	"Filter with `dim[<dimension name>]=<values>` (keep what has one of the values) and `exclude[<dimension name>]=<values>` (leave out what has one of them); names and values are percent-encoded as usual, e.g. `dim[custom:Client]=Patric%20Star`. `<values>` is one value or several separated by commas: `dim[LineItemType]=Usage,Tax` is Usage or Tax, like repeating the parameter (`dim[LineItemType]=Usage&dim[LineItemType]=Tax`). Commas are read after percent-decoding, so `%2C` separates too; in a value, write a comma as `\\,` and a backslash as `\\\\` (any other backslash, or one at the end, is 400 `invalid_filter`). An empty value (`dim[Region]=`, or `a,` for a and the empty value) is the empty string. Every filter must pass, and `dim` and `exclude` may name the same dimension: `dim[LineItemType]=Usage,Tax&exclude[LineItemType]=Tax` keeps Usage.";

const FILTER_DESCRIPTIONS: Record<FilterKind, string> = {
	dim: "Filters that keep what has one of their values: `dim[<dimension name>]=<value>,<value>…`, a comma in a value written `\\,` and a backslash `\\\\`.",
	exclude:
		"Filters that leave out what has one of their values: `exclude[<dimension name>]=<value>,<value>…`, a comma in a value written `\\,` and a backslash `\\\\`.",
};

/** A filter query parameter (`dim` or `exclude`) as the OpenAPI document shows it (the handler reads the parameters itself). */
export function filterParamDocumentation(example: Record<string, string>, kind: FilterKind = "dim"): object {
	return {
		param: { name: kind, in: "query", style: "deepObject", explode: true },
		propertyNames: { minLength: 1 },
		additionalProperties: { type: "string", pattern: FILTER_VALUES_PATTERN },
		description: FILTER_DESCRIPTIONS[kind],
		example,
	};
}
