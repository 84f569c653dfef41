// Every rejection of POST /streams/ingest: status, code, message, and for a data point's fault
// its index and field path (data[3].timestamp); a rejected request changes nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { type DataPoint, ingest, ingestBody, point, send, values } from "./cloudthread-helpers";
import { api, createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("ct-errors")));
	await send(token, "Sum", [point("2022-10-01 00:00:00", "existing", 5, { team: "a" })]);
});

const ok = (ts: unknown = "2022-10-01 00:00:00"): DataPoint => point(ts, "m", 1);

/** Sends a body that must be rejected, and checks that storage (data and ingest log) did not change. */
async function rejected(body: unknown, status: number, code: string, headers: Record<string, string> = {}) {
	const before = await storageSnapshot();
	const error = await expectError(await ingest(body, headers), status, code);
	expect(await storageSnapshot()).toBe(before);
	return error;
}

describe("body format", () => {
	it("malformed JSON or an empty body → 400 Invalid JSON", async () => {
		expect((await rejected('{"data_stream_token": "', 400, "invalid_json")).message).toMatch(/^Invalid JSON/);
		await rejected("", 400, "invalid_json");
	});

	it("a wrong content type → 415", async () => {
		const before = await storageSnapshot();
		const res = await api("/streams/ingest", {
			method: "POST",
			headers: { "Content-Type": "text/plain" },
			body: JSON.stringify(ingestBody(token, "Sum", [ok()])),
		});
		await expectError(res, 415, "unsupported_media_type");
		expect(await storageSnapshot()).toBe(before);
	});

	it("missing or empty data → 400", async () => {
		expect((await rejected({ data_stream_token: token, metric_agg_func: "Sum" }, 400, "missing_field")).details).toEqual([
			{ code: "missing_field", message: expect.any(String), path: "data" },
		]);
		await rejected(ingestBody(token, "Sum", []), 400, "out_of_range");
		await rejected({ ...ingestBody(token, "Sum", []), data: "x" }, 400, "invalid_type");
	});

	it("unknown fields at the top or in a data point → 400, never dropped", async () => {
		const top = await rejected({ ...ingestBody(token, "Sum", [ok()]), metric_agg: "Sum" }, 400, "unknown_field");
		expect(top.details).toEqual([{ code: "unknown_field", message: "unknown field 'metric_agg'" }]);
		const rec = await rejected(ingestBody(token, "Sum", [ok(), { ...ok(), dimensions: { a: "b" } } as DataPoint]), 400, "unknown_field");
		expect(rec.details).toEqual([{ code: "unknown_field", message: "unknown field 'dimensions'", record: 1, path: "data[1]" }]);
	});

	it("a body over MAX_BODY_BYTES (5 MB) → 413", async () => {
		const big = ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "m", 1, { pad: "x".repeat(5_000_000) })]);
		await rejected(big, 413, "payload_too_large");
	});

	it("more data points than MAX_RECORDS_PER_REQUEST → 413", async () => {
		const data = Array.from({ length: 10_001 }, () => ok());
		expect((await rejected(ingestBody(token, "Sum", data), 413, "too_many_records")).message).toMatch(/at most 10000 data points/);
	});
});

describe("metric_agg_func", () => {
	for (const func of ["sum", "Median", "", "SUM", 1]) {
		it(`${JSON.stringify(func)} → 400`, async () => {
			const error = await rejected(ingestBody(token, func as string, [ok()]), 400, "invalid_value");
			expect(error.details).toEqual([
				{ code: "invalid_value", message: "must be: one of Sum, Average, Maximum, Minimum", path: "metric_agg_func" },
			]);
		});
	}

	it("missing → 400 missing_field", async () => {
		const { metric_agg_func: _, ...body } = ingestBody(token, "Sum", [ok()]);
		await rejected(body, 400, "missing_field");
	});
});

describe("timestamp", () => {
	const offHour: Array<[string, unknown]> = [
		["minutes", "2022-10-01 00:30:00"],
		["seconds", "2022-10-01 00:00:01"],
		["a fraction of a second", "2022-10-01T00:00:00.5Z"],
		["minutes in ISO form", "2022-10-01T05:15:00Z"],
		["an offset that is not whole hours", "2022-10-01T05:00:00+05:30"],
		["compact form with minutes", "20221001001000"],
		["epoch seconds off the hour", Date.UTC(2022, 9, 1, 5, 0, 30) / 1000],
	];
	for (const [label, ts] of offHour) {
		it(`${label} (${JSON.stringify(ts)}) → 400 naming the data point`, async () => {
			const error = await rejected(ingestBody(token, "Sum", [ok(), ok(), ok(), ok(ts)]), 400, "timestamp_not_hourly");
			expect(error.details).toEqual([
				{
					code: "timestamp_not_hourly",
					message: expect.stringMatching(/on the hour.*non-zero minutes or seconds/),
					record: 3,
					path: "data[3].timestamp",
				},
			]);
		});
	}

	const invalid: Array<[string, unknown, string]> = [
		["a date without time", "2022-10-01", "invalid_timestamp"],
		["not a date", "yesterday", "invalid_timestamp"],
		["an impossible date", "2022-02-30 00:00:00", "invalid_timestamp"],
		["hour 24", "2022-10-01 24:00:00", "invalid_timestamp"],
		["epoch milliseconds", Date.UTC(2022, 9, 1), "invalid_timestamp"],
		["a numeric string", "1664582400", "invalid_timestamp"],
		["more than 24 hours ahead", `${new Date(Date.now() + 48 * 3600_000).toISOString().slice(0, 13)}:00:00Z`, "future_timestamp"],
		["a boolean", true, "invalid_type"],
		["null", null, "invalid_type"],
	];
	for (const [label, ts, code] of invalid) {
		it(`${label} → 400 ${code}`, async () => {
			const error = await rejected(ingestBody(token, "Sum", [ok(ts)]), 400, code);
			expect(error.details?.[0]).toMatchObject({ code, record: 0, path: "data[0].timestamp" });
		});
	}
});

describe("metric_value, metric_name, custom_dimensions", () => {
	const badValues: Array<[string, unknown, string]> = [
		["a word", "ten", "invalid_value"],
		["a comma", "1,000", "invalid_value"],
		["an infinite string", "1e400", "value_overflow"],
		["NaN as a string", "NaN", "invalid_value"],
		["a boolean", true, "invalid_type"],
		["a list", [1], "invalid_type"],
		["null", null, "invalid_type"],
	];
	for (const [label, value, code] of badValues) {
		it(`metric_value ${label} → 400 ${code}`, async () => {
			const error = await rejected(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "m", value)]), 400, code);
			expect(error.details?.[0]).toMatchObject({ code, record: 0, path: "data[0].metric_value" });
		});
	}

	it("a missing metric_value or metric_name → 400 missing_field", async () => {
		const error = await rejected(ingestBody(token, "Sum", [{ timestamp: "2022-10-01 00:00:00" } as DataPoint]), 400, "missing_field");
		expect(error.details?.map((d) => d.path).sort()).toEqual(["data[0].metric_name", "data[0].metric_value"]);
	});

	it("an empty or over-long metric_name → 400", async () => {
		await rejected(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "", 1)]), 400, "out_of_range");
		await rejected(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "x".repeat(257), 1)]), 400, "out_of_range");
	});

	it("11 custom dimensions → 400 too_many_dimensions", async () => {
		const dims = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`d${i}`, "v"]));
		const error = await rejected(ingestBody(token, "Sum", [ok(), point("2022-10-01 00:00:00", "m", 1, dims)]), 400, "too_many_dimensions");
		expect(error.details).toEqual([
			{ code: "too_many_dimensions", message: "at most 10 custom_dimensions are allowed", record: 1, path: "data[1].custom_dimensions" },
		]);
	});

	it("a dimension value that is not a string → 400, with the dimension's path", async () => {
		for (const value of [1, ["a"], { a: "b" }, null]) {
			const error = await rejected(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "m", 1, { team: value })]), 400, "invalid_type");
			expect(error.details?.[0]).toMatchObject({ record: 0, path: "data[0].custom_dimensions.team" });
		}
		await rejected(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "m", 1, ["a"])]), 400, "invalid_type");
	});
});

describe("all-or-nothing", () => {
	it("every problem of every data point is listed; nothing is written, not even the valid points", async () => {
		const data = [
			point("2022-10-01 00:00:00", "existing", 100, { team: "a" }),
			point("2022-10-01 00:30:00", "existing", 1, { team: "a" }),
			point("2022-10-01 01:00:00", "existing", "abc", { team: "a" }),
			point("2022-10-01 02:00:00", "other", 1, Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]))),
		];
		const error = await rejected(ingestBody(token, "Sum", data), 400, "invalid_schema");
		expect(error.message).toBe("Invalid Schema: 3 problems in 3 records");
		expect(error.details_total).toBe(3);
		expect(error.details?.map((d) => [d.record, d.path, d.code])).toEqual([
			[1, "data[1].timestamp", "timestamp_not_hourly"],
			[2, "data[2].metric_value", "invalid_value"],
			[3, "data[3].custom_dimensions", "too_many_dimensions"],
		]);
		expect(await values(token, "existing", "agg=Sum")).toEqual([["2022-10-01", "5"]]);
	});
});

describe("read-back errors", () => {
	it("an unknown metric, or a known name with another function → 404", async () => {
		const res = await api("/streams/metrics/nope?agg=Sum", { headers: { Authorization: token } });
		await expectError(res, 404, "metric_not_found");
		await expectError(await api("/streams/metrics/existing?agg=Maximum", { headers: { Authorization: token } }), 404, "metric_not_found");
	});

	it("a missing or unknown agg, bad dates, granularity, cursor or filter key → 400", async () => {
		const read = (q: string) => api(`/streams/metrics/existing?${q}`, { headers: { Authorization: token } });
		expect((await expectError(await read(""), 400, "missing_field")).details?.[0]).toMatchObject({ path: "agg" });
		await expectError(await read("agg=Median"), 400, "invalid_value");
		await expectError(await read("agg=Sum&start_date=2022-13-01"), 400, "invalid_date");
		await expectError(await read("agg=Sum&start_date=2022-10-02&end_date=2022-10-01"), 400, "invalid_date_range");
		await expectError(await read("agg=Sum&granularity=week"), 400, "invalid_value");
		await expectError(await read("agg=Sum&cursor=garbage"), 400, "invalid_cursor");
		const unknown = await expectError(await read("agg=Sum&dim[region]=eu"), 400, "unknown_filter_keys");
		expect(unknown.details?.[0]).toMatchObject({ path: "dim[region]" });
		const bare = await expectError(await read("agg=Sum&region=eu"), 400, "invalid_filter");
		expect(bare.details?.[0]).toMatchObject({ path: "region" });
		await expectError(await read("agg=Sum&limit=0"), 400, "out_of_range");
	});
});
