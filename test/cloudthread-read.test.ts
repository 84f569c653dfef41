// Read-back of Cloudthread metrics: the organization's list, and a metric's daily aggregates
// or hourly points per record ID, filtered, paginated and as CSV.
import { beforeAll, describe, expect, it } from "vitest";
import { listMetrics, point, readMetric, readMetricRaw, send } from "./cloudthread-helpers";
import { createToken, uniqueOrg } from "./helpers";

let token: string;
let ids: Record<string, string>;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("ct-read")));
	// Three records over two days; Sum.
	const created = await send(token, "Sum", [
		point("2022-10-01 00:00:00", "usage", 1, { team: "a", env: "prod" }),
		point("2022-10-01 05:00:00", "usage", 2, { team: "a", env: "prod" }),
		point("2022-10-01 03:00:00", "usage", 10, { team: "b", env: "prod" }),
		point("2022-10-02 00:00:00", "usage", 4, { team: "a", env: "prod" }),
		point("2022-10-02 23:00:00", "usage", 20, { team: "b", env: "prod" }),
		point("2022-10-03 12:00:00", "usage", 100, { team: 'c, "quoted"', env: "dev" }),
	]);
	ids = { a: created.record_ids[0], b: created.record_ids[2], c: created.record_ids[5] };
	await send(token, "Average", [point("2022-09-30 22:00:00", "usage", 5, { region: "eu" })]);
	await send(token, "Sum", [point("2022-10-01 00:00:00", "another", 1)]);
});

describe("GET /streams/metrics", () => {
	it("lists each (name, function) with its dimension keys, first and last hour and record count", async () => {
		const { metrics, next_cursor } = await listMetrics(token);
		expect(next_cursor).toBeNull();
		for (const m of metrics) expect(Date.parse(m.created_at)).toBeGreaterThan(0);
		expect(metrics.map(({ created_at: _, ...m }) => m)).toEqual([
			{
				metric_name: "another",
				metric_agg_func: "Sum",
				dimension_keys: [],
				first_hour: "2022-10-01T00:00:00Z",
				last_hour: "2022-10-01T00:00:00Z",
				record_count: 1,
			},
			{
				metric_name: "usage",
				metric_agg_func: "Average",
				dimension_keys: ["region"],
				first_hour: "2022-09-30T22:00:00Z",
				last_hour: "2022-09-30T22:00:00Z",
				record_count: 1,
			},
			{
				metric_name: "usage",
				metric_agg_func: "Sum",
				dimension_keys: ["env", "team"],
				first_hour: "2022-10-01T00:00:00Z",
				last_hour: "2022-10-03T12:00:00Z",
				record_count: 3,
			},
		]);
	});

	it("paginates with limit and cursor", async () => {
		const first = await listMetrics(token, "limit=2");
		expect(first.metrics.map((m) => `${m.metric_name}/${m.metric_agg_func}`)).toEqual(["another/Sum", "usage/Average"]);
		const second = await listMetrics(token, `limit=2&cursor=${first.next_cursor}`);
		expect(second.metrics.map((m) => `${m.metric_name}/${m.metric_agg_func}`)).toEqual(["usage/Sum"]);
		expect(second.next_cursor).toBeNull();
	});
});

describe("GET /streams/metrics/{metric_name}", () => {
	it("daily aggregates per record ID in (day, record ID) order", async () => {
		const read = await readMetric(token, "usage", "agg=Sum");
		const expected = [
			["2022-10-01", ids.a, "3", 2],
			["2022-10-01", ids.b, "10", 1],
			["2022-10-02", ids.a, "4", 1],
			["2022-10-02", ids.b, "20", 1],
			["2022-10-03", ids.c, "100", 1],
		].sort((x, y) => `${x[0]} ${x[1]}`.localeCompare(`${y[0]} ${y[1]}`));
		expect(read.data.map((p) => [p.timestamp, p.record_id, p.metric_value, p.hours])).toEqual(expected);
		expect(read.data.find((p) => p.record_id === ids.c)?.custom_dimensions).toEqual({ env: "dev", team: 'c, "quoted"' });
	});

	it("hourly points with granularity=hour, limited by start_date and end_date (UTC days, inclusive)", async () => {
		const read = await readMetric(token, "usage", "agg=Sum&granularity=hour&start_date=2022-10-02&end_date=2022-10-02");
		expect(read.granularity).toBe("hour");
		expect(read.data.map((p) => [p.timestamp, p.metric_value, p.hours])).toEqual([
			["2022-10-02T00:00:00Z", "4", undefined],
			["2022-10-02T23:00:00Z", "20", undefined],
		]);
		const days = await readMetric(token, "usage", "agg=Sum&start_date=2022-10-03");
		expect(days.data.map((p) => p.timestamp)).toEqual(["2022-10-03"]);
	});

	it("filters by dimension; a repeated parameter matches any of its values", async () => {
		const teamA = await readMetric(token, "usage", "agg=Sum&dim[team]=a");
		expect(teamA.data.map((p) => [p.timestamp, p.metric_value])).toEqual([
			["2022-10-01", "3"],
			["2022-10-02", "4"],
		]);
		const prodAB = await readMetric(token, "usage", "agg=Sum&dim[env]=prod&dim[team]=a&dim[team]=b&granularity=hour");
		expect(prodAB.data).toHaveLength(5);
		const none = await readMetric(token, "usage", "agg=Sum&dim[env]=dev&dim[team]=a");
		expect(none.data).toEqual([]);
		// A comma in a value is written \, (a bare comma separates values).
		const special = await readMetric(token, "usage", `agg=Sum&dim[team]=${encodeURIComponent('c\\, "quoted"')}`);
		expect(special.data.map((p) => p.metric_value)).toEqual(["100"]);
	});

	it("paginates with limit and cursor, in JSON and in CSV (X-Next-Cursor)", async () => {
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const page = await readMetric(token, "usage", `agg=Sum&granularity=hour&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
			seen.push(...page.data.map((p) => `${p.timestamp} ${p.metric_value}`));
			cursor = page.next_cursor;
			pages++;
		} while (cursor);
		expect(pages).toBe(3);
		expect(seen).toEqual([
			"2022-10-01T00:00:00Z 1",
			"2022-10-01T03:00:00Z 10",
			"2022-10-01T05:00:00Z 2",
			"2022-10-02T00:00:00Z 4",
			"2022-10-02T23:00:00Z 20",
			"2022-10-03T12:00:00Z 100",
		]);

		const csv = await readMetricRaw(token, "usage", "agg=Sum&format=csv&limit=4");
		expect(csv.headers.get("Content-Type")).toMatch(/^text\/csv/);
		const next = csv.headers.get("X-Next-Cursor");
		expect(next).toBeTruthy();
		const rest = await readMetricRaw(token, "usage", `agg=Sum&format=csv&limit=4&cursor=${next}`);
		expect(rest.headers.get("X-Next-Cursor")).toBeNull();
		expect(await rest.text()).toBe(`timestamp,record_id,metric_value,hours,env,team\r\n2022-10-03,${ids.c},100,1,dev,"c, ""quoted"""\r\n`);
		const lines = (await csv.text()).trimEnd().split("\r\n");
		expect(lines).toHaveLength(5);
		expect(lines[0]).toBe("timestamp,record_id,metric_value,hours,env,team");
	});

	it("a cursor of one granularity is refused for the other", async () => {
		const page = await readMetric(token, "usage", "agg=Sum&limit=1");
		const res = await readMetricRaw(token, "usage", `agg=Sum&granularity=hour&limit=1&cursor=${page.next_cursor}`);
		expect(res.status).toBe(400);
	});

	it("metric names with spaces, slashes and unicode read back through the path", async () => {
		const name = "Größe / per user";
		await send(token, "Minimum", [point("2022-10-01 00:00:00", name, 3), point("2022-10-01 01:00:00", name, 2)]);
		const read = await readMetric(token, name, "agg=Minimum");
		expect(read.metric_name).toBe(name);
		expect(read.data.map((p) => p.metric_value)).toEqual(["2"]);
	});
});
