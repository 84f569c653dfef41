// POST /streams/ingest as the Cloudthread seed documents it: timestamp forms, record IDs,
// upserts, and each aggregation function's daily value.
import { beforeAll, describe, expect, it } from "vitest";
import { expectCreated, ingest, ingestBody, listMetrics, point, readMetric, send, values } from "./cloudthread-helpers";
import { createToken, uniqueOrg } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("ct-happy")));
});

describe("the Cloudthread seed payload", () => {
	it("is accepted with 201, lists each data point's record ID, and reads back", async () => {
		const body = {
			data_stream_token: token,
			metric_agg_func: "Sum",
			data: [
				{
					timestamp: "2022-10-01 00:00:00",
					metric_name: "active_users",
					metric_value: 1200.5,
					custom_dimensions: { team: "growth", env: "prod" },
				},
				{
					timestamp: "2022-10-01 01:00:00",
					metric_name: "active_users",
					metric_value: "799.5",
					custom_dimensions: { team: "growth", env: "prod" },
				},
				{
					timestamp: "2022-10-01 00:00:00",
					metric_name: "active_users",
					metric_value: 10,
					custom_dimensions: { team: "core", env: "prod" },
				},
				{ timestamp: "2022-10-01 00:00:00", metric_name: "api_calls", metric_value: 3 },
			],
		};
		const res = await ingest(body);
		const created = await expectCreated(res);
		expect(created.metric_agg_func).toBe("Sum");
		expect(created.record_ids).toHaveLength(4);
		expect(created.record_ids[0]).toMatch(/^[0-9a-f]{32}$/);
		// The same metric, function and dimensions: the same record ID.
		expect(created.record_ids[1]).toBe(created.record_ids[0]);
		expect(new Set(created.record_ids).size).toBe(3);
		expect(created.counts).toEqual({ data_points: 4, hourly_points_written: 4, record_ids: 3, metrics: 2, daily_values_recomputed: 3 });

		const daily = await readMetric(token, "active_users", "agg=Sum");
		expect(daily).toMatchObject({ metric_name: "active_users", metric_agg_func: "Sum", granularity: "day", next_cursor: null });
		expect(daily.data).toHaveLength(2);
		const growth = daily.data.find((p) => p.record_id === created.record_ids[0]);
		expect(growth).toEqual({
			timestamp: "2022-10-01",
			record_id: created.record_ids[0],
			metric_value: "2000",
			hours: 2,
			custom_dimensions: { env: "prod", team: "growth" },
		});
		expect(await values(token, "api_calls", "agg=Sum")).toEqual([["2022-10-01", "3"]]);
	});

	it("sends daily data as the time part 00:00:00", async () => {
		await send(token, "Average", [point("2022-10-05 00:00:00", "daily_only", 7)]);
		expect(await values(token, "daily_only", "agg=Average")).toEqual([["2022-10-05", "7"]]);
	});
});

describe("timestamp forms", () => {
	const forms: Array<[string, unknown]> = [
		["'YYYY-MM-DD HH:MM:SS'", "2022-10-01 05:00:00"],
		["ISO 8601 with T", "2022-10-01T05:00:00"],
		["ISO 8601 with Z", "2022-10-01T05:00:00Z"],
		["ISO 8601 with a fraction of zeros", "2022-10-01T05:00:00.000Z"],
		["ISO 8601 with a positive offset, converted to UTC", "2022-10-01T10:30:00+05:30"],
		["ISO 8601 with a negative offset, converted to UTC", "2022-10-01T01:00:00-04:00"],
		["a space-separated date-time with an offset", "2022-10-01 07:00:00+0200"],
		["epoch seconds (number)", Date.UTC(2022, 9, 1, 5) / 1000],
		["compact yyyyMMddHHmmss", "20221001050000"],
	];
	for (const [label, timestamp] of forms) {
		it(`${label}: ${JSON.stringify(timestamp)} is the hour 2022-10-01T05:00:00Z`, async () => {
			const name = `ts-${label.replace(/[^a-z0-9]+/gi, "-")}`;
			await send(token, "Sum", [point(timestamp, name, 1)]);
			expect(await values(token, name, "agg=Sum&granularity=hour")).toEqual([["2022-10-01T05:00:00Z", "1"]]);
		});
	}

	it("an offset can move a point to another day", async () => {
		await send(token, "Sum", [point("2022-10-02T02:00:00+05:00", "offset-day", 4)]);
		expect(await values(token, "offset-day", "agg=Sum&granularity=hour")).toEqual([["2022-10-01T21:00:00Z", "4"]]);
		expect(await values(token, "offset-day", "agg=Sum")).toEqual([["2022-10-01", "4"]]);
	});
});

describe("each aggregation function's daily value over a day of hourly points", () => {
	const day = "2022-10-02";
	const hours = [
		[`${day} 00:00:00`, 10],
		[`${day} 01:00:00`, 40],
		[`${day} 02:00:00`, 20],
	] as const;
	// After hour 01 is sent again with 5 (a lower value): the day holds 10, 5, 20.
	const expected: Record<string, [before: string, after: string]> = {
		Sum: ["70", "35"],
		Average: ["23.3333333333333", "11.6666666666667"],
		Maximum: ["40", "20"],
		Minimum: ["10", "5"],
	};

	for (const [func, [before, after]] of Object.entries(expected)) {
		it(`${func}: ${before}, then ${after} once hour 01 is replaced by a lower value`, async () => {
			const dims = { region: "eu", tier: "gold" };
			const first = await send(
				token,
				func,
				hours.map(([ts, v]) => point(ts, "agg-check", v, dims)),
			);
			expect(await readMetric(token, "agg-check", `agg=${func}`)).toMatchObject({
				data: [{ timestamp: day, record_id: first.record_ids[0], metric_value: before, hours: 3, custom_dimensions: dims }],
			});

			// The same record ID and hour again: an upsert of that hour, never a duplicate.
			const second = await send(token, func, [point(`${day}T01:00:00Z`, "agg-check", 5, { tier: "gold", region: "eu" })]);
			expect(second.record_ids).toEqual([first.record_ids[0]]);
			expect(await values(token, "agg-check", `agg=${func}`)).toEqual([[day, after]]);
			expect(await values(token, "agg-check", `agg=${func}&granularity=hour`)).toEqual([
				[`${day}T00:00:00Z`, "10"],
				[`${day}T01:00:00Z`, "5"],
				[`${day}T02:00:00Z`, "20"],
			]);
		});
	}

	it("Average is the mean of the hourly points present, not of the requests", async () => {
		// Three requests for hour 00 (last one wins) and one for hour 01.
		await send(token, "Average", [point(`${day} 00:00:00`, "avg-mean", 100)]);
		await send(token, "Average", [point(`${day} 00:00:00`, "avg-mean", 1)]);
		await send(token, "Average", [point(`${day} 00:00:00`, "avg-mean", 2), point(`${day} 01:00:00`, "avg-mean", 4)]);
		expect(await values(token, "avg-mean", "agg=Average")).toEqual([[day, "3"]]);
	});

	it("a metric name exists once per aggregation function: four independent versions", async () => {
		const funcs = ["Sum", "Average", "Maximum", "Minimum"];
		for (const func of funcs) await send(token, func, [point(`${day} 00:00:00`, "four-ways", 2), point(`${day} 01:00:00`, "four-ways", 6)]);
		const results = await Promise.all(funcs.map((f) => values(token, "four-ways", `agg=${f}`)));
		expect(results).toEqual([[[day, "8"]], [[day, "4"]], [[day, "6"]], [[day, "2"]]]);
		const listed = (await listMetrics(token)).metrics.filter((m) => m.metric_name === "four-ways");
		expect(listed.map((m) => m.metric_agg_func)).toEqual(["Average", "Maximum", "Minimum", "Sum"]);
	});

	it("within one request, the last point for a record and hour wins", async () => {
		const created = await send(token, "Maximum", [point(`${day} 03:00:00`, "last-wins", 9), point(`${day} 03:00:00`, "last-wins", 1)]);
		expect(created.counts.hourly_points_written).toBe(1);
		expect(await values(token, "last-wins", "agg=Maximum")).toEqual([[day, "1"]]);
	});

	it("negative and numeric-string values; 15 significant digits", async () => {
		await send(token, "Sum", [
			point(`${day} 00:00:00`, "signed", "-2.5"),
			point(`${day} 01:00:00`, "signed", "0.1"),
			point(`${day} 02:00:00`, "signed", 0.2),
		]);
		expect(await values(token, "signed", "agg=Sum")).toEqual([[day, "-2.2"]]);
	});
});

describe("record IDs", () => {
	it("the same dimensions in a different key order give the same record ID", async () => {
		const a = await send(token, "Sum", [point("2022-10-03 00:00:00", "order", 1, { a: "1", b: "2", c: "3" })]);
		const b = await send(token, "Sum", [point("2022-10-03 01:00:00", "order", 2, { c: "3", a: "1", b: "2" })]);
		expect(b.record_ids).toEqual(a.record_ids);
		const read = await readMetric(token, "order", "agg=Sum");
		expect(read.data).toEqual([
			{ timestamp: "2022-10-03", record_id: a.record_ids[0], metric_value: "3", hours: 2, custom_dimensions: { a: "1", b: "2", c: "3" } },
		]);
	});

	it("differs with the metric name, the function, or any dimension", async () => {
		const base = (await send(token, "Sum", [point("2022-10-03 00:00:00", "id-a", 1, { k: "v" })])).record_ids[0];
		const others = await Promise.all([
			send(token, "Sum", [point("2022-10-03 00:00:00", "id-b", 1, { k: "v" })]),
			send(token, "Minimum", [point("2022-10-03 00:00:00", "id-a", 1, { k: "v" })]),
			send(token, "Sum", [point("2022-10-03 00:00:00", "id-a", 1, { k: "w" })]),
			send(token, "Sum", [point("2022-10-03 00:00:00", "id-a", 1, { k: "v", extra: "" })]),
			send(token, "Sum", [point("2022-10-03 00:00:00", "id-a", 1)]),
		]);
		const ids = [base, ...others.map((o) => o.record_ids[0])];
		expect(new Set(ids).size).toBe(ids.length);
	});

	it("up to 10 custom dimensions are accepted", async () => {
		const dims = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d${i}`, `v${i}`]));
		await send(token, "Sum", [point("2022-10-03 00:00:00", "ten-dims", 1, dims)]);
		expect((await readMetric(token, "ten-dims", "agg=Sum")).data[0].custom_dimensions).toEqual(dims);
	});
});

describe("the response", () => {
	it("accepts an X-API-Key header alongside the body token (Cloudthread clients send one)", async () => {
		const res = await ingest(ingestBody(token, "Sum", [point("2022-10-04 00:00:00", "with-api-key", 1)]), {
			"X-API-Key": "some-cloudthread-account-key",
		});
		await expectCreated(res);
	});
});
