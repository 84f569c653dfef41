// The read filters on GET /streams/metrics/{metric_name}: comma lists with escapes, exclude[...],
// and what they do to a record without the filter's key (records of a metric may differ in keys).
import { beforeAll, describe, expect, it } from "vitest";
import { point, readMetric, readMetricRaw, send } from "./cloudthread-helpers";
import { createToken, expectError, uniqueOrg } from "./helpers";

let token: string;

/** The values of the points a query reads, in (timestamp, record ID) order, sorted numerically for stable comparison. */
async function valuesOf(query: string): Promise<number[]> {
	return (await readMetric(token, "jobs", `agg=Sum&${query}`)).data.map((p) => Number(p.metric_value)).sort((a, b) => a - b);
}

beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("ct-filters")));
	await send(token, "Sum", [
		point("2022-10-01 00:00:00", "jobs", 1, { team: "a", env: "prod" }),
		point("2022-10-01 00:00:00", "jobs", 2, { team: "b", env: "dev" }),
		point("2022-10-01 00:00:00", "jobs", 4, { team: "c" }),
		point("2022-10-01 00:00:00", "jobs", 8, { team: "x,y", env: "test" }),
		point("2022-10-01 00:00:00", "jobs", 16, { team: "back\\slash", env: "prod" }),
	]);
});

describe("Cloudthread read filters", () => {
	it("a comma list matches any of its values; \\, and \\\\ escape within a value", async () => {
		expect(await valuesOf("dim[env]=prod,dev")).toEqual([1, 2, 16]);
		expect(await valuesOf("dim[env]=prod&dim[env]=dev,test")).toEqual([1, 2, 8, 16]);
		expect(await valuesOf(`dim[team]=${encodeURIComponent("x\\,y")}`)).toEqual([8]);
		expect(await valuesOf(`dim[team]=${encodeURIComponent("back\\\\slash,a")}`)).toEqual([1, 16]);
		expect(await valuesOf("dim[team]=x,y")).toEqual([]);
	});

	it("exclude[...] leaves out a value; a record without the key matches no dim[...] and passes every exclude[...]", async () => {
		expect(await valuesOf("exclude[env]=dev,test")).toEqual([1, 4, 16]);
		expect(await valuesOf("dim[env]=prod,dev,test")).toEqual([1, 2, 8, 16]);
		// The empty value is not "no value": it leaves the record without env in.
		expect(await valuesOf("exclude[env]=")).toEqual([1, 2, 4, 8, 16]);
		expect(await valuesOf("dim[env]=")).toEqual([]);
		expect(await valuesOf("dim[team]=a,b,c&exclude[team]=b")).toEqual([1, 4]);
		expect(await valuesOf("exclude[team]=a&exclude[env]=dev")).toEqual([4, 8, 16]);
		// The hourly points are filtered alike.
		expect(await valuesOf("exclude[env]=dev,test&granularity=hour")).toEqual([1, 4, 16]);
	});

	it("refuses a bad escape (invalid_filter) and a key the metric never had (unknown_filter_keys), naming the parameter", async () => {
		const badEscape = await expectError(
			await readMetricRaw(token, "jobs", `agg=Sum&exclude[env]=${encodeURIComponent("prod\\")}`),
			400,
			"invalid_filter",
		);
		expect(badEscape.details).toEqual([expect.objectContaining({ path: "exclude[env]" })]);
		const unknown = await expectError(await readMetricRaw(token, "jobs", "agg=Sum&exclude[region]=eu"), 400, "unknown_filter_keys");
		expect(unknown.details).toEqual([expect.objectContaining({ path: "exclude[region]" })]);
	});
});
