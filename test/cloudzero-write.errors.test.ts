// Every documented error and limit: a clear status, code, message and, for a record's fault,
// its index and field path; and a rejected request changes nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { api, createToken, expectAccepted, expectError, json, storageSnapshot, uniqueOrg, write } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("errors")));
	// An existing stream with a fixed dimension set, for the consistency and delete cases.
	await expectAccepted(
		await write(token, "existing", "sum", { records: [{ timestamp: "2024-01-01", value: 1, associated_cost: { "custom:Client": "a" } }] }),
	);
});

const ok = { timestamp: "2024-01-01", value: 1 };
const tomorrowPlus = (hours: number) => new Date(Date.now() + hours * 3600_000).toISOString();

/** Sends a body that must be rejected, and checks that storage did not change. */
async function rejected(stream: string, op: "sum" | "replace" | "delete", body: unknown, status: number, code: string, headers = {}) {
	const before = await storageSnapshot();
	const error = await expectError(await write(token, stream, op, body, headers), status, code);
	expect(await storageSnapshot()).toBe(before);
	return error;
}

describe("body format", () => {
	it("malformed JSON → 400 Invalid JSON", async () => {
		const error = await rejected("s", "sum", '{"records": [', 400, "invalid_json");
		expect(error.message).toMatch(/^Invalid JSON/);
	});

	it("a body nested 100,000 levels deep → 400 Invalid JSON with the service's own message, not the engine's", async () => {
		const deep = "[".repeat(100_000) + "]".repeat(100_000);
		// A number literal JSON.parse would read as Infinity makes the service parse with a reviver, which recurses.
		for (const body of [
			`{"records":[{"timestamp":"2024-01-01","value":1e400}],"x":${deep}}`,
			`{"records":[{"timestamp":"2024-01-01","value":1e400,"x":${deep}}]}`,
		]) {
			const error = await rejected("s", "sum", body, 400, "invalid_json");
			expect(error.message).toMatch(/^Invalid JSON: the body is nested too deeply/);
			expect(error.message).not.toMatch(/call stack/i);
		}
		// Without such a literal, the parse is iterative: the body is refused for what it holds.
		expect((await rejected("s", "sum", `{"records":${deep}}`, 400, "invalid_type")).message).not.toMatch(/call stack/i);
	});

	it("an empty body → 400 Invalid JSON", async () => {
		await rejected("s", "sum", "", 400, "invalid_json");
	});

	it("a body that is not an object, or has no records → 400", async () => {
		await rejected("s", "sum", [ok], 400, "invalid_type");
		await rejected("s", "sum", {}, 400, "missing_field");
		await rejected("s", "sum", { records: [] }, 400, "out_of_range");
		await rejected("s", "sum", { records: "x" }, 400, "invalid_type");
	});

	it("unknown fields anywhere → 400, never dropped (e.g. filters instead of associated_cost)", async () => {
		const top = await rejected("s", "sum", { records: [ok], stream: "x" }, 400, "unknown_field");
		expect(top.details?.[0]).toMatchObject({ code: "unknown_field", message: "unknown field 'stream'" });
		const rec = await rejected("s", "sum", { records: [ok, { ...ok, filters: { "custom:Client": "a" } }] }, 400, "unknown_field");
		expect(rec.details).toEqual([{ code: "unknown_field", message: "unknown field 'filters'", record: 1, path: "records[1]" }]);
	});

	it("a wrong content type → 415", async () => {
		const before = await storageSnapshot();
		const res = await api("/unit-cost/v1/telemetry/metric/s/sum", {
			method: "POST",
			headers: { Authorization: token, "Content-Type": "application/x-www-form-urlencoded" },
			body: JSON.stringify({ records: [ok] }),
		});
		await expectError(res, 415, "unsupported_media_type");
		expect(await storageSnapshot()).toBe(before);
	});
});

describe("timestamp", () => {
	it("missing → 400 Missing required fields, naming the record", async () => {
		const error = await rejected("s", "sum", { records: [ok, { value: 1 }] }, 400, "missing_field");
		expect(error.message).toMatch(/^Invalid Schema: Missing required fields/);
		expect(error.details).toEqual([{ code: "missing_field", message: "timestamp is required", record: 1, path: "records[1].timestamp" }]);
	});

	it.each(["yesterday", "2023-13-01", "2023-02-30", "2023-12-07T25:00:00", "07/12/2023", "2023-12-07T00:00:00+25:00", ""])(
		"unparseable %j → 400 invalid_timestamp",
		async (timestamp) => {
			const error = await rejected("s", "sum", { records: [{ timestamp, value: 1 }] }, 400, "invalid_timestamp");
			expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].timestamp" });
		},
	);

	it("a number instead of a string → 400", async () => {
		await rejected("s", "sum", { records: [{ timestamp: 1700000000, value: 1 }] }, 400, "invalid_type");
	});

	it("more than 24 h in the future → 400 Timestamp too far into the future; up to 24 h is fine", async () => {
		const error = await rejected("s", "sum", { records: [{ timestamp: tomorrowPlus(25), value: 1 }] }, 400, "future_timestamp");
		expect(error.message).toMatch(/^Timestamp too far into the future/);
		await expectAccepted(await write(token, "near-future", "sum", { records: [{ timestamp: tomorrowPlus(23), value: 1 }] }));
	});
});

describe("value", () => {
	it.each([
		["1,000", "invalid_value"],
		["-5", "negative_value"],
		[-0.5, "negative_value"],
		["NaN", "invalid_value"],
		["Infinity", "invalid_value"],
		["1e400", "value_overflow"],
		["12abc", "invalid_value"],
		["", "invalid_value"],
		[true, "invalid_type"],
		[null, "invalid_type"],
		[[1], "invalid_type"],
	])("%j → 400 %s", async (value, code) => {
		const error = await rejected("s", "sum", { records: [{ timestamp: "2024-01-01", value }] }, 400, code);
		expect(error.details?.[0]).toMatchObject({ code, record: 0, path: "records[0].value" });
	});

	it("missing on sum or replace → 400 Missing required fields", async () => {
		await rejected("s", "replace", { records: [{ timestamp: "2024-01-01" }] }, 400, "missing_field");
	});

	it("not allowed on delete → 400", async () => {
		const error = await rejected("existing", "delete", { records: [{ timestamp: "2024-01-01", value: 1 }] }, 400, "unknown_field");
		expect(error.details?.[0]).toMatchObject({ message: "unknown field 'value'", record: 0 });
	});
});

describe("associated_cost", () => {
	it("more than 5 dimensions → 400", async () => {
		const dims = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`custom:D${i}`, "v"]));
		const error = await rejected("s", "sum", { records: [{ ...ok, associated_cost: dims }] }, 400, "too_many_dimensions");
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].associated_cost" });
	});

	it.each([
		["a list", ["a", "b"]],
		["a number", 3],
		["an object", { nested: "x" }],
	])("a dimension value that is %s → 400 naming the dimension", async (_, v) => {
		const error = await rejected("s", "sum", { records: [{ ...ok, associated_cost: { "custom:Client": v } }] }, 400, "invalid_type");
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].associated_cost.custom:Client" });
		expect(error.details?.[0].message).toMatch(/single string/);
	});

	// Valid bodies take a fast validation path; each of these must still fall through to the schema.
	it.each([
		["null", null, "invalid_type", "records[1].associated_cost"],
		["an empty dimension value", { "custom:Client": "" }, "out_of_range", "records[1].associated_cost.custom:Client"],
		[
			"a dimension value over 1,024 characters",
			{ "custom:Client": "x".repeat(1025) },
			"out_of_range",
			"records[1].associated_cost.custom:Client",
		],
	])("associated_cost that is %s → 400", async (_, dims, code, path) => {
		const error = await rejected("s", "sum", { records: [ok, { ...ok, associated_cost: dims }] }, 400, code);
		expect(error.details?.[0]).toMatchObject({ record: 1, path });
	});

	it("a dimension name that is empty, only whitespace, over 128 characters or has control characters → 400", async () => {
		for (const name of ["", " ", "\t \u00a0", "x".repeat(129), "a\u0000b", "tag:\nenv", "custom:\u007fx", "custom:\u0085x"]) {
			const error = await rejected("s", "sum", { records: [{ ...ok, associated_cost: { [name]: "v" } }] }, 400, "invalid_dimension_name");
			expect(error.details?.[0].message).toMatch(/1 to 128 printable characters, not only whitespace/);
		}
	});

	it("a __proto__ dimension name is refused, not silently dropped", async () => {
		const body = `{"records":[${JSON.stringify(ok).slice(0, -1)},"associated_cost":{"__proto__":"x"}}]}`;
		const error = await rejected("s", "sum", body, 400, "invalid_dimension_name");
		expect(error.details).toEqual([expect.objectContaining({ record: 0, path: "records[0].associated_cost.__proto__" })]);
	});

	it("a dimension value that is not valid Unicode (a lone surrogate) → 400", async () => {
		const error = await rejected(
			"s",
			"sum",
			{ records: [{ ...ok, associated_cost: { "custom:Client": "a\ud800" } }] },
			400,
			"invalid_unicode",
		);
		expect(error.details?.[0].path).toBe("records[0].associated_cost.custom:Client");
	});

	it("records with different dimension keys in one request → 400 naming each record", async () => {
		const error = await rejected(
			"s",
			"sum",
			{ records: [{ ...ok, associated_cost: { "custom:A": "1" } }, { ...ok, associated_cost: { "custom:B": "1" } }, ok] },
			400,
			"inconsistent_filter_keys",
		);
		expect(error.message).toMatch(/^All records in a stream must contain the same filter keys/);
		expect(error.details?.map((d) => d.record)).toEqual([1, 2]);
	});

	it("dimension keys that differ from the stream's → 400 naming the records", async () => {
		const error = await rejected(
			"existing",
			"replace",
			{ records: [{ ...ok, associated_cost: { "custom:Client": "a", Region: "eu" } }] },
			400,
			"inconsistent_filter_keys",
		);
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].associated_cost" });
		expect(error.details?.[0].message).toContain("'custom:Client'");
	});
});

describe("delete", () => {
	it("requires a timestamp", async () => {
		await rejected("existing", "delete", { records: [{ associated_cost: { "custom:Client": "a" } }] }, 400, "missing_field");
	});

	it("on a stream that does not exist → 404", async () => {
		await rejected("no-such-stream", "delete", { records: [{ timestamp: "2024-01-01" }] }, 404, "stream_not_found");
	});

	it("with a dimension the stream does not have → 400 Unrecognized filter keys", async () => {
		const error = await rejected(
			"existing",
			"delete",
			{ records: [{ timestamp: "2024-01-01", associated_cost: { Region: "eu" } }] },
			400,
			"unknown_filter_keys",
		);
		expect(error.message).toMatch(/^Invalid Schema: Unrecognized filter keys/);
	});
});

describe("stream names", () => {
	it.each(["a".repeat(257), "has space", "slash%2Fname", "ünïcode"])("%s → 400", async (name) => {
		await rejected(encodeURIComponent(name), "sum", { records: [ok] }, 400, "invalid_stream_name");
	});

	it("256 characters of [A-Za-z0-9_.-] are fine", async () => {
		await expectAccepted(await write(token, `A-z_0.9${"x".repeat(249)}`, "sum", { records: [ok] }));
	});
});

describe("limits", () => {
	it("a body over 5 MB → 413, checked before parsing", async () => {
		const padding = "x".repeat(5_000_001);
		await rejected(
			"s",
			"sum",
			`{"records":[{"timestamp":"2024-01-01","value":1,"associated_cost":{"custom:P":"${padding}"}}]}`,
			413,
			"payload_too_large",
		);
	});

	it("a body over 5 MB without Content-Length (chunked) → 413", async () => {
		const chunk = new TextEncoder().encode("x".repeat(1_000_000));
		let sent = 0;
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent++ < 6) controller.enqueue(chunk);
				else controller.close();
			},
		});
		const res = await api("/unit-cost/v1/telemetry/metric/s/sum", {
			method: "POST",
			headers: { Authorization: token, "Content-Type": "application/json" },
			body,
			// @ts-expect-error: required by fetch for a streamed body
			duplex: "half",
		});
		await expectError(res, 413, "payload_too_large");
	});

	it("more than 10,000 records → 413 with a clear message", async () => {
		const records = Array.from({ length: 10_001 }, () => ok);
		const error = await rejected("s", "sum", { records }, 413, "too_many_records");
		expect(error.message).toContain("10000");
	});
});

describe("all-or-nothing", () => {
	it("lists every problem with its record index and path, and applies none of the valid records", async () => {
		const error = await rejected(
			"all-or-nothing",
			"sum",
			{
				records: [
					ok,
					{ timestamp: "nope", value: 1 },
					{ timestamp: "2024-01-01", value: "-1" },
					ok,
					{ timestamp: "2024-01-01", value: "1,5", associated_cost: { "custom:X": ["a"] } },
				],
			},
			400,
			"invalid_schema",
		);
		expect(error.details_total).toBe(4);
		expect(error.details?.map((d) => [d.record, d.path, d.code])).toEqual([
			[1, "records[1].timestamp", "invalid_timestamp"],
			[2, "records[2].value", "negative_value"],
			[4, "records[4].value", "invalid_value"],
			[4, "records[4].associated_cost.custom:X", "invalid_type"],
		]);
		expect(error.message).toBe("Invalid Schema: 4 problems in 3 records");
		const read = await api("/unit-cost/v1/telemetry/metric/all-or-nothing", { headers: { Authorization: token } });
		expect(read.status).toBe(404);
	});

	it("lists at most 100 problems but counts them all", async () => {
		const records = Array.from({ length: 500 }, () => ({ timestamp: "2024-01-01", value: -1 }));
		const error = await rejected("s", "sum", { records }, 400, "negative_value");
		expect(error.details).toHaveLength(100);
		expect(error.details_total).toBe(500);
	});
});

it("an unknown endpoint → 404 with the error shape", async () => {
	await expectError(
		await api("/unit-cost/v1/telemetry/metric/s/upsert", json("POST", { records: [ok] }, { Authorization: token })),
		404,
		"not_found",
	);
});
