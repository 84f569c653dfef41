// What a sum or replace sends to its stream's object: the request's totals per (day, series)
// (dayTotals) and those rows in compact JSON chunks (valueChunks). Both are written for speed (a
// series index instead of one canonical key per record; JSON built row by row); these tests hold
// them to the plain definitions: the same totals, in the same order, as summing by canonical key,
// and chunks that decode to the rows, each within the per-parameter budget.
import { describe, expect, it } from "vitest";
import { finiteSum, MAX_STORED_VALUE } from "../src/lib/numbers";
import { type DayTotal, dayTotals, type SumRecord, type ValueRow } from "../src/schemas/cloudzero";
import { canonicalDimensions } from "../src/schemas/common";
import { checkDimensionKeys } from "../src/schemas/validation";
import { MAX_JSON_PARAM_CHARS } from "../src/storage/json-params";
import { decodeValueChunks, valueChunks } from "../src/storage/streams";
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

describe("valueChunks", () => {
	const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
	const check = (rows: ValueRow[]) => {
		const chunks = valueChunks(rows);
		expect(decodeValueChunks(chunks)).toEqual(rows);
		for (const chunk of chunks) {
			expect(chunk.keys.length).toBeLessThanOrEqual(MAX_JSON_PARAM_CHARS);
			expect(chunk.rows.length).toBeLessThanOrEqual(MAX_JSON_PARAM_CHARS);
			const keys = JSON.parse(chunk.keys) as string[];
			const encoded = JSON.parse(chunk.rows) as Array<[string, number, number]>;
			// Written by hand, the JSON is what JSON.stringify writes; each key once per chunk.
			expect(chunk.rows).toBe(JSON.stringify(encoded));
			expect(encoded.every((row) => row.length === 3)).toBe(true);
			expect(JSON.parse(chunk.records)).toHaveLength(encoded.length);
			expect(chunk.keys).toBe(JSON.stringify(keys));
			expect(new Set(keys).size).toBe(keys.length);
			expect(chunk.firstDay).toBe(encoded.map(([d]) => d).sort()[0]);
			expect(chunk.lastDay).toBe(
				encoded
					.map(([d]) => d)
					.sort()
					.at(-1),
			);
		}
		return chunks;
	};

	it("sends a 10,000-record request over 200 series as one chunk", () => {
		const keys = Array.from({ length: 200 }, (_, s) => canonicalDimensions({ "custom:Client": `client-${s}`, Region: `region-${s % 4}` }));
		const rows = Array.from({ length: 10_000 }, (_, i): ValueRow => [day(Math.floor(i / 200)), keys[i % 200], (i % 40) / 4 + 0.25, i]);
		expect(check(rows)).toHaveLength(1);
	});

	it("splits where a chunk's keys or rows would pass the budget, and numbers keys per chunk", () => {
		// 10,000 series of about 80 characters: the keys fill a chunk first.
		const long = Array.from(
			{ length: 10_000 },
			(_, i): ValueRow => [day(i % 600), canonicalDimensions({ c: `${i}`.padStart(70, "x") }), 1e308, i],
		);
		expect(check(long).length).toBeGreaterThan(1);
		// Rows of long numbers: the rows fill a chunk first.
		const wide = Array.from(
			{ length: 10_000 },
			(_, i): ValueRow => [day(i % 3), "{}", 1.23456789012345e-300 * (i + 1) + 1e-320, 1_000_000 + i],
		);
		expect(check(wide).length).toBeGreaterThan(1);
		expect(check([])).toEqual([]);
		expect(check([["2024-01-01", "{}", 7, 0]])).toEqual([
			{ keys: '["{}"]', rows: '[["2024-01-01",0,7]]', records: "[0]", firstDay: "2024-01-01", lastDay: "2024-01-01" },
		]);
	});
});
