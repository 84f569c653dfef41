// GET /unit-cost/v1/unit-cost/{metric_name} and the custom dimensions it resolves
// (PUT/GET /admin/v1/orgs/{org}/dimensions), against answers computed by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { defineDimension, drop, expectDrop, row } from "./costs-helpers";
import { ADMIN, api, createToken, expectAccepted, expectError, json, uniqueOrg, write } from "./helpers";

let org: string;
let token: string;

async function unitCost(metric: string, query = "") {
	const res = await api(`/unit-cost/v1/unit-cost/${metric}${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	const body = await res.json<Record<string, unknown>>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body;
}

beforeAll(async () => {
	org = uniqueOrg("unit");
	({ token } = await createToken(org, ["write", "read", "write_costs"]));
	expect(await defineDimension(org, "Customer", "Tag:customer")).toMatchObject({ name: "custom:Customer", source: "tag:customer" });
	// Cost (USD, connection aws): 2024-08-16 and 17, two customers in two regions, plus untagged support.
	const tagged = (start: string, cost: number, customer: string, region: string) =>
		row(start, cost, {
			"resource/id": `vm-${customer}-${region}`,
			"resource/region": region,
			"resource/service": "Compute",
			"resource/tag:customer": customer,
		});
	await expectDrop(
		await drop(token, "aws", {
			month: "2024-08",
			data: [
				tagged("2024-08-16T01:00:00Z", 30, "acme", "us-east-1"),
				tagged("2024-08-16T02:00:00Z", 10, "acme", "us-east-1"),
				tagged("2024-08-16T05:00:00Z", 20, "acme", "eu-west-1"),
				tagged("2024-08-16T05:00:00Z", 9, "globex", "us-east-1"),
				tagged("2024-08-17T00:00:00Z", 12, "acme", "us-east-1"),
				row("2024-08-16T00:00:00Z", 100, { "lineitem/type": "Support", "resource/service": "Support" }),
			],
		}),
	);
	// EUR cost of acme in us-east-1 on another connection: never added to the USD.
	await expectDrop(await drop(token, "azure", { currency: "EUR", data: [tagged("2024-08-16T03:00:00Z", 8, "acme", "us-east-1")] }));
	// The metric: API calls per (customer, region).
	const calls = (day: string, value: number, client: string, region: string) => ({
		timestamp: day,
		value,
		associated_cost: { "custom:Customer": client, Region: region },
	});
	await expectAccepted(
		await write(token, "api-calls", "sum", {
			records: [
				calls("2024-08-16", 400, "acme", "us-east-1"),
				calls("2024-08-16", 100, "acme", "eu-west-1"),
				calls("2024-08-16", 0, "globex", "us-east-1"),
				calls("2024-08-17", 24, "acme", "us-east-1"),
				calls("2024-08-17", 5, "initech", "us-east-1"),
			],
		}),
	);
});

describe("unit cost", () => {
	it("per series' associated_cost (one custom, one built-in dimension), grouped by customer; currencies apart; unmatched cost", async () => {
		const body = await unitCost("api-calls", "start_date=2024-08-16&end_date=2024-08-17&group_by=custom:Customer");
		expect(body).toEqual({
			metric: "api-calls",
			granularity: "day",
			cost_type: "cost",
			results: [
				// acme on the 16th: USD (30+10) us-east-1 + 20 eu-west-1 = 60 for 400+100 calls; EUR 8 for the same 500 calls
				{ period: "2024-08-16", group: { "custom:Customer": "acme" }, currency: "EUR", units: "500", cost: "8", unit_cost: "0.016" },
				{ period: "2024-08-16", group: { "custom:Customer": "acme" }, currency: "USD", units: "500", cost: "60", unit_cost: "0.12" },
				// globex: 9 USD for 0 calls
				{ period: "2024-08-16", group: { "custom:Customer": "globex" }, currency: "USD", units: "0", cost: "9", unit_cost: null },
				{ period: "2024-08-17", group: { "custom:Customer": "acme" }, currency: "USD", units: "24", cost: "12", unit_cost: "0.5" },
				// initech has calls but no cost
				{ period: "2024-08-17", group: { "custom:Customer": "initech" }, currency: null, units: "5", cost: "0", unit_cost: "0" },
			],
			// the support line has no customer tag: no series matches it
			unmatched_cost: [{ period: "2024-08-16", currency: "USD", cost: "100" }],
			unknown_dimensions: [],
		});
	});

	it("without group_by, by month: one group", async () => {
		const body = await unitCost("api-calls", "granularity=month");
		expect(body.results).toEqual([
			{ period: "2024-08", group: {}, currency: "EUR", units: "529", cost: "8", unit_cost: "0.0151228733459357" },
			{ period: "2024-08", group: {}, currency: "USD", units: "529", cost: "81", unit_cost: "0.153119092627599" },
		]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-08", currency: "USD", cost: "100" }]);
	});

	it("a series without associated_cost divides all of the organization's cost; cost_type selects the column", async () => {
		await expectAccepted(await write(token, "active-users", "sum", { records: [{ timestamp: "2024-08-16", value: 10 }] }));
		const body = await unitCost("active-users", "start_date=2024-08-16&end_date=2024-08-16&cost_type=discounted_cost");
		expect(body.results).toEqual([
			{ period: "2024-08-16", group: {}, currency: "EUR", units: "10", cost: "8", unit_cost: "0.8" },
			{ period: "2024-08-16", group: {}, currency: "USD", units: "10", cost: "169", unit_cost: "16.9" },
		]);
		expect(body.unmatched_cost).toEqual([]);
	});

	it("an undefined custom dimension matches no cost and is reported", async () => {
		await expectAccepted(
			await write(token, "by-team", "sum", {
				records: [{ timestamp: "2024-08-16", value: 3, associated_cost: { "custom:Team": "core" } }],
			}),
		);
		const body = await unitCost("by-team", "start_date=2024-08-16&end_date=2024-08-16");
		expect(body.unknown_dimensions).toEqual(["custom:Team"]);
		expect(body.results).toEqual([{ period: "2024-08-16", group: {}, currency: null, units: "3", cost: "0", unit_cost: "0" }]);
		// Defining it takes effect at once, for cost already stored too.
		await defineDimension(org, "Team", "Service");
		await expectAccepted(
			await write(token, "by-team", "replace", {
				records: [{ timestamp: "2024-08-16", value: 3, associated_cost: { "custom:Team": "Compute" } }],
			}),
		);
		expect((await unitCost("by-team", "start_date=2024-08-16&end_date=2024-08-16")).results).toEqual([
			// the series core (3, matching no Service) and Compute (3, matching the Compute cost): 6 units in all
			{ period: "2024-08-16", group: {}, currency: "EUR", units: "6", cost: "8", unit_cost: "1.33333333333333" },
			{ period: "2024-08-16", group: {}, currency: "USD", units: "6", cost: "69", unit_cost: "11.5" },
		]);
	});

	it("refuses a group_by the stream does not have, and an unknown stream", async () => {
		await expectError(
			await api("/unit-cost/v1/unit-cost/api-calls?group_by=Service", { headers: { Authorization: token } }),
			400,
			"unknown_filter_keys",
		);
		await expectError(await api("/unit-cost/v1/unit-cost/nope", { headers: { Authorization: token } }), 404, "stream_not_found");
		const other = (await createToken(uniqueOrg("unit-other"), ["read"])).token;
		await expectError(await api("/unit-cost/v1/unit-cost/api-calls", { headers: { Authorization: other } }), 404, "stream_not_found");
	});

	it("refuses a query parameter that is neither one of its options nor a filter, misspelt ones included", async () => {
		for (const query of ["group-by=custom:Client", "dims[Service]=x", "granularity=month&limit=5"]) {
			const error = await expectError(
				await api(`/unit-cost/v1/unit-cost/api-calls?${query}`, { headers: { Authorization: token } }),
				400,
				"invalid_filter",
			);
			expect(error.details?.[0].message).toMatch(
				/is not a query option of this endpoint \(start_date, end_date, granularity, cost_type, group_by\); filter by a cost dimension with dim\[<name>\]=<values> or exclude\[<name>\]=<values>$/,
			);
		}
	});

	it("refuses a metric name that no stream can have, as the telemetry paths do, and documents it the same way", async () => {
		for (const name of ["a%20b", "x".repeat(257), "caf%C3%A9"]) {
			await expectError(await api(`/unit-cost/v1/unit-cost/${name}`, { headers: { Authorization: token } }), 400, "invalid_stream_name");
		}
		const doc = await (await api("/openapi.json")).json<{
			paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string; schema: object }> }>>;
		}>();
		const param = (path: string, name: string) => doc.paths[path].get.parameters.find((p) => p.in === "path" && p.name === name)?.schema;
		expect(param("/unit-cost/v1/unit-cost/{metric_name}", "metric_name")).toEqual(param("/unit-cost/v1/telemetry/metric/{name}", "name"));
	});
});

describe("custom dimensions (admin)", () => {
	it("lists the organization's definitions, refuses bad sources and names, needs the admin token", async () => {
		const res = await api(`/admin/v1/orgs/${org}/dimensions`, { headers: ADMIN });
		expect(res.status).toBe(200);
		expect((await res.json<{ dimensions: Array<{ name: string; source: string }> }>()).dimensions.map((d) => [d.name, d.source])).toEqual([
			["custom:Customer", "tag:customer"],
			["custom:Team", "Service"],
		]);
		await expectError(
			await api(`/admin/v1/orgs/${org}/dimensions/Bad`, json("PUT", { source: "custom:Customer" }, ADMIN)),
			400,
			"invalid_format",
		);
		await expectError(
			await api(`/admin/v1/orgs/${org}/dimensions/Bad`, json("PUT", { source: "Service", extra: 1 }, ADMIN)),
			400,
			"unknown_field",
		);
		await expectError(
			await api(`/admin/v1/orgs/${org}/dimensions/.hidden`, json("PUT", { source: "Service" }, ADMIN)),
			400,
			"invalid_format",
		);
		await expectError(await api(`/admin/v1/orgs/${org}/dimensions`, { headers: { Authorization: token } }), 403, "not_authorized");
		const other = await api(`/admin/v1/orgs/${uniqueOrg("none")}/dimensions`, { headers: ADMIN });
		expect(await other.json()).toEqual({ dimensions: [] });
	});
});

describe("the README's walkthrough", () => {
	it("a drop, a custom dimension and a stream give the unit cost the README shows", async () => {
		const readmeOrg = uniqueOrg("readme");
		const { token: t } = await createToken(readmeOrg, ["write", "read", "delete_stream", "write_costs"]);
		const records = [0, 1, 2].map((h) => ({
			timestamp: `2023-12-07T0${h}:00:00Z`,
			value: String((h + 1) * 100),
			granularity: "HOURLY",
			associated_cost: { "custom:Client": "Patric Star" },
		}));
		await expectAccepted(await write(t, "my-metric-stream", "replace", { records }));
		await expectDrop(
			await drop(t, "aws", {
				data: [{ "time/usage_start": "2023-12-07T10:00Z", "cost/cost": 30, "resource/id": "i-1", "resource/tag:client": "Patric Star" }],
			}),
		);
		await defineDimension(readmeOrg, "Client", "tag:client");
		const res = await api("/unit-cost/v1/unit-cost/my-metric-stream", { headers: { Authorization: t } });
		expect((await res.json<{ results: unknown[] }>()).results).toEqual([
			{ period: "2023-12-07", group: {}, currency: "USD", units: "600", cost: "30", unit_cost: "0.05" },
		]);
	});
});
