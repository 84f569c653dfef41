// Record data travels to D1 as JSON parameters unpacked with json_each, so that a 10,000-record
// request is a handful of statements in one transaction rather than 10,000 round trips.

import type { DimensionFilter } from "../schemas/common";

// D1 allows 2 MB per string value; chunks stay well below it.
export const MAX_JSON_PARAM_CHARS = 400_000;

/** Splits rows into JSON arrays no longer than the per-parameter budget. */
export function jsonChunks(rows: unknown[]): string[] {
	return joinJsonChunks(rows.map((row) => JSON.stringify(row))).map((chunk) => chunk.json);
}

/**
 * Joins items that are JSON text already into JSON arrays no longer than the per-parameter
 * budget; `first` is the position of a chunk's first item among all of them.
 */
export function joinJsonChunks(items: Iterable<string>): Array<{ first: number; json: string }> {
	const chunks: Array<{ first: number; json: string }> = [];
	let current: string[] = [];
	let first = 0;
	let position = 0;
	let size = 2;
	for (const json of items) {
		if (current.length > 0 && size + json.length + 1 > MAX_JSON_PARAM_CHARS) {
			chunks.push({ first, json: `[${current.join(",")}]` });
			current = [];
			first = position;
			size = 2;
		}
		current.push(json);
		size += json.length + 1;
		position++;
	}
	if (current.length > 0) chunks.push({ first, json: `[${current.join(",")}]` });
	return chunks;
}

/**
 * A read's filters as the one JSON parameter its SQL unpacks with json_each: [name, [values],
 * exclude] per filter, exclude as 1 or 0, so that SQL compares it with whether a value matched
 * (matched = exclude fails the filter).
 */
export function filtersParam(filters: readonly DimensionFilter[]): string {
	return JSON.stringify(filters.map((f) => [f.name, f.values, f.exclude ? 1 : 0]));
}
