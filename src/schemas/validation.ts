import { ApiError, type ErrorDetail } from "../lib/api-error";
import { type ErrorCode, isErrorCode } from "../lib/error-catalog";
import type { z } from "./zod";

/** A 400 listing every problem, with the shared code and headline when they agree. */
export function validationError(details: ErrorDetail[]): ApiError {
	const { code, message } = summarizeDetails(details);
	return new ApiError(400, code, message, details);
}

/** recordsField names the body's array of records (CloudZero: records, Cloudthread: data). */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, recordsField = "records"): z.output<S> {
	const parsed = schema.safeParse(input);
	if (!parsed.success) throw validationError(issuesToDetails(parsed.error.issues, input, recordsField));
	return parsed.data;
}

/** Turns zod issues into the service's error details (record index, field path, code, message). */
export function issuesToDetails(issues: z.core.$ZodIssue[], input: unknown, recordsField = "records"): ErrorDetail[] {
	return issues.map((issue) => {
		const path = issue.path
			.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
			.join("")
			.replace(/^\./, "");
		const record = issue.path[0] === recordsField && typeof issue.path[1] === "number" ? issue.path[1] : undefined;
		let code: ErrorCode;
		let message = issue.message;
		if (issue.code === "custom") {
			code = ownCode(issue) ?? "invalid_value";
		} else if (issue.code === "unrecognized_keys") {
			code = "unknown_field";
			message = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
		} else if (
			(issue.code === "invalid_type" || issue.code === "invalid_union" || issue.code === "invalid_value") &&
			isMissing(input, issue.path)
		) {
			code = "missing_field";
		} else if (issue.code === "invalid_key" && ownCode(issue.issues[0]) === "invalid_unicode") {
			// A dimension name with a lone surrogate: say that, as for a value.
			code = "invalid_unicode";
			message = issue.issues[0].message;
		} else code = ZOD_CODES[issue.code] ?? "invalid_value";
		return record === undefined ? { code, message, path: path || undefined } : { code, message, record, path };
	});
}

/** The catalog code one of our own checks gave its issue (see fail() and params.code). */
function ownCode(issue: z.core.$ZodIssue | undefined): ErrorCode | undefined {
	const own = issue?.code === "custom" ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
	return isErrorCode(own) ? own : undefined;
}

/** zod's own issue codes, as the service's catalog names them. */
const ZOD_CODES: Partial<Record<z.core.$ZodIssue["code"], ErrorCode>> = {
	invalid_type: "invalid_type",
	invalid_union: "invalid_type",
	invalid_value: "invalid_value",
	invalid_element: "invalid_value",
	not_multiple_of: "invalid_value",
	invalid_key: "invalid_dimension_name",
	invalid_format: "invalid_format",
	too_small: "out_of_range",
	too_big: "out_of_range",
};

/** Whether the value at path is absent from an object that exists (zod does not report inputs). */
function isMissing(input: unknown, path: PropertyKey[]): boolean {
	if (path.length === 0) return input === undefined;
	let parent = input;
	for (const key of path.slice(0, -1)) {
		if (parent === null || typeof parent !== "object") return false;
		parent = (parent as Record<PropertyKey, unknown>)[key];
	}
	return parent !== null && typeof parent === "object" && !Array.isArray(parent) && !Object.hasOwn(parent, path[path.length - 1]);
}

/**
 * The first record fixes a request's dimension keys; every other record must have the same ones.
 * Shared with the CLI, which checks a whole file before sending any of it.
 */
export function checkDimensionKeys(records: { associated_cost?: Record<string, string> }[]): {
	dimensionKeys: string[];
	details: ErrorDetail[];
} {
	const keysOf = (dims: Record<string, string> | undefined) => (dims ? Object.keys(dims).sort() : []);
	const dimensionKeys = records.length > 0 ? keysOf(records[0].associated_cost) : [];
	const expected = new Set(dimensionKeys);
	// Checked once per record of requests of up to 10,000 records: no sorting or copying unless it differs.
	const sameKeys = (dims: Record<string, string> | undefined) => {
		let count = 0;
		for (const key in dims) {
			if (!expected.has(key)) return false;
			count++;
		}
		return count === expected.size;
	};
	const details: ErrorDetail[] = [];
	records.forEach((r, record) => {
		if (sameKeys(r.associated_cost)) return;
		const keys = keysOf(r.associated_cost);
		details.push({
			code: "inconsistent_filter_keys",
			message: `All records in a stream must contain the same filter keys: record 0 has [${dimensionKeys.join(", ")}], this record has [${keys.join(", ")}]`,
			record,
			path: `records[${record}].associated_cost`,
		});
	});
	return { dimensionKeys, details };
}

const HEADLINES: Partial<Record<ErrorCode, string>> = {
	future_timestamp: "Timestamp too far into the future",
	inconsistent_filter_keys: "All records in a stream must contain the same filter keys",
	inconsistent_granularity: "All records in a stream must contain the same granularity as the stream's granularity",
	missing_field: "Invalid Schema: Missing required fields",
	unknown_filter_keys: "Invalid Schema: Unrecognized filter keys",
};

/** The top-level code and message for a set of details: the shared one if all agree. */
export function summarizeDetails(details: ErrorDetail[]): { code: ErrorCode; message: string } {
	const codes = new Set(details.map((d) => d.code));
	const records = new Set(details.map((d) => d.record).filter((r) => r !== undefined)).size;
	const where = records > 0 ? ` in ${records} record${records === 1 ? "" : "s"}` : "";
	const count = `${details.length} problem${details.length === 1 ? "" : "s"}${where}`;
	if (codes.size === 1) {
		const [code] = codes;
		const headline = HEADLINES[code];
		return { code, message: headline ? `${headline} (${count})` : `Invalid Schema: ${details[0].message} (${count})` };
	}
	return { code: "invalid_schema", message: `Invalid Schema: ${count}` };
}
