// Property-based test generated from the app's own /openapi.json, in the spirit of Schemathesis:
// for every documented operation, seeded random requests that the document says are valid and
// requests made invalid in one known way, each checked against what the document promises:
//
//   1. never a 5xx;
//   2. the status is one the operation documents (or its `default`);
//   3. the body matches the documented schema of that status and content type;
//   4. every error code (and detail code) is in the document's closed set of codes, once the
//      document has one (an enum on ErrorResponse / ErrorDetail; skipped with a note until then);
//   5. a schema-valid request with valid auth is accepted (2xx), or refused with a 4xx the
//      state explains (404 no such stream, 409 conflict, 429); a 400 fails unless it is a known
//      gap between the document and the service, listed in KNOWN_GAPS with its reason;
//   6. a schema-invalid request is never accepted; a request without a valid token is refused.
//
// `npm test` sends a small sample; `npm run test:fuzz` (FUZZ_SCALE=10) ten times more. The run
// prints its seed; replay a failure with PROPERTY_SEED=<seed> (and PROPERTY_ONLY=<operation
// substring> for one operation), e.g. `PROPERTY_SEED=42 npx vitest run test/service-openapi.property.test.ts`.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, api, createToken, json, seededRandom, uniqueOrg } from "./helpers";
import { closedSet, deref, isValid, resolveRef, type Schema, validate } from "./lib/json-schema";
import { type Channel, mutate, RawNumber, type Rng, sample, stringFromPattern, toJsonText } from "./lib/schema-samples";
import {
	cloudthreadEpochMs,
	cloudZeroTimestamp,
	hasLoneSurrogate,
	IDEMPOTENCY_KEY,
	isCalendarDay,
	MAX_STORED,
	overflows,
	underflows,
} from "./lib/service-rules";

const SCALE = Number(env.FUZZ_SCALE) || 1;
/** Schema-valid and schema-invalid requests per operation (each). */
const PER_OPERATION = 20 * SCALE;
const DEFAULT_SEED = 20_240_601;
const SEED = Number(env.PROPERTY_SEED) || DEFAULT_SEED;
const ONLY = env.PROPERTY_ONLY || "";

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];
/** The one operation family that carries its token in the body (Cloudthread's ingest). */
const BODY_TOKEN_FIELD = "data_stream_token";

// ---- Known gaps: schema-valid requests the service refuses (the document under-describes) ----

interface KnownGap {
	/** Operations ("POST /path/{x}") it applies to. */
	operations: RegExp;
	/** Detail codes (or the error code when there are no details) it explains. */
	codes: string[];
	/** Where the detail points (its `path`), when it should be that narrow. */
	at?: RegExp;
	/** The status it explains: 400 unless said (a 5xx entry records a service bug). */
	status?: number;
	/** Narrows the entry to the requests (and the detail's path) that show the problem. */
	when?: (req: GeneratedRequest, path: string | undefined) => boolean;
	/** What the service enforces that the document cannot say, or the bug. */
	reason: string;
	/**
	 * A rule the document could state but does not yet (reported, to be fixed in the document):
	 * listed apart in the summary; delete the entry once the document states the rule.
	 */
	documentGap?: true;
}

/**
 * The one allow-list of this test: every entry is a rule the service enforces on purpose that
 * JSON Schema cannot state (a rule across records, requests or parameters, state the service
 * holds, the calendar), each narrowed by `when` to the requests that break that rule, or a
 * service bug being fixed (a 5xx entry). A refusal of a schema-valid request that no entry
 * explains fails the test: a rule the document could state but does not is a gap to fix there.
 */
const CLOUDZERO_WRITES = /^POST \/unit-cost\/v1\/telemetry\/metric\/\{name\}(\/sum|\/replace|\/delete)?$/;
const CLOUDZERO_VALUE_WRITES = /^POST \/unit-cost\/v1\/telemetry\/metric\/\{name\}(\/sum|\/replace)?$/;
/** Allocation writes: the path ones, and the oldest POST /unit-cost/v1/telemetry whose records name their stream. */
const ALLOCATION_WRITES = /^POST \/unit-cost\/v1\/telemetry(\/allocation\/\{name\}(\/sum|\/replace|\/delete)?)?$/;
const ALLOCATION_VALUE_WRITES = /^POST \/unit-cost\/v1\/telemetry(\/allocation\/\{name\}(\/sum|\/replace)?)?$/;
/** Every write whose records have a CloudZero timestamp (records[i].timestamp). */
const TIMESTAMPED_WRITES = new RegExp(`${CLOUDZERO_WRITES.source}|${ALLOCATION_WRITES.source}`);
const INGEST = /^POST \/streams\/ingest$/;
const BILLING_DROP = /^POST \/v2\/connections\/billing\/anycost\/\{connection_id\}\/billing_drops$/;
const READS_WITH_FILTERS = /^GET \/(unit-cost\/v1\/telemetry\/(metric|allocation)\/\{name\}|streams\/metrics\/\{metric_name\})$/;
const KNOWN_GAPS: KnownGap[] = [
	// ---- open document gaps: expressible, to be fixed in the document (see documentGap): none ----
	// ---- rules JSON Schema cannot state ----
	{
		operations: INGEST,
		codes: ["invalid_timestamp", "timestamp_not_hourly"],
		at: /^data\[\d+\]\.timestamp$/,
		when: (req, path) => {
			const index = Number(/^data\[(\d+)\]/.exec(path ?? "")?.[1]);
			return typeof ((req.bodyValue as { data?: Obj[] } | undefined)?.data?.[index] as Obj | undefined)?.timestamp === "string";
		},
		reason:
			"a Cloudthread timestamp string must be a calendar date, with an offset within ±14:00, from 1900 on once converted to UTC, and on the hour in UTC: an offset such as +05:30 puts 00:30 local time on the hour, so no pattern can say which minutes are allowed (epoch seconds are stated exactly: multipleOf 3600 and their bounds)",
	},
	{
		operations: TIMESTAMPED_WRITES,
		codes: ["invalid_timestamp"],
		at: /^records\[\d+\]\.timestamp$/,
		when: (req, path) => ["calendar", "time of day", "offset beyond ±14:00", "before 1900"].includes(timestampProblemAt(req, path) ?? ""),
		reason:
			"TelemetryRecord.timestamp's pattern gives the shape; calendar validity (days per month, leap years) and the 1900-01-01T00:00Z floor applied after the UTC offset are beyond JSON Schema (the pattern could still bound months, days, hours, minutes and offsets, but not the calendar)",
	},
	{
		operations: TIMESTAMPED_WRITES,
		codes: ["future_timestamp"],
		at: /^records\[\d+\]\.timestamp$/,
		when: (req, path) => timestampProblemAt(req, path) === "future",
		reason: "'at most 24 hours ahead' depends on the clock at the time of the request: no schema can state it",
	},
	{
		operations: INGEST,
		codes: ["future_timestamp"],
		at: /^data\[\d+\]\.timestamp$/,
		when: (req, path) => {
			const point = ((req.bodyValue as { data?: Obj[] } | undefined)?.data ?? [])[Number(/\d+/.exec(path ?? "")?.[0])];
			const ms = cloudthreadEpochMs(point?.timestamp);
			return ms !== undefined && ms > Date.now() + 24 * 3_600_000 - 60_000;
		},
		reason: "'at most 24 hours ahead' depends on the clock at the time of the request: no schema can state it",
	},
	{
		operations: new RegExp(`${CLOUDZERO_VALUE_WRITES.source}|${ALLOCATION_VALUE_WRITES.source}|${INGEST.source}`),
		codes: ["value_overflow"],
		when: (req) => bodyNumbers(req).some((v) => v.string && overflows(v.text)) || sumMayOverflow(req),
		reason:
			"a numeric string that overflows once rounded to 15 significant digits ('1.7976931348623157e308', '1e400') has no JSON Schema bound (maximum applies to numbers only), and a day's sum across records and requests is state",
	},
	{
		operations: new RegExp(`${CLOUDZERO_VALUE_WRITES.source}|${ALLOCATION_VALUE_WRITES.source}|${INGEST.source}`),
		codes: ["value_underflow"],
		when: (req, path) => bodyNumbers(req).some((v) => underflows(v.text) && (path === undefined || path === v.path)),
		reason:
			"a non-zero value too small for a double (1e-400 as a JSON number or a string) is refused; a validator reads the JSON number 1e-400 as the double 0 (valid), and a pattern cannot bound a numeric string's magnitude",
	},
	{
		operations: CLOUDZERO_WRITES,
		codes: ["inconsistent_filter_keys", "unknown_filter_keys"],
		when: (req) => dimensionKeysDiffer(req),
		reason:
			"every record of a request, and every request to a stream, must use the stream's dimension names: a rule across records and requests that JSON Schema cannot state",
	},
	{
		operations: ALLOCATION_WRITES,
		codes: ["inconsistent_filter_keys", "inconsistent_granularity"],
		at: /^records\[\d+\]\.(filter|granularity)$/,
		when: (req, path) => allocationRecordDiffers(req, path),
		reason:
			"every record of a request, and every request to an allocation stream, must have the stream's granularity and filter keys (fixed by its first write): a rule across records and requests that JSON Schema cannot state",
	},
	{
		operations: /^POST \/unit-cost\/v1\/telemetry\/allocation\/\{name\}\/delete$/,
		codes: ["unknown_filter_keys"],
		at: /^records\[\d+\]\.filter$/,
		when: (req, path) => {
			const known = state.allocation.get(allocationTarget(req));
			const filter = recordAt(req, path)?.filter as Obj | undefined;
			return known !== undefined && Object.keys(filter ?? {}).some((k) => !known.keys.includes(k));
		},
		reason: "a delete's filter keys must be among the stream's: state the service holds",
	},
	{
		operations: ALLOCATION_WRITES,
		codes: ["telemetry_stream_mismatch"],
		at: /^records\[\d+\]\.telemetry-stream$/,
		when: (req, path) => {
			const named = recordAt(req, path)?.["telemetry-stream"];
			return named !== undefined && named !== allocationTarget(req).slice(3);
		},
		reason:
			"a record's telemetry-stream must be the stream the request writes to (the path's, or record 0's on POST /unit-cost/v1/telemetry): a rule between the body and the path, or across records",
	},
	{
		operations: BILLING_DROP,
		codes: ["invalid_timestamp"],
		at: /^(data\[\d+\]\.time\/usage_(start|end)|month)$/,
		when: (req, path) => {
			const body = req.bodyValue as { month?: unknown; data?: Obj[] } | undefined;
			const index = /^data\[(\d+)\]\.(.*)$/.exec(path ?? "");
			const ts = index ? body?.data?.[Number(index[1])]?.[index[2]] : body?.month;
			if (typeof ts !== "string") return false;
			const parsed = cloudZeroTimestamp(ts, Number.POSITIVE_INFINITY);
			return "problem" in parsed && parsed.problem !== "shape";
		},
		reason:
			"CBF timestamps (and month as a date-time) have the telemetry timestamp's pattern; calendar validity and the 1900 floor after the UTC offset are beyond JSON Schema",
	},
	{
		operations: BILLING_DROP,
		codes: ["row_outside_month"],
		at: /^data\[\d+\]\.time\/usage_start$/,
		when: (req) => {
			const body = req.bodyValue as { month?: unknown; data?: Obj[] } | undefined;
			const months = new Set(
				(body?.data ?? []).map((row) =>
					String(row?.["time/usage_start"] ?? "")
						.trim()
						.slice(0, 7),
				),
			);
			const offsets = (body?.data ?? []).some((row) =>
				/[+-]\d{2}(:?\d{2})?\s*$|[Tt ]\d{2}:\d{2}.*[+-]\d{2}$/.test(String(row?.["time/usage_start"] ?? "")),
			);
			return offsets || months.size > 1 || (typeof body?.month === "string" && !months.has(body.month.trim().slice(0, 7)));
		},
		reason:
			"every row of a drop is in its month (or, without month, all rows in one month): a rule across the body's fields and rows, after each timestamp's UTC offset, that JSON Schema cannot state",
	},
	{
		operations: BILLING_DROP,
		codes: ["future_month"],
		at: /^(month|data\[0\]\.time\/usage_start)$/,
		when: (req) => {
			const body = req.bodyValue as { month?: unknown; data?: Obj[] } | undefined;
			const month = typeof body?.month === "string" ? body.month : body?.data?.[0]?.["time/usage_start"];
			const now = new Date();
			const latest = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 12, 1)).toISOString().slice(0, 7);
			return typeof month === "string" && month.trim().slice(0, 7) >= latest;
		},
		reason: "'at most 12 months after the current UTC month' depends on the clock at the time of the request: no schema can state it",
	},
	{
		operations: BILLING_DROP,
		codes: ["missing_field"],
		at: /^data\[\d+\]\.resource\/id$/,
		when: (req, path) => {
			const rowAt = ((req.bodyValue as { data?: Obj[] } | undefined)?.data ?? [])[Number(/\d+/.exec(path ?? "")?.[0])];
			return rowAt !== undefined && !("resource/id" in rowAt) && Object.keys(rowAt).some((k) => k.startsWith("resource/tag:"));
		},
		reason:
			"CBF requires resource/id when a resource/tag:<key> column is present: a dependency on the presence of a pattern-named property (no dependentRequired form for it)",
	},
	{
		operations: BILLING_DROP,
		codes: ["value_underflow"],
		when: (req) => stringsAndNumbersOf(req.bodyValue).some(underflows),
		reason: "a non-zero number too small for a double (1e-400) is read by a validator as 0 (valid) and refused by the service",
	},
	{
		operations: /^GET \/unit-cost\/v1\/(costs|unit-cost\/\{metric_name\})$/,
		codes: ["unknown_dimension", "unknown_filter_keys"],
		at: /^(group_by|(dim|exclude)\[.*)$/,
		when: (req, path) =>
			path === "group_by"
				? String(req.param.group_by ?? "").startsWith("custom:") || req.operation.endsWith("{metric_name}")
				: filterNames(req).some((n) => n.startsWith("custom:")),
		reason:
			"a custom:<name> dimension (in group_by or a dim[…] or exclude[…] filter) must be one the organization defined, and a unit cost's group_by one of the stream's associated_cost names: state the service holds",
	},
	{
		operations: /^GET \/unit-cost\/v1\/(costs|unit-cost\/\{metric_name\})$/,
		codes: ["bad_request"],
		at: /^(group_by|metric_name|(dim|exclude)\[.*)$/,
		when: (req) => {
			const names = [String(req.param.group_by ?? ""), ...filterNames(req)];
			return (
				new Set(names.filter((n) => n.startsWith("allocation:"))).size + names.filter((n) => n.startsWith("custom:")).length >= 2 ||
				(req.operation.endsWith("{metric_name}") && names.some((n) => n.startsWith("allocation:") || n.startsWith("custom:")))
			);
		},
		reason:
			"a read splits cost by one allocation stream: names reading two (allocation:<a> and allocation:<b>, or a custom dimension, or a metric's associated_cost name, defined as another) are refused; which streams a custom:<name> or a metric's names read is state the service holds",
	},
	{
		operations: READS_WITH_FILTERS,
		codes: ["unknown_filter_keys"],
		at: /^(dim|exclude)\[/,
		when: (req) => filterOnUnknownDimension(req),
		reason:
			"a filter dim[<name>] or exclude[<name>] must name a dimension the stream or metric has: state the service holds, which no schema of the parameter can know",
	},
	{
		operations: /^(POST|DELETE) \/(unit-cost|streams|v2)\//,
		codes: ["invalid_unicode"],
		when: (req) => stringsOf(req.bodyValue).some(hasLoneSurrogate),
		reason:
			"strings are documented as JSON strings; the service refuses lone UTF-16 surrogates (\\ud800), which JSON can carry but UTF-8 storage cannot, and which JSON Schema's string (a sequence of code points) does not distinguish",
	},
	{
		operations: /^(POST|DELETE) \/(unit-cost|streams)\//,
		codes: ["invalid_idempotency_key"],
		when: (req) => !IDEMPOTENCY_KEY.test(String(req.param["idempotency-key"] ?? "")),
		reason:
			"the Idempotency-Key header is documented as any string; the service requires 1 to 255 printable ASCII characters without spaces (still undocumented: a pattern ^[\\x21-\\x7e]{1,255}$ on the header would state it)",
	},
	{
		operations: /^GET /,
		codes: ["invalid_date"],
		at: /^(start|end)_date$/,
		when: (req, path) => !isCalendarDay(String(req.param[path ?? ""] ?? "")),
		reason:
			"start_date/end_date have the pattern ^\\d{4}-\\d{2}-\\d{2}$, which admits days that are not calendar dates (2023-13-45, 2023-02-29); the service checks the calendar",
	},
	{
		operations: /^GET /,
		codes: ["invalid_date_range"],
		when: (req) =>
			typeof req.param.start_date === "string" && typeof req.param.end_date === "string" && req.param.start_date > req.param.end_date,
		reason: "start_date must not be after end_date: a rule between two parameters that JSON Schema cannot state",
	},
	{
		operations: /^GET /,
		codes: ["invalid_cursor"],
		when: (req) =>
			typeof req.param.cursor === "string" &&
			!(state.cursors.get(`${req.method} ${req.operation}`) ?? []).some(
				(c) => c.cursor === req.param.cursor && c.context === cursorContext(req),
			),
		reason:
			"a cursor is opaque: only a next_cursor the service returned, sent again with the request it answered (same path and query but for cursor and limit), is valid, which no schema can say",
	},
	{
		operations: /^POST \/admin\/v1\/tokens$/,
		codes: ["out_of_range"],
		at: /^name$/,
		when: (req) => new TextEncoder().encode(String((req.bodyValue as Obj | undefined)?.name ?? "")).length > 400,
		reason:
			"a token name is at most 400 bytes in UTF-8 (its record is KV metadata of at most 1,024 bytes); JSON Schema counts code points (maxLength 200), not bytes",
	},
];

/** A value or metric_value of the body: its JSON text, whether it was a string, and where. */
interface BodyNumber {
	text: string;
	string: boolean;
	/** The detail path the service would give it: records[3].value, data[0].metric_value. */
	path: string;
	/** The stream or metric it is written to (see targetOf). */
	target: string;
}

/** Every value (or metric_value) of a write's body, as sent (raw number text included). */
function bodyNumbers(req: GeneratedRequest): BodyNumber[] {
	const body = req.bodyValue as { records?: unknown; data?: unknown; metric_agg_func?: unknown } | undefined;
	if (!body || typeof body !== "object") return [];
	const out: BodyNumber[] = [];
	const asText = (v: unknown): { text: string; string: boolean } | undefined =>
		v instanceof RawNumber
			? { text: v.text, string: false }
			: typeof v === "number"
				? { text: String(v), string: false }
				: typeof v === "string"
					? { text: v, string: true }
					: undefined;
	if (Array.isArray(body.records)) {
		const target = ALLOCATION_WRITES.test(`${req.method} ${req.operation}`) ? allocationTarget(req) : `cz:${String(req.param.name)}`;
		body.records.forEach((rec, i) => {
			const t = asText((rec as Obj | null)?.value);
			if (t) out.push({ ...t, path: `records[${i}].value`, target });
		});
	}
	if (Array.isArray(body.data)) {
		body.data.forEach((point, i) => {
			const t = asText((point as Obj | null)?.metric_value);
			if (t)
				out.push({
					...t,
					path: `data[${i}].metric_value`,
					target: `ct:${String((point as Obj).metric_name)}\u0000${String(body.metric_agg_func)}`,
				});
		});
	}
	return out;
}

/** Every number's text and every string of a JSON value (raw numbers included). */
function stringsAndNumbersOf(value: unknown): string[] {
	if (value instanceof RawNumber) return [value.text];
	if (typeof value === "number") return [String(value)];
	if (typeof value === "string") return [value];
	if (Array.isArray(value)) return value.flatMap(stringsAndNumbersOf);
	if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringsAndNumbersOf);
	return [];
}

/** Every string of a JSON value, property names included. */
function stringsOf(value: unknown): string[] {
	if (typeof value === "string") return [value];
	if (Array.isArray(value)) return value.flatMap(stringsOf);
	if (value !== null && typeof value === "object" && !(value instanceof RawNumber))
		return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
	return [];
}

/** Whether the values of the request, added to what its streams or metrics were given, could reach beyond the largest stored value. */
function sumMayOverflow(req: GeneratedRequest): boolean {
	const totals = new Map<string, number>();
	for (const v of bodyNumbers(req))
		totals.set(v.target, (totals.get(v.target) ?? state.magnitude.get(v.target) ?? 0) + Math.abs(Number(v.text.trim())));
	return [...totals.values()].some((t) => !(t <= MAX_STORED));
}

/** What the service finds wrong with the CloudZero timestamp a detail points at (records[3].timestamp). */
function timestampProblemAt(req: GeneratedRequest, path: string | undefined): string | undefined {
	const index = /^records\[(\d+)\]/.exec(path ?? "")?.[1];
	const records = (req.bodyValue as { records?: { timestamp?: unknown }[] } | undefined)?.records;
	const ts = index !== undefined ? records?.[Number(index)]?.timestamp : undefined;
	if (typeof ts !== "string") return undefined;
	const parsed = cloudZeroTimestamp(ts);
	return "problem" in parsed ? parsed.problem : undefined;
}

/** The dimension names of each record of a CloudZero write (sorted, as JSON). */
function recordKeySets(req: GeneratedRequest): string[] {
	const records = (req.bodyValue as { records?: { associated_cost?: unknown }[] } | undefined)?.records ?? [];
	return records.map((rec) => JSON.stringify(Object.keys((rec?.associated_cost as object | undefined) ?? {}).sort()));
}

/** Whether the records of a CloudZero write disagree on their dimension names, or with the stream's. */
function dimensionKeysDiffer(req: GeneratedRequest): boolean {
	const sets = new Set(recordKeySets(req));
	const known = state.dims.get(`cz:${String(req.param.name)}`);
	return sets.size > 1 || (known !== undefined && [...sets].some((set) => set !== JSON.stringify([...known.keys()].sort())));
}

/** The allocation stream a write or read addresses (al:<stream>): the path's, or record 0's telemetry-stream. */
function allocationTarget(req: GeneratedRequest): string {
	if (req.param.name !== undefined) return `al:${String(req.param.name)}`;
	const records = (req.bodyValue as { records?: Obj[] } | undefined)?.records;
	return `al:${String(records?.[0]?.["telemetry-stream"])}`;
}

/** The record a detail's path points at (records[3].filter). */
function recordAt(req: GeneratedRequest, path: string | undefined): Obj | undefined {
	const index = /^records\[(\d+)\]/.exec(path ?? "")?.[1];
	const records = (req.bodyValue as { records?: Obj[] } | undefined)?.records;
	return index === undefined ? undefined : (records?.[Number(index)] ?? undefined);
}

/** An allocation record's granularity and sorted filter keys, as the service compares them. */
function allocationShape(rec: Obj | undefined): { granularity: string; keys: string[] } {
	return { granularity: String(rec?.granularity ?? "").toUpperCase(), keys: Object.keys((rec?.filter as Obj | undefined) ?? {}).sort() };
}

/** Whether the record at the detail's path differs in granularity or filter keys from record 0 (sum, replace) or from the stream. */
function allocationRecordDiffers(req: GeneratedRequest, path: string | undefined): boolean {
	const records = (req.bodyValue as { records?: Obj[] } | undefined)?.records ?? [];
	const mine = allocationShape(recordAt(req, path));
	const known = state.allocation.get(allocationTarget(req));
	const field = path?.endsWith(".granularity") ? "granularity" : "keys";
	const same = (a: { granularity: string; keys: string[] }) =>
		field === "granularity" ? a.granularity === mine.granularity : JSON.stringify(a.keys) === JSON.stringify(mine.keys);
	const isDelete = req.operation.endsWith("/delete");
	return (!isDelete && !same(allocationShape(records[0]))) || (known !== undefined && !same(known));
}

/** What a cursor belongs to: the request's path and query parameters but for cursor and limit. */
function cursorContext(req: GeneratedRequest): string {
	const { cursor: _cursor, limit: _limit, ...rest } = req.param;
	return JSON.stringify([req.url.split("?")[0], Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1))]);
}

/** The stream or metric a read addresses (cz:<stream>, ct:<metric>\0<agg>). */
function readTarget(req: GeneratedRequest): string {
	if (req.operation.startsWith("/streams/")) return `ct:${String(req.param.metric_name)}\u0000${String(req.param.agg)}`;
	return req.operation.includes("/allocation/") ? `al:${String(req.param.name)}` : `cz:${String(req.param.name)}`;
}

/** The dimension names a read's filters (dim[…] and exclude[…]) name. */
function filterNames(req: GeneratedRequest): string[] {
	return ["dim", "exclude"].flatMap((kind) => Object.keys((req.param[kind] as object | undefined) ?? {}));
}

/** Whether a read filters on a dimension the test never saw written to its stream or metric. */
function filterOnUnknownDimension(req: GeneratedRequest): boolean {
	const known = state.dims.get(readTarget(req));
	return filterNames(req).some((name) => !known?.has(name));
}

// ---- the document ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface Parameter {
	name: string;
	in: "path" | "query" | "header" | "cookie";
	required?: boolean;
	schema: Schema;
	/** deepObject with explode: an object sent as name[key]=value pairs. */
	style?: string;
	explode?: boolean;
}
interface MediaType {
	schema?: Schema;
}
interface ResponseObject {
	content?: Record<string, MediaType>;
	headers?: Record<string, { schema?: Schema }>;
}
interface Operation {
	security?: Record<string, string[]>[];
	parameters?: (Parameter | { $ref: string })[];
	requestBody?: { required?: boolean; content: Record<string, MediaType> };
	responses: Record<string, ResponseObject>;
}
interface Document {
	paths: Record<string, Record<string, Operation>>;
	security?: Record<string, string[]>[];
	components: {
		schemas: Record<string, Schema>;
		securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }>;
	};
}

interface OperationInfo {
	/** "POST /unit-cost/v1/telemetry/metric/{name}/sum" */
	name: string;
	method: string;
	path: string;
	op: Operation;
	params: Parameter[];
	bodySchema?: Schema;
	/** How a token is presented: a header (name and prefix), in the body, or not at all. */
	auth: { kind: "header"; header: string; prefix: string; admin: boolean } | { kind: "body" } | { kind: "none" };
	/** Matches a concrete pathname, capturing the path parameters. */
	matcher: RegExp;
}

// Fetched while the file is collected, so that there is one test per operation.
const doc: Document = await (await api("/openapi.json")).json();
const operations = describeOperations(doc);
const OPERATION_NAMES = operations.map((o) => o.name);
let errorCodes: Set<string> | undefined;
let detailCodes: Set<string> | undefined;

function describeOperations(document: Document): OperationInfo[] {
	const out: OperationInfo[] = [];
	for (const [path, item] of Object.entries(document.paths)) {
		const shared = ((item as Obj).parameters as Operation["parameters"]) ?? [];
		for (const method of HTTP_METHODS) {
			const op = item[method];
			if (!op) continue;
			const params = [...shared, ...(op.parameters ?? [])].map((p) =>
				"$ref" in p ? (resolveRef(document, p.$ref) as unknown as Parameter) : p,
			);
			const bodySchema = op.requestBody?.content["application/json"]?.schema;
			const security = op.security ?? document.security ?? [];
			let auth: OperationInfo["auth"] = { kind: "none" };
			const schemeName = security.flatMap((req) => Object.keys(req))[0];
			if (schemeName) {
				const scheme = document.components.securitySchemes?.[schemeName];
				if (scheme?.type === "apiKey" && scheme.in === "header") auth = { kind: "header", header: scheme.name!, prefix: "", admin: false };
				else if (scheme?.type === "http" && scheme.scheme?.toLowerCase() === "bearer")
					auth = { kind: "header", header: "Authorization", prefix: "Bearer ", admin: true };
				else throw new Error(`unsupported security scheme ${schemeName}`);
			}
			// Cloudthread's token travels in the body; its scheme (OpenAPI has no body credentials) names the field.
			const bodyFields = bodySchema ? (((deref(document, bodySchema) as Obj).properties as Obj) ?? {}) : {};
			const scheme = schemeName ? document.components.securitySchemes?.[schemeName] : undefined;
			if (BODY_TOKEN_FIELD in bodyFields && (!scheme || (scheme.type === "apiKey" && scheme.name === BODY_TOKEN_FIELD)))
				auth = { kind: "body" };
			const matcher = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\{[^}]+\\\}/g, "([^/]+)")}$`);
			out.push({ name: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op, params, bodySchema, auth, matcher });
		}
	}
	return out;
}

// ---- requests -------------------------------------------------------------------------------

type Kind = "valid" | "invalid" | "edge";
type Auth = "valid" | "none" | "unknown" | "revoked";

interface GeneratedRequest {
	kind: Kind;
	auth: Auth;
	method: string;
	/** Path and query as sent. */
	url: string;
	/** The operation's path template ("/streams/metrics/{metric_name}"). */
	operation: string;
	/** Each parameter's value by name, as generated (before encoding). */
	param: Record<string, unknown>;
	/** The body as generated (RawNumbers included), when it is the documented JSON. */
	bodyValue?: unknown;
	headers: Record<string, string>;
	body?: string;
	/** What makes it invalid (or edgy), for failure messages. */
	what: string;
}

/** State the generator draws on, so requests land on streams, metrics and tokens that exist. */
const state = {
	streams: ["prop-plain", "prop-client", "prop-dims", "prop-fresh"],
	metrics: ["active_users", "prop_metric"],
	orgs: [] as string[],
	tokenIds: [] as string[],
	/** next_cursors per operation, each with the request it answered (see cursorContext). */
	cursors: new Map<string, { cursor: string; context: string }[]>(),
	idempotencyKeys: ["prop-key-1", "prop-key-2"],
	/** Dimension names (and some values) of each stream (cz:<name>) and metric (ct:<name>\0<agg>) written. */
	dims: new Map<string, Map<string, string[]>>(),
	/** Each allocation stream's granularity and filter keys (al:<name>), as its first accepted write fixed them. */
	allocation: new Map<string, { granularity: string; keys: string[] }>(),
	/** The sum of the magnitudes of the values accepted per stream or metric: a bound of any day's value. */
	magnitude: new Map<string, number>(),
};

/** The streams and metrics beforeAll makes: kept while names written later come and go (the last 20). */
const SEEDED_STREAMS = state.streams.length;
const SEEDED_METRICS = state.metrics.length;

/** Adds a name written later, dropping the oldest of those when 20 are kept already. */
function keepName(names: string[], seeded: number, name: string): void {
	if (names.length >= seeded + 20) names.splice(seeded, 1);
	names.push(name);
}

/** Stream names the legacy write path refuses (…/metric/./sum reaches it as …/metric/sum). */
const LEGACY_SUFFIXES = ["sum", "replace", "delete", "log"];

let streamToken: string;
let propertyOrg: string;
/** Requests per stream token: the service allows 1000 per 10 seconds per token (wrangler.toml). */
const REQUESTS_PER_TOKEN = 250;
let revokedToken: string;
const ADMIN_SECRET = ADMIN.Authorization.replace(/^Bearer /, "");

/** A value for a parameter: sometimes one the state knows (an existing stream, a cursor). */
function parameterValue(info: OperationInfo, p: Parameter, r: Rng, exampleRate = 0.3): unknown {
	const known =
		p.name === "name"
			? state.streams
			: p.name === "metric_name"
				? state.metrics
				: p.name === "id"
					? state.tokenIds
					: p.name === "org"
						? state.orgs
						: p.name === "cursor"
							? (state.cursors.get(info.name) ?? []).map((c) => c.cursor)
							: p.name.toLowerCase() === "idempotency-key"
								? state.idempotencyKeys
								: [];
	const candidates = known.filter((v) => isValid(doc, p.schema, v));
	if (p.name === "name" && r.int(40) === 0) {
		const suffix = r.pick(LEGACY_SUFFIXES);
		if (isValid(doc, p.schema, suffix)) return suffix; // the legacy path's name excludes them
	}
	if (candidates.length > 0 && r.int(2) === 0) return r.pick(candidates);
	return sample(doc, p.schema, r, { channel: p.in as Channel, exampleRate });
}

function isDeepObject(p: Parameter): boolean {
	return p.in === "query" && p.style === "deepObject";
}

/**
 * Filters for a read (the deepObjects `dim` and `exclude`): mostly on dimensions the addressed stream or metric
 * was written with earlier in the run (with values written, or any), now and then on names it
 * does not have (unknown_filter_keys), or whatever the schema allows.
 */
function filterValue(info: OperationInfo, p: Parameter, params: Map<Parameter, unknown>, r: Rng, exampleRate: number): unknown {
	const byName = Object.fromEntries([...params].map(([q, v]) => [q.name, v]));
	const target = info.path.startsWith("/streams/")
		? `ct:${String(byName.metric_name)}\u0000${String(byName.agg)}`
		: info.path.includes("/allocation/")
			? `al:${String(byName.name)}`
			: `cz:${String(byName.name)}`;
	const known = state.dims.get(target);
	const choice = r.int(8);
	if (known && known.size > 0 && choice < 5) {
		const out: Record<string, string> = {};
		const names = [...known.keys()];
		for (let k = 1 + r.int(Math.min(names.length, 3)); k > 0; k--) {
			const name = r.pick(names);
			const seen = (known.get(name) ?? []).filter((v): v is string => typeof v === "string");
			// A value written is sent as the filter syntax writes it: a comma or backslash escaped.
			out[name] =
				seen.length > 0 && r.int(4) !== 0
					? r.pick(seen).replace(/[\\,]/g, "\\$&")
					: (sample(doc, (deref(doc, p.schema) as Obj).additionalProperties as Schema, r, { channel: "query", exampleRate }) as string);
		}
		if (choice === 0) out[`${r.pick(names)}-unknown`] = "x";
		return out;
	}
	return sample(doc, p.schema, r, { channel: "query", exampleRate });
}

/** A deepObject parameter as the server reads it: an object of strings, or (not an object) one text. */
function deepObjectWire(value: unknown): unknown {
	if (value !== null && typeof value === "object" && !Array.isArray(value))
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, paramText(v)]));
	return paramText(value);
}

/** A parameter value as text: JSON for anything that is not a scalar. */
function paramText(value: unknown): string {
	return typeof value === "string"
		? value
		: typeof value === "number" || typeof value === "boolean" || value === null
			? String(value)
			: JSON.stringify(value);
}

/** A parameter's text read back as its schema reads it (numbers and booleans from query strings). */
function paramValueOf(schema: Schema, text: string): unknown {
	const s = deref(doc, schema) as Obj;
	const types = Array.isArray(s.type) ? s.type : [s.type];
	if ((types.includes("integer") || types.includes("number")) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return Number(text);
	if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
	return text;
}

/** Everything about a request except its body, as values per parameter. */
interface Parts {
	params: Map<Parameter, unknown>;
	/** Path segments sent raw (not percent-encoded), for path mutations. */
	rawPath: Map<Parameter, string>;
	body: unknown;
	hasBody: boolean;
	bodyText?: string;
	contentType?: string;
}

function validParts(info: OperationInfo, r: Rng): Parts {
	// Half the requests lean on the document's examples, so that many get past the rules the
	// schema does not state (see KNOWN_GAPS) and reach storage; the others roam the schema.
	const exampleRate = r.int(2) === 0 ? 0.9 : 0.3;
	const params = new Map<Parameter, unknown>();
	for (const p of info.params) {
		if (isDeepObject(p)) {
			if (r.int(3) !== 0) params.set(p, filterValue(info, p, params, r, exampleRate));
		} else if (p.in === "path" || p.required || r.int(p.in === "header" ? 3 : 2) === 0)
			params.set(p, parameterValue(info, p, r, exampleRate));
	}
	let body: unknown;
	const hasBody = info.bodySchema !== undefined && (info.op.requestBody?.required || r.int(3) !== 0);
	if (hasBody) {
		body = sample(doc, info.bodySchema!, r, { channel: "body", exampleRate });
		if (info.auth.kind === "body") (body as Obj)[BODY_TOKEN_FIELD] = streamToken;
		// Records that name their stream mostly name the request's, as clients do, so that more reach storage.
		if (ALLOCATION_WRITES.test(info.name) && r.int(4) !== 0) {
			const records = (body as { records?: Obj[] }).records ?? [];
			const pathName = [...params].find(([p]) => p.in === "path" && p.name === "name")?.[1];
			const stream = pathName ?? records[0]?.["telemetry-stream"];
			for (const rec of records) if (rec && typeof rec === "object" && "telemetry-stream" in rec) rec["telemetry-stream"] = stream;
		}
	}
	return { params, rawPath: new Map(), body, hasBody };
}

function build(info: OperationInfo, parts: Parts, kind: Kind, auth: Auth, what: string): GeneratedRequest {
	let path = info.path;
	const query: string[] = [];
	const headers: Record<string, string> = {};
	for (const p of info.params) {
		if (p.in === "path") {
			const raw = parts.rawPath.get(p);
			path = path.replace(`{${p.name}}`, raw ?? encodeURIComponent(paramText(parts.params.get(p))));
		}
	}
	for (const [p, value] of parts.params) {
		const wire = isDeepObject(p) ? deepObjectWire(value) : undefined;
		if (wire !== undefined && typeof wire === "object") {
			for (const [k, v] of Object.entries(wire as Record<string, string>))
				query.push(`${encodeURIComponent(p.name)}[${encodeURIComponent(k)}]=${encodeURIComponent(v)}`);
		} else if (p.in === "query") query.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(paramText(value))}`);
		if (p.in === "header") headers[p.name] = paramText(value);
	}
	if (info.auth.kind === "header") {
		const token = info.auth.admin ? ADMIN_SECRET : streamToken;
		if (auth === "valid") headers[info.auth.header] = `${info.auth.prefix}${token}`;
		else if (auth === "unknown")
			headers[info.auth.header] = `${info.auth.prefix}${info.auth.admin ? "not-the-admin-token" : "mlt_unknownTokenOfNobody0123456789"}`;
		else if (auth === "revoked") headers[info.auth.header] = `${info.auth.prefix}${info.auth.admin ? streamToken : revokedToken}`;
	}
	let body = parts.bodyText;
	if (body === undefined && parts.hasBody) {
		let value = parts.body;
		if (info.auth.kind === "body" && auth !== "valid" && value && typeof value === "object") {
			value = { ...(value as Obj), [BODY_TOKEN_FIELD]: auth === "revoked" ? revokedToken : "mlt_unknownTokenOfNobody0123456789" };
		}
		body = toJsonText(value);
	}
	if (body !== undefined) headers["Content-Type"] = parts.contentType ?? "application/json";
	// Parameters as the server reads them: text (an object of texts for a deepObject).
	const param = Object.fromEntries([...parts.params].map(([p, v]) => [p.name, isDeepObject(p) ? deepObjectWire(v) : paramText(v)]));
	const bodyValue = parts.hasBody && parts.bodyText === undefined && parts.contentType === undefined ? parts.body : undefined;
	return {
		kind,
		auth,
		method: info.method,
		url: `${path}${query.length ? `?${query.join("&")}` : ""}`,
		operation: info.path,
		param,
		bodyValue,
		headers,
		body,
		what,
	};
}

/** Whether the parts are valid against the document (parameters as the server reads them). */
function partsMismatches(info: OperationInfo, parts: Parts): string[] {
	const out: string[] = [];
	for (const p of info.params) {
		if (!parts.params.has(p) && !parts.rawPath.has(p)) {
			if (p.required || p.in === "path") out.push(`${p.in} parameter ${p.name} missing`);
			continue;
		}
		if (isDeepObject(p)) {
			for (const m of validate(doc, p.schema, deepObjectWire(parts.params.get(p))))
				out.push(`${p.in} parameter ${p.name}${m.pointer}: ${m.message}`);
			continue;
		}
		let text: string;
		if (parts.rawPath.has(p)) {
			try {
				text = decodeURIComponent(parts.rawPath.get(p)!);
			} catch {
				out.push(`path parameter ${p.name} is not decodable`);
				continue;
			}
		} else text = paramText(parts.params.get(p));
		for (const m of validate(doc, p.schema, paramValueOf(p.schema, text)))
			out.push(`${p.in} parameter ${p.name}${m.pointer}: ${m.message}`);
	}
	if (parts.bodyText !== undefined || parts.contentType !== undefined) return [...out, "body is not the documented JSON"];
	if (info.bodySchema) {
		if (!parts.hasBody) {
			if (info.op.requestBody?.required) out.push("required body missing");
		} else {
			let parsed: unknown;
			try {
				parsed = JSON.parse(toJsonText(parts.body));
			} catch {
				return [...out, "body is not JSON"];
			}
			for (const m of validate(doc, info.bodySchema, parsed)) out.push(`body ${m.pointer || "/"}: ${m.message}`);
		}
	}
	return out;
}

const TRAVERSALS = [".", "..", "%2e", "%2E%2E", ".%2e", "%2e.", "..%2F", "a/b", "%2F", "a%2Fb", "..%2F..%2Fadmin", "%00"];

/** A request made invalid in one way: body, a parameter, the JSON itself, the content type. */
function invalidParts(info: OperationInfo, r: Rng): { parts: Parts; what: string } {
	for (let attempt = 0; attempt < 20; attempt++) {
		const parts = validParts(info, r);
		const targets: string[] = [];
		if (info.bodySchema)
			targets.push("body", "body", "body", "json", "content-type", ...(info.op.requestBody?.required ? ["no body"] : []));
		if (info.params.some((p) => p.in === "path")) targets.push("path", "traversal");
		if (info.params.some((p) => p.in !== "path")) targets.push("param");
		if (info.params.some((p) => p.required && p.in !== "path")) targets.push("drop param");
		const target = r.pick(targets);
		if (target === "body") {
			if (!parts.hasBody) parts.body = sample(doc, info.bodySchema!, r, { channel: "body", exampleRate: 0.6 });
			parts.hasBody = true;
			const m = mutate(doc, info.bodySchema!, parts.body, r, { channel: "body", exampleRate: 0 });
			if (!m) continue;
			parts.body = m.value;
			return { parts, what: `body ${m.what}` };
		}
		if (target === "json") {
			const text = toJsonText(parts.hasBody ? parts.body : {});
			const broken = [
				text.slice(0, Math.max(1, r.int(text.length))),
				text.replace(/"/g, "'"),
				`${text},`,
				`${text}}`,
				text.replace(":", ""),
				`{${text}`,
				text.replace(/^\{/, "{,"),
				"\u0000",
				'{"a":1,}',
			];
			const candidate = r.pick(broken);
			try {
				JSON.parse(candidate);
				continue;
			} catch {
				parts.hasBody = true;
				parts.bodyText = candidate;
				return { parts, what: `malformed JSON ${JSON.stringify(candidate.slice(0, 60))}` };
			}
		}
		if (target === "content-type") {
			if (!parts.hasBody) parts.body = sample(doc, info.bodySchema!, r, { channel: "body", exampleRate: 0.6 });
			parts.hasBody = true;
			parts.contentType = r.pick([
				"text/plain",
				"application/x-www-form-urlencoded",
				"application/xml",
				"multipart/form-data; boundary=x",
				"text/json",
			]);
			return { parts, what: `Content-Type ${parts.contentType}` };
		}
		if (target === "no body") {
			parts.hasBody = false;
			return { parts, what: "no body" };
		}
		if (target === "drop param") {
			const p = r.pick(info.params.filter((q) => q.required && q.in !== "path"));
			parts.params.delete(p);
			return { parts, what: `without required ${p.in} parameter ${p.name}` };
		}
		if (target === "traversal") {
			const p = r.pick(info.params.filter((q) => q.in === "path"));
			const segment = r.pick(TRAVERSALS);
			parts.rawPath.set(p, segment);
			return { parts, what: `path parameter ${p.name} sent raw as ${segment}` };
		}
		const p = r.pick(info.params.filter((q) => (target === "path" ? q.in === "path" : q.in !== "path")));
		if (!parts.params.has(p)) parts.params.set(p, parameterValue(info, p, r));
		const m = mutate(doc, p.schema, parts.params.get(p), r, { channel: p.in as Channel, exampleRate: 0 });
		if (!m) continue;
		// Headers carry bytes: a mutation that made one unsendable is not a request.
		if (p.in === "header" && !/^[\x20-\x7e]*$/.test(paramText(m.value))) continue;
		// HTTP trims a header value's outer whitespace on the way: such a mutation arrives valid.
		if (p.in === "header" && paramText(m.value).trim() !== paramText(m.value)) continue;
		parts.params.set(p, m.value);
		return { parts, what: `${p.in} parameter ${p.name} ${m.what}` };
	}
	throw new Error(`no invalid request could be made for ${info.name}`);
}

// ---- checking responses --------------------------------------------------------------------

interface Tally {
	valid: number;
	invalid: number;
	edge: number;
	auth: number;
	statuses: Map<number, number>;
	/** Refusals of schema-valid, validly authenticated requests, by "status code". */
	refusals: Map<string, number>;
}
const tallies = new Map<string, Tally>();
const gapHits = new Map<KnownGap, number>();
const notes = new Set<string>();

interface ErrorBody {
	error?: { code?: unknown; details?: { code?: unknown; path?: unknown }[] };
}

function documentedResponse(op: Operation, status: number): ResponseObject | undefined {
	return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}

/** The known gaps explaining a response (every detail needs one), counted as hits; null if none does. */
function explainingGaps(
	info: OperationInfo,
	req: GeneratedRequest,
	status: number,
	code: string,
	details: { code: string; path?: string }[],
): KnownGap[] | null {
	const problems = details.length > 0 ? details : [{ code, path: undefined }];
	const found = new Set<KnownGap>();
	for (const d of problems) {
		const gap = KNOWN_GAPS.find(
			(g) =>
				(g.status ?? 400) === status &&
				g.operations.test(info.name) &&
				g.codes.includes(d.code) &&
				(!g.at || g.at.test(d.path ?? "")) &&
				(!g.when || g.when(req, d.path)),
		);
		if (!gap) return null;
		found.add(gap);
	}
	for (const g of found) gapHits.set(g, (gapHits.get(g) ?? 0) + 1);
	return [...found];
}

/** Every property of one response; returns the problems found (empty: all hold). */
function checkResponse(info: OperationInfo, req: GeneratedRequest, res: Response, text: string, tally: Tally): string[] {
	const problems: string[] = [];
	const status = res.status;
	tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);

	// The URL parser resolves "." and ".." segments, and a raw "/" adds one: such a request is
	// addressed to another route, or to none (then the router's 404 or 405 is the answer).
	const sentPath = req.url.split("?")[0];
	const finalPath = new URL(`http://meterline.test${req.url}`).pathname;
	const addressed =
		finalPath === sentPath && info.matcher.test(finalPath)
			? info
			: operations.find((o) => o.method === req.method && o.matcher.test(finalPath));

	// A response a known service bug explains (KNOWN_GAPS entries with a 5xx status).
	const preview =
		status >= 500
			? ((): string => {
					try {
						return String((JSON.parse(text) as ErrorBody).error?.code ?? "");
					} catch {
						return "";
					}
				})()
			: "";
	const knownBug = status >= 500 && explainingGaps(info, req, status, preview, []) !== null;

	// (1) never a 5xx
	if (status >= 500 && !knownBug) problems.push(`5xx: ${status}`);

	// (2) a documented status
	const response = addressed ? documentedResponse(addressed.op, status) : undefined;
	if (!response && !knownBug && !(addressed === undefined && (status === 404 || status === 405)))
		problems.push(`status ${status} is not documented for ${addressed?.name ?? `${req.method} ${finalPath}`}`);

	// (3) the body matches the documented schema of its status and content type
	const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
	let parsed: unknown;
	const schemaFor =
		response?.content?.[mediaType]?.schema ?? (!response && status >= 400 ? { $ref: "#/components/schemas/ErrorResponse" } : undefined);
	if (response?.content && !response.content[mediaType])
		problems.push(`content type '${mediaType}' is not documented for ${status} (${Object.keys(response.content).join(", ")})`);
	else if (schemaFor) {
		if (mediaType === "application/json" || mediaType.endsWith("+json")) {
			try {
				parsed = JSON.parse(text);
			} catch {
				problems.push(`body is not JSON: ${text.slice(0, 100)}`);
			}
		} else parsed = text;
		if (parsed !== undefined)
			for (const m of validate(doc, schemaFor, parsed, { closedObjects: true }))
				problems.push(`body ${m.pointer || "/"} (${m.keyword}): ${m.message}`);
	}
	for (const [name, header] of Object.entries(response?.headers ?? {})) {
		const value = res.headers.get(name);
		if (value !== null && header.schema)
			for (const m of validate(doc, header.schema, paramValueOf(header.schema, value))) problems.push(`header ${name}: ${m.message}`);
	}

	// (4) error codes from the document's closed set
	const error = (parsed as ErrorBody | undefined)?.error;
	const code = typeof error?.code === "string" ? error.code : "";
	const details = (error?.details ?? []).map((d) => ({ code: String(d.code), path: typeof d.path === "string" ? d.path : undefined }));
	if (status >= 400 && error) {
		if (errorCodes && !errorCodes.has(code)) problems.push(`error code '${code}' is not in the document's enum of error codes`);
		if (detailCodes)
			for (const d of details)
				if (!detailCodes.has(d.code)) problems.push(`detail code '${d.code}' is not in the document's enum of detail codes`);
	}

	// (5) and (6): what each kind of request must get
	const ok = status >= 200 && status < 300;
	if (req.kind === "valid" && req.auth === "valid") {
		if (addressed !== info) {
			if (!explainingGaps(info, req, 400, "unaddressable_path_parameter", [])) {
				problems.push(`schema-valid path parameters cannot be addressed: ${sentPath} is sent as ${finalPath} (answered ${status} ${code})`);
			}
		} else if (!ok) {
			tally.refusals.set(`${status} ${code}`, (tally.refusals.get(`${status} ${code}`) ?? 0) + 1);
			if (status === 400) {
				if (!explainingGaps(info, req, status, code, details))
					problems.push(`schema-valid request refused: 400 ${code} ${JSON.stringify(details).slice(0, 400)}`);
			} else if (![404, 409, 429].includes(status) && !knownBug)
				problems.push(`schema-valid request with a valid token refused: ${status} ${code}`);
		}
	}
	if (req.kind === "valid" && req.auth !== "valid" && addressed === info && ![401, 403, 404].includes(status)) {
		problems.push(`request with ${req.auth} credentials answered ${status} ${code}, not 401/403/404`);
	}
	if (req.kind === "invalid" && addressed === info && ok) problems.push(`schema-invalid request accepted (${status})`);
	return problems;
}

// ---- the test -------------------------------------------------------------------------------

function seedOf(name: string): number {
	return [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), SEED) >>> 0;
}

async function send(req: GeneratedRequest): Promise<Response> {
	return api(req.url, { method: req.method, headers: req.headers, body: req.body });
}

function remember(info: OperationInfo, req: GeneratedRequest, res: Response, text: string) {
	if (!res.ok || !(res.headers.get("content-type") ?? "").includes("json")) return;
	const body = JSON.parse(text) as Obj;
	if (typeof body.next_cursor === "string")
		state.cursors.set(info.name, [
			...(state.cursors.get(info.name) ?? []).slice(-4),
			{ cursor: body.next_cursor, context: cursorContext(req) },
		]);
	if (info.name === "POST /admin/v1/tokens" && typeof body.id === "string") {
		state.tokenIds.push(body.id);
		state.orgs.push(String(body.org));
	}
	// Accepted writes: the streams and metrics they made, their dimensions and the size of their values.
	const written = (target: string, dims: unknown) => {
		const known = state.dims.get(target) ?? new Map<string, string[]>();
		state.dims.set(target, known);
		for (const [k, v] of Object.entries((dims as Record<string, string> | undefined) ?? {}))
			known.set(k, [...new Set([...(known.get(k) ?? []).slice(-3), v])]);
	};
	if (CLOUDZERO_VALUE_WRITES.test(info.name)) {
		const name = String(req.param.name);
		for (const rec of (req.bodyValue as { records?: Obj[] } | undefined)?.records ?? []) written(`cz:${name}`, rec.associated_cost);
		if (!state.streams.includes(name)) keepName(state.streams, SEEDED_STREAMS, name);
	}
	if (ALLOCATION_VALUE_WRITES.test(info.name)) {
		const target = allocationTarget(req);
		const records = (req.bodyValue as { records?: Obj[] } | undefined)?.records ?? [];
		if (!state.allocation.has(target) && records.length > 0) state.allocation.set(target, allocationShape(records[0]));
		for (const rec of records) {
			const filter = (rec.filter as Record<string, string[]> | undefined) ?? {};
			written(target, Object.fromEntries(Object.entries(filter).map(([k, values]) => [k, values[0]])));
		}
		const name = target.slice(3);
		if (!state.streams.includes(name)) keepName(state.streams, SEEDED_STREAMS, name);
	}
	if (INGEST.test(info.name)) {
		const { data, metric_agg_func } = (req.bodyValue ?? { data: [] }) as { data: Obj[]; metric_agg_func: string };
		for (const point of data) {
			written(`ct:${String(point.metric_name)}\u0000${metric_agg_func}`, point.custom_dimensions);
			if (!state.metrics.includes(String(point.metric_name))) keepName(state.metrics, SEEDED_METRICS, String(point.metric_name));
		}
	}
	for (const v of bodyNumbers(req)) state.magnitude.set(v.target, (state.magnitude.get(v.target) ?? 0) + Math.abs(Number(v.text.trim())));
	if (info.name === "DELETE /unit-cost/v1/telemetry/allocation/{name}") {
		for (const map of [state.dims, state.magnitude, state.allocation]) map.delete(`al:${String(req.param.name)}`);
	}
	if (info.name === "DELETE /unit-cost/v1/telemetry/{name}") {
		state.dims.delete(`cz:${String(req.param.name)}`);
		state.magnitude.delete(`cz:${String(req.param.name)}`);
	}
}

/** Text safe to print: lone surrogates (which the test runner's channel cannot carry) escaped. */
function printable(text: string): string {
	return text.replace(
		/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
		(c) => `\\u${c.charCodeAt(0).toString(16)}`,
	);
}

function show(req: GeneratedRequest): string {
	const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v}`);
	return `${req.method} ${req.url.slice(0, 300)} [${req.kind}, auth ${req.auth}${req.what ? `, ${req.what}` : ""}]\n  ${headers.join("\n  ")}\n  ${req.body === undefined ? "(no body)" : req.body.length > 600 ? `${req.body.slice(0, 600)}…(${req.body.length} chars)` : req.body}`;
}

beforeAll(async () => {
	const errorSchema = doc.components.schemas.ErrorResponse as Obj;
	const errorProps = (deref(doc, (errorSchema.properties as Obj).error as Schema) as Obj).properties as Record<string, Schema>;
	errorCodes = closedSet(doc, errorProps.code);
	const detailSchema = deref(doc, doc.components.schemas.ErrorDetail) as Obj;
	detailCodes = closedSet(doc, (detailSchema.properties as Record<string, Schema>).code);
	if (!errorCodes) notes.add("property 4 skipped for error.code: ErrorResponse.error.code has no enum in the document yet");
	if (!detailCodes) notes.add("property 4 skipped for details[].code: ErrorDetail.code has no enum in the document yet");

	// A stream token with every scope, a revoked one, and streams / a metric with known dimension keys.
	propertyOrg = uniqueOrg("property");
	const org = propertyOrg;
	state.orgs.push(org);
	({ token: streamToken } = await createToken(org, ["write", "read", "delete_stream", "write_costs"]));
	const revoked = await createToken(org, ["write", "read", "delete_stream", "write_costs"]);
	revokedToken = revoked.token;
	expect((await api(`/admin/v1/tokens/${revoked.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
	const seed = async (stream: string, associated_cost?: Record<string, string>) => {
		const res = await api(
			`/unit-cost/v1/telemetry/metric/${stream}/sum`,
			json(
				"POST",
				{ records: [{ timestamp: "2023-12-07", value: 1, ...(associated_cost ? { associated_cost } : {}) }] },
				{ Authorization: streamToken },
			),
		);
		expect(res.status, await res.clone().text()).toBe(200);
	};
	const dims = (target: string, d: Record<string, string> = {}) =>
		state.dims.set(target, new Map(Object.entries(d).map(([k, v]) => [k, [v]])));
	await seed("prop-plain");
	await seed("prop-client", { "custom:Client": "Patric Star" });
	await seed("prop-dims", { "custom:Client": "Patric Star", Region: "Australia" });
	dims("cz:prop-plain");
	dims("cz:prop-client", { "custom:Client": "Patric Star" });
	dims("cz:prop-dims", { "custom:Client": "Patric Star", Region: "Australia" });
	for (const target of ["cz:prop-plain", "cz:prop-client", "cz:prop-dims"]) state.magnitude.set(target, 1);
	const allocation = await api(
		"/unit-cost/v1/telemetry/allocation/prop-client/sum",
		json(
			"POST",
			{
				records: [
					{
						timestamp: "2023-12-07",
						granularity: "DAILY",
						filter: { "custom:Client": ["Patric Star"] },
						element_name: "customer-42",
						value: 1,
					},
				],
			},
			{ Authorization: streamToken },
		),
	);
	expect(allocation.status, await allocation.clone().text()).toBe(200);
	dims("al:prop-client", { "custom:Client": "Patric Star" });
	state.allocation.set("al:prop-client", { granularity: "DAILY", keys: ["custom:Client"] });
	state.magnitude.set("al:prop-client", 1);
	const ingest = await api(
		"/streams/ingest",
		json("POST", {
			data_stream_token: streamToken,
			metric_agg_func: "Sum",
			data: [
				{
					timestamp: "2022-10-01 00:00:00",
					metric_name: "active_users",
					metric_value: 3,
					custom_dimensions: { team: "growth", env: "prod" },
				},
			],
		}),
	);
	expect(ingest.status, await ingest.clone().text()).toBe(201);
	dims("ct:active_users\u0000Sum", { team: "growth", env: "prod" });
	state.magnitude.set("ct:active_users\u0000Sum", 3);
});

afterAll(() => {
	const rows = [...tallies].map(([name, t]) => {
		const statuses = [...t.statuses]
			.sort(([a], [b]) => a - b)
			.map(([s, n]) => `${s}×${n}`)
			.join(" ");
		return `  ${String(t.valid).padStart(5)} ${String(t.invalid).padStart(7)} ${String(t.edge).padStart(5)} ${String(t.auth).padStart(5)}  ${name.padEnd(52)} ${statuses}`;
	});
	const refusals = [...tallies].flatMap(([name, t]) =>
		t.refusals.size ? [`  ${name}: ${[...t.refusals].map(([k, n]) => `${k} ×${n}`).join(", ")}`] : [],
	);
	const gapLine = (g: KnownGap) =>
		`  ${String(gapHits.get(g) ?? 0).padStart(5)}  ${g.operations.source} ${g.codes.join("/")}${g.at ? ` at ${g.at.source}` : ""}${g.status ? ` (${g.status})` : ""}`;
	const gaps = KNOWN_GAPS.filter((g) => !g.documentGap).map(gapLine);
	const documentGaps = KNOWN_GAPS.filter((g) => g.documentGap).map(gapLine);
	console.info(
		[
			`OpenAPI property test (scale ${SCALE}, seed ${SEED}${ONLY ? `, only ${ONLY}` : ""}; replay with PROPERTY_SEED=${SEED})`,
			`  valid invalid  edge  auth  operation${" ".repeat(44)}statuses`,
			...rows,
			"refusals of schema-valid requests with a valid token (status code ×count):",
			...(refusals.length ? refusals : ["  none"]),
			"known gaps hit (KNOWN_GAPS):",
			...(gaps.length ? gaps : ["  none listed"]),
			...(documentGaps.length
				? ["OPEN DOCUMENT GAPS hit (rules the document could state; fix it there, then delete the entry):", ...documentGaps]
				: []),
			...[...notes].map((n) => `note: ${n}`),
		].join("\n"),
	);
});

describe("the test's own validator and generator", () => {
	it("validator: reports each kind of mismatch with its JSON pointer and keyword", () => {
		const root = {
			components: {
				schemas: {
					Item: {
						type: "object",
						properties: { n: { type: "integer", minimum: 1, maximum: 3 } },
						required: ["n"],
						additionalProperties: false,
					},
				},
			},
		};
		const schema: Schema = {
			type: "object",
			properties: {
				items: { type: "array", items: { $ref: "#/components/schemas/Item" }, minItems: 1, maxItems: 2 },
				name: { type: ["string", "null"], minLength: 2, maxLength: 3, pattern: "^[a-z😀]+$" },
				kind: { type: "string", enum: ["a", "b"] },
				either: { anyOf: [{ type: "number" }, { type: "string", const: "x" }] },
				tags: { type: "object", additionalProperties: { type: "string", maxLength: 1 } },
			},
			required: ["items"],
			additionalProperties: false,
		};
		const found = (value: unknown) => validate(root, schema, value).map((m) => `${m.pointer} ${m.keyword}`);
		expect(found({ items: [{ n: 2 }], name: "ab", kind: "a", either: 1, tags: { a: "b" } })).toEqual([]);
		expect(found({ items: [{ n: 2 }], name: null, either: "x" })).toEqual([]);
		expect(found({ name: "😀😀" })).toEqual([" required"]); // two code points: long enough
		expect(found({ items: [] })).toEqual(["/items minItems"]);
		expect(found({ items: [{ n: 0 }, { n: 1.5 }, {}] })).toEqual([
			"/items maxItems",
			"/items/0/n minimum",
			"/items/1/n type",
			"/items/2 required",
		]);
		expect(found({ items: [{ n: 1, m: 1 }], "a/b~": 1 })).toEqual(["/items/0/m additionalProperties", "/a~1b~0 additionalProperties"]);
		expect(found({ items: [{ n: 1 }], name: "ABCD", kind: "c", either: "y", tags: { t: "long" } })).toEqual([
			"/name maxLength",
			"/name pattern",
			"/kind enum",
			"/either anyOf",
			"/tags/t maxLength",
		]);
		expect(found({ items: [{ n: Infinity }] })).toEqual(["/items/0/n type"]);
		expect(() => validate(root, { type: "string", patternProperties: {} }, "x")).toThrow(/patternProperties/);
		// not, propertyNames (each name a string value of its own), maxProperties.
		const names = {
			type: "object",
			additionalProperties: { type: "string" },
			maxProperties: 2,
			propertyNames: { type: "string", minLength: 1, pattern: "^(?!\\s*$)[^\\u0000-\\u001f]+$", not: { const: "__proto__" } },
		};
		expect(found({ items: [{ n: 1 }], name: "ab", kind: "a", either: 1, tags: {} })).toEqual([]);
		const named = (value: unknown) => validate(root, names, value).map((m) => `${m.pointer} ${m.keyword}`);
		expect(named({ a: "x", "b c": "y" })).toEqual([]);
		expect(named(JSON.parse('{"__proto__": "x", " ": "y", "": "z"}'))).toEqual([
			" maxProperties",
			"/__proto__ propertyNames/not",
			"/  propertyNames/pattern",
			"/ propertyNames/minLength",
			"/ propertyNames/pattern",
		]);
		expect(validate(root, { type: "string", not: { enum: [".", ".."] } }, "..").map((m) => m.keyword)).toEqual(["not"]);
		expect(validate(root, { type: "string", not: { enum: [".", ".."] } }, "...")).toEqual([]);
		// Responses: properties the document does not list are reported, also across an allOf.
		const open = { type: "object", properties: { a: { type: "string" } } };
		expect(validate(root, open, { a: "x", b: 1 })).toEqual([]);
		expect(validate(root, open, { a: "x", b: 1 }, { closedObjects: true }).map((m) => `${m.pointer} ${m.keyword}`)).toEqual([
			"/b undocumented",
		]);
		const both = { allOf: [open, { type: "object", properties: { c: { type: "number" } } }] };
		expect(validate(root, both, { a: "x", c: 1 }, { closedObjects: true })).toEqual([]);
		expect(validate(root, both, { a: "x", c: 1, d: 2 }, { closedObjects: true }).map((m) => `${m.pointer} ${m.keyword}`)).toEqual([
			"/d undocumented",
		]);
	});

	it("generator: every request schema of the document yields only valid samples; every pattern yields matching strings", () => {
		const r = seededRandom(SEED);
		for (const info of operations) {
			for (const p of info.params) {
				for (let i = 0; i < 100; i++) {
					const value = sample(doc, p.schema, r, { channel: p.in as Channel, exampleRate: 0.3 });
					const read = isDeepObject(p) ? deepObjectWire(value) : paramValueOf(p.schema, paramText(value));
					expect(validate(doc, p.schema, read), `${info.name} ${p.name} ${JSON.stringify(value)}`).toEqual([]);
				}
			}
			if (!info.bodySchema) continue;
			for (let i = 0; i < 100; i++) {
				const value = JSON.parse(toJsonText(sample(doc, info.bodySchema, r, { channel: "body", exampleRate: i % 2 ? 0.9 : 0.2 })));
				expect(validate(doc, info.bodySchema, value), `${info.name} body ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
			}
		}
		const patterns = new Set<string>();
		JSON.stringify(doc, (key, value) => (key === "pattern" && typeof value === "string" ? patterns.add(value) && value : value));
		expect(patterns.size).toBeGreaterThanOrEqual(3);
		for (const pattern of patterns) {
			for (let i = 0; i < 300; i++) expect(stringFromPattern(r, pattern)).toMatch(new RegExp(pattern, "u"));
		}
	});

	it("generator: mutations that always break a value do break it", () => {
		const r = seededRandom(SEED + 1);
		const alwaysInvalid = [
			"wrong type",
			"out of range",
			"string too long",
			"string too short",
			"not in enum",
			"required field dropped",
			"unknown field",
			"too few or too many items",
			"too many properties",
			"property name invalid",
			"matches not",
		];
		let checked = 0;
		for (const info of operations.filter((o) => o.bodySchema)) {
			for (let i = 0; i < 200; i++) {
				const valid = sample(doc, info.bodySchema!, r, { channel: "body", exampleRate: 0.5 });
				const m = mutate(doc, info.bodySchema!, valid, r, { channel: "body", exampleRate: 0 });
				if (!m || !alwaysInvalid.some((name) => m.what.startsWith(`${name} at`))) continue;
				checked++;
				expect(validate(doc, info.bodySchema!, JSON.parse(toJsonText(m.value))).length, `${info.name}: ${m.what}`).toBeGreaterThan(0);
			}
		}
		expect(checked).toBeGreaterThan(200);
	});
});

describe("every documented operation keeps the document's promises for generated requests", () => {
	it("has operations to walk, each with documented responses", () => {
		expect(operations.length).toBeGreaterThanOrEqual(14);
		for (const o of operations) expect(Object.keys(o.op.responses).length, o.name).toBeGreaterThan(0);
	});

	for (const name of OPERATION_NAMES) {
		it.skipIf(ONLY !== "" && !name.includes(ONLY))(name, { timeout: 30_000 * SCALE }, async () => {
			const info = operations.find((o) => o.name === name);
			expect(info, `${name} is not in /openapi.json`).toBeDefined();
			const r = seededRandom(seedOf(name));
			const tally: Tally = { valid: 0, invalid: 0, edge: 0, auth: 0, statuses: new Map(), refusals: new Map() };
			tallies.set(name, tally);
			// Failures grouped by kind of problem: the first example of each kind is shown.
			const failures = new Map<string, { count: number; example: string }>();
			for (let i = 0; i < 2 * PER_OPERATION; i++) {
				// A fresh token of the same organization now and then keeps every operation under the rate limit.
				if (i % REQUESTS_PER_TOKEN === 0)
					({ token: streamToken } = await createToken(propertyOrg, ["write", "read", "delete_stream", "write_costs"]));
				let req: GeneratedRequest;
				if (i % 2 === 0) {
					const parts = validParts(info!, r);
					const mismatches = partsMismatches(info!, parts);
					// The generator's own check: what it calls valid must validate against the document.
					expect(mismatches, `generator bug: ${name} #${i} is not schema-valid`).toEqual([]);
					const auth: Auth = info!.auth.kind !== "none" && r.int(6) === 0 ? r.pick(["none", "unknown", "revoked"] as const) : "valid";
					req = build(info!, parts, "valid", info!.auth.kind === "body" && auth === "none" ? "unknown" : auth, "");
				} else {
					const { parts, what } = invalidParts(info!, r);
					// A mutation can land on something still valid (a string where a number or string is allowed).
					const kind: Kind = parts.rawPath.size > 0 ? "edge" : partsMismatches(info!, parts).length > 0 ? "invalid" : "valid";
					req = build(info!, parts, kind, "valid", what);
				}
				if (req.auth !== "valid") tally.auth++;
				else tally[req.kind]++;
				const res = await send(req);
				const text = await res.text();
				remember(info!, req, res, text);
				const problems = checkResponse(info!, req, res, text, tally);
				if (problems.length > 0) {
					const kind = `${res.status} ${problems.map((p) => p.replace(/ \[.*$|: .*$/s, "").replace(/\d+/g, "N")).join(" | ")}`;
					const seen = failures.get(kind) ?? {
						count: 0,
						example: printable(`#${i} ${show(req)}\n→ ${res.status} ${text.slice(0, 600)}\n  ${problems.join("\n  ")}`),
					};
					failures.set(kind, { ...seen, count: seen.count + 1 });
				}
			}
			const report = [...failures].map(([kind, { count, example }]) => `${count} × ${kind}\n${example}`).join("\n\n");
			const total = [...failures.values()].reduce((n, f) => n + f.count, 0);
			expect(report, `${total} failing requests (seed ${SEED}, replay: PROPERTY_SEED=${SEED} PROPERTY_ONLY='${name}')`).toBe("");
		});
	}
});
