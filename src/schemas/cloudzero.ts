import type { ErrorDetail } from "../lib/api-error";
import type { ErrorCode } from "../lib/error-catalog";
import { finiteSum, MAX_STORED_VALUE, storableNumber } from "../lib/numbers";
import { parseTimestamp, TIMESTAMP_PATTERN } from "../lib/timestamps";
import { canonicalDimensions, fail, wellFormed, withoutProtoKey } from "./common";
import { z } from "./zod";

/** The three ways a write changes a stream; the legacy endpoint is a sum. */
export const WRITE_OPERATIONS = ["sum", "replace", "delete"] as const;
export type WriteOperation = (typeof WRITE_OPERATIONS)[number];

/** CloudZero allows 5 associated_cost dimensions per unit metric. */
export const MAX_DIMENSIONS = 5;

/** Timestamps further ahead than this are refused (CloudZero: "Timestamp too far into the future"). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

/**
 * associated_cost keys are CloudZero dimension display names: `custom:<Name>`, built-ins such as
 * `Region` or `Cloud Provider`, tags as `tag:<key>` / `Tag:<key>`. Any name of 1 to 128
 * printable characters (code points, no control characters) that is not only whitespace.
 */
export const DIMENSION_NAME_PATTERN = String.raw`^(?!\s*$)[^\u0000-\u001f\u007f-\u009f]{1,128}$`;
export const DIMENSION_NAME = new RegExp(DIMENSION_NAME_PATTERN, "u");
export const DIMENSION_NAME_RULE = "a dimension name is 1 to 128 printable characters, not only whitespace";
export const MAX_DIMENSION_VALUE_LENGTH = 1024;

const NUMERIC_STRING = /^\+?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const VALUE_STRING_PATTERN = String.raw`^[ \t\r\n]*\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\r\n]*$`;
// At most 15 digits and no exponent: already exact to 15 significant digits as a double
// (DBL_DIG), so rounding it again (toPrecision) cannot change it.
const SHORT_DECIMAL = /^\+?(?=(?:\.?\d){1,15}$)\d*\.?\d*$/;

/**
 * A CloudZero value: a finite, non-negative number or numeric string, rounded to 15 significant
 * digits; refused when it overflows or underflows (see storableNumber).
 */
export function parseValue(input: number | string): number | { code: ErrorCode; error: string } {
	let n: number;
	let source: string | undefined;
	if (typeof input === "number") {
		n = input;
	} else if (SHORT_DECIMAL.test(input)) {
		// The plainest form (digits and a point, no spaces, minus or exponent): the steps below
		// return exactly this for it, after a trim, two searches and two more tests.
		return Number(input) + 0;
	} else {
		// ASCII whitespace only: a no-break or thin space inside a number is more likely a formatting slip.
		const s = input.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
		if (s.includes(",")) return { code: "invalid_value", error: "value must not contain commas" };
		if (s.startsWith("-") && NUMERIC_STRING.test(s.slice(1))) return { code: "negative_value", error: "value must not be negative" };
		if (!NUMERIC_STRING.test(s)) return { code: "invalid_value", error: `'${s.slice(0, 64)}' is not a number` };
		n = Number(s);
		if (SHORT_DECIMAL.test(s)) return n + 0; // + 0 turns -0 into 0
		source = s;
	}
	if (Number.isNaN(n)) return { code: "invalid_value", error: "value must be a number" };
	if (n < 0) return { code: "negative_value", error: "value must not be negative" };
	const stored = storableNumber(n, "value", source);
	return typeof stored === "number" ? stored : { code: stored.code, error: stored.error };
}

const TimestampSchema = z
	.string({ error: (iss) => (iss.input === undefined ? "timestamp is required" : "timestamp must be a string") })
	.openapi({
		description:
			"ISO 8601 date or date-time (`T` or a space between them), with an optional UTC offset from -14:00 to +14:00 (`Z`, `+05:30`, `-0800`, `+05`); no offset means UTC. Converted to UTC and reduced to its day; from 1900-01-01T00:00:00Z to 24 hours ahead.",
		pattern: TIMESTAMP_PATTERN,
		example: "2023-12-07T00:00:00",
	})
	.transform((input, ctx) => {
		const parsed = parseTimestamp(input);
		if ("error" in parsed) return fail(ctx, "invalid_timestamp", parsed.error);
		if (parsed.epochMs > Date.now() + MAX_FUTURE_MS) {
			return fail(ctx, "future_timestamp", "Timestamp too far into the future (more than 24 hours ahead)");
		}
		return parsed.day;
	});

export const ValueSchema = z
	// The bounds and pattern are documentation: parseValue checks them, with its own error codes.
	.union([z.number().openapi({ minimum: 0, maximum: MAX_STORED_VALUE }), z.string().openapi({ pattern: VALUE_STRING_PATTERN })], {
		error: (iss) => (iss.input === undefined ? "value is required" : "value must be a number or a numeric string"),
	})
	.openapi({
		description:
			"Number or numeric string, no commas, not negative; rounded to 15 significant digits. Refused: values beyond 1.79769313486231e308 (value_overflow), values that underflow (non-zero but too small for a double, such as 1e-400, which would become 0), and a sum whose day's stored value would overflow.",
		example: "12345",
	})
	.transform((input, ctx) => {
		const parsed = parseValue(input);
		return typeof parsed === "number" ? parsed : fail(ctx, parsed.code, parsed.error);
	});

// JSON Schema keywords the OpenAPI typings of zod-openapi (3.0-era) do not list; 3.1 has them.
const DIMENSION_NAMES_JSON_SCHEMA: object = {
	maxProperties: MAX_DIMENSIONS,
	propertyNames: { type: "string", minLength: 1, maxLength: 128, pattern: DIMENSION_NAME_PATTERN, not: { const: "__proto__" } },
};

const AssociatedCostSchema = withoutProtoKey(
	z
		.record(
			wellFormed(z.string().regex(DIMENSION_NAME, DIMENSION_NAME_RULE), "a dimension name"),
			wellFormed(
				z
					.string({ error: "a dimension value must be a single string (not a list, number or object)" })
					.min(1, "a dimension value must not be empty")
					.max(MAX_DIMENSION_VALUE_LENGTH, `a dimension value is at most ${MAX_DIMENSION_VALUE_LENGTH} characters`),
				"a dimension value",
			),
			{
				error: (iss) =>
					iss.code === "invalid_key"
						? `${DIMENSION_NAME_RULE}: ${JSON.stringify(iss.input).slice(0, 200)}`
						: "associated_cost must be an object of dimension name to value",
			},
		)
		.refine((dims) => Object.keys(dims).length <= MAX_DIMENSIONS, {
			message: `at most ${MAX_DIMENSIONS} associated_cost dimensions are allowed`,
			params: { code: "too_many_dimensions" },
		}),
).openapi({
	description:
		"Up to 5 dimensions, by CloudZero display name: `custom:<Name>`, built-ins such as `Region` or `Cloud Provider`, tags as `tag:<key>`. A name is 1 to 128 printable characters (no control characters), not only whitespace, and not `__proto__`; a value is 1 to 1,024 characters. Every record of a stream has the same names.",
	...DIMENSION_NAMES_JSON_SCHEMA,
	example: { "custom:Client": "Patric Star", Region: "Australia", "tag:environment": "prod" },
});

/**
 * CloudZero's legacy replace names `timestamp` and `granularity` as its minimum. Both
 * granularities are stored as the day's value: the records of one request that fall on the
 * same day and dimensions are summed first.
 */
export const GRANULARITIES = ["DAILY", "HOURLY"] as const;
const GranularitySchema = z
	.string({ error: "granularity must be a string: DAILY or HOURLY" })
	.openapi({
		description:
			"`DAILY` or `HOURLY`, in any case. Either way the day's value is stored: the records of a request on one day and dimension set are summed.",
		pattern: "^(?:[Dd][Aa][Ii][Ll][Yy]|[Hh][Oo][Uu][Rr][Ll][Yy])$",
		example: "HOURLY",
	})
	.refine((g) => isGranularity(g), {
		message: `granularity must be one of ${GRANULARITIES.join(", ")} (case-insensitive)`,
		params: { code: "invalid_granularity" },
	});

function isGranularity(input: unknown): boolean {
	return typeof input === "string" && (GRANULARITIES as readonly string[]).includes(input.toUpperCase());
}

export const SumRecordSchema = z
	.strictObject({
		timestamp: TimestampSchema,
		value: ValueSchema,
		associated_cost: AssociatedCostSchema.optional(),
		granularity: GranularitySchema.optional(),
	})
	.openapi("TelemetryRecord");

export type SumRecord = Omit<z.output<typeof SumRecordSchema>, "granularity">;

/** A request's total for one (day, series): the sum of its records there, and the first of them. */
export interface DayTotal {
	day: string;
	/** The series' dimensions as canonicalDimensions writes them. */
	seriesKey: string;
	dimensions: Record<string, string> | undefined;
	value: number;
	/** Index of the first record on this (day, series). */
	record: number;
}

/**
 * The records of a request summed per (day, series), in order of first appearance. CloudZero
 * aggregates data sent at a finer granularity (hourly records, say) to the day, so a replace sets
 * the day's value to the day's total, not to its last record. A total that could not be stored is
 * a value_overflow detail naming the record that made it overflow. Used by the write endpoint and
 * by the CLI, which sends a file's replace as these totals so that no day is split across requests.
 */
export function dayTotals(records: SumRecord[], dimensionKeys: string[]): { rows: DayTotal[]; details: ErrorDetail[] } {
	const rows: DayTotal[] = [];
	const details: ErrorDetail[] = [];
	// Every record has exactly these keys (checkDimensionKeys), already sorted. A record's series is
	// found by its values, one level per key, so its series key (canonicalDimensions, about 100
	// characters) is written once per series rather than built and hashed once per record.
	const series = new SeriesIndex(dimensionKeys);
	for (let record = 0; record < records.length; record++) {
		const r = records[record];
		const { seriesKey, days } = series.of(r.associated_cost);
		const row = days.get(r.timestamp);
		if (!row) {
			const total: DayTotal = { day: r.timestamp, seriesKey, dimensions: r.associated_cost, value: r.value, record };
			days.set(r.timestamp, total);
			rows.push(total);
			continue;
		}
		const total = finiteSum(row.value, r.value);
		if (total !== null) row.value = total;
		else {
			details.push({
				code: "value_overflow",
				message: `the records for ${r.timestamp} and these dimensions add up to more than ${MAX_STORED_VALUE}`,
				record,
				path: `records[${record}].value`,
			});
		}
	}
	return { rows, details };
}

/** One series of dayTotals: its key, and its totals by day. */
interface SeriesDays {
	seriesKey: string;
	days: Map<string, DayTotal>;
}
type SeriesLevel = Map<string | undefined, SeriesLevel | SeriesDays>;

/**
 * The series of one request by their dimension values, a Map per key (in the sorted keys' order).
 * Two records reach the same series exactly when canonicalDimensions gives them the same key: both
 * read the same keys' values, a missing value (undefined) included. (A "__proto__" name would break
 * this, canonicalDimensions dropping it; validation refuses it.)
 */
class SeriesIndex {
	private readonly top: SeriesLevel = new Map();
	private none: SeriesDays | undefined;

	constructor(private readonly keys: string[]) {}

	of(dims: Record<string, string> | undefined): SeriesDays {
		const { keys } = this;
		if (keys.length === 0) {
			this.none ??= seriesDays(canonicalDimensions(dims, keys));
			return this.none;
		}
		let level = this.top;
		const last = keys.length - 1;
		for (let i = 0; i < last; i++) {
			const value = dims?.[keys[i]];
			let next = level.get(value) as SeriesLevel | undefined;
			if (next === undefined) {
				next = new Map();
				level.set(value, next);
			}
			level = next;
		}
		const value = dims?.[keys[last]];
		let days = level.get(value) as SeriesDays | undefined;
		if (days === undefined) {
			days = seriesDays(canonicalDimensions(dims, keys));
			level.set(value, days);
		}
		return days;
	}
}

function seriesDays(seriesKey: string): SeriesDays {
	return { seriesKey, days: new Map() };
}

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
	const validNames = new Set<string>();
	const out: SumRecord[] = new Array(records.length);
	for (let i = 0; i < records.length; i++) {
		const r: unknown = records[i];
		if (!isPlainObject(r)) return null;
		let fields = 0;
		for (const key in r) {
			if (key !== "timestamp" && key !== "value" && key !== "associated_cost" && key !== "granularity") return null;
			fields++;
		}
		const { timestamp, value, associated_cost: dims, granularity } = r;
		if (typeof timestamp !== "string" || (typeof value !== "number" && typeof value !== "string")) return null;
		if (fields !== 2 + (dims === undefined ? 0 : 1) + (granularity === undefined ? 0 : 1)) return null;
		if (granularity !== undefined && !isGranularity(granularity)) return null;
		if (dims !== undefined && !plainDimensions(dims, validNames)) return null;
		const time = parseTimestamp(timestamp);
		if ("error" in time || time.epochMs > latest) return null;
		const parsedValue = parseValue(value);
		if (typeof parsedValue !== "number") return null;
		out[i] =
			dims === undefined ? { timestamp: time.day, value: parsedValue } : { timestamp: time.day, value: parsedValue, associated_cost: dims };
	}
	return out;
}

function plainDimensions(dims: unknown, validNames: Set<string>): dims is Record<string, string> {
	if (!isPlainObject(dims)) return false;
	let count = 0;
	for (const key in dims) {
		const value = dims[key];
		if (++count > MAX_DIMENSIONS) return false;
		// Every record names the same few dimensions: each name is checked once per request.
		if (!validNames.has(key)) {
			// "__proto__" is refused by the schema (withoutProtoKey).
			if (key === "__proto__" || !DIMENSION_NAME.test(key) || !key.isWellFormed()) return false;
			validNames.add(key);
		}
		if (typeof value !== "string" || value.length === 0 || value.length > MAX_DIMENSION_VALUE_LENGTH || !value.isWellFormed()) return false;
	}
	return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export const DeleteRecordSchema = z
	.strictObject({ timestamp: TimestampSchema, associated_cost: AssociatedCostSchema.optional(), granularity: GranularitySchema.optional() })
	.openapi("TelemetryDeleteRecord");

export const SumBodySchema = z
	.strictObject({ records: z.array(SumRecordSchema).min(1, "records must not be empty") })
	.openapi("TelemetryBody");
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

/**
 * Validated sum/replace rows as sent to the stream's Durable Object, one per (day, series) of
 * the request: [day, series key, the request's total for it, index of its first record].
 */
export type ValueRow = [day: string, seriesKey: string, value: number, record: number];
/** Validated delete matches: [day, dimensions that must match]. */
export type DeleteMatch = [day: string, dims: Record<string, string>];
