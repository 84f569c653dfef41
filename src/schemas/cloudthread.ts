// Cloudthread-compatible custom data: POST /streams/ingest and the read-back under /streams/metrics.

import { sha256Hex } from "../lib/encoding";
import type { ErrorCode } from "../lib/error-catalog";
import { MAX_STORED_VALUE, storableNumber } from "../lib/numbers";
import { EARLIEST_EPOCH_MS, utcEpochMs } from "../lib/timestamps";
import { MAX_FUTURE_MS } from "./cloudzero";
import { DaySchema, DOT_SEGMENTS, fail, filterParamDocumentation, NOT_DOT_SEGMENT_SCHEMA, wellFormed, withoutProtoKey } from "./common";
import { z } from "./zod";

export const AGG_FUNCS = ["Sum", "Average", "Maximum", "Minimum"] as const;
export type AggFunc = (typeof AGG_FUNCS)[number];

/** Cloudthread: a map of up to 10 custom dimensions. */
export const MAX_CUSTOM_DIMENSIONS = 10;
export const MAX_METRIC_NAME_LENGTH = 256;
const MAX_DIMENSION_KEY_LENGTH = 128;
const MAX_DIMENSION_VALUE_LENGTH = 1024;
const HOUR_MS = 3_600_000;
// Epoch seconds this large are years past 5000: almost certainly milliseconds.
const EPOCH_MILLISECONDS_HINT = 100_000_000_000;

// 'YYYY-MM-DD HH:MM:SS' or ISO 8601 with 'T', optional fraction and offset.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

type HourResult = { hour: string; epochMs: number } | { code: ErrorCode; error: string };

/**
 * A Cloudthread timestamp reduced to its UTC hour ('YYYY-MM-DDTHH:00:00Z'), or why it cannot be.
 * Accepted: 'YYYY-MM-DD HH:MM:SS', ISO 8601 with 'T' and an optional offset, compact
 * 'yyyyMMddHHmmss' (UTC) and epoch seconds as a JSON number. After conversion to UTC the
 * minutes, seconds and fraction must all be zero.
 */
export function parseHourTimestamp(input: number | string): HourResult {
	let epochMs: number;
	if (typeof input === "number") {
		if (!Number.isFinite(input)) return { code: "invalid_timestamp", error: "timestamp must be a finite number of epoch seconds" };
		if (Math.abs(input) >= EPOCH_MILLISECONDS_HINT) {
			return { code: "invalid_timestamp", error: `${input} is not epoch seconds (milliseconds? divide by 1000)` };
		}
		epochMs = input * 1000;
	} else {
		const parsed = parseTimestampString(input.trim());
		if ("error" in parsed) return parsed;
		epochMs = parsed.epochMs;
	}
	if (epochMs < EARLIEST_EPOCH_MS) return { code: "invalid_timestamp", error: "timestamp must be 1900-01-01T00:00:00Z or later" };
	if (epochMs > Date.now() + MAX_FUTURE_MS) {
		return { code: "future_timestamp", error: "Timestamp too far into the future (more than 24 hours ahead)" };
	}
	const iso = new Date(epochMs).toISOString();
	if (epochMs % HOUR_MS !== 0) {
		return {
			code: "timestamp_not_hourly",
			error: `timestamps must be on the hour: ${JSON.stringify(input).slice(0, 64)} is ${iso.slice(0, epochMs % 1000 === 0 ? 19 : 23).replace("T", " ")} UTC, which has non-zero minutes or seconds`,
		};
	}
	return { hour: `${iso.slice(0, 13)}:00:00Z`, epochMs };
}

function parseTimestampString(input: string): { epochMs: number } | { code: ErrorCode; error: string } {
	const shown = `'${input.slice(0, 64)}'`;
	let parts: string[];
	let fraction = "";
	let offset: string | undefined;
	const dateTime = DATE_TIME.exec(input);
	const compact = COMPACT.exec(input);
	if (dateTime) {
		const [, y, mo, d, hh, mi, ss = "0", frac = "", off] = dateTime;
		parts = [y, mo, d, hh, mi, ss];
		fraction = frac;
		offset = off;
	} else if (compact) {
		parts = compact.slice(1);
	} else if (/^\d{4}-\d{2}-\d{2}$/.test(input)) {
		return { code: "invalid_timestamp", error: `${shown} has no time of day: send daily data as '${input} 00:00:00'` };
	} else if (/^-?\d+(?:\.\d+)?$/.test(input)) {
		return { code: "invalid_timestamp", error: `${shown} is neither yyyyMMddHHmmss nor a date-time; send epoch seconds as a JSON number` };
	} else {
		return { code: "invalid_timestamp", error: `${shown} is not a date-time such as '2022-10-01 00:00:00'` };
	}
	const utc = utcEpochMs(shown, parts.map(Number), offset);
	if ("error" in utc) return { code: "invalid_timestamp", error: utc.error };
	// A non-zero fraction of a second is as much off the hour as non-zero seconds (at least 1 ms off).
	const fractionMs = /[1-9]/.test(fraction) ? Math.max(1, Math.floor(Number(`0.${fraction}`) * 1000)) : 0;
	return { epochMs: utc.epochMs + fractionMs };
}

const SIGNED_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A Cloudthread metric value: a finite number or numeric string; negatives allowed. */
export function parseMetricValue(input: number | string): number | { code: ErrorCode; error: string } {
	let n: number;
	let source: string | undefined;
	if (typeof input === "number") n = input;
	else {
		source = input.trim();
		if (!SIGNED_NUMBER.test(source)) return { code: "invalid_value", error: `'${source.slice(0, 64)}' is not a number` };
		n = Number(source);
	}
	if (Number.isNaN(n)) return { code: "invalid_value", error: "metric_value must be a number" };
	const stored = storableNumber(n, "metric_value", source);
	return typeof stored === "number" ? stored : { code: stored.code, error: stored.error };
}

export const AggFuncSchema = z
	.enum(AGG_FUNCS, { error: (iss) => `${iss.input === undefined ? "required" : "must be"}: one of ${AGG_FUNCS.join(", ")}` })
	.openapi({ description: "How a day's hourly points of a record are aggregated", example: "Sum" });

export const MetricNameSchema = wellFormed(
	z
		.string({ error: (iss) => (iss.input === undefined ? "metric_name is required" : "metric_name must be a string") })
		.min(1, "metric_name must not be empty")
		.max(MAX_METRIC_NAME_LENGTH, `metric_name is at most ${MAX_METRIC_NAME_LENGTH} characters`)
		.refine((name) => !DOT_SEGMENTS.includes(name), {
			message: "metric_name must not be '.' or '..': it could not be read back at /streams/metrics/{metric_name}",
			params: { code: "invalid_stream_name" },
		}),
	"metric_name",
).openapi({
	description: "1 to 256 characters of valid Unicode; not `.` or `..`, which no URL can address",
	...NOT_DOT_SEGMENT_SCHEMA,
	example: "active_users",
});

// The OpenAPI shape of the four accepted forms (parseHourTimestamp decides, with its own codes).
const HOUR_TIMESTAMP_PATTERN = String.raw`^\s*(?:\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?|\d{14})\s*$`;
const SIGNED_NUMBER_PATTERN = String.raw`^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$`;

const HourTimestampSchema = z
	// The bounds and patterns are documentation: the transform checks them, with its own codes.
	.union(
		[
			z.number().openapi({ multipleOf: 3600, minimum: EARLIEST_EPOCH_MS / 1000, exclusiveMaximum: EPOCH_MILLISECONDS_HINT }),
			z.string().openapi({ pattern: HOUR_TIMESTAMP_PATTERN }),
		],
		{
			error: (iss) =>
				iss.input === undefined ? "timestamp is required" : "timestamp must be a date-time string or epoch seconds as a number",
		},
	)
	.openapi({
		description:
			"On the hour once converted to UTC: '2022-10-01 00:00:00', ISO 8601 with 'T' and an optional offset within ±14:00, 'yyyyMMddHHmmss' (UTC) or epoch seconds as a number; from 1900-01-01T00:00:00Z to 24 hours ahead.",
		example: "2022-10-01 00:00:00",
	})
	.transform((input, ctx) => {
		const parsed = parseHourTimestamp(input);
		return "error" in parsed ? fail(ctx, parsed.code, parsed.error) : parsed.hour;
	});

const MetricValueSchema = z
	.union(
		[z.number().openapi({ minimum: -MAX_STORED_VALUE, maximum: MAX_STORED_VALUE }), z.string().openapi({ pattern: SIGNED_NUMBER_PATTERN })],
		{
			error: (iss) => (iss.input === undefined ? "metric_value is required" : "metric_value must be a number or a numeric string"),
		},
	)
	.openapi({
		description:
			"Float or numeric string; negative values allowed; rounded to 15 significant digits. Refused: values beyond ±1.79769313486231e308 (value_overflow), non-zero values too small for a double such as 1e-400 (value_underflow), and a write whose daily Sum would overflow.",
		example: 3.14,
	})
	.transform((input, ctx) => {
		const parsed = parseMetricValue(input);
		return typeof parsed === "number" ? parsed : fail(ctx, parsed.code, parsed.error);
	});

// JSON Schema keywords the OpenAPI typings of zod-openapi (3.0-era) do not list; 3.1 has them.
const CUSTOM_DIMENSIONS_JSON_SCHEMA: object = {
	maxProperties: MAX_CUSTOM_DIMENSIONS,
	propertyNames: { type: "string", minLength: 1, maxLength: MAX_DIMENSION_KEY_LENGTH, not: { const: "__proto__" } },
};

const CustomDimensionsSchema = withoutProtoKey(
	z
		.record(
			wellFormed(
				z
					.string()
					.min(1, "a dimension key must not be empty")
					.max(MAX_DIMENSION_KEY_LENGTH, `a dimension key is at most ${MAX_DIMENSION_KEY_LENGTH} characters`),
				"a dimension key",
			),
			wellFormed(
				z
					.string({ error: "a dimension value must be a string" })
					.max(MAX_DIMENSION_VALUE_LENGTH, `a dimension value is at most ${MAX_DIMENSION_VALUE_LENGTH} characters`),
				"a dimension value",
			),
			{ error: "custom_dimensions must be an object of string keys to string values" },
		)
		.refine((dims) => Object.keys(dims).length <= MAX_CUSTOM_DIMENSIONS, {
			message: `at most ${MAX_CUSTOM_DIMENSIONS} custom_dimensions are allowed`,
			params: { code: "too_many_dimensions" },
		}),
).openapi({
	description: `Up to ${MAX_CUSTOM_DIMENSIONS} string key/value pairs; keys 1 to ${MAX_DIMENSION_KEY_LENGTH} characters, values at most ${MAX_DIMENSION_VALUE_LENGTH}`,
	...CUSTOM_DIMENSIONS_JSON_SCHEMA,
	example: { team: "growth", env: "prod" },
});

export const IngestRecordSchema = z
	.strictObject({
		timestamp: HourTimestampSchema,
		metric_name: MetricNameSchema,
		metric_value: MetricValueSchema,
		custom_dimensions: CustomDimensionsSchema.optional(),
	})
	.openapi("CloudthreadDataPoint");

export const IngestBodySchema = z
	.strictObject({
		data_stream_token: z.string().min(1).openapi({ description: "A Meterline token with the write scope", example: "mlt_3q2-Vf..." }),
		metric_agg_func: AggFuncSchema,
		data: z.array(IngestRecordSchema).min(1, "data must not be empty"),
	})
	.openapi("CloudthreadIngestBody");
export type IngestBody = z.output<typeof IngestBodySchema>;

export const IngestCreatedSchema = z
	.object({
		message: z.literal("Data ingested"),
		metric_agg_func: AggFuncSchema,
		record_ids: z.array(z.string()).openapi({ description: "The record ID of each data point, in request order" }),
		counts: z.object({
			data_points: z.number().int().openapi({ description: "Data points in the request" }),
			hourly_points_written: z
				.number()
				.int()
				.openapi({ description: "Distinct (record ID, hour) pairs written; a repeated pair counts once (last one wins)" }),
			record_ids: z.number().int().openapi({ description: "Distinct record IDs" }),
			metrics: z.number().int().openapi({ description: "Distinct metric names" }),
			daily_values_recomputed: z.number().int().openapi({ description: "(record ID, day) aggregates recomputed" }),
		}),
		request_id: z.string(),
	})
	.openapi("CloudthreadIngestCreated");
export type IngestCreated = z.infer<typeof IngestCreatedSchema>;

/**
 * Cloudthread's record ID: a hash of metric name, aggregation function and custom dimensions.
 * JSON framing keeps the parts apart ('a'+'bc' never equals 'ab'+'c'); 128 bits of SHA-256.
 */
export function recordId(metricName: string, aggFunc: AggFunc, canonicalDims: string): Promise<string> {
	const framed = `[${JSON.stringify(metricName)},${JSON.stringify(aggFunc)},${canonicalDims}]`;
	return sha256Hex(framed, 16);
}

// ---- read-back --------------------------------------------------------------------------

export const MetricInfoSchema = z
	.object({
		metric_name: z.string(),
		metric_agg_func: AggFuncSchema,
		dimension_keys: z.array(z.string()).openapi({ description: "Every custom dimension key seen in the metric", example: ["env", "team"] }),
		first_hour: z.string().openapi({ example: "2022-10-01T00:00:00Z" }),
		last_hour: z.string().openapi({ example: "2022-10-31T23:00:00Z" }),
		record_count: z.number().int().openapi({ description: "Distinct record IDs" }),
		created_at: z.string(),
	})
	.openapi("CloudthreadMetricInfo");

export const MetricListQuerySchema = z.object({
	limit: z.coerce.number().int().min(1).max(1000).default(100),
	cursor: z.string().max(4000).optional().openapi({ description: "next_cursor of the previous page" }),
});

export const MetricListSchema = z
	.object({ metrics: z.array(MetricInfoSchema), next_cursor: z.string().nullable() })
	.openapi("CloudthreadMetricList");

/** Page size ceiling, as for the CloudZero read. */
export const MAX_POINTS_READ_LIMIT = 50_000;

export const MetricPointsQuerySchema = z.object({
	agg: AggFuncSchema.openapi({ description: "The metric's aggregation function (a name exists once per function)" }),
	start_date: DaySchema.optional().openapi({ description: "First UTC day, inclusive (YYYY-MM-DD)", example: "2022-10-01" }),
	end_date: DaySchema.optional().openapi({ description: "Last UTC day, inclusive (YYYY-MM-DD)", example: "2022-10-31" }),
	granularity: z.enum(["day", "hour"]).default("day").openapi({ description: "day: daily aggregates; hour: the hourly points as stored" }),
	limit: z.coerce.number().int().min(1).max(MAX_POINTS_READ_LIMIT).default(1000),
	cursor: z.string().max(4000).optional().openapi({ description: "next_cursor of the previous page" }),
	format: z.enum(["json", "csv"]).default("json"),
	dim: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ team: "growth" })),
	exclude: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ env: "dev,test" }, "exclude")),
});

export const MetricNameParamsSchema = z.object({
	metric_name: MetricNameSchema.openapi({ param: { name: "metric_name", in: "path" }, example: "active_users" }),
});

const MetricPointSchema = z
	.object({
		timestamp: z.string().openapi({ description: "The day (YYYY-MM-DD) or hour (YYYY-MM-DDTHH:00:00Z), UTC", example: "2022-10-01" }),
		record_id: z.string().openapi({ example: "5b1f0c7e0e3a4e8f9d2c6a1b3e4f5a6b" }),
		metric_value: z.string().openapi({
			description: "Plain decimal string (never an exponent) of at most 15 significant digits, which can be sent back as it was read",
			example: "42.5",
		}),
		hours: z.number().int().optional().openapi({ description: "day granularity: how many hourly points the value aggregates" }),
		custom_dimensions: z.record(z.string(), z.string()),
	})
	.openapi("CloudthreadMetricPoint");

export const MetricPointsSchema = z
	.object({
		metric_name: z.string(),
		metric_agg_func: AggFuncSchema,
		granularity: z.enum(["day", "hour"]),
		data: z.array(MetricPointSchema),
		next_cursor: z.string().nullable(),
	})
	.openapi("CloudthreadMetricPoints");
