// What every read endpoint shares: the day range, the dimension filters, keyset paging (a page
// is read with one row more than asked for, which says whether there is a next one and where it
// starts) and CSV output.
import type { Context } from "hono";
import { dimensionName } from "../cost/dimensions";
import { ApiError, type ErrorDetail } from "../lib/api-error";
import { csvLine } from "../lib/csv";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { type DimensionFilter, FILTER_PARAM } from "../schemas/common";
import type { AppEnv } from "./app-env";

/** The inclusive day range of a read: open ends mean "from the first" and "to the last" day. */
export function dayRange(startDate: string | undefined, endDate: string | undefined): [startDay: string, endDay: string] {
	const startDay = startDate ?? "0000-01-01";
	const endDay = endDate ?? "9999-12-31";
	if (startDay > endDay) throw new ApiError(400, "invalid_date_range", "start_date must not be after end_date");
	return [startDay, endDay];
}

/**
 * A filter parameter's value split into its values: on every comma, with `\,` a comma and `\\` a
 * backslash inside a value; the problem as text for any other backslash.
 */
function filterValues(text: string): string[] | string {
	const values: string[] = [];
	let value = "";
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c === ",") {
			values.push(value);
			value = "";
		} else if (c !== "\\") value += c;
		else if (text[i + 1] === "\\" || text[i + 1] === ",") value += text[++i];
		else if (i + 1 === text.length) return "the value ends with a lone backslash; write \\\\ for a backslash";
		else
			return `'\\${String.fromCodePoint(text.codePointAt(i + 1)!)}' is not an escape: in a filter value, write \\, for a comma and \\\\ for a backslash`;
	}
	values.push(value);
	return values;
}

/**
 * The dimension filters among a read's query parameters (dim[<name>] and exclude[<name>], each
 * with its values split on commas), refusing what is neither a filter nor an option, and a value
 * with a backslash that escapes nothing (invalid_filter, naming the parameter).
 */
export function filterParams(params: Record<string, string[]>, options: ReadonlySet<string>, whose: string): DimensionFilter[] {
	const filters: DimensionFilter[] = [];
	const malformed: ErrorDetail[] = [];
	for (const [param, texts] of Object.entries(params)) {
		const filter = FILTER_PARAM.exec(param);
		if (!filter) {
			if (!options.has(param))
				malformed.push({
					code: "invalid_filter",
					message: `'${param.slice(0, 200)}' is not a query option of this endpoint (${[...options].join(", ")}); filter by a ${whose} with dim[<name>]=<values> or exclude[<name>]=<values>`,
					path: param.slice(0, 200),
				});
			continue;
		}
		const [, kind, name] = filter;
		const path = `${kind}[${name.slice(0, 200)}]`;
		const values: string[] = [];
		for (const text of texts) {
			const split = filterValues(text);
			if (typeof split === "string") malformed.push({ code: "invalid_filter", message: `${path}: ${split}`, path });
			else values.push(...split);
		}
		filters.push({ name, values, exclude: kind === "exclude", param: path });
	}
	if (malformed.length > 0)
		throw new ApiError(
			400,
			"invalid_filter",
			"Invalid filter: filters are written dim[<dimension name>]=<values> or exclude[<dimension name>]=<values>, the values separated by commas",
			malformed,
		);
	return filters;
}

/**
 * Filters on cost dimensions, named as D1 reads them (dimensionName: Tag:x is tag:x, custom:<name>
 * as written); 400 unknown_dimension naming the parameter for a name that is no cost dimension.
 * `pathOf` learns the parameter of each name, for the custom:<name>s D1 finds undefined.
 */
export function costFilters(filters: DimensionFilter[], pathOf: Map<string, string>): DimensionFilter[] {
	return filters.map((filter) => {
		const name = dimensionName(filter.name, filter.param);
		if (!pathOf.has(name)) pathOf.set(name, filter.param);
		return { ...filter, name };
	});
}

/** The filters, once every one names a dimension the data has (else unknown_filter_keys). */
export function checkFilterKeys(filters: DimensionFilter[], dimensionKeys: string[], whose: string): DimensionFilter[] {
	const known = new Set(dimensionKeys);
	const unknown = filters.filter(({ name }) => !known.has(name));
	if (unknown.length > 0) {
		const details: ErrorDetail[] = unknown.map(({ name, param }) => ({
			code: "unknown_filter_keys",
			message: `'${name.slice(0, 200)}' is not a ${whose} (${dimensionKeys.join(", ") || "none"})`,
			path: param,
		}));
		throw new ApiError(400, "unknown_filter_keys", "Invalid Schema: Unrecognized filter keys", details);
	}
	return filters;
}

/** Where a page starts: the decoded cursor when `isValid` accepts it, null with no cursor. */
export function cursorPosition<T>(cursor: string | undefined, isValid: (decoded: unknown) => decoded is T, forWhat = ""): T | null {
	if (cursor === undefined) return null;
	const decoded = decodeCursor(cursor);
	if (!isValid(decoded)) throw new ApiError(400, "invalid_cursor", `cursor is not one this service returned${forWhat}`);
	return decoded;
}

/** The first `limit` of rows read with limit + 1, and the cursor of the next page (null on the last). */
export function pageOf<R>(rows: R[], limit: number, positionOf: (last: R) => unknown): { page: R[]; nextCursor: string | null } {
	const page = rows.slice(0, limit);
	return { page, nextCursor: rows.length > limit ? encodeCursor(positionOf(page[page.length - 1])) : null };
}

/** A page as CSV: a header line, one line per row, and the next page's cursor in X-Next-Cursor. */
export function csvPage(c: Context<AppEnv>, header: string[], lines: string[][], nextCursor: string | null): Response {
	let csv = csvLine(header);
	for (const line of lines) csv += csvLine(line);
	if (nextCursor) c.header("X-Next-Cursor", nextCursor);
	return c.body(csv, 200, { "Content-Type": "text/csv; charset=utf-8" });
}

/** Type guard for a cursor of the given tuple shape ("string" or "integer" per element). */
export function isTuple<T extends unknown[]>(...shape: Array<"string" | "integer" | { literal: string }>) {
	return (value: unknown): value is T =>
		Array.isArray(value) &&
		value.length === shape.length &&
		shape.every((kind, i) =>
			kind === "string" ? typeof value[i] === "string" : kind === "integer" ? Number.isInteger(value[i]) : value[i] === kind.literal,
		);
}
