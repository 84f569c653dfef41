// The data every case writes: daily records for a grid of days × dimension sets, in the
// shape real clients send (5 dimensions, values as strings, timestamps with an offset).

export const SERIES = 200;
export const WRITE_DAYS = 30;
export const READ_DAYS = 365;

const FIRST_DAY = Date.UTC(2024, 0, 1);
const DAY_MS = 86_400_000;

export function dayString(dayIndex) {
	return new Date(FIRST_DAY + dayIndex * DAY_MS).toISOString().slice(0, 10);
}

/** Five dimensions; custom:Client is unique per series so a filter on it selects one series. */
export function dimensions(seriesIndex) {
	const pad = (n, width) => String(n).padStart(width, "0");
	return {
		"custom:Client": `client-${pad(seriesIndex, 3)}`,
		"custom:Product": `product-${pad(seriesIndex % 10, 2)}`,
		"custom:Team": `team-${pad(seriesIndex % 20, 2)}`,
		"custom:Environment": seriesIndex % 2 === 0 ? "production" : "staging",
		Region: `region-${seriesIndex % 4}`,
	};
}

/** The series key the service stores: the dimensions as JSON with sorted keys. */
export function seriesKey(seriesIndex) {
	const dims = dimensions(seriesIndex);
	return JSON.stringify(
		Object.fromEntries(
			Object.keys(dims)
				.sort()
				.map((k) => [k, dims[k]]),
		),
	);
}

// Quarters are exact in binary floating point, so any number of additions is exact.
export function cellValue(dayIndex, seriesIndex) {
	return ((dayIndex * 7 + seriesIndex * 13) % 40) / 4 + 0.25;
}

/** All (day, series) cells of a grid, day-major, as [dayIndex, seriesIndex]. */
export function cells(days, series = SERIES) {
	const out = [];
	for (let d = 0; d < days; d++) for (let s = 0; s < series; s++) out.push([d, s]);
	return out;
}

export function recordJson([d, s]) {
	return { timestamp: `${dayString(d)} 00:00:00+00:00`, value: cellValue(d, s).toFixed(2), associated_cost: dimensions(s) };
}

/**
 * Splits the cells into request bodies of `size` records each. Every cell is in exactly one
 * body, so a cell's expected total is its value times the number of times its body was acknowledged.
 */
export function requestBodies(days, size, series = SERIES) {
	const all = cells(days, series);
	const bodies = [];
	for (let i = 0; i < all.length; i += size) {
		const part = all.slice(i, i + size);
		bodies.push({ cells: part, buffer: Buffer.from(JSON.stringify({ records: part.map(recordJson) })) });
	}
	return bodies;
}

/** Key of a stored value as the read API returns it. */
export function cellKey(day, seriesKeyJson) {
	return `${day}|${seriesKeyJson}`;
}
