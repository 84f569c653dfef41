// The seeds' examples, sent as documented, and the write semantics users rely on.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createToken, expectAccepted, readStream, uniqueOrg, write } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("happy")));
});

const PATRIC = { "custom:Client": "Patric Star", "custom:Product": "Mayonaise", "custom:Product Group": "Instruments" };

describe("the unit-cost telemetry seed: sum, replace, delete on my-metric-stream", () => {
	it("sums 12345, replaces it with 67890, then soft-deletes it", async () => {
		const stream = "my-metric-stream";
		const sum = await expectAccepted(
			await write(token, stream, "sum", { records: [{ timestamp: "2023-12-07T00:00:00", value: "12345", associated_cost: PATRIC }] }),
			1,
		);
		expect(sum).toMatchObject({ operation: "sum", stream, stream_created: true });
		expect(await readStream(token, stream)).toEqual([{ timestamp: "2023-12-07", value: "12345", associated_cost: PATRIC }]);

		await expectAccepted(
			await write(token, stream, "replace", { records: [{ timestamp: "2023-12-07T00:00:00", value: "67890", associated_cost: PATRIC }] }),
			1,
		);
		expect(await readStream(token, stream)).toEqual([{ timestamp: "2023-12-07", value: "67890", associated_cost: PATRIC }]);

		const del = await expectAccepted(
			await write(token, stream, "delete", { records: [{ timestamp: "2023-12-07T00:00:00", associated_cost: PATRIC }] }),
			1,
		);
		expect(del.series_deleted).toBe(1);
		expect(await readStream(token, stream)).toEqual([]);

		// Soft delete: hidden from reads, kept in storage.
		const kept = await env.DB.prepare("SELECT value FROM deleted_daily_values WHERE day = '2023-12-07' AND request_id != ''").all();
		expect(kept.results).toContainEqual({ value: 67890 });
	});

	it("the legacy endpoint sums like /sum", async () => {
		const record = { timestamp: "2023-12-07T00:00:00", value: "12345", associated_cost: PATRIC };
		await expectAccepted(await write(token, "legacy-stream", "legacy", { records: [record] }), 1);
		await expectAccepted(await write(token, "legacy-stream", "sum", { records: [record] }), 1);
		expect(await readStream(token, "legacy-stream")).toEqual([{ timestamp: "2023-12-07", value: "24690", associated_cost: PATRIC }]);
	});
});

describe("the telemetry API examples", () => {
	it("single metric, no dimensions", async () => {
		await expectAccepted(await write(token, "daily-active-user", "sum", { records: [{ timestamp: "2023-11-07", value: 10011 }] }), 1);
		expect(await readStream(token, "daily-active-user")).toEqual([{ timestamp: "2023-11-07", value: "10011" }]);
	});

	it("single metric with one dimension", async () => {
		const records = [
			{ timestamp: "2023-11-06", associated_cost: { "custom:Company Services": "aggregation" }, value: 10011 },
			{ timestamp: "2023-11-07", associated_cost: { "custom:Company Services": "streaming" }, value: 458.33 },
			{ timestamp: "2023-11-06", associated_cost: { "custom:Company Services": "allocate" }, value: 112.53 },
			{ timestamp: "2023-11-07", associated_cost: { "custom:Company Services": "budget" }, value: 225 },
		];
		await expectAccepted(await write(token, "api-calls", "sum", { records }), 4);
		const read = await readStream(token, "api-calls");
		expect(read.map((r) => [r.timestamp, r.value, r.associated_cost?.["custom:Company Services"]])).toEqual([
			["2023-11-06", "10011", "aggregation"],
			["2023-11-06", "112.53", "allocate"],
			["2023-11-07", "458.33", "streaming"],
			["2023-11-07", "225", "budget"],
		]);
	});

	it("multiple streams with one dimension", async () => {
		await expectAccepted(
			await write(token, "total-streams-by-day", "sum", {
				records: [{ timestamp: "2023-11-06", associated_cost: { "custom:User Type": "logged-in" }, value: 591063.958333333 }],
			}),
			1,
		);
		await expectAccepted(
			await write(token, "total-users-by-day", "sum", {
				records: [{ timestamp: "2023-11-06", associated_cost: { "custom:User Type": "anonymous" }, value: 359491.333333333 }],
			}),
			1,
		);
		expect(await readStream(token, "total-streams-by-day")).toEqual([
			{ timestamp: "2023-11-06", value: "591063.958333333", associated_cost: { "custom:User Type": "logged-in" } },
		]);
		expect(await readStream(token, "total-users-by-day")).toEqual([
			{ timestamp: "2023-11-06", value: "359491.333333333", associated_cost: { "custom:User Type": "anonymous" } },
		]);
	});

	it("single stream with multiple dimensions, built-in Region without the custom: prefix", async () => {
		const records = [
			{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 123", Region: "Australia" }, value: 84 },
			{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 456", Region: "Europe" }, value: 2978 },
			{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 789", Region: "North America" }, value: 26 },
		];
		await expectAccepted(await write(token, "cost-per-client-region", "sum", { records }), 3);
		expect(await readStream(token, "cost-per-client-region", "dim[Region]=Europe")).toEqual([
			{ timestamp: "2023-11-01", value: "2978", associated_cost: { "custom:Client": "Client 456", Region: "Europe" } },
		]);
	});

	it("derived dimensions", async () => {
		const dims = { "custom:CustomerID": "743e5233-82a1-42e0-a7a0-c66ac6778558" };
		await expectAccepted(
			await write(token, "api-calls-by-customer", "sum", { records: [{ timestamp: "2023-12-07", associated_cost: dims, value: 999 }] }),
			1,
		);
		expect(await readStream(token, "api-calls-by-customer")).toEqual([{ timestamp: "2023-12-07", value: "999", associated_cost: dims }]);
	});
});

describe("write semantics", () => {
	it("sum adds to the day's value of that exact dimension set, and repeated records in one request add up", async () => {
		const a = { "custom:Team": "a" };
		const b = { "custom:Team": "b" };
		await expectAccepted(
			await write(token, "sums", "sum", {
				records: [
					{ timestamp: "2024-01-01", value: 1, associated_cost: a },
					{ timestamp: "2024-01-01T10:00:00Z", value: "2", associated_cost: a },
					{ timestamp: "2024-01-01", value: 5, associated_cost: b },
				],
			}),
			3,
		);
		await expectAccepted(await write(token, "sums", "sum", { records: [{ timestamp: "2024-01-01", value: 10, associated_cost: a }] }));
		expect(await readStream(token, "sums")).toEqual([
			{ timestamp: "2024-01-01", value: "13", associated_cost: a },
			{ timestamp: "2024-01-01", value: "5", associated_cost: b },
		]);
	});

	it("replace sets the value, adds it if none exists, and leaves other series alone", async () => {
		const a = { Region: "a" };
		const b = { Region: "b" };
		await expectAccepted(
			await write(token, "replaces", "replace", { records: [{ timestamp: "2024-01-01", value: 7, associated_cost: a }] }),
		);
		await expectAccepted(await write(token, "replaces", "sum", { records: [{ timestamp: "2024-01-01", value: 3, associated_cost: b }] }));
		await expectAccepted(
			await write(token, "replaces", "replace", { records: [{ timestamp: "2024-01-01", value: 1, associated_cost: a }] }),
		);
		expect(await readStream(token, "replaces")).toEqual([
			{ timestamp: "2024-01-01", value: "1", associated_cost: a },
			{ timestamp: "2024-01-01", value: "3", associated_cost: b },
		]);
	});

	it("converts to UTC before taking the day and ignores the time of day", async () => {
		await expectAccepted(
			await write(token, "utc-days", "sum", {
				records: [
					{ timestamp: "2023-12-07T23:30:00-05:00", value: 1 }, // 04:30 UTC on the 8th
					{ timestamp: "2023-12-08T01:00:00+02:00", value: 2 }, // 23:00 UTC on the 7th
					{ timestamp: "2024-02-08 00:00:00+00:00", value: "10000.00" }, // the official toolkit's form
					{ timestamp: "2023-12-07T12:34:56.789Z", value: 4 },
				],
			}),
			4,
		);
		expect(await readStream(token, "utc-days")).toEqual([
			{ timestamp: "2023-12-07", value: "6" },
			{ timestamp: "2023-12-08", value: "1" },
			{ timestamp: "2024-02-08", value: "10000" },
		]);
	});

	it("rounds values to 15 significant digits and reads 0.1 summed ten times as 1", async () => {
		await expectAccepted(await write(token, "precise", "sum", { records: [{ timestamp: "2024-01-01", value: "1234567890.123456789" }] }));
		const tenths = Array.from({ length: 10 }, () => ({ timestamp: "2024-01-02", value: 0.1 }));
		await expectAccepted(await write(token, "precise", "sum", { records: tenths }), 10);
		await expectAccepted(
			await write(token, "precise", "sum", {
				records: [
					{ timestamp: "2024-01-03", value: "1.5e3" },
					{ timestamp: "2024-01-04", value: 0 },
				],
			}),
		);
		expect(await readStream(token, "precise")).toEqual([
			{ timestamp: "2024-01-01", value: "1234567890.12346" },
			{ timestamp: "2024-01-02", value: "1" },
			{ timestamp: "2024-01-03", value: "1500" },
			{ timestamp: "2024-01-04", value: "0" },
		]);
	});

	it("delete hides every series of the day matching the supplied dimensions, or all of them", async () => {
		const rec = (day: string, client: string, region: string, value: number) => ({
			timestamp: day,
			value,
			associated_cost: { "custom:Client": client, Region: region },
		});
		await expectAccepted(
			await write(token, "deletes", "sum", {
				records: [
					rec("2024-03-01", "x", "eu", 1),
					rec("2024-03-01", "x", "us", 2),
					rec("2024-03-01", "y", "eu", 3),
					rec("2024-03-02", "x", "eu", 4),
				],
			}),
		);
		// Matching on a subset of the stream's dimensions.
		const partial = await expectAccepted(
			await write(token, "deletes", "delete", { records: [{ timestamp: "2024-03-01", associated_cost: { "custom:Client": "x" } }] }),
		);
		expect(partial.series_deleted).toBe(2);
		expect((await readStream(token, "deletes")).map((r) => r.value)).toEqual(["3", "4"]);

		// No dimensions: every series of that day.
		await expectAccepted(await write(token, "deletes", "delete", { records: [{ timestamp: "2024-03-02T08:00:00Z" }] }));
		expect((await readStream(token, "deletes")).map((r) => r.value)).toEqual(["3"]);

		// A later sum starts again from nothing rather than reviving the deleted value.
		await expectAccepted(await write(token, "deletes", "sum", { records: [rec("2024-03-02", "x", "eu", 10)] }));
		expect((await readStream(token, "deletes", "start_date=2024-03-02")).map((r) => r.value)).toEqual(["10"]);
	});

	it("accepts up to the 10,000-record limit in one request", async () => {
		const records = Array.from({ length: 10_000 }, (_, i) => ({
			timestamp: `2024-01-${String((i % 28) + 1).padStart(2, "0")}`,
			value: "1",
			associated_cost: { "custom:Shard": `s${i % 50}` },
		}));
		await expectAccepted(await write(token, "big", "sum", { records }), 10_000);
		const row = await env.DB.prepare(
			"SELECT COUNT(*) AS n, SUM(value) AS total FROM daily_values WHERE stream_id = (SELECT id FROM streams WHERE name = 'big' AND deleted_at IS NULL)",
		).first();
		// 28 days × 50 shards cycle together every lcm(28, 50) = 700 records.
		expect(row).toEqual({ n: 700, total: 10_000 });
	});
});
