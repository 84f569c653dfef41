// CloudZero allocation telemetry records (issue 19): who used how much of which part of the cost,
// when. A record names a period (timestamp + granularity), a filter (the part of the cost: each
// dimension name with a list of values), an element (the customer, team or product the usage is
// theirs) and a value (the usage). The real clients spell the element name three ways, and the
// oldest endpoint names the stream in each record: every spelling is documented and accepted.
import type { ErrorDetail } from "../lib/api-error";
import { finiteSum, MAX_STORED_VALUE } from "../lib/numbers";
import { parseTimestamp, TIMESTAMP_PATTERN } from "../lib/timestamps";
import {
	DIMENSION_NAME,
	DIMENSION_NAME_PATTERN,
	DIMENSION_NAME_RULE,
	MAX_DIMENSION_VALUE_LENGTH,
	MAX_FUTURE_MS,
	ValueSchema,
} from "./cloudzero";
import { fail, isStreamName, NOT_DOT_SEGMENT_SCHEMA, STREAM_NAME_PATTERN, STREAM_NAME_RULE, wellFormed, withoutProtoKey } from "./common";
import { issuesToDetails, validationError } from "./validation";
import { z } from "./zod";

/**
 * HOURLY and DAILY as CloudZero documents them. MONTHLY: CloudZero lists it for allocation streams
 * (the UCA toolkit expands it into the month's days before sending); here it is a granularity of
 * its own, one value per UTC calendar month.
 */
export const ALLOCATION_GRANULARITIES = ["HOURLY", "DAILY", "MONTHLY"] as const;
export type AllocationGranularity = (typeof ALLOCATION_GRANULARITIES)[number];

/** CloudZero: at most 5 filter keys per stream, and 20 values per key in a record. */
export const MAX_FILTER_KEYS = 5;
export const MAX_FILTER_VALUES = 20;
const MAX_ELEMENT_NAME_LENGTH = 1024;

/**
 * The element name as the clients send it: `element_name` (CloudZero's reference, the UCA toolkit's
 * template, the usage-data shipper), `element-name` (the first telemetry API and the telemetry
 * library), `id` (the UCA toolkit's first record format).
 */
export const ELEMENT_NAME_FIELDS = ["element_name", "element-name", "id"] as const;
/** How the oldest endpoint's records name their stream. */
export const TELEMETRY_STREAM_FIELD = "telemetry-stream";

/** A record's UTC instant reduced to its period: YYYY-MM-DDTHH:00:00Z, YYYY-MM-DD or YYYY-MM-01. */
export function periodOf(epochMs: number, granularity: AllocationGranularity): string {
	const iso = new Date(epochMs).toISOString();
	if (granularity === "HOURLY") return `${iso.slice(0, 13)}:00:00Z`;
	if (granularity === "DAILY") return iso.slice(0, 10);
	return `${iso.slice(0, 7)}-01`;
}

export type Filter = Record<string, string[]>;

/** A filter in canonical form (keys sorted, each key's values sorted and deduplicated), as JSON: a filter group's identity. */
export function canonicalFilter(filter: Filter | undefined): string {
	const canonical: Filter = {};
	for (const key of Object.keys(filter ?? {}).sort()) canonical[key] = [...new Set(filter![key])].sort();
	return JSON.stringify(canonical);
}

// ---- fields -----------------------------------------------------------------------------------

const TimestampSchema = z
	.string({ error: (iss) => (iss.input === undefined ? "timestamp is required" : "timestamp must be a string") })
	.openapi({
		description:
			"ISO 8601 date or date-time (`T` or a space between them), with an optional UTC offset from -14:00 to +14:00; no offset means UTC. Converted to UTC and reduced to the period that contains it: its hour (HOURLY), day (DAILY) or calendar month (MONTHLY). From 1900-01-01T00:00:00Z to 24 hours ahead.",
		pattern: TIMESTAMP_PATTERN,
		example: "2024-02-08 00:00:00+00:00",
	})
	.transform((input, ctx) => {
		const parsed = parseTimestamp(input);
		if ("error" in parsed) return fail(ctx, "invalid_timestamp", parsed.error);
		if (parsed.epochMs > Date.now() + MAX_FUTURE_MS) {
			return fail(ctx, "future_timestamp", "Timestamp too far into the future (more than 24 hours ahead)");
		}
		return parsed.epochMs;
	});

function isAllocationGranularity(input: string): boolean {
	return (ALLOCATION_GRANULARITIES as readonly string[]).includes(input.toUpperCase());
}

const GranularitySchema = z
	.string({
		error: (iss) => (iss.input === undefined ? "granularity is required" : "granularity must be a string: HOURLY, DAILY or MONTHLY"),
	})
	.openapi({
		description:
			"`HOURLY`, `DAILY` or `MONTHLY`, in any case. The stream's first write fixes its granularity; a record of another is refused (400 `inconsistent_granularity`). Records of one request in the same period, filter and element are added up first.",
		pattern: "^(?:[Hh][Oo][Uu][Rr][Ll][Yy]|[Dd][Aa][Ii][Ll][Yy]|[Mm][Oo][Nn][Tt][Hh][Ll][Yy])$",
		example: "DAILY",
	})
	.refine((g) => isAllocationGranularity(g), {
		message: `granularity must be one of ${ALLOCATION_GRANULARITIES.join(", ")} (case-insensitive)`,
		params: { code: "invalid_granularity" },
	})
	.transform((g) => g.toUpperCase() as AllocationGranularity);

const FilterValuesSchema = z
	.array(
		wellFormed(
			z
				.string({ error: "a filter value must be a string" })
				.min(1, "a filter value must not be empty")
				.max(MAX_DIMENSION_VALUE_LENGTH, `a filter value is at most ${MAX_DIMENSION_VALUE_LENGTH} characters`),
			"a filter value",
		),
		{ error: 'a filter key\'s values must be a list of strings, such as ["prod"]' },
	)
	.min(1, "a filter key needs at least one value")
	.max(MAX_FILTER_VALUES, `a filter key has at most ${MAX_FILTER_VALUES} values in a record`);

// JSON Schema keywords the OpenAPI typings of zod-openapi (3.0-era) do not list; 3.1 has them.
const FILTER_NAMES_JSON_SCHEMA: object = {
	maxProperties: MAX_FILTER_KEYS,
	propertyNames: { type: "string", minLength: 1, maxLength: 128, pattern: DIMENSION_NAME_PATTERN, not: { const: "__proto__" } },
};

const FilterSchema = withoutProtoKey(
	z
		.record(wellFormed(z.string().regex(DIMENSION_NAME, DIMENSION_NAME_RULE), "a filter key"), FilterValuesSchema, {
			error: (iss) =>
				iss.code === "invalid_key"
					? `${DIMENSION_NAME_RULE}: ${JSON.stringify(iss.input).slice(0, 200)}`
					: "filter must be an object of dimension name to a list of values",
		})
		.refine((filter) => Object.keys(filter).length <= MAX_FILTER_KEYS, {
			message: `at most ${MAX_FILTER_KEYS} filter keys are allowed`,
			params: { code: "too_many_dimensions" },
		}),
).openapi({
	description:
		"The part of the cost the record's usage splits: up to 5 dimension names (`custom:<Name>`, built-ins such as `Region`, tags as `tag:<key>`; 1 to 128 printable characters, not `__proto__`), each with 1 to 20 values of 1 to 1,024 characters. Names are ANDed, a name's values ORed. The stream's first write fixes its filter keys; every later sum or replace names exactly those (400 `inconsistent_filter_keys`). The order of names and values, and repeated values, do not matter.",
	...FILTER_NAMES_JSON_SCHEMA,
	example: { "custom:feature": ["billing"], "tag:environment": ["prod"] },
});

const ElementNameSchema = wellFormed(
	z
		.string({ error: "an element name must be a string" })
		.min(1, "an element name must not be empty")
		.max(MAX_ELEMENT_NAME_LENGTH, `an element name is at most ${MAX_ELEMENT_NAME_LENGTH} characters`),
	"an element name",
).openapi({
	description: "The element the usage belongs to (a customer, team, product): 1 to 1,024 characters.",
	example: "customer-42",
});

const TelemetryStreamSchema = z
	.string({ error: "telemetry-stream must be a string" })
	.refine((name) => isStreamName(name), { message: STREAM_NAME_RULE, params: { code: "invalid_stream_name" } })
	.openapi({
		description:
			"The stream the record belongs to, named as in the URL paths (1 to 256 characters of A-Z, a-z, 0-9, `_`, `.` and `-`; not `.` or `..`). Every record of a request names the same stream (400 `telemetry_stream_mismatch`).",
		pattern: STREAM_NAME_PATTERN,
		...NOT_DOT_SEGMENT_SCHEMA,
		example: "records-processed",
	});

const AllocationValueSchema = ValueSchema.openapi({
	description:
		"The usage: a number or numeric string, no commas, not negative; rounded to 15 significant digits. Refused: values beyond 1.79769313486231e308 (value_overflow), values that underflow (such as 1e-400), and a sum whose stored value would overflow.",
	example: "250000000",
});

// ---- records and bodies -------------------------------------------------------------------------

type StreamField = "required" | "optional";

/** The fields every record has, but its element name. */
function baseShape(withValue: boolean, stream: StreamField) {
	return {
		timestamp: TimestampSchema,
		granularity: GranularitySchema,
		filter: FilterSchema.optional(),
		...(withValue ? { value: AllocationValueSchema } : {}),
		"telemetry-stream": stream === "required" ? TelemetryStreamSchema : TelemetryStreamSchema.optional(),
	};
}

/**
 * What a record may look like, for the OpenAPI document: one object per spelling of the element
 * name (and, for delete, one without any), so that exactly one spelling is allowed, as JSON Schema
 * can say. The service validates with checkSchema below, which has the same fields.
 */
function documentedRecord(withValue: boolean, stream: StreamField, name: string) {
	const shape = baseShape(withValue, stream);
	const spellings = ELEMENT_NAME_FIELDS.map((field) =>
		z.strictObject({ ...shape, [field]: ElementNameSchema }).openapi({ title: `with ${field}` }),
	);
	const alternatives = withValue ? spellings : [z.strictObject(shape).openapi({ title: "any element" }), ...spellings];
	return z.union(alternatives as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]).openapi(name, {
		description: withValue
			? "One of `element_name`, `element-name` or `id` names the element (the same field, as different clients spell it)."
			: "Matches the stream's values on the record's period: all of them, or those of the element named (`element_name`, `element-name` or `id`) and those whose filter has, for each key given, exactly the values given.",
	});
}

/** The same records as one schema with every spelling optional: the service's validator (one spelling is then required). */
function checkSchema(withValue: boolean, stream: StreamField) {
	return z.strictObject({
		...baseShape(withValue, stream),
		element_name: ElementNameSchema.optional(),
		"element-name": ElementNameSchema.optional(),
		id: ElementNameSchema.optional(),
	});
}

const records = (record: z.ZodType) => z.array(record).min(1, "records must not be empty");

/** Bodies of /sum, /replace and the bare path. */
export const AllocationBodySchema = z
	.strictObject({ records: records(documentedRecord(true, "optional", "AllocationTelemetryRecord")) })
	.openapi("AllocationTelemetryBody");
/** Bodies of /delete. */
export const AllocationDeleteBodySchema = z
	.strictObject({ records: records(documentedRecord(false, "optional", "AllocationTelemetryDeleteRecord")) })
	.openapi("AllocationTelemetryDeleteBody");
/** Bodies of the oldest POST /unit-cost/v1/telemetry: each record names its stream. */
export const LegacyTelemetryBodySchema = z
	.strictObject({ records: records(documentedRecord(true, "required", "TelemetryStreamRecord")) })
	.openapi("TelemetryStreamBody");

const CHECKS = {
	values: z.strictObject({ records: records(checkSchema(true, "optional")) }),
	legacy: z.strictObject({ records: records(checkSchema(true, "required")) }),
	delete: z.strictObject({ records: records(checkSchema(false, "optional")) }),
};
/** A record as the check schemas return it. */
interface CheckedRecord {
	timestamp: number;
	granularity: AllocationGranularity;
	filter?: Filter;
	value?: number;
	"telemetry-stream"?: string;
	element_name?: string;
	"element-name"?: string;
	id?: string;
}

export const AllocationAcceptedSchema = z
	.object({
		message: z.literal("Telemetry accepted"),
		operation: z.enum(["sum", "replace", "delete"]),
		stream: z.string(),
		records: z.number().int().openapi({ description: "Records applied" }),
		values_deleted: z
			.number()
			.int()
			.optional()
			.openapi({ description: "delete only: values (period, filter, element) hidden by this request" }),
		stream_created: z.boolean().openapi({ description: "Whether this request created the stream" }),
		request_id: z.string(),
	})
	.openapi("AllocationTelemetryAccepted");
export type AllocationAccepted = z.infer<typeof AllocationAcceptedSchema>;

// ---- parsing a write ------------------------------------------------------------------------------

/**
 * A validated sum/replace row for the stream's object, one per (period, filter group, element) of
 * the request (the sum of its records there): [period, canonical filter, element, value, index of
 * its first record].
 */
export type AllocationRow = [period: string, filter: string, element: string, value: number, record: number];

/** A validated delete record: [period, its granularity, filter to match (canonical) or null, element or null]. */
export type AllocationMatch = [period: string, granularity: AllocationGranularity, filter: Filter | null, element: string | null];

export interface AllocationValues {
	stream: string;
	granularity: AllocationGranularity;
	filterKeys: string[];
	recordCount: number;
	rows: AllocationRow[];
}

/**
 * A sum or replace body, checked completely (every problem of every record listed), its records
 * added up per (period, filter group, element). `pathStream`: the stream of the URL; null for the
 * oldest endpoint, where record 0's telemetry-stream names it.
 */
export function parseAllocationValues(body: unknown, pathStream: string | null): AllocationValues {
	const checked = checkRecords(pathStream === null ? CHECKS.legacy : CHECKS.values, body, true);
	const stream = pathStream ?? checked[0][TELEMETRY_STREAM_FIELD]!;
	const first = checked[0];
	const granularity = first.granularity;
	const filterKeys = Object.keys(first.filter ?? {}).sort();
	const expected = new Set(filterKeys);
	const details: ErrorDetail[] = [...streamMismatches(checked, stream, pathStream)];
	checked.forEach((r, record) => {
		if (r.granularity !== granularity) {
			details.push({
				code: "inconsistent_granularity",
				message: `All records in a stream must contain the same granularity: record 0 is ${granularity}, this record is ${r.granularity}`,
				record,
				path: `records[${record}].granularity`,
			});
		}
		const keys = Object.keys(r.filter ?? {});
		if (keys.length !== expected.size || keys.some((k) => !expected.has(k))) {
			details.push({
				code: "inconsistent_filter_keys",
				message: `All records in a stream must contain the same filter keys: record 0 has [${filterKeys.join(", ")}], this record has [${keys.sort().join(", ")}]`,
				record,
				path: `records[${record}].filter`,
			});
		}
	});
	if (details.length > 0) throw validationError(details);

	const totals = new Map<string, AllocationRow>();
	checked.forEach((r, record) => {
		const period = periodOf(r.timestamp, granularity);
		const filter = canonicalFilter(r.filter);
		const element = elementOf(r)!;
		const id = `${period}\n${filter}\n${element}`;
		const row = totals.get(id);
		if (!row) {
			totals.set(id, [period, filter, element, r.value!, record]);
			return;
		}
		const total = finiteSum(row[3], r.value!);
		if (total !== null) row[3] = total;
		else {
			details.push({
				code: "value_overflow",
				message: `the records for ${period}, this filter and element '${element.slice(0, 100)}' add up to more than ${MAX_STORED_VALUE}`,
				record,
				path: `records[${record}].value`,
			});
		}
	});
	if (details.length > 0) throw validationError(details);
	return { stream, granularity, filterKeys, recordCount: checked.length, rows: [...totals.values()] };
}

/** A delete body, checked completely: what each record matches. */
export function parseAllocationDelete(body: unknown, pathStream: string): AllocationMatch[] {
	const checked = checkRecords(CHECKS.delete, body, false);
	const details = streamMismatches(checked, pathStream, pathStream);
	if (details.length > 0) throw validationError(details);
	return checked.map((r): AllocationMatch => {
		const filter = r.filter === undefined ? null : (JSON.parse(canonicalFilter(r.filter)) as Filter);
		return [periodOf(r.timestamp, r.granularity), r.granularity, filter, elementOf(r) ?? null];
	});
}

function elementOf(r: CheckedRecord): string | undefined {
	return r.element_name ?? r["element-name"] ?? r.id;
}

/**
 * Parses the records with the zod schema and checks the element name's spellings (one of them,
 * required when the record carries a value): every problem of every record, in record order.
 */
function checkRecords(schema: z.ZodType, body: unknown, elementRequired: boolean): CheckedRecord[] {
	const parsed = schema.safeParse(body);
	const details = parsed.success ? [] : issuesToDetails(parsed.error.issues, body);
	const raw = (body as { records?: unknown } | null)?.records;
	if (Array.isArray(raw)) {
		raw.forEach((r: unknown, record) => {
			if (r === null || typeof r !== "object" || Array.isArray(r)) return;
			const given = ELEMENT_NAME_FIELDS.filter((field) => Object.hasOwn(r, field));
			if (given.length > 1) {
				details.push({
					code: "invalid_value",
					message: `the element name is given ${given.length} times (${given.map((f) => `'${f}'`).join(", ")}): send one of ${ELEMENT_NAME_FIELDS.join(", ")}`,
					record,
					path: `records[${record}]`,
				});
			} else if (given.length === 0 && elementRequired) {
				details.push({
					code: "missing_field",
					message: `element_name is required (also accepted as element-name or id)`,
					record,
					path: `records[${record}].element_name`,
				});
			}
		});
	}
	if (details.length > 0) {
		// In record order; problems of the body itself first.
		const order = (d: ErrorDetail) => d.record ?? -1;
		throw validationError(
			details
				.map((d, i) => [d, i] as const)
				.sort(([a, i], [b, j]) => order(a) - order(b) || i - j)
				.map(([d]) => d),
		);
	}
	return (parsed.data as { records: CheckedRecord[] }).records;
}

/** Records whose telemetry-stream is not the request's stream. */
function streamMismatches(records: CheckedRecord[], stream: string, pathStream: string | null): ErrorDetail[] {
	const details: ErrorDetail[] = [];
	records.forEach((r, record) => {
		const named = r[TELEMETRY_STREAM_FIELD];
		if (named === undefined || named === stream) return;
		details.push({
			code: "telemetry_stream_mismatch",
			message:
				pathStream === null
					? `All records of a request must name the same telemetry-stream: record 0 names '${stream}', this record '${named}'; send each stream's records in a request of its own`
					: `telemetry-stream '${named}' is not the stream this request writes to, '${stream}' (the path's)`,
			record,
			path: `records[${record}].${TELEMETRY_STREAM_FIELD}`,
		});
	});
	return details;
}
