// The CLI's file readers and request planner, on their own: what `meterline send` reads from a
// CSV, JSON or JSON Lines file, and how it cuts the records into request bodies.
import { describe, expect, it } from "vitest";
import { batches, idempotencyKey } from "../cli/batches";
import { CsvSyntaxError, InputError, parseCsv } from "../cli/csv";
import { jsonErrorLine, recordStartLines } from "../cli/json-lines";
import { type CsvMapping, readRecords } from "../cli/records";
import { describeDetails } from "../cli/validate";

const MAPPING: CsvMapping = {
	timestampColumn: "timestamp",
	valueColumn: "value",
	dimensions: null,
	ignoreExtraColumns: false,
	withValue: true,
};

describe("parseCsv", () => {
	it("reads quoted fields with commas, doubled quotes and line breaks, keeping each row's first line", () => {
		const rows = parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"two\nlines",z\n3,,\n');
		expect(rows).toEqual([
			{ line: 1, fields: ["a", "b", "c"] },
			{ line: 2, fields: ["1", "x, y", 'say "hi"'] },
			{ line: 3, fields: ["2", "two\nlines", "z"] },
			{ line: 5, fields: ["3", "", ""] },
		]);
	});

	it("takes CRLF and LF alike, a CRLF inside quotes as part of the cell, and ignores a byte order mark", () => {
		expect(parseCsv("\ufeffa,b\r\n1,2\r\n")).toEqual([
			{ line: 1, fields: ["a", "b"] },
			{ line: 2, fields: ["1", "2"] },
		]);
		expect(parseCsv('a\r\n"x\r\ny"\r\n')[1]).toEqual({ line: 2, fields: ["x\r\ny"] });
		expect(parseCsv("a,b\n1,2")).toHaveLength(2); // no final line break
	});

	it("skips blank lines and reads an empty file as no rows", () => {
		expect(parseCsv("")).toEqual([]);
		expect(parseCsv("\ufeff")).toEqual([]);
		expect(parseCsv("\n\r\n\n")).toEqual([]);
		expect(parseCsv("a\n\n1\n")).toEqual([
			{ line: 1, fields: ["a"] },
			{ line: 3, fields: ["1"] },
		]);
	});

	it("names the line of a syntax error", () => {
		const error = (text: string) => {
			try {
				parseCsv(text);
			} catch (err) {
				expect(err).toBeInstanceOf(CsvSyntaxError);
				return [(err as CsvSyntaxError).line, (err as Error).message];
			}
			throw new Error("no error");
		};
		expect(error('a\n"open\nstill open')).toEqual([2, "unterminated quoted field"]);
		expect(error('a\n"x"y\n')).toEqual([2, "unexpected character after a closing quote"]);
		expect(error('a\nx"y\n')[0]).toBe(2);
	});
});

describe("readRecords", () => {
	it("maps CSV columns to records, every other column a dimension named by its header", () => {
		const { records, lines } = readRecords(
			'timestamp,value,custom:Client\n2024-01-01,5,"Patric, Star"\n\n2024-01-02,6,Sponge\n',
			"csv",
			MAPPING,
		);
		expect(records).toEqual([
			{ timestamp: "2024-01-01", value: "5", associated_cost: { "custom:Client": "Patric, Star" } },
			{ timestamp: "2024-01-02", value: "6", associated_cost: { "custom:Client": "Sponge" } },
		]);
		expect(lines).toEqual([2, 4]);
	});

	it("reads JSON Lines, skipping blank lines (CRLF too), and a JSON array or {records: [...]}", () => {
		const jsonl = readRecords('{"timestamp":"2024-01-01","value":1}\r\n\r\n{"timestamp":"2024-01-02","value":2}\r\n', "jsonl", MAPPING);
		expect(jsonl.records.map((r) => r.value)).toEqual([1, 2]);
		expect(jsonl.lines).toEqual([1, 3]);
		const json = readRecords(
			'{"records": [\n  {"timestamp": "2024-01-01", "value": 1},\n\n  {"timestamp": "2024-01-02",\n   "value": 2}\n]}',
			"json",
			MAPPING,
		);
		expect(json.lines).toEqual([2, 4]);
		expect(readRecords('[{"timestamp":"2024-01-01","value":1}]', "json", MAPPING).records).toHaveLength(1);
	});

	it("reports a broken JSON line or document with its line", () => {
		expect(() => readRecords('{"timestamp":"2024-01-01","value":1}\n{"timestamp":\n', "jsonl", MAPPING)).toThrow(InputError);
		try {
			readRecords('{"timestamp":"2024-01-01","value":1}\n{"timestamp":\n', "jsonl", MAPPING);
		} catch (err) {
			expect((err as InputError).line).toBe(2);
		}
		const text = '{"records": [\n  {"timestamp": "2024-01-01"},\n  {"timestamp" "2024-01-02"}\n]}';
		let caught: Error | undefined;
		try {
			JSON.parse(text);
		} catch (err) {
			caught = err as Error;
		}
		expect(jsonErrorLine(text, caught!)).toBe(3);
	});

	it("finds where each record of a JSON document starts, strings with brackets and escapes included", () => {
		const text = '[\n {"a": "[{,\\"]"},\n\n {"b": [1, {"c": 2}]},\n 3\n]';
		expect(recordStartLines(text)).toEqual([2, 4, 5]);
		expect(recordStartLines('{"other": [1, 2], "records": [\n{}, {}\n]}')).toEqual([2, 2]);
	});
});

describe("describeDetails", () => {
	it("names each record by its file line, in file order, the request's own problems first, at most the limit", () => {
		const details = [
			{ code: "invalid_value" as const, message: "bad", record: 2, path: "records[2].value" },
			{ code: "out_of_range" as const, message: "too many", path: "records" },
			{ code: "invalid_timestamp" as const, message: "bad date", record: 0, path: "records[0].timestamp" },
		];
		expect(describeDetails(details, "m.jsonl", [3, 5, 9], 2)).toEqual([
			"m.jsonl: records: too many [out_of_range]",
			"m.jsonl:3: timestamp: bad date [invalid_timestamp]",
			"... and 1 more problem",
		]);
		expect(describeDetails(details, "m.jsonl", [3, 5, 9], 5)).toHaveLength(3);
		// The service lists at most 100 problems and counts all in details_total: "more" counts from that.
		expect(describeDetails(details, "m.jsonl", [3, 5, 9], 2, 250).at(-1)).toBe("... and 248 more problems");
	});
});

describe("batches", () => {
	const record = (i: number) => ({ timestamp: "2024-01-01", value: i % 10 }); // every record the same size
	const size = JSON.stringify(record(0)).length;
	const opts = { stream: "s", op: "sum", runId: "" };
	const bodyBytes = (n: number) => '{"records":['.length + n * size + (n - 1) + "]}".length;

	it("cuts at the record count, in file order, each body exactly what is sent", () => {
		const planned = [
			...batches(
				Array.from({ length: 25 }, (_, i) => record(i)),
				{ ...opts, maxRecords: 10, maxBytes: 1_000_000 },
			),
		];
		expect(planned.map((b) => [b.index, b.first, b.count])).toEqual([
			[0, 0, 10],
			[1, 10, 10],
			[2, 20, 5],
		]);
		for (const b of planned) {
			expect(JSON.parse(b.body).records).toEqual(Array.from({ length: b.count }, (_, i) => record(b.first + i)));
			expect(b.bytes).toBe(new TextEncoder().encode(b.body).length);
		}
	});

	it("keeps every body below maxBytes: a body of exactly maxBytes is split, one byte less is not", () => {
		const four = Array.from({ length: 4 }, (_, i) => record(i));
		expect([...batches(four, { ...opts, maxRecords: 100, maxBytes: bodyBytes(4) + 1 })].map((b) => b.count)).toEqual([4]);
		const split = [...batches(four, { ...opts, maxRecords: 100, maxBytes: bodyBytes(4) })];
		expect(split.map((b) => b.count)).toEqual([3, 1]);
		for (const b of split) expect(b.bytes).toBeLessThan(bodyBytes(4));
	});

	it("counts bytes in UTF-8, and refuses a record too large for any request", () => {
		const wide = { timestamp: "2024-01-01", value: 1, associated_cost: { "custom:Name": "é".repeat(50) } };
		const [batch] = [...batches([wide], { ...opts, maxRecords: 10, maxBytes: 1000 })];
		expect(batch.bytes).toBe(new TextEncoder().encode(batch.body).length);
		expect(batch.bytes).toBeGreaterThan(batch.body.length);
		expect(() => [...batches([record(1), wide], { ...opts, maxRecords: 10, maxBytes: 100 })]).toThrow(/record 1 alone is \d+ bytes/);
	});

	it("derives each idempotency key from what is sent, so a re-run repeats them and a run id changes them", () => {
		const records = Array.from({ length: 5 }, (_, i) => record(i));
		const keys = (runId: string) =>
			[...batches(records, { ...opts, runId, maxRecords: 2, maxBytes: 1_000_000 })].map((b) => b.idempotencyKey);
		expect(keys("")).toEqual(keys(""));
		expect(new Set(keys("")).size).toBe(3);
		expect(keys("again")).not.toEqual(keys(""));
		expect(idempotencyKey("s", "sum", "", "x")).not.toBe(idempotencyKey("s", "replace", "", "x"));
	});
});
