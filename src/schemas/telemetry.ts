import { z } from "@hono/zod-openapi";
import { fail, utcEpochMs, wellFormed, withoutProtoKey } from "./common";

/** The three ways a write changes a stream; the legacy endpoint is a sum. */
export const WRITE_OPERATIONS = ["sum", "replace", "delete"] as const;
export type WriteOperation = (typeof WRITE_OPERATIONS)[number];

/** CloudZero allows 5 associated_cost dimensions per unit metric. */
export const MAX_DIMENSIONS = 5;
/** Values beyond CloudZero's 15 significant digits are rounded. */
export const SIGNIFICANT_DIGITS = 15;

/** A value rounded to 15 significant digits, as it is stored and shown. */
export function roundToSignificant(n: number): number {
	return Number(n.toPrecision(SIGNIFICANT_DIGITS)) + 0; // + 0 turns -0 into 0
}

/** Timestamps further ahead than this are refused (CloudZero: "Timestamp too far into the future"). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

// `custom:<Name>` for an organization's own dimensions, or a CloudZero built-in name such as `Region`.
const DIMENSION_KEY = /^(?:custom:[^\u0000-\u001f\u007f]{1,128}|[A-Za-z][A-Za-z0-9 _-]{0,127})$/;
const MAX_DIMENSION_VALUE_LENGTH = 1024;

const TIMESTAMP =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?)?$/i;

type ParsedTimestamp = { day: string; epochMs: number } | { error: string };

// A backfill repeats the same few timestamps thousands of times, and parsing one (regex and
// Date arithmetic) was the largest single cost of validating a request. The result depends on
// the input alone, so it is remembered; the cache is emptied when it fills.
const parsedTimestamps = new Map<string, ParsedTimestamp>();
const MAX_CACHED_TIMESTAMPS = 4096;

/** A CloudZero timestamp reduced to its UTC day, or the reason it cannot be. */
export function parseTimestamp(input: string): ParsedTimestamp {
	let parsed = parsedTimestamps.get(input);
	if (parsed === undefined) {
		if (parsedTimestamps.size >= MAX_CACHED_TIMESTAMPS) parsedTimestamps.clear();
		parsed = parseTimestampUncached(input);
		parsedTimestamps.set(input, parsed);
	}
	return parsed;
}

function parseTimestampUncached(input: string): ParsedTimestamp {
	const m = TIMESTAMP.exec(input.trim());
	if (!m) return { error: `'${input.slice(0, 64)}' is not an ISO 8601 date or date-time` };
	const [, y, mo, d, hh = "0", mi = "0", ss = "0", offset] = m;
	const utc = utcEpochMs(`'${input}'`, [y, mo, d, hh, mi, ss].map(Number), offset);
	if ("error" in utc) return utc;
	const { epochMs } = utc;
	return { day: new Date(epochMs).toISOString().slice(0, 10), epochMs };
}

const NUMERIC_STRING = /^\+?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
// At most 15 digits and no exponent: already exact to 15 significant digits as a double
// (DBL_DIG), so rounding it again (toPrecision) cannot change it.
const SHORT_DECIMAL = /^\+?(?=(?:\.?\d){1,15}$)\d*\.?\d*$/;

/** A CloudZero value: a finite, non-negative number or numeric string, rounded to 15 significant digits. */
export function parseValue(input: number | string): number | { code: string; error: string } {
	let n: number;
	if (typeof input === "number") {
		n = input;
	} else {
		// ASCII whitespace only: a no-break or thin space inside a number is more likely a formatting slip.
		const s = input.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
		if (s.includes(",")) return { code: "invalid_value", error: "value must not contain commas" };
		if (s.startsWith("-") && NUMERIC_STRING.test(s.slice(1))) return { code: "negative_value", error: "value must not be negative" };
		if (!NUMERIC_STRING.test(s)) return { code: "invalid_value", error: `'${s.slice(0, 64)}' is not a number` };
		n = Number(s);
		if (SHORT_DECIMAL.test(s)) return n + 0; // + 0 turns -0 into 0
	}
	if (!Number.isFinite(n)) return { code: "invalid_value", error: "value must be a finite number" };
	if (n < 0) return { code: "negative_value", error: "value must not be negative" };
	return roundToSignificant(n);
}

const TimestampSchema = z
	.string({ error: (iss) => (iss.input === undefined ? "timestamp is required" : "timestamp must be a string") })
	.openapi({ description: "ISO 8601 date or date-time; converted to UTC and reduced to its day", example: "2023-12-07T00:00:00" })
	.transform((input, ctx) => {
		const parsed = parseTimestamp(input);
		if ("error" in parsed) return fail(ctx, "invalid_timestamp", parsed.error);
		if (parsed.epochMs > Date.now() + MAX_FUTURE_MS) {
			return fail(ctx, "future_timestamp", "Timestamp too far into the future (more than 24 hours ahead)");
		}
		return parsed.day;
	});

const ValueSchema = z
	.union([z.number(), z.string()], {
		error: (iss) => (iss.input === undefined ? "value is required" : "value must be a number or a numeric string"),
	})
	.openapi({ description: "Number or numeric string, no commas, not negative; rounded to 15 significant digits", example: "12345" })
	.transform((input, ctx) => {
		const parsed = parseValue(input);
		return typeof parsed === "number" ? parsed : fail(ctx, parsed.code, parsed.error);
	});

const AssociatedCostSchema = withoutProtoKey(
	z.record(
		wellFormed(z.string().regex(DIMENSION_KEY, "dimension names are 'custom:<Name>' or a built-in dimension such as 'Region'"), "a dimension name"),
		wellFormed(
			z
				.string({ error: "a dimension value must be a single string (not a list, number or object)" })
				.min(1, "a dimension value must not be empty")
				.max(MAX_DIMENSION_VALUE_LENGTH, `a dimension value is at most ${MAX_DIMENSION_VALUE_LENGTH} characters`),
			"a dimension value",
		),
		{ error: "associated_cost must be an object of dimension name to value" },
	).refine((dims) => Object.keys(dims).length <= MAX_DIMENSIONS, {
		message: `at most ${MAX_DIMENSIONS} associated_cost dimensions are allowed`,
		params: { code: "too_many_dimensions" },
	}),
).openapi({
		description: "Up to 5 dimensions; keys are 'custom:<Name>' or a built-in dimension name",
		example: { "custom:Client": "Patric Star", Region: "Australia" },
	});

export const SumRecordSchema = z
	.strictObject({ timestamp: TimestampSchema, value: ValueSchema, associated_cost: AssociatedCostSchema.optional() })
	.openapi("TelemetryRecord");

type SumRecord = z.output<typeof SumRecordSchema>;

/**
 * The records of a sum/replace body that is valid in the plainest way, exactly as
 * SumBodySchema would return them, or null to let SumBodySchema parse it (and list every problem).
 * Validating 1,000 records through zod's generic machinery cost about a fifth of a request's
 * time in the Worker; this checks the same rules with the same parsers in one loop. It only
 * ever accepts: anything unusual, valid or not, goes to the schema, which stays the one source
 * of error messages and of the OpenAPI document.
 */
export function plainSumRecords(body: unknown): SumRecord[] | null {
	if (!isPlainObject(body)) return null;
	const records = body.records;
	if (!Array.isArray(records) || records.length === 0) return null;
	for (const key in body) if (key !== "records") return null;
	const latest = Date.now() + MAX_FUTURE_MS;
	const out: SumRecord[] = new Array(records.length);
	for (let i = 0; i < records.length; i++) {
		const r: unknown = records[i];
		if (!isPlainObject(r)) return null;
		let fields = 0;
		for (const key in r) {
			if (key !== "timestamp" && key !== "value" && key !== "associated_cost") return null;
			fields++;
		}
		const { timestamp, value, associated_cost: dims } = r;
		if (typeof timestamp !== "string" || (typeof value !== "number" && typeof value !== "string")) return null;
		if (fields !== (dims === undefined ? 2 : 3)) return null;
		if (dims !== undefined && !plainDimensions(dims)) return null;
		const time = parseTimestamp(timestamp);
		if ("error" in time || time.epochMs > latest) return null;
		const parsedValue = parseValue(value);
		if (typeof parsedValue !== "number") return null;
		out[i] = dims === undefined ? { timestamp: time.day, value: parsedValue } : { timestamp: time.day, value: parsedValue, associated_cost: dims };
	}
	return out;
}

function plainDimensions(dims: unknown): dims is Record<string, string> {
	if (!isPlainObject(dims)) return false;
	let count = 0;
	for (const key in dims) {
		const value = dims[key];
		// DIMENSION_KEY also excludes "__proto__", which the schema refuses.
		if (++count > MAX_DIMENSIONS || !DIMENSION_KEY.test(key) || !key.isWellFormed()) return false;
		if (typeof value !== "string" || value.length === 0 || value.length > MAX_DIMENSION_VALUE_LENGTH || !value.isWellFormed()) return false;
	}
	return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export const DeleteRecordSchema = z
	.strictObject({ timestamp: TimestampSchema, associated_cost: AssociatedCostSchema.optional() })
	.openapi("TelemetryDeleteRecord");

export const SumBodySchema = z.strictObject({ records: z.array(SumRecordSchema).min(1, "records must not be empty") }).openapi("TelemetryBody");
export const DeleteBodySchema = z
	.strictObject({ records: z.array(DeleteRecordSchema).min(1, "records must not be empty") })
	.openapi("TelemetryDeleteBody");

export const WriteAcceptedSchema = z
	.object({
		message: z.literal("Telemetry accepted"),
		operation: z.enum(WRITE_OPERATIONS),
		stream: z.string(),
		records: z.number().int().openapi({ description: "Records applied" }),
		series_deleted: z.number().int().optional().openapi({ description: "delete only: day-series hidden by this request" }),
		stream_created: z.boolean().openapi({ description: "Whether this request created the stream" }),
		request_id: z.string(),
	})
	.openapi("TelemetryAccepted");
export type WriteAccepted = z.infer<typeof WriteAcceptedSchema>;

/** Validated sum/replace rows as sent to the stream's Durable Object: [day, series key, value]. */
export type ValueRow = [day: string, seriesKey: string, value: number];
/** Validated delete matches: [day, dimensions that must match]. */
export type DeleteMatch = [day: string, dims: Record<string, string>];
