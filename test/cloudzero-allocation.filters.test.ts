// The read filters on GET /unit-cost/v1/telemetry/allocation/{name}: a value's filter lists values
// per name; dim[...] keeps it when the list holds one of the filter's values, exclude[...] when it
// holds none. Comma lists and escapes as on every read.
import { beforeAll, describe, expect, it } from "vitest";
import { allocate, readAllocation } from "./allocation-helpers";
import { api, createToken, expectAccepted, expectError, uniqueOrg } from "./helpers";

let token: string;
const stream = "alloc-filters";

/** The values a query reads, sorted numerically. */
async function valuesOf(query: string): Promise<number[]> {
	return (await readAllocation(token, stream, query)).map((r) => Number(r.value)).sort((a, b) => a - b);
}

beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("alloc-filters")));
	const value = (value: number, region: string[], env: string, element: string) => ({
		timestamp: "2024-01-01",
		granularity: "DAILY",
		filter: { region, "tag:env": [env] },
		element_name: element,
		value,
	});
	await expectAccepted(
		await allocate(token, stream, "sum", {
			records: [
				value(1, ["eu", "us"], "prod", "c1"),
				value(2, ["us"], "prod", "c2"),
				value(4, ["ap"], "dev", "c3"),
				value(8, ["x,y"], "dev", "c4"),
			],
		}),
		4,
	);
});

describe("allocation read filters", () => {
	it("a comma list keeps a value whose filter lists one of its values; \\, escapes a comma", async () => {
		expect(await valuesOf("dim[region]=eu,ap")).toEqual([1, 4]);
		expect(await valuesOf("dim[region]=eu&dim[region]=ap,us")).toEqual([1, 2, 4]);
		expect(await valuesOf(`dim[region]=${encodeURIComponent("x\\,y")}`)).toEqual([8]);
		expect(await valuesOf("dim[region]=x,y")).toEqual([]);
	});

	it("exclude[...] leaves out a value whose filter lists one of its values, alone or with dim[...]", async () => {
		expect(await valuesOf("exclude[region]=us")).toEqual([4, 8]);
		expect(await valuesOf("exclude[region]=eu")).toEqual([2, 4, 8]);
		expect(await valuesOf("dim[region]=us&exclude[region]=eu")).toEqual([2]);
		expect(await valuesOf("dim[region]=us,ap&exclude[tag:env]=dev")).toEqual([1, 2]);
		expect(await valuesOf("exclude[tag:env]=dev&element=c2")).toEqual([2]);
	});

	it("refuses a bad escape and a name that is not one of the stream's filter names, naming the parameter", async () => {
		const auth = { headers: { Authorization: token } };
		const bad = await expectError(
			await api(`/unit-cost/v1/telemetry/allocation/${stream}?exclude[region]=${encodeURIComponent("\\u")}`, auth),
			400,
			"invalid_filter",
		);
		expect(bad.details).toEqual([expect.objectContaining({ path: "exclude[region]" })]);
		const unknown = await expectError(
			await api(`/unit-cost/v1/telemetry/allocation/${stream}?exclude[team]=a`, auth),
			400,
			"unknown_filter_keys",
		);
		expect(unknown.details).toEqual([expect.objectContaining({ path: "exclude[team]" })]);
	});
});
