// The filters of GET /unit-cost/v1/costs: comma lists with escapes and exclude[...], on built-in,
// tag, custom and Connection dimensions, by day and by month (each granularity has its own SQL).
import { beforeAll, describe, expect, it } from "vitest";
import { costs, defineDimension, drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectError, uniqueOrg } from "./helpers";

let org: string;
let token: string;

/** A query's lines as "<period> <group value> <cost>" (one currency here; no group value without group_by). */
async function read(query: string): Promise<string[]> {
	return (await costs(token, query)).map((l) => `${l.period} ${Object.values(l.group).join("|")} ${l.cost}`.replace(/ {2}/, " "));
}

beforeAll(async () => {
	org = uniqueOrg("costs-filters");
	({ token } = await createToken(org, ["write_costs", "read"]));
	await defineDimension(org, "Team", "tag:team");
	const tagged = (cost: number, type: string, team: string, id: string) =>
		row("2025-02-01T00:00:00Z", cost, { "lineitem/type": type, "resource/id": id, "resource/tag:team": team });
	await expectDrop(
		await drop(token, "f1", {
			data: [
				tagged(10, "Usage", "a", "i-1"),
				row("2025-02-01T01:00:00Z", 1, { "lineitem/type": "Tax" }),
				tagged(-3, "Credit", "x,y", "i-2"),
				tagged(100, "Purchase", "b", "i-3"),
				row("2025-02-02T00:00:00Z", 5, { "lineitem/type": "Usage" }),
				tagged(0.5, "Usage", "back\\slash", "i-4"),
			],
		}),
	);
	await expectDrop(await drop(token, "f2", { data: [row("2025-02-01T00:00:00Z", 7, { "lineitem/type": "Usage" })] }));
});

describe("cost read filters", () => {
	it("a comma list of built-in values, alone or mixed with the repeated parameter", async () => {
		expect(await read("dim[LineItemType]=Usage,Tax&group_by=LineItemType")).toEqual([
			"2025-02-01 Tax 1",
			"2025-02-01 Usage 17.5",
			"2025-02-02 Usage 5",
		]);
		expect(await read("dim[LineItemType]=Usage&dim[LineItemType]=Tax,Credit&granularity=month")).toEqual(["2025-02 20.5"]);
	});

	it("exclude[...] on a built-in dimension, by day and by month", async () => {
		expect(await read("exclude[LineItemType]=Tax,Credit")).toEqual(["2025-02-01 117.5", "2025-02-02 5"]);
		expect(await read("exclude[LineItemType]=Tax,Credit&granularity=month&group_by=LineItemType")).toEqual([
			"2025-02 Purchase 100",
			"2025-02 Usage 22.5",
		]);
	});

	it("dim[...] and exclude[...] on one dimension: both must pass", async () => {
		expect(await read("dim[LineItemType]=Usage,Purchase&exclude[LineItemType]=Purchase&granularity=month")).toEqual(["2025-02 22.5"]);
		expect(await read("dim[LineItemType]=Tax&exclude[LineItemType]=Tax")).toEqual([]);
	});

	it("tags and custom dimensions: escapes, and a missing value is the empty value for dim and exclude alike", async () => {
		expect(await read(`dim[tag:team]=${encodeURIComponent("x\\,y")}`)).toEqual(["2025-02-01 -3"]);
		expect(await read(`dim[Tag:team]=${encodeURIComponent("back\\\\slash,a")}`)).toEqual(["2025-02-01 10.5"]);
		// The tax row, the second Usage row and f2's row have no team: "".
		expect(await read("dim[tag:team]=&granularity=month")).toEqual(["2025-02 13"]);
		expect(await read("exclude[tag:team]=&granularity=month")).toEqual(["2025-02 107.5"]);
		expect(await read("exclude[custom:Team]=a,b&group_by=custom:Team&granularity=month")).toEqual([
			"2025-02 13",
			"2025-02 back\\slash 0.5",
			"2025-02 x,y -3",
		]);
	});

	it("exclude[Connection] leaves a connection out", async () => {
		expect(await read("exclude[Connection]=f2&dim[LineItemType]=Usage&granularity=month")).toEqual(["2025-02 15.5"]);
		expect(await read("exclude[Connection]=f1,f2")).toEqual([]);
		expect(await read("dim[Connection]=f1,f2&exclude[Connection]=f1&granularity=month")).toEqual(["2025-02 7"]);
	});

	it("refuses a name that is no cost dimension and a bad escape, naming the parameter", async () => {
		const auth = { headers: { Authorization: token } };
		for (const [query, code, path] of [
			["exclude[Colour]=red", "unknown_dimension", "exclude[Colour]"],
			["exclude[custom:Nope]=x", "unknown_dimension", "exclude[custom:Nope]"],
			["dim[Service]=a&exclude[custom:Nope]=x", "unknown_dimension", "exclude[custom:Nope]"],
			[`dim[Service]=${encodeURIComponent("a\\b")}`, "invalid_filter", "dim[Service]"],
			[`exclude[LineItemType]=${encodeURIComponent("Tax,Credit\\")}`, "invalid_filter", "exclude[LineItemType]"],
		]) {
			const error = await expectError(await api(`/unit-cost/v1/costs?${query}`, auth), 400, code);
			expect(error.details, query).toEqual([expect.objectContaining({ code, path })]);
		}
	});
});
