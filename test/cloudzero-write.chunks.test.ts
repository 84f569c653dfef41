// What a sum or replace sends to its stream's object: the request's totals per (day, series)
// (dayTotals), found through a series index instead of one canonical key per record for speed.
// These tests hold it to the plain definition: the same totals, in the same order, as summing by
// canonical key.
import { describe, expect, it } from "vitest";
import { finiteSum, MAX_STORED_VALUE } from "../src/lib/numbers";
import { type DayTotal, dayTotals, type SumRecord } from "../src/schemas/cloudzero";
import { canonicalDimensions } from "../src/schemas/common";
import { checkDimensionKeys } from "../src/schemas/validation";
import { seededRandom } from "./helpers";

const SEED = 20261206;

/** dayTotals as first written: one canonical key per record, summed in a Map by day and key. */
function referenceDayTotals(records: SumRecord[], dimensionKeys: string[]) {
	const rows = new Map<string, DayTotal>();
	const details: unknown[] = [];
	records.forEach((r, record) => {
		const seriesKey = canonicalDimensions(r.associated_cost, dimensionKeys);
		const id = `${r.timestamp}\n${seriesKey}`;
		const row = rows.get(id);
		if (!row) {
			rows.set(id, { day: r.timestamp, seriesKey, dimensions: r.associated_cost, value: r.value, record });
			return;
		}
		const total = finiteSum(row.value, r.value);
		if (total !== null) row.value = total;
		else {
			details.push({
				code: "value_overflow",
				message: `the records for ${r.timestamp} and these dimensions add up to more than ${MAX_STORED_VALUE}`,
				record,
				path: `records[${record}].value`,
			});
		}
	});
	return { rows: [...rows.values()], details };
}

function recordsGenerator(seed: number) {
	const r = seededRandom(seed);
	// Names whose object key order differs from their sorted order ("10" before "9" sorted, after it
	// in an object), and values JSON escapes.
	const names = ["custom:Client", "Region", "10", "9", "tag:a b", "é"];
	const values = ["a", "b", 'quote"d', "back\\slash", "ünï", "line\nbreak", "😀", "9"];
	return () => {
		const keys = names.filter(() => r.int(2) === 0).slice(0, 5);
		const series = Array.from({ length: 1 + r.int(6) }, () => Object.fromEntries(keys.map((k) => [k, r.pick(values)])));
		const days = ["2024-01-01", "2024-01-02", "2023-12-31"].slice(0, 1 + r.int(3));
		return Array.from({ length: 1 + r.int(40) }, (): SumRecord => {
			const dims = r.pick(series);
			const value = r.pick([1, 0.25, 0.1, 1e308, 123.456, 0]);
			// A record with no dimensions at all is allowed when the stream has none.
			if (keys.length === 0 && r.int(2) === 0) return { timestamp: r.pick(days), value };
			// Each record its own object, keys in any order, as parsed from a body.
			const shuffled = Object.keys(dims).sort(() => r.int(3) - 1);
			return { timestamp: r.pick(days), value, associated_cost: Object.fromEntries(shuffled.map((k) => [k, dims[k]])) };
		});
	};
}

describe("dayTotals", () => {
	it(`agrees with summing by canonical key on 2,000 generated requests (seed ${SEED})`, () => {
		const next = recordsGenerator(SEED);
		for (let i = 0; i < 2000; i++) {
			const records = next();
			const { dimensionKeys, details } = checkDimensionKeys(records);
			expect(details).toEqual([]);
			const fast = dayTotals(records, dimensionKeys);
			expect(fast, JSON.stringify(records)).toEqual(referenceDayTotals(records, dimensionKeys));
			// One object per series and day: rows never repeat a (day, series).
			expect(new Set(fast.rows.map((t) => `${t.day}\n${t.seriesKey}`)).size).toBe(fast.rows.length);
		}
	});
});
