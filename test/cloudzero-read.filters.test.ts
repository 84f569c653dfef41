// The read filters on GET /unit-cost/v1/telemetry/metric/{name}: several values in one parameter
// (commas, with \, and \\ escapes), exclude[...], and both on one dimension. The same parser
// serves the Cloudthread and cost reads (their own .filters tests).
import { beforeAll, describe, expect, it } from "vitest";
import { api, createToken, expectAccepted, expectError, readStream, uniqueOrg, write } from "./helpers";

let token: string;
const day = "2024-01-01";

/** The values of the series a query reads, in series order (each series' value is its own power of two). */
async function valuesOf(query: string): Promise<string[]> {
	return (await readStream(token, "regions", query)).map((r) => r.value);
}

/** A filter parameter with its value percent-encoded (a backslash is sent as %5C). */
const filter = (kind: "dim" | "exclude", name: string, value: string) =>
	`${kind}[${encodeURIComponent(name)}]=${encodeURIComponent(value)}`;

beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("read-filters")));
	const series = (value: number, client: string, region: string) => ({
		timestamp: day,
		value,
		associated_cost: { "custom:Client": client, Region: region },
	});
	await expectAccepted(
		await write(token, "regions", "sum", {
			records: [
				series(1, "a", "Europe"),
				series(2, "b", "Australia"),
				series(4, "c", "North America"),
				series(8, "Smith, Jones", "Europe"),
				series(16, "back\\slash", "Asia"),
			],
		}),
	);
});

describe("several values in one parameter", () => {
	it("a comma list matches any of its values, like the repeated parameter, and the two mix", async () => {
		expect(await valuesOf("dim[Region]=Europe,Australia")).toEqual(["1", "2", "8"]);
		expect(await valuesOf("dim[Region]=Europe&dim[Region]=Australia")).toEqual(["1", "2", "8"]);
		expect(await valuesOf("dim[Region]=Europe&dim[Region]=Australia,Asia")).toEqual(["1", "2", "8", "16"]);
		// Commas are read after percent-decoding: %2C separates as well.
		expect(await valuesOf("dim[Region]=Europe%2CAsia")).toEqual(["1", "8", "16"]);
		// An empty item is the empty value, which no series has here.
		expect(await valuesOf("dim[Region]=Europe,")).toEqual(["1", "8"]);
		expect(await valuesOf("dim[Region]=")).toEqual([]);
	});

	it("reads \\, as a comma and \\\\ as a backslash within a value", async () => {
		expect(await valuesOf(filter("dim", "custom:Client", "Smith\\, Jones"))).toEqual(["8"]);
		expect(await valuesOf(filter("dim", "custom:Client", "Smith\\, Jones,a"))).toEqual(["1", "8"]);
		expect(await valuesOf(filter("dim", "custom:Client", "back\\\\slash"))).toEqual(["16"]);
		// Unescaped, the comma splits the value: neither "Smith" nor " Jones" is a client.
		expect(await valuesOf(filter("dim", "custom:Client", "Smith, Jones"))).toEqual([]);
		// The backslash typed raw in the URL, not percent-encoded, is the same escape.
		expect(await valuesOf("dim[custom:Client]=Smith\\,%20Jones")).toEqual(["8"]);
	});

	it("refuses a backslash that escapes nothing, naming every parameter at fault", async () => {
		for (const [query, path] of [
			[filter("dim", "Region", "Europe\\"), "dim[Region]"],
			[filter("dim", "Region", "Eu\\rope"), "dim[Region]"],
			[filter("exclude", "Region", "\\n"), "exclude[Region]"],
			[filter("dim", "custom:Client", "a\\ b"), "dim[custom:Client]"],
		]) {
			const error = await expectError(await api(`/unit-cost/v1/telemetry/metric/regions?${query}`, auth()), 400, "invalid_filter");
			expect(error.details, query).toEqual([{ code: "invalid_filter", message: expect.stringContaining(path), path }]);
		}
		const both = await expectError(
			await api(
				`/unit-cost/v1/telemetry/metric/regions?${filter("dim", "Region", "a\\")}&${filter("exclude", "custom:Client", "\\x")}`,
				auth(),
			),
			400,
			"invalid_filter",
		);
		expect(both.details?.map((d) => [d.path, d.message])).toEqual([
			["dim[Region]", "dim[Region]: the value ends with a lone backslash; write \\\\ for a backslash"],
			[
				"exclude[custom:Client]",
				"exclude[custom:Client]: '\\x' is not an escape: in a filter value, write \\, for a comma and \\\\ for a backslash",
			],
		]);
	});
});

describe("exclude[...]", () => {
	it("leaves out the series with one of its values", async () => {
		expect(await valuesOf("exclude[Region]=Europe,Asia")).toEqual(["2", "4"]);
		expect(await valuesOf("exclude[Region]=Europe&exclude[Region]=Asia")).toEqual(["2", "4"]);
		expect(await valuesOf(filter("exclude", "custom:Client", "Smith\\, Jones,back\\\\slash"))).toEqual(["1", "2", "4"]);
		// The empty value is no series' value: nothing is left out.
		expect(await valuesOf("exclude[Region]=")).toEqual(["1", "2", "4", "8", "16"]);
	});

	it("combines with dim[...], on the same dimension or another: every filter must pass", async () => {
		expect(await valuesOf("dim[Region]=Europe,Australia&exclude[Region]=Australia")).toEqual(["1", "8"]);
		expect(await valuesOf("dim[Region]=Europe&exclude[custom:Client]=a")).toEqual(["8"]);
		expect(await valuesOf("dim[Region]=Europe&exclude[Region]=Europe")).toEqual([]);
	});

	it("pages and writes CSV like any filtered read", async () => {
		const first = await api("/unit-cost/v1/telemetry/metric/regions?exclude[Region]=Europe&limit=2", auth());
		const page = await first.json<{ records: Array<{ value: string }>; next_cursor: string }>();
		expect(page.records.map((r) => r.value)).toEqual(["2", "4"]);
		const csv = await api(`/unit-cost/v1/telemetry/metric/regions?exclude[Region]=Europe&format=csv&cursor=${page.next_cursor}`, auth());
		expect(await csv.text()).toBe("timestamp,value,Region,custom:Client\r\n2024-01-01,16,Asia,back\\slash\r\n");
	});

	it("refuses a dimension the stream does not have, naming the parameter", async () => {
		const error = await expectError(
			await api("/unit-cost/v1/telemetry/metric/regions?exclude[Colour]=red", auth()),
			400,
			"unknown_filter_keys",
		);
		expect(error.details).toEqual([expect.objectContaining({ code: "unknown_filter_keys", path: "exclude[Colour]" })]);
	});
});

function auth() {
	return { headers: { Authorization: token } };
}
