import type { Context } from "hono";
import { CBF_NUMBER_COLUMNS } from "../cost/cbf-rows";
import { ApiError } from "../lib/api-error";
import { underflowsToZero } from "../lib/numbers";
import { configOf } from "../schemas/config";
import type { AppEnv } from "./app-env";

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The largest body a write endpoint accepts (wrangler.toml: MAX_BODY_BYTES). */
export function maxBodyBytes(env: Env): number {
	return configOf(env).maxBodyBytes;
}

/**
 * Refuses a body whose array of records is longer than MAX_RECORDS_PER_REQUEST (wrangler.toml),
 * before any record is validated. `noun` is what the API calls its records.
 */
export function enforceRecordLimit(env: Env, records: unknown, noun: string): void {
	const maxRecords = configOf(env).maxRecordsPerRequest;
	if (Array.isArray(records) && records.length > maxRecords) {
		throw new ApiError(
			413,
			"too_many_records",
			`A request may carry at most ${maxRecords} ${noun}; this one has ${records.length}. Split it into several requests.`,
		);
	}
}

/** A parsed JSON body and its text (the text identifies the request for idempotency keys). */
export interface JsonBody {
	json: unknown;
	text: string;
}

/**
 * Reads and parses a JSON request body, refusing it before parsing when it is too large.
 * The platform's own body limit is the zone's (100 MB), so the service enforces its own.
 */
export async function readJsonBody(c: Context<AppEnv>, maxBytes: number, { optional = false } = {}): Promise<JsonBody> {
	const contentType = c.req.header("content-type");
	if (contentType !== undefined && !JSON_CONTENT_TYPE.test(contentType)) {
		throw new ApiError(415, "unsupported_media_type", `Content-Type must be application/json, not ${contentType.slice(0, 100)}`);
	}
	const declared = Number(c.req.header("content-length"));
	if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

	const text = await readLimited(c.req.raw, maxBytes, Number.isFinite(declared));
	if (text.trim() === "") {
		if (optional) return { json: undefined, text };
		throw new ApiError(400, "invalid_json", "Invalid JSON: the request body is empty");
	}
	try {
		return { json: OUT_OF_RANGE_CANDIDATE.test(text) ? JSON.parse(text, keepOutOfRangeSource) : JSON.parse(text), text };
	} catch (err) {
		// V8 parses any depth without a reviver, but the reviver above recurses: a body nested
		// deeply enough (100,000 arrays) overflows the stack, a RangeError whose message
		// ("Maximum call stack size exceeded") says nothing about the request.
		if (err instanceof RangeError) throw new ApiError(400, "invalid_json", TOO_DEEP);
		throw new ApiError(400, "invalid_json", `Invalid JSON: ${(err as Error).message}`);
	}
}

const TOO_DEEP =
	"Invalid JSON: the body is nested too deeply (arrays or objects thousands of levels deep); no endpoint takes more than a few levels";

// A property's number literal with an exponent of three digits or more, or a run of 100 digits
// before or after its point: the only ones JSON.parse can turn into 0 or Infinity (a literal of at
// most 99 digits on either side and a two-digit exponent is within 1e-198 and 1e198). Plain bodies
// skip the reviver below. Only a property's value can be a value field's, and it follows its ':'
// (and JSON's whitespace): the search starts at a ':', not at every digit of a 2 MB body. Every
// repetition is followed by a character it cannot match, so a failed attempt takes linear time.
const OUT_OF_RANGE_CANDIDATE = /:[ \t\n\r]*-?(?:\d{100}|\d*\.\d{100}|\d+(?:\.\d+)?[eE][+-]?0*[1-9]\d{2})/;

/** The fields whose numbers are stored values: CloudZero's value, Cloudthread's metric_value, CBF's costs and usage. */
const VALUE_FIELDS: ReadonlySet<string> = new Set(["value", "metric_value", ...CBF_NUMBER_COLUMNS]);

/**
 * JSON.parse reads 1e-400 as 0 and 1e400 as Infinity: the first would be stored as a valid 0,
 * the second fails as "not a number". In a value field, such a literal is handed to validation
 * as its source text instead, so the value's parser refuses it (value_underflow, value_overflow)
 * and names its record and field. Only non-zero literals parsed as 0, and infinite ones, are touched.
 */
function keepOutOfRangeSource(key: string, value: unknown, context?: { source?: string }): unknown {
	if (typeof value !== "number" || context?.source === undefined || !VALUE_FIELDS.has(key)) return value;
	return underflowsToZero(value, context.source) || !Number.isFinite(value) ? context.source : value;
}

function tooLarge(maxBytes: number): ApiError {
	return new ApiError(413, "payload_too_large", `Request body is larger than the ${maxBytes} byte limit`);
}

// Counts bytes as they arrive so a chunked upload with no Content-Length cannot exceed the limit.
// With a Content-Length (already checked) the runtime delivers exactly that many bytes, so the
// body is read in one native call rather than chunk by chunk.
async function readLimited(request: Request, maxBytes: number, lengthDeclared: boolean): Promise<string> {
	if (!request.body) return "";
	if (lengthDeclared) {
		const bytes = new Uint8Array(await request.arrayBuffer());
		if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
		return decodeUtf8(bytes);
	}
	const reader = request.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > maxBytes) {
			await reader.cancel();
			throw tooLarge(maxBytes);
		}
		chunks.push(value);
	}
	const bytes = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return decodeUtf8(bytes);
}

function decodeUtf8(bytes: Uint8Array): string {
	try {
		return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		throw new ApiError(400, "invalid_json", "Invalid JSON: the body is not valid UTF-8");
	}
}
