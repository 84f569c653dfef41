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
// substring> for one operation), e.g. `PROPERTY_SEED=42 npx vitest run test/openapi.property.test.ts`.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, api, createToken, json, seededRandom, uniqueOrg } from "./helpers";
import { closedSet, deref, isValid, resolveRef, validate, type Schema } from "./lib/json-schema";
import { mutate, sample, stringFromPattern, toJsonText, type Channel, type Rng } from "./lib/schema-samples";

const SCALE = Number(env.FUZZ_SCALE) || 1;
/** Schema-valid and schema-invalid requests per operation (each). */
const PER_OPERATION = 20 * SCALE;
const DEFAULT_SEED = 20_240_601;
const SEED = Number(env.PROPERTY_SEED) || DEFAULT_SEED;
const ONLY = env.PROPERTY_ONLY || "";

/** Routes that serve the documentation itself, not the API. */
const DOCS_ROUTES = new Set(["/docs", "/docs/scalar/standalone.js", "/openapi.json"]);
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
	/** Narrows the entry to the requests that show the problem. */
	when?: (req: GeneratedRequest) => boolean;
	/** What the service enforces that the document does not say, or the bug. */
	reason: string;
}

/**
 * The one allow-list of this test: every entry is a rule the service enforces on purpose while
 * the OpenAPI document allows what it refuses. Remove an entry once the document describes the
 * rule (a pattern, a maxProperties, ...): the generator then stops producing such requests.
 * A 400 to a schema-valid request that no entry explains fails the test.
 */
const CLOUDZERO_WRITES = /^(POST \/unit-cost\/v1\/telemetry\/metric\/\{name\}(\/sum|\/replace|\/delete)?)$/;
const CLOUDZERO_VALUE_WRITES = /^POST \/unit-cost\/v1\/telemetry\/metric\/\{name\}(\/sum|\/replace)?$/;
const INGEST = /^POST \/streams\/ingest$/;
const KNOWN_GAPS: KnownGap[] = [
	{
		operations: CLOUDZERO_WRITES,
		codes: ["invalid_timestamp"],
		at: /^records\[\d+\]\.timestamp$/,
		reason: "TelemetryRecord.timestamp is documented as any string; the service requires an ISO 8601 date or date-time (said only in the description: no pattern or format)",
	},
	{
		operations: CLOUDZERO_VALUE_WRITES,
		codes: ["invalid_value", "negative_value"],
		at: /^records\[\d+\]\.value$/,
		reason: "TelemetryRecord.value is documented as any number or any string; the service requires a finite, non-negative number or numeric string without commas (no minimum: 0, no pattern on the string branch)",
	},
	{
		operations: CLOUDZERO_WRITES,
		codes: ["invalid_dimension_key"],
		at: /^records\[\d+\]\.associated_cost\./s,
		reason: "associated_cost keys are documented as any string; the service requires 'custom:<Name>' or a built-in name ([A-Za-z][A-Za-z0-9 _-]{0,127}) (no propertyNames)",
	},
	{
		operations: CLOUDZERO_WRITES,
		codes: ["too_many_dimensions"],
		at: /^records\[\d+\]\.associated_cost$/,
		reason: "'Up to 5 dimensions' is only in the description of associated_cost (no maxProperties: 5)",
	},
	{
		operations: CLOUDZERO_WRITES,
		codes: ["inconsistent_filter_keys", "unknown_filter_keys"],
		reason: "every record of a request, and every request to a stream, must use the stream's dimension keys: a rule across records and requests that JSON Schema cannot state",
	},
	{
		operations: /^(POST|DELETE) \/(unit-cost|streams)\//,
		codes: ["invalid_unicode"],
		reason: "strings are documented as any JSON string; the service refuses lone UTF-16 surrogates (\\ud800), which JSON can carry but UTF-8 storage cannot (the document could say so in the descriptions)",
	},
	{
		operations: /^(POST|DELETE) \/(unit-cost|streams)\//,
		codes: ["invalid_idempotency_key"],
		reason: "the Idempotency-Key header is documented as any string; the service requires 1 to 255 printable ASCII characters without spaces (no pattern, minLength or maxLength)",
	},
	{
		operations: INGEST,
		codes: ["invalid_timestamp", "timestamp_not_hourly"],
		at: /^data\[\d+\]\.timestamp$/,
		reason: "CloudthreadDataPoint.timestamp is documented as any number or string; the service requires a date-time in one of four forms (description only), on the hour, and epoch seconds below 1e11",
	},
	{
		operations: INGEST,
		codes: ["invalid_value"],
		at: /^data\[\d+\]\.metric_value$/,
		reason: "CloudthreadDataPoint.metric_value is documented as any number or string; a string must be numeric (no pattern on the string branch)",
	},
	{
		operations: INGEST,
		codes: ["invalid_dimension_key"],
		at: /^data\[\d+\]\.custom_dimensions\./s,
		reason: "custom_dimensions keys are documented as any string; the service requires 1 to 128 characters of well-formed Unicode (no propertyNames with minLength/maxLength)",
	},
	{
		operations: /^GET /,
		codes: ["invalid_date"],
		at: /^(start|end)_date$/,
		reason: "start_date/end_date have the pattern ^\\d{4}-\\d{2}-\\d{2}$, which admits days that are not calendar dates (2023-13-45); the service checks the calendar",
	},
	{
		operations: /^GET /,
		codes: ["invalid_cursor"],
		reason: "a cursor is opaque: only a next_cursor the service returned is valid, which no schema can say (the document could describe it as such, or answer an unknown cursor with an empty page)",
	},
	{
		operations: /\{(name|metric_name)\}/,
		codes: ["unaddressable_path_parameter"],
		reason: "the stream name pattern ^[A-Za-z0-9_.-]{1,256}$ and the metric_name schema (any string) admit '.' and '..', which URL parsing removes as dot segments: the request reaches another route (a write to stream '.' via /sum lands on the legacy route of a stream named 'sum')",
	},
	{
		operations: /^POST \/admin\/v1\/tokens$/,
		status: 500,
		codes: ["internal_error"],
		when: (req) => tokenMetadataBytes(req) > 1024,
		reason:
			"service bug: the token record is stored as KV key metadata, limited to 1024 bytes of JSON; a schema-valid name (up to 200 characters) whose JSON is long (control characters are escaped as \\u0000, 6 bytes each) exceeds it, and the 500 comes after the token's own KV entry was written (an orphan token the org listing never shows)",
	},
	{
		operations: /^POST \/(unit-cost\/v1\/telemetry\/metric\/\{name\}(\/sum|\/replace)?|streams\/ingest)$/,
		status: 500,
		codes: ["internal_error"],
		when: (req) => bodyValues(req).some((v) => Number.isFinite(v) && !Number.isFinite(Number(v.toPrecision(15)))),
		reason:
			"service bug: a finite value above 1.797693134862315e308 (e.g. Number.MAX_VALUE, 1.7976931348623157e308) is rounded to 15 significant digits, which overflows to Infinity; D1 binds Infinity as NULL, the NOT NULL constraint fails (an unhandled rejection in src/stream/write-ledger.ts), and the client gets a 500 instead of a 400 or a stored value",
	},
	{
		operations: /\{(name|metric_name)\}|^POST \/streams\/ingest$/,
		status: 500,
		codes: ["internal_error"],
		when: (req) => [...state.overflowed].some((name) => req.url.includes(`/${encodeURIComponent(name)}`) || (req.body ?? "").includes(JSON.stringify(name))),
		reason:
			"service bug: values that are each finite (e.g. two records of 1e308 summed into one day) add up to Infinity, which is accepted with a 200/201; from then on reading the stream or metric (and writing to it again) answers 500: the stream is poisoned",
	},
];

/** Every number (or numeric string) the body carries as a value or metric_value. */
function bodyValues(req: GeneratedRequest): number[] {
	const out: number[] = [];
	const walk = (node: unknown, key = "") => {
		if (Array.isArray(node)) node.forEach((item) => walk(item));
		else if (node !== null && typeof node === "object") for (const [k, v] of Object.entries(node)) walk(v, k);
		else if ((key === "value" || key === "metric_value") && (typeof node === "number" || typeof node === "string")) out.push(Number(node));
	};
	try {
		walk(JSON.parse(req.body ?? "null"));
	} catch {
		// not JSON: no values
	}
	return out;
}

/** The size of the KV metadata a token creation request leads to (src/auth/tokens.ts stores the record there). */
function tokenMetadataBytes(req: GeneratedRequest): number {
	const { org, name, scopes } = JSON.parse(req.body ?? "{}") as { org?: string; name?: string; scopes?: string[] };
	const record = { id: "tok_xxxxxxxxxxxxxxxx", org, name, scopes: [...new Set(scopes ?? ["write", "read"])], created_at: new Date().toISOString(), revoked_at: null };
	return new TextEncoder().encode(JSON.stringify(record)).length;
}

// ---- the document ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface Parameter {
	name: string;
	in: "path" | "query" | "header" | "cookie";
	required?: boolean;
	schema: Schema;
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
	components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
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
		if (DOCS_ROUTES.has(path)) continue;
		const shared = ((item as Obj).parameters as Operation["parameters"]) ?? [];
		for (const method of HTTP_METHODS) {
			const op = item[method];
			if (!op) continue;
			const params = [...shared, ...(op.parameters ?? [])].map((p) => ("$ref" in p ? (resolveRef(document, p.$ref) as unknown as Parameter) : p));
			const bodySchema = op.requestBody?.content["application/json"]?.schema;
			const security = op.security ?? document.security ?? [];
			let auth: OperationInfo["auth"] = { kind: "none" };
			const schemeName = security.flatMap((req) => Object.keys(req))[0];
			if (schemeName) {
				const scheme = document.components.securitySchemes?.[schemeName];
				if (scheme?.type === "apiKey" && scheme.in === "header") auth = { kind: "header", header: scheme.name!, prefix: "", admin: false };
				else if (scheme?.type === "http" && scheme.scheme?.toLowerCase() === "bearer") auth = { kind: "header", header: "Authorization", prefix: "Bearer ", admin: true };
				else throw new Error(`unsupported security scheme ${schemeName}`);
			} else if (bodySchema && BODY_TOKEN_FIELD in (((deref(document, bodySchema) as Obj).properties as Obj) ?? {})) auth = { kind: "body" };
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
	cursors: new Map<string, string[]>(),
	idempotencyKeys: ["prop-key-1", "prop-key-2"],
	/** Streams and metrics an accepted write gave a huge value: their sums may have overflowed. */
	overflowed: new Set<string>(),
};

let streamToken: string;
let propertyOrg: string;
/** Requests per stream token: the service allows 1000 per 10 seconds per token (wrangler.toml). */
const REQUESTS_PER_TOKEN = 250;
let revokedToken: string;
const ADMIN_SECRET = ADMIN.Authorization.replace(/^Bearer /, "");

/** A value for a parameter: sometimes one the state knows (an existing stream, a cursor). */
function parameterValue(info: OperationInfo, p: Parameter, r: Rng, exampleRate = 0.3): unknown {
	const known =
		p.name === "name" ? state.streams : p.name === "metric_name" ? state.metrics : p.name === "id" ? state.tokenIds : p.name === "org" ? state.orgs : p.name === "cursor" ? (state.cursors.get(info.name) ?? []) : p.name.toLowerCase() === "idempotency-key" ? state.idempotencyKeys : [];
	const candidates = known.filter((v) => isValid(doc, p.schema, v));
	if (candidates.length > 0 && r.int(2) === 0) return r.pick(candidates);
	return sample(doc, p.schema, r, { channel: p.in as Channel, exampleRate });
}

/** A parameter value as text: JSON for anything that is not a scalar. */
function paramText(value: unknown): string {
	return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" || value === null ? String(value) : JSON.stringify(value);
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
		if (p.in === "path" || p.required || r.int(p.in === "header" ? 3 : 2) === 0) params.set(p, parameterValue(info, p, r, exampleRate));
	}
	let body: unknown;
	const hasBody = info.bodySchema !== undefined && (info.op.requestBody?.required || r.int(3) !== 0);
	if (hasBody) {
		body = sample(doc, info.bodySchema!, r, { channel: "body", exampleRate });
		if (info.auth.kind === "body") (body as Obj)[BODY_TOKEN_FIELD] = streamToken;
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
		if (p.in === "query") query.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(paramText(value))}`);
		if (p.in === "header") headers[p.name] = paramText(value);
	}
	if (info.auth.kind === "header") {
		const token = info.auth.admin ? ADMIN_SECRET : streamToken;
		if (auth === "valid") headers[info.auth.header] = `${info.auth.prefix}${token}`;
		else if (auth === "unknown") headers[info.auth.header] = `${info.auth.prefix}${info.auth.admin ? "not-the-admin-token" : "mlt_unknownTokenOfNobody0123456789"}`;
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
	return { kind, auth, method: info.method, url: `${path}${query.length ? `?${query.join("&")}` : ""}`, headers, body, what };
}

/** Whether the parts are valid against the document (parameters as the server reads them). */
function partsMismatches(info: OperationInfo, parts: Parts): string[] {
	const out: string[] = [];
	for (const p of info.params) {
		if (!parts.params.has(p) && !parts.rawPath.has(p)) {
			if (p.required || p.in === "path") out.push(`${p.in} parameter ${p.name} missing`);
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
		for (const m of validate(doc, p.schema, paramValueOf(p.schema, text))) out.push(`${p.in} parameter ${p.name}${m.pointer}: ${m.message}`);
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
		if (info.bodySchema) targets.push("body", "body", "body", "json", "content-type", ...(info.op.requestBody?.required ? ["no body"] : []));
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
			const broken = [text.slice(0, Math.max(1, r.int(text.length))), text.replace(/"/g, "'"), `${text},`, `${text}}`, text.replace(":", ""), `{${text}`, text.replace(/^\{/, "{,"), "\u0000", "{\"a\":1,}"];
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
			parts.contentType = r.pick(["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", "text/json"]);
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
function explainingGaps(info: OperationInfo, req: GeneratedRequest, status: number, code: string, details: { code: string; path?: string }[]): KnownGap[] | null {
	const problems = details.length > 0 ? details : [{ code, path: undefined }];
	const found = new Set<KnownGap>();
	for (const d of problems) {
		const gap = KNOWN_GAPS.find(
			(g) => (g.status ?? 400) === status && g.operations.test(info.name) && g.codes.includes(d.code) && (!g.at || g.at.test(d.path ?? "")) && (!g.when || g.when(req)),
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
	const addressed = finalPath === sentPath && info.matcher.test(finalPath) ? info : operations.find((o) => o.method === req.method && o.matcher.test(finalPath));

	// A response a known service bug explains (KNOWN_GAPS entries with a 5xx status).
	const preview = status >= 500 ? ((): string => { try { return String((JSON.parse(text) as ErrorBody).error?.code ?? ""); } catch { return ""; } })() : "";
	const knownBug = status >= 500 && explainingGaps(info, req, status, preview, []) !== null;

	// (1) never a 5xx
	if (status >= 500 && !knownBug) problems.push(`5xx: ${status}`);

	// (2) a documented status
	const response = addressed ? documentedResponse(addressed.op, status) : undefined;
	if (!response && !knownBug && !(addressed === undefined && (status === 404 || status === 405))) problems.push(`status ${status} is not documented for ${addressed?.name ?? `${req.method} ${finalPath}`}`);

	// (3) the body matches the documented schema of its status and content type
	const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
	let parsed: unknown;
	const schemaFor = response?.content?.[mediaType]?.schema ?? (!response && status >= 400 ? { $ref: "#/components/schemas/ErrorResponse" } : undefined);
	if (response?.content && !response.content[mediaType]) problems.push(`content type '${mediaType}' is not documented for ${status} (${Object.keys(response.content).join(", ")})`);
	else if (schemaFor) {
		if (mediaType === "application/json" || mediaType.endsWith("+json")) {
			try {
				parsed = JSON.parse(text);
			} catch {
				problems.push(`body is not JSON: ${text.slice(0, 100)}`);
			}
		} else parsed = text;
		if (parsed !== undefined) for (const m of validate(doc, schemaFor, parsed, { closedObjects: true })) problems.push(`body ${m.pointer || "/"} (${m.keyword}): ${m.message}`);
	}
	for (const [name, header] of Object.entries(response?.headers ?? {})) {
		const value = res.headers.get(name);
		if (value !== null && header.schema) for (const m of validate(doc, header.schema, paramValueOf(header.schema, value))) problems.push(`header ${name}: ${m.message}`);
	}

	// (4) error codes from the document's closed set
	const error = (parsed as ErrorBody | undefined)?.error;
	const code = typeof error?.code === "string" ? error.code : "";
	const details = (error?.details ?? []).map((d) => ({ code: String(d.code), path: typeof d.path === "string" ? d.path : undefined }));
	if (status >= 400 && error) {
		if (errorCodes && !errorCodes.has(code)) problems.push(`error code '${code}' is not in the document's enum of error codes`);
		if (detailCodes) for (const d of details) if (!detailCodes.has(d.code)) problems.push(`detail code '${d.code}' is not in the document's enum of detail codes`);
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
				if (!explainingGaps(info, req, status, code, details)) problems.push(`schema-valid request refused: 400 ${code} ${JSON.stringify(details).slice(0, 400)}`);
			} else if (![404, 409, 429].includes(status) && !knownBug) problems.push(`schema-valid request with a valid token refused: ${status} ${code}`);
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
	if (info.method === "POST" && bodyValues(req).some((v) => Math.abs(v) >= 1e307)) {
		if (typeof body.stream === "string") state.overflowed.add(body.stream);
		for (const point of ((JSON.parse(req.body!) as { data?: { metric_name?: unknown }[] }).data ?? [])) if (typeof point?.metric_name === "string") state.overflowed.add(point.metric_name);
	}
	if (typeof body.next_cursor === "string") state.cursors.set(info.name, [...(state.cursors.get(info.name) ?? []).slice(-4), body.next_cursor]);
	if (info.name === "POST /admin/v1/tokens" && typeof body.id === "string") {
		state.tokenIds.push(body.id);
		state.orgs.push(String(body.org));
	}
}

/** Text safe to print: lone surrogates (which the test runner's channel cannot carry) escaped. */
function printable(text: string): string {
	return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function show(req: GeneratedRequest): string {
	const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v}`);
	return `${req.method} ${req.url.slice(0, 300)} [${req.kind}, auth ${req.auth}${req.what ? `, ${req.what}` : ""}]\n  ${headers.join("\n  ")}\n  ${req.body === undefined ? "(no body)" : req.body.length > 600 ? `${req.body.slice(0, 600)}…(${req.body.length} chars)` : req.body}`;
}

beforeAll(async () => {
	const errorSchema = doc.components.schemas.ErrorResponse as Obj;
	const errorProps = (deref(doc, ((errorSchema.properties as Obj).error as Schema)) as Obj).properties as Record<string, Schema>;
	errorCodes = closedSet(doc, errorProps.code);
	const detailSchema = deref(doc, doc.components.schemas.ErrorDetail) as Obj;
	detailCodes = closedSet(doc, (detailSchema.properties as Record<string, Schema>).code);
	if (!errorCodes) notes.add("property 4 skipped for error.code: ErrorResponse.error.code has no enum in the document yet");
	if (!detailCodes) notes.add("property 4 skipped for details[].code: ErrorDetail.code has no enum in the document yet");

	// A stream token with every scope, a revoked one, and streams / a metric with known dimension keys.
	const org = (propertyOrg = uniqueOrg("property"));
	state.orgs.push(org);
	({ token: streamToken } = await createToken(org, ["write", "read", "delete_stream"]));
	const revoked = await createToken(org, ["write", "read", "delete_stream"]);
	revokedToken = revoked.token;
	expect((await api(`/admin/v1/tokens/${revoked.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
	const seed = async (stream: string, associated_cost?: Record<string, string>) => {
		const res = await api(`/unit-cost/v1/telemetry/metric/${stream}/sum`, json("POST", { records: [{ timestamp: "2023-12-07", value: 1, ...(associated_cost ? { associated_cost } : {}) }] }, { Authorization: streamToken }));
		expect(res.status, await res.clone().text()).toBe(200);
	};
	await seed("prop-plain");
	await seed("prop-client", { "custom:Client": "Patric Star" });
	await seed("prop-dims", { "custom:Client": "Patric Star", Region: "Australia" });
	const ingest = await api("/streams/ingest", json("POST", { data_stream_token: streamToken, metric_agg_func: "Sum", data: [{ timestamp: "2022-10-01 00:00:00", metric_name: "active_users", metric_value: 3, custom_dimensions: { team: "growth", env: "prod" } }] }));
	expect(ingest.status, await ingest.clone().text()).toBe(201);
});

afterAll(() => {
	const rows = [...tallies].map(([name, t]) => {
		const statuses = [...t.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
		return `  ${String(t.valid).padStart(5)} ${String(t.invalid).padStart(7)} ${String(t.edge).padStart(5)} ${String(t.auth).padStart(5)}  ${name.padEnd(52)} ${statuses}`;
	});
	const refusals = [...tallies].flatMap(([name, t]) => (t.refusals.size ? [`  ${name}: ${[...t.refusals].map(([k, n]) => `${k} ×${n}`).join(", ")}`] : []));
	const gaps = KNOWN_GAPS.map((g) => `  ${String(gapHits.get(g) ?? 0).padStart(5)}  ${g.operations.source} ${g.codes.join("/")}${g.at ? ` at ${g.at.source}` : ""}`);
	console.info(
		[
			`OpenAPI property test (scale ${SCALE}, seed ${SEED}${ONLY ? `, only ${ONLY}` : ""}; replay with PROPERTY_SEED=${SEED})`,
			`  valid invalid  edge  auth  operation${" ".repeat(44)}statuses`,
			...rows,
			"refusals of schema-valid requests with a valid token (status code ×count):",
			...(refusals.length ? refusals : ["  none"]),
			"known gaps hit (KNOWN_GAPS):",
			...(gaps.length ? gaps : ["  none listed"]),
			...[...notes].map((n) => `note: ${n}`),
		].join("\n"),
	);
});

describe("the test's own validator and generator", () => {
	it("validator: reports each kind of mismatch with its JSON pointer and keyword", () => {
		const root = { components: { schemas: { Item: { type: "object", properties: { n: { type: "integer", minimum: 1, maximum: 3 } }, required: ["n"], additionalProperties: false } } } };
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
		expect(found({ items: [{ n: 0 }, { n: 1.5 }, {}] })).toEqual(["/items maxItems", "/items/0/n minimum", "/items/1/n type", "/items/2 required"]);
		expect(found({ items: [{ n: 1, m: 1 }], "a/b~": 1 })).toEqual(["/items/0/m additionalProperties", "/a~1b~0 additionalProperties"]);
		expect(found({ items: [{ n: 1 }], name: "ABCD", kind: "c", either: "y", tags: { t: "long" } })).toEqual(["/name maxLength", "/name pattern", "/kind enum", "/either anyOf", "/tags/t maxLength"]);
		expect(found({ items: [{ n: Infinity }] })).toEqual(["/items/0/n type"]);
		expect(() => validate(root, { type: "string", propertyNames: {} }, "x")).toThrow(/propertyNames/);
		// Responses: properties the document does not list are reported, also across an allOf.
		const open = { type: "object", properties: { a: { type: "string" } } };
		expect(validate(root, open, { a: "x", b: 1 })).toEqual([]);
		expect(validate(root, open, { a: "x", b: 1 }, { closedObjects: true }).map((m) => `${m.pointer} ${m.keyword}`)).toEqual(["/b undocumented"]);
		const both = { allOf: [open, { type: "object", properties: { c: { type: "number" } } }] };
		expect(validate(root, both, { a: "x", c: 1 }, { closedObjects: true })).toEqual([]);
		expect(validate(root, both, { a: "x", c: 1, d: 2 }, { closedObjects: true }).map((m) => `${m.pointer} ${m.keyword}`)).toEqual(["/d undocumented"]);
	});

	it("generator: every request schema of the document yields only valid samples; every pattern yields matching strings", () => {
		const r = seededRandom(SEED);
		for (const info of operations) {
			for (const p of info.params) {
				for (let i = 0; i < 100; i++) {
					const value = sample(doc, p.schema, r, { channel: p.in as Channel, exampleRate: 0.3 });
					expect(validate(doc, p.schema, paramValueOf(p.schema, paramText(value))), `${info.name} ${p.name} ${JSON.stringify(value)}`).toEqual([]);
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
		const alwaysInvalid = ["wrong type", "out of range", "string too long", "string too short", "not in enum", "required field dropped", "unknown field", "too few or too many items"];
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
				if (i % REQUESTS_PER_TOKEN === 0) ({ token: streamToken } = await createToken(propertyOrg, ["write", "read", "delete_stream"]));
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
					const seen = failures.get(kind) ?? { count: 0, example: printable(`#${i} ${show(req)}\n→ ${res.status} ${text.slice(0, 600)}\n  ${problems.join("\n  ")}`) };
					failures.set(kind, { ...seen, count: seen.count + 1 });
				}
			}
			const report = [...failures].map(([kind, { count, example }]) => `${count} × ${kind}\n${example}`).join("\n\n");
			const total = [...failures.values()].reduce((n, f) => n + f.count, 0);
			expect(report, `${total} failing requests (seed ${SEED}, replay: PROPERTY_SEED=${SEED} PROPERTY_ONLY='${name}')`).toBe("");
		});
	}
});
