// Record data travels to D1 as JSON parameters unpacked with json_each, so that a 10,000-record
// request is a handful of statements in one transaction rather than 10,000 round trips.

// D1 allows 2 MB per string value; chunks stay well below it.
export const MAX_JSON_PARAM_CHARS = 400_000;

/** Splits rows into JSON arrays no longer than the per-parameter budget. */
export function jsonChunks(rows: unknown[]): string[] {
	const chunks: string[] = [];
	let current: string[] = [];
	let size = 2;
	for (const row of rows) {
		const json = JSON.stringify(row);
		if (current.length > 0 && size + json.length + 1 > MAX_JSON_PARAM_CHARS) {
			chunks.push(`[${current.join(",")}]`);
			current = [];
			size = 2;
		}
		current.push(json);
		size += json.length + 1;
	}
	if (current.length > 0) chunks.push(`[${current.join(",")}]`);
	return chunks;
}
