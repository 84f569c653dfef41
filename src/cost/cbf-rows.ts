// CBF rows (CloudZero's Common Bill Format), the `data` of a billing drop: its columns, what a cell
// may hold, and each row reduced to its UTC hour, its dimension set and its five costs. Plain
// functions, shared with the CLI (which checks a file before sending it); the zod schema in
// schemas/costs.ts documents the same rules in the OpenAPI document.
import type { ErrorDetail } from "../lib/api-error";
import { type CostParts, costPartsOf, plainCostParts } from "../lib/decimal";
import type { ErrorCode } from "../lib/error-catalog";
import { parseTimestamp } from "../lib/timestamps";

/** Every CBF column but the tags, and what it holds. */
export const CBF_TEXT_COLUMNS = [
	"lineitem/id",
	"lineitem/type",
	"lineitem/description",
	"resource/id",
	"resource/service",
	"resource/account",
	"resource/region",
	"resource/usage_family",
	"action/operation",
	"action/usage_type",
	"action/region",
	"action/account",
	"usage/units",
	"bill/invoice_id",
] as const;
export const CBF_TIME_COLUMNS = ["time/usage_start", "time/usage_end"] as const;
export const COST_TYPES = ["cost", "discounted_cost", "amortized_cost", "discounted_amortized_cost", "on_demand_cost"] as const;
export type CostType = (typeof COST_TYPES)[number];
const COST_COLUMNS = COST_TYPES.map((t) => `cost/${t}`);
/** The CBF columns whose values are numbers (JSON numbers or plain decimal strings). */
export const CBF_NUMBER_COLUMNS = ["usage/amount", ...COST_COLUMNS] as const;
/** A tag column is resource/tag:<key>. */
export const CBF_TAG_PREFIX = "resource/tag:";
/** Each CBF column but the tags, and the kind of value it holds. */
export const COLUMN_KIND: ReadonlyMap<string, "text" | "time" | "number"> = new Map([
	...CBF_TEXT_COLUMNS.map((c) => [c, "text"] as const),
	...CBF_TIME_COLUMNS.map((c) => [c, "time"] as const),
	...CBF_NUMBER_COLUMNS.map((c) => [c, "number"] as const),
]);
const TAG_COLUMN = /^resource\/tag:([^\u0000-\u001f\u007f-\u009f]{1,128})$/u;
export const TAG_COLUMN_PATTERN = String.raw`^resource/tag:[^\u0000-\u001f\u007f-\u009f]{1,128}$`;
export const MAX_CBF_TEXT_LENGTH = 1024;
/** Costs and usage amounts are bounded: no bill has a line of a quadrillion. */
export const MAX_CBF_NUMBER = 1e15;
/**
 * A CBF number as text: a decimal of at most 15 digits before the point (or exactly 10^15), with
 * any number of places, optionally scaled down by a negative exponent (8e-7): so every text the
 * pattern admits is within ±10^15, and the document says exactly what is taken.
 */
const CBF_NUMBER = /^[+-]?(?:\d{1,15}(?:\.\d*)?|\.\d+|1000000000000000(?:\.0*)?)(?:[eE]-\d{1,9})?$/;
/** CBF_NUMBER for the OpenAPI document. */
export const CBF_NUMBER_PATTERN = CBF_NUMBER.source;
/** Any decimal, for telling a number out of range (out_of_range) from text that is none (invalid_value). */
const ANY_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A validated CBF row: its hour, its dimensions as canonical JSON and its five costs. */
export interface CostRow {
	hour: string;
	dims: string;
	costs: [CostParts, CostParts, CostParts, CostParts, CostParts];
}

/** A CBF number cell (a JSON number or a decimal string) as a cost in stored parts, or why it is none. */
function cbfNumber(input: unknown): CostParts | { code: ErrorCode; error: string } {
	let parts: ReturnType<typeof costPartsOf>;
	if (typeof input === "number") {
		// A JSON number is a double: its shortest decimal form is the number as written, up to 17 digits.
		if (Number.isInteger(input) && Math.abs(input) <= MAX_CBF_NUMBER) return [input + 0, 0];
		parts = Number.isFinite(input) ? costPartsOf(String(input)) : "out_of_range";
	} else if (typeof input === "string") {
		// JSON numbers too small or too large for a double reach here as their text (see readJsonBody).
		const plain = plainCostParts(input);
		if (plain !== null) return plain;
		if (input.length > MAX_CBF_TEXT_LENGTH || !CBF_NUMBER.test(input)) parts = ANY_DECIMAL.test(input) ? "out_of_range" : "not_a_number";
		else parts = costPartsOf(input);
	} else return { code: "invalid_type", error: "must be a number or a numeric string" };
	if (parts === "not_a_number") return { code: "invalid_value", error: `'${String(input).slice(0, 64)}' is not a decimal number` };
	if (parts === "out_of_range")
		return {
			code: "out_of_range",
			error: `must be within ±${MAX_CBF_NUMBER}: at most 15 digits before the point, an exponent only negative`,
		};
	return parts;
}

interface ColumnClass {
	kind: "text" | "time" | "number" | "tag" | "unknown";
	/** For a tag column, its dimension: tag:<key>. */
	tag?: string;
}

// A drop repeats the same few columns on every row: each column name is classified once.
const columnClasses = new Map<string, ColumnClass>();

function classifyColumn(column: string): ColumnClass {
	let result = columnClasses.get(column);
	if (result === undefined) {
		const kind = COLUMN_KIND.get(column);
		const tag = kind ? null : TAG_COLUMN.exec(column);
		result = kind ? { kind } : tag ? { kind: "tag", tag: `tag:${tag[1]}` } : { kind: "unknown" };
		if (columnClasses.size >= 4096) columnClasses.clear();
		columnClasses.set(column, result);
	}
	return result;
}

// A drop repeats the same few hours thousands of times: each timestamp is parsed once.
const parsedHours = new Map<string, { hour: string } | { error: string }>();

/** The UTC hour of a CBF timestamp, or why it is not one. */
function cbfHour(input: string): { hour: string } | { error: string } {
	let result = parsedHours.get(input);
	if (result === undefined) {
		const parsed = parseTimestamp(input);
		result = "error" in parsed ? parsed : { hour: `${new Date(parsed.epochMs).toISOString().slice(0, 13)}:00:00Z` };
		if (parsedHours.size >= 4096) parsedHours.clear();
		parsedHours.set(input, result);
	}
	return result;
}

/**
 * Checks CBF rows (the `data` of a billing drop) and reduces each to its hour, dimensions and
 * costs, listing every problem (record = row index, path = data[i].<column>).
 */
export function parseCbfRows(data: unknown[]): { rows: CostRow[]; details: ErrorDetail[] } {
	const rows: CostRow[] = [];
	const details: ErrorDetail[] = [];
	for (let record = 0; record < data.length; record++) {
		const row = parseCbfRow(data[record], record, details);
		if (row !== undefined) rows.push(row);
	}
	return { rows, details };
}

// The per-row functions below are module-level, not closures: a 10,000-row drop would create
// (and, in wrangler's keep-names bundle, name) several functions per row.

function addProblem(details: ErrorDetail[], record: number, code: ErrorCode, column: string, message: string): void {
	details.push({ code, message: `${column}: ${message}`, record, path: `data[${record}].${column}` });
}

/** One CBF row reduced to its hour, dimensions and costs; undefined (with its problems added) if it is refused. */
function parseCbfRow(input: unknown, record: number, details: ErrorDetail[]): CostRow | undefined {
	if (input === null || typeof input !== "object" || Array.isArray(input)) {
		details.push({ code: "invalid_type", message: "a CBF row must be an object of column name to value", record, path: `data[${record}]` });
		return undefined;
	}
	const row = input as Record<string, unknown>;
	const text: Record<string, string> = {};
	const tags: Array<[string, string]> = [];
	const numbers: Record<string, CostParts> = {};
	let hour: string | undefined;
	const problemsBefore = details.length;
	for (const column in row) {
		const value = row[column];
		const { kind, tag } = classifyColumn(column);
		if (kind === "unknown") {
			addProblem(details, record, "unknown_field", column, "not a CBF column (tags are resource/tag:<key>)");
			continue;
		}
		// A tag's key becomes a dimension name, stored and read back as its value is: a lone surrogate
		// in it is refused the same way (named with U+FFFD in its place, so the answer is valid Unicode).
		if (tag !== undefined && !column.isWellFormed()) {
			addProblem(details, record, "invalid_unicode", column.toWellFormed(), "the tag key must be valid Unicode (no lone surrogates)");
			continue;
		}
		if (kind === "number") {
			const n = cbfNumber(value);
			if ("code" in n) addProblem(details, record, n.code, column, n.error);
			else numbers[column] = n;
			continue;
		}
		if (typeof value !== "string") {
			addProblem(details, record, "invalid_type", column, "must be a string");
			continue;
		}
		if (!value.isWellFormed()) {
			addProblem(details, record, "invalid_unicode", column, "must be valid Unicode (no lone surrogates)");
			continue;
		}
		// In code points, as the document's maxLength counts them.
		if (value.length > MAX_CBF_TEXT_LENGTH && [...value].length > MAX_CBF_TEXT_LENGTH) {
			addProblem(details, record, "out_of_range", column, `at most ${MAX_CBF_TEXT_LENGTH} characters`);
			continue;
		}
		if (kind === "time") {
			const parsed = cbfHour(value);
			if ("error" in parsed) addProblem(details, record, "invalid_timestamp", column, parsed.error);
			else if (column === "time/usage_start") hour = parsed.hour;
			continue;
		}
		if (tag !== undefined) tags.push([tag, value]);
		else text[column] = value;
	}
	if (row["time/usage_start"] === undefined) addProblem(details, record, "missing_field", "time/usage_start", "is required");
	if (row["cost/cost"] === undefined) addProblem(details, record, "missing_field", "cost/cost", "is required");
	if (tags.length > 0 && row["resource/id"] === undefined) {
		addProblem(details, record, "missing_field", "resource/id", "is required when a resource/tag:<key> column is present");
	}
	if (details.length > problemsBefore || hour === undefined) return undefined;
	return { hour, dims: dimensionsOf(text, tags), costs: costsOf(numbers) };
}

const byTagName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);

/** A row's dimensions as canonical JSON: built-ins in a fixed order (empty values left out), then tags by key. */
function dimensionsOf(text: Record<string, string>, tags: Array<[string, string]>): string {
	const dims: Record<string, string> = {};
	const service = text["resource/service"];
	if (service) dims.Service = service;
	const account = text["resource/account"] || text["action/account"];
	if (account) dims.Account = account;
	dims.Region = text["resource/region"] || text["action/region"] || "no-region";
	const usageFamily = text["resource/usage_family"];
	if (usageFamily) dims.UsageFamily = usageFamily;
	dims.LineItemType = text["lineitem/type"] || "Usage";
	const resource = text["resource/id"];
	if (resource) dims.Resource = resource;
	if (tags.length > 1) tags.sort(byTagName);
	for (const [name, value] of tags) dims[name] = value;
	return JSON.stringify(dims);
}

/** The five costs; an absent cost type is the row's cost/cost. */
function costsOf(numbers: Record<string, CostParts>): CostRow["costs"] {
	const cost = numbers["cost/cost"];
	return [
		cost,
		numbers["cost/discounted_cost"] ?? cost,
		numbers["cost/amortized_cost"] ?? cost,
		numbers["cost/discounted_amortized_cost"] ?? cost,
		numbers["cost/on_demand_cost"] ?? cost,
	];
}
