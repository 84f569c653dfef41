// Allocation telemetry's errors and limits: a clear status, code, message and, for a record's fault,
// its index and field path; a rejected request changes nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { type AllocationOp, allocate, postTelemetry, readRows, rec } from "./allocation-helpers";
import { api, createToken, expectAccepted, expectError, json, storageSnapshot, uniqueOrg } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("alloc-errors")));
	// An existing DAILY stream with the filter key custom:product, for the consistency and delete cases.
	await expectAccepted(await allocate(token, "existing", "sum", { records: [rec({ value: 1 })] }));
});

const later = (hours: number) => new Date(Date.now() + hours * 3600_000).toISOString();

/** Sends a body that must be refused, and checks that storage did not change. */
async function rejected(stream: string, op: AllocationOp, body: unknown, status: number, code: string) {
	const before = await storageSnapshot();
	const error = await expectError(await allocate(token, stream, op, body), status, code);
	expect(await storageSnapshot()).toBe(before);
	return error;
}

async function rejectedLegacy(body: unknown, status: number, code: string) {
	const before = await storageSnapshot();
	const error = await expectError(await postTelemetry(token, body), status, code);
	expect(await storageSnapshot()).toBe(before);
	return error;
}

describe("body format", () => {
	it("malformed, empty, not an object, no records → 400", async () => {
		await rejected("s", "sum", '{"records": [', 400, "invalid_json");
		await rejected("s", "sum", "", 400, "invalid_json");
		await rejected("s", "sum", [rec()], 400, "invalid_type");
		await rejected("s", "sum", {}, 400, "missing_field");
		await rejected("s", "sum", { records: [] }, 400, "out_of_range");
		await rejectedLegacy({ records: "x" }, 400, "invalid_type");
	});

	it("unknown fields are refused, never dropped: associated_cost, the first format's target and cost-context", async () => {
		const error = await rejected("s", "sum", { records: [rec(), rec({ associated_cost: { a: "b" } })] }, 400, "unknown_field");
		expect(error.details).toEqual([{ code: "unknown_field", message: "unknown field 'associated_cost'", record: 1, path: "records[1]" }]);
		const first = await rejected(
			"s",
			"replace",
			{ records: [rec({ filter: undefined, target: {}, "cost-context": "x" })] },
			400,
			"unknown_field",
		);
		expect(first.details?.[0].message).toBe("unknown fields 'target', 'cost-context'");
	});

	it("a wrong content type → 415", async () => {
		const res = await api("/unit-cost/v1/telemetry/allocation/s/sum", {
			method: "POST",
			headers: { Authorization: token, "Content-Type": "text/plain" },
			body: JSON.stringify({ records: [rec()] }),
		});
		await expectError(res, 415, "unsupported_media_type");
	});
});

describe("fields", () => {
	it("timestamp, granularity and value are required; the element name on sum and replace", async () => {
		const error = await rejected(
			"s",
			"sum",
			{
				records: [
					rec({ timestamp: undefined }),
					rec({ granularity: undefined }),
					rec({ value: undefined }),
					rec({ element_name: undefined }),
				],
			},
			400,
			"missing_field",
		);
		expect(error.message).toMatch(/^Invalid Schema: Missing required fields/);
		expect(error.details?.map((d) => [d.record, d.path, d.message])).toEqual([
			[0, "records[0].timestamp", "timestamp is required"],
			[1, "records[1].granularity", "granularity is required"],
			[2, "records[2].value", "value is required"],
			[3, "records[3].element_name", "element_name is required (also accepted as element-name or id)"],
		]);
	});

	it("the element name given twice, in two spellings → 400", async () => {
		const error = await rejected("s", "sum", { records: [rec({ "element-name": "other" })] }, 400, "invalid_value");
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0]" });
		expect(error.details?.[0].message).toMatch(/'element_name', 'element-name'/);
	});

	it.each([
		["WEEKLY", "invalid_granularity"],
		["", "invalid_granularity"],
		["daily ", "invalid_granularity"],
		[1, "invalid_type"],
	])("granularity %j → 400 %s", async (granularity, code) => {
		const error = await rejected("s", "sum", { records: [rec({ granularity })] }, 400, code);
		expect(error.details?.[0]).toMatchObject({ code, record: 0, path: "records[0].granularity" });
	});

	it.each(["yesterday", "2024-02-30", "2024-02-08T24:00:00", "2024-02-08T00:00:00+15:00"])(
		"timestamp %j → 400 invalid_timestamp",
		async (timestamp) => {
			const error = await rejected("s", "sum", { records: [rec({ timestamp })] }, 400, "invalid_timestamp");
			expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].timestamp" });
		},
	);

	it("more than 24 hours ahead → 400 future_timestamp; 23 hours ahead is fine", async () => {
		await rejected("s", "sum", { records: [rec({ timestamp: later(25) })] }, 400, "future_timestamp");
		await expectAccepted(await allocate(token, "near-future", "sum", { records: [rec({ timestamp: later(23), granularity: "HOURLY" })] }));
	});

	it.each([
		["1,000", "invalid_value"],
		["-5", "negative_value"],
		["1e400", "value_overflow"],
		["1e-400", "value_underflow"],
		[null, "invalid_type"],
	])("value %j → 400 %s", async (value, code) => {
		const error = await rejected("s", "sum", { records: [rec({ value })] }, 400, code);
		expect(error.details?.[0]).toMatchObject({ code, record: 0, path: "records[0].value" });
	});

	it("an element name that is empty, too long or not a string → 400", async () => {
		const error = await rejected(
			"s",
			"sum",
			{ records: [rec({ element_name: "" }), rec({ element_name: "x".repeat(1025) }), rec({ element_name: 42 })] },
			400,
			"invalid_schema",
		);
		expect(error.details?.map((d) => [d.record, d.path, d.code])).toEqual([
			[0, "records[0].element_name", "out_of_range"],
			[1, "records[1].element_name", "out_of_range"],
			[2, "records[2].element_name", "invalid_type"],
		]);
	});
});

describe("filter", () => {
	it("at most 5 keys", async () => {
		const filter = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`custom:D${i}`, ["v"]]));
		const error = await rejected("s", "sum", { records: [rec({ filter })] }, 400, "too_many_dimensions");
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].filter" });
		// Five are fine.
		const five = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`custom:D${i}`, ["v"]]));
		await expectAccepted(await allocate(token, "five-keys", "sum", { records: [rec({ filter: five })] }));
	});

	it("at most 20 values per key, at least one", async () => {
		const many = Array.from({ length: 21 }, (_, i) => `v${i}`);
		const error = await rejected(
			"s",
			"sum",
			{ records: [rec({ filter: { region: many } }), rec({ filter: { region: [] } })] },
			400,
			"out_of_range",
		);
		expect(error.details?.map((d) => [d.record, d.path])).toEqual([
			[0, "records[0].filter.region"],
			[1, "records[1].filter.region"],
		]);
		await expectAccepted(await allocate(token, "twenty-values", "sum", { records: [rec({ filter: { region: many.slice(0, 20) } })] }));
	});

	it.each([
		["a string instead of a list", "us-east-1", "invalid_type", "records[0].filter.region"],
		["a number in the list", ["a", 1], "invalid_type", "records[0].filter.region[1]"],
		["an empty value", [""], "out_of_range", "records[0].filter.region[0]"],
		["a value over 1,024 characters", ["x".repeat(1025)], "out_of_range", "records[0].filter.region[0]"],
		["a lone surrogate", ["a\ud800"], "invalid_unicode", "records[0].filter.region[0]"],
	])("%s → 400 naming the value", async (_, values, code, path) => {
		const error = await rejected("s", "sum", { records: [rec({ filter: { region: values } })] }, 400, code);
		expect(error.details?.[0]).toMatchObject({ code, record: 0, path });
	});

	it("a filter key that is empty, only whitespace or too long, or __proto__ → 400", async () => {
		for (const key of ["", "  ", "x".repeat(129), "a\u0000b"]) {
			await rejected("s", "sum", { records: [rec({ filter: { [key]: ["v"] } })] }, 400, "invalid_dimension_name");
		}
		const body = `{"records":[${JSON.stringify(rec({ filter: undefined })).slice(0, -1)},"filter":{"__proto__":["x"]}}]}`;
		await rejected("s", "sum", body, 400, "invalid_dimension_name");
		await rejected("s", "sum", { records: [rec({ filter: ["region", "us"] })] }, 400, "invalid_type");
	});
});

describe("a stream's granularity and filter keys are fixed by its first write (400, as CloudZero)", () => {
	it("records of one request with different granularities or filter keys → 400 naming each", async () => {
		const error = await rejected(
			"mixed",
			"sum",
			{ records: [rec(), rec({ granularity: "HOURLY" }), rec({ filter: { other: ["x"] } }), rec({ filter: {} })] },
			400,
			"invalid_schema",
		);
		expect(error.details?.map((d) => [d.record, d.code, d.path])).toEqual([
			[1, "inconsistent_granularity", "records[1].granularity"],
			[2, "inconsistent_filter_keys", "records[2].filter"],
			[3, "inconsistent_filter_keys", "records[3].filter"],
		]);
	});

	it("a write with another granularity than the stream's → 400 inconsistent_granularity", async () => {
		const error = await rejected(
			"existing",
			"replace",
			{ records: [rec({ granularity: "HOURLY" }), rec({ granularity: "hourly" })] },
			400,
			"inconsistent_granularity",
		);
		expect(error.message).toBe(
			"All records in a stream must contain the same granularity as the stream's granularity (2 problems in 2 records)",
		);
		expect(error.details?.map((d) => d.record)).toEqual([0, 1]);
		expect(error.details?.[0].message).toContain("stream 'existing' is DAILY");
		await rejected("existing", "sum", { records: [rec({ granularity: "MONTHLY" })] }, 400, "inconsistent_granularity");
	});

	it("a write with other filter keys than the stream's → 400 inconsistent_filter_keys; a delete naming an unknown key → unknown_filter_keys", async () => {
		const error = await rejected(
			"existing",
			"sum",
			{ records: [rec({ filter: { "custom:product": ["a"], region: ["eu"] } })] },
			400,
			"inconsistent_filter_keys",
		);
		expect(error.message).toMatch(/^All records in a stream must contain the same filter keys/);
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].filter" });
		await rejected("existing", "sum", { records: [rec({ filter: undefined })] }, 400, "inconsistent_filter_keys");
		const del = await rejected(
			"existing",
			"delete",
			{ records: [{ timestamp: "2024-02-08", granularity: "DAILY", filter: { region: ["eu"] } }] },
			400,
			"unknown_filter_keys",
		);
		expect(del.message).toMatch(/^Invalid Schema: Unrecognized filter keys/);
	});

	it("a delete record of another granularity than the stream's → 400", async () => {
		const error = await rejected(
			"existing",
			"delete",
			{ records: [{ timestamp: "2024-02-08", granularity: "HOURLY" }] },
			400,
			"inconsistent_granularity",
		);
		expect(error.details?.[0]).toMatchObject({ record: 0, path: "records[0].granularity" });
	});

	it("once the stream is deleted, its name takes any granularity and keys again", async () => {
		await expectAccepted(await allocate(token, "reborn", "sum", { records: [rec()] }));
		const removed = await api("/unit-cost/v1/telemetry/allocation/reborn", json("DELETE", { force: true }, { Authorization: token }));
		expect(removed.status).toBe(200);
		await expectAccepted(await allocate(token, "reborn", "sum", { records: [rec({ granularity: "HOURLY", filter: { team: ["a"] } })] }));
	});
});

describe("delete", () => {
	it("requires timestamp and granularity; takes no value", async () => {
		const error = await rejected(
			"existing",
			"delete",
			{ records: [{ granularity: "DAILY" }, { timestamp: "2024-02-08" }] },
			400,
			"missing_field",
		);
		expect(error.details?.map((d) => d.path)).toEqual(["records[0].timestamp", "records[1].granularity"]);
		const value = await rejected("existing", "delete", { records: [rec()] }, 400, "unknown_field");
		expect(value.details?.[0].message).toBe("unknown field 'value'");
	});

	it("on a stream that does not exist → 404", async () => {
		await rejected("no-such-stream", "delete", { records: [{ timestamp: "2024-02-08", granularity: "DAILY" }] }, 404, "stream_not_found");
	});
});

describe("telemetry-stream", () => {
	it("on a path endpoint, it must name the path's stream", async () => {
		const error = await rejected(
			"s",
			"sum",
			{ records: [rec({ "telemetry-stream": "s" }), rec({ "telemetry-stream": "other" })] },
			400,
			"telemetry_stream_mismatch",
		);
		expect(error.details).toEqual([
			{
				code: "telemetry_stream_mismatch",
				message: "telemetry-stream 'other' is not the stream this request writes to, 's' (the path's)",
				record: 1,
				path: "records[1].telemetry-stream",
			},
		]);
	});

	it("on POST /unit-cost/v1/telemetry, it is required, a valid stream name, and the same in every record", async () => {
		const missing = await rejectedLegacy({ records: [rec()] }, 400, "missing_field");
		expect(missing.details?.[0].path).toBe("records[0].telemetry-stream");
		await rejectedLegacy({ records: [rec({ "telemetry-stream": "has space" })] }, 400, "invalid_stream_name");
		await rejectedLegacy({ records: [rec({ "telemetry-stream": ".." })] }, 400, "invalid_stream_name");
		const mixed = await rejectedLegacy(
			{ records: [rec({ "telemetry-stream": "a" }), rec({ "telemetry-stream": "b" })] },
			400,
			"telemetry_stream_mismatch",
		);
		expect(mixed.details?.[0]).toMatchObject({ record: 1, path: "records[1].telemetry-stream" });
		expect(mixed.details?.[0].message).toMatch(/record 0 names 'a', this record 'b'/);
	});

	it("on POST /unit-cost/v1/telemetry, the stream's own rules apply", async () => {
		await rejectedLegacy({ records: [rec({ "telemetry-stream": "existing", granularity: "HOURLY" })] }, 400, "inconsistent_granularity");
		await expectAccepted(await postTelemetry(token, { records: [rec({ "telemetry-stream": "existing", value: 2 })] }));
		expect(await readRows(token, "existing")).toEqual([["2024-02-08", "customer 1", "3"]]);
	});
});

describe("stream names and paths", () => {
	it.each(["a".repeat(257), "has space", "ünïcode"])("%s → 400", async (name) => {
		await rejected(encodeURIComponent(name), "sum", { records: [rec()] }, 400, "invalid_stream_name");
	});

	it("the bare path refuses the stream names sum, replace, delete and log", async () => {
		for (const name of ["sum", "replace", "delete", "log"]) {
			const error = await rejected(name, "bare", { records: [rec()] }, 400, "invalid_stream_name");
			expect(error.message).toContain(`…/allocation/${name}/sum`);
		}
		await expectAccepted(await allocate(token, "replace", "sum", { records: [rec()] }));
	});

	it("GET of a stream that does not exist → 404, its log too; a read's bad cursor or filter → 400", async () => {
		const get = (path: string) => api(path, { headers: { Authorization: token } });
		await expectError(await get("/unit-cost/v1/telemetry/allocation/nowhere"), 404, "stream_not_found");
		await expectError(await get("/unit-cost/v1/telemetry/allocation/nowhere/log"), 404, "stream_not_found");
		await expectError(await get("/unit-cost/v1/telemetry/allocation/existing?cursor=abc"), 400, "invalid_cursor");
		await expectError(await get("/unit-cost/v1/telemetry/allocation/existing?region=eu"), 400, "invalid_filter");
		await expectError(await get("/unit-cost/v1/telemetry/allocation/existing?dim%5Bregion%5D=eu"), 400, "unknown_filter_keys");
		await expectError(
			await get("/unit-cost/v1/telemetry/allocation/existing?start_date=2024-02-09&end_date=2024-02-08"),
			400,
			"invalid_date_range",
		);
	});
});

describe("limits", () => {
	it("a body over 5 MB → 413; more than 10,000 records → 413", async () => {
		const padding = "x".repeat(5_000_001);
		await rejected(
			"s",
			"sum",
			`{"records":[{"timestamp":"2024-02-08","granularity":"DAILY","element_name":"${padding}","value":1}]}`,
			413,
			"payload_too_large",
		);
		await rejected("s", "sum", { records: Array.from({ length: 10_001 }, () => rec()) }, 413, "too_many_records");
		await rejectedLegacy({ records: Array.from({ length: 10_001 }, () => rec({ "telemetry-stream": "s" })) }, 413, "too_many_records");
	});

	it("1,000 records, each with a filter of 5 keys × 20 values of its own (2.4 MB), are one request in several statements", async () => {
		const filterOf = (i: number) =>
			Object.fromEntries(
				Array.from({ length: 5 }, (_, k) => [`custom:K${k}`, Array.from({ length: 20 }, (_, v) => `group-${i}-value-${v}`)]),
			);
		const records = Array.from({ length: 1000 }, (_, i) => rec({ filter: filterOf(i), element_name: `e${i % 100}`, value: 1 }));
		expect(JSON.stringify({ records }).length).toBeGreaterThan(2_000_000);
		await expectAccepted(await allocate(token, "largest", "sum", { records }), 1000);
		expect(await readRows(token, "largest", "limit=5000")).toHaveLength(1000);
		const list = await api("/unit-cost/v1/telemetry/allocation", { headers: { Authorization: token } });
		const stream = (await list.json<{ streams: Array<{ name: string; element_count: number }> }>()).streams.find(
			(s) => s.name === "largest",
		);
		expect(stream?.element_count).toBe(100);
	});
});

describe("values beyond the largest stored", () => {
	it("a sum whose stored value would overflow → 400 naming the record; nothing of the request is applied", async () => {
		await expectAccepted(await allocate(token, "huge", "sum", { records: [rec({ value: "1.7e308" })] }));
		const error = await rejected(
			"huge",
			"sum",
			{ records: [rec({ element_name: "customer 2", value: 1 }), rec({ value: "1e308" })] },
			400,
			"value_overflow",
		);
		expect(error.details).toEqual([expect.objectContaining({ code: "value_overflow", record: 1, path: "records[1].value" })]);
		// Records of one request adding up beyond it are refused before they reach storage.
		const inRequest = await rejected(
			"huge",
			"replace",
			{ records: [rec({ value: "1e308" }), rec({ value: "1e308" })] },
			400,
			"value_overflow",
		);
		expect(inRequest.details?.[0]).toMatchObject({ record: 1 });
		// A replace with the largest value is fine.
		await expectAccepted(await allocate(token, "huge", "replace", { records: [rec({ value: "1.79769313486231e308" })] }));
	});
});

describe("all-or-nothing", () => {
	it("lists every problem with its record index and path, and applies none of the valid records", async () => {
		const error = await rejected(
			"all-or-nothing",
			"sum",
			{ records: [rec(), rec({ timestamp: "nope" }), rec({ value: "-1", id: "x" }), rec(), rec({ filter: { region: "eu" } })] },
			400,
			"invalid_schema",
		);
		expect(error.details?.map((d) => [d.record, d.path, d.code])).toEqual([
			[1, "records[1].timestamp", "invalid_timestamp"],
			[2, "records[2].value", "negative_value"],
			[2, "records[2]", "invalid_value"],
			[4, "records[4].filter.region", "invalid_type"],
		]);
		expect(error.message).toBe("Invalid Schema: 4 problems in 3 records");
		await expectError(
			await api("/unit-cost/v1/telemetry/allocation/all-or-nothing", { headers: { Authorization: token } }),
			404,
			"stream_not_found",
		);
	});
});
