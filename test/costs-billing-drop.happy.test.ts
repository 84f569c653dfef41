// POST /v2/connections/billing/anycost/{connection_id}/billing_drops (CloudZero AnyCost Stream): real
// clients' drops, the three operations, and the daily totals they keep.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { costs, drop, expectDrop, row } from "./costs-helpers";
import { createToken, expectError, seededRandom, storageSnapshot, uniqueOrg } from "./helpers";

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("costs");
	({ token } = await createToken(org, ["write_costs", "read"]));
});

describe("real clients' requests", () => {
	it("CloudZero's example adaptor: only data, raw key in Authorization, numbers as strings, a negative discount", async () => {
		const body = {
			data: [
				{
					"lineitem/type": "Usage",
					"resource/service": "Compute",
					"resource/id": "instance-1",
					"time/usage_start": "2024-08-16 00:00:00",
					"cost/cost": "12.00",
					"cost/discounted_cost": "10.80",
				},
				{
					"lineitem/type": "CommittedUsePurchase",
					"resource/service": "CommittedUse",
					"resource/id": "commit-9",
					"time/usage_start": "2024-08-16 00:00:00",
					"cost/cost": "100",
					"cost/discounted_cost": "100",
				},
				{
					"lineitem/type": "Discount",
					"resource/service": "Volume discount",
					"resource/id": "discount-7",
					"time/usage_start": "2024-08-16 00:00:00",
					"cost/cost": "-1.20",
					"cost/discounted_cost": "-1.20",
				},
			],
		};
		const accepted = await expectDrop(await drop(token, "cz-example", body));
		expect(accepted).toMatchObject({
			connection_id: "cz-example",
			operation: "replace_drop",
			month: "2024-08",
			currency: "USD",
			rows: 3,
			hours: 1,
			hours_replaced: 744,
			connection_created: true,
		});
		expect(accepted.drop_id).toBe(accepted.request_id);
		expect(await costs(token, "dim[Connection]=cz-example")).toEqual([{ period: "2024-08-16", group: {}, currency: "USD", cost: "110.8" }]);
		expect(await costs(token, "dim[Connection]=cz-example&cost_type=discounted_cost&group_by=LineItemType")).toEqual([
			{ period: "2024-08-16", group: { LineItemType: "CommittedUsePurchase" }, currency: "USD", cost: "100" },
			{ period: "2024-08-16", group: { LineItemType: "Discount" }, currency: "USD", cost: "-1.2" },
			{ period: "2024-08-16", group: { LineItemType: "Usage" }, currency: "USD", cost: "10.8" },
		]);
	});

	it("LiteLLM's CloudZero integration: Bearer key, month YYYY-MM, replace_hourly, CZRN resource ids and tags", async () => {
		const litellmRow = (hour: string, spend: string) => ({
			"time/usage_start": `2025-04-19T${hour}:00:00Z`,
			"cost/cost": spend,
			"resource/id": "czrn:litellm:openai:cross-region:team-42:llm-usage:gpt-4o",
			"usage/amount": 1500,
			"usage/units": "tokens",
			"resource/service": "litellm",
			"resource/account": "team-42",
			"resource/region": "cross-region",
			"resource/usage_family": "llm-usage",
			"lineitem/type": "Usage",
			"resource/tag:provider": "openai",
			"resource/tag:model": "gpt-4o",
			"resource/tag:entity_type": "team",
			"resource/tag:api_requests": "12",
		});
		const res = await drop(`Bearer ${token}`, "conn_litellm", {
			month: "2025-04",
			operation: "replace_hourly",
			data: [litellmRow("00", "0.0123"), litellmRow("01", "0.5")],
		});
		expect(await expectDrop(res)).toMatchObject({ operation: "replace_hourly", month: "2025-04", rows: 2, hours: 2, hours_replaced: 2 });
		expect(await costs(token, "dim[Connection]=conn_litellm&group_by=tag:model")).toEqual([
			{ period: "2025-04-19", group: { "tag:model": "gpt-4o" }, currency: "USD", cost: "0.5123" },
		]);
		expect(await costs(token, "dim[Connection]=conn_litellm&group_by=Tag:provider&granularity=month")).toEqual([
			{ period: "2025-04", group: { "Tag:provider": "openai" }, currency: "USD", cost: "0.5123" },
		]);
	});
});

describe("operations", () => {
	it("replace_drop then a smaller drop for the same month leaves only the second", async () => {
		await expectDrop(
			await drop(token, "rd", {
				data: [row("2024-09-01T00:00:00Z", 5, { "resource/service": "A" }), row("2024-09-20T10:00:00Z", 7, { "resource/service": "B" })],
			}),
		);
		await expectDrop(await drop(token, "rd", { month: "2024-09", data: [row("2024-09-02T03:00:00Z", 1, { "resource/service": "C" })] }));
		expect(await costs(token, "dim[Connection]=rd&group_by=Service")).toEqual([
			{ period: "2024-09-02", group: { Service: "C" }, currency: "USD", cost: "1" },
		]);
	});

	it("replace_hourly touches only its hours; sum adds", async () => {
		await expectDrop(
			await drop(token, "rh", { data: [row("2024-10-01T00:00:00Z", 5), row("2024-10-01T01:00:00Z", 7), row("2024-10-02T01:30:00Z", 11)] }),
		);
		await expectDrop(
			await drop(token, "rh", { operation: "replace_hourly", month: "2024-10-01T00:00:00Z", data: [row("2024-10-01T01:15:00Z", 2)] }),
		);
		expect(await costs(token, "dim[Connection]=rh")).toEqual([
			{ period: "2024-10-01", group: {}, currency: "USD", cost: "7" },
			{ period: "2024-10-02", group: {}, currency: "USD", cost: "11" },
		]);
		await expectDrop(
			await drop(token, "rh", { operation: "sum", data: [row("2024-10-02T01:00:00Z", 0.5), row("2024-10-02T01:00:00Z", 0.25)] }),
		);
		expect(await costs(token, "dim[Connection]=rh&granularity=month")).toEqual([
			{ period: "2024-10", group: {}, currency: "USD", cost: "18.75" },
		]);
	});

	it("a 10,000-row drop written in several statement chunks keeps every total exact; sum adds it again; replace_hourly replaces one hour of it", async () => {
		// 2,500 resources with 100-character ids over 4 hours of two days: the hour rows, the day rows
		// and the dimension sets each exceed one JSON parameter, so each is split into chunks.
		const resourceId = (r: number) => `vm-${String(r).padStart(4, "0")}-${"x".repeat(92)}`;
		const hours = ["2024-07-30T22:00:00Z", "2024-07-30T23:00:00Z", "2024-07-31T00:00:00Z", "2024-07-31T01:00:00Z"];
		const centsOf = (h: number, r: number) => ((h * 7 + r * 13) % 97) + 1;
		const data = [];
		const dayCents = new Map<string, number>();
		for (let r = 0; r < 2500; r++) {
			for (let h = 0; h < 4; h++) {
				const cost = centsOf(h, r) / 4;
				// Five different costs (exact in binary) make the rows long enough to need two chunks.
				const others = {
					"cost/discounted_cost": cost - 0.125,
					"cost/amortized_cost": cost + 1024.0625,
					"cost/discounted_amortized_cost": cost + 2048.5625,
					"cost/on_demand_cost": cost * 3,
				};
				data.push(row(hours[h], cost, { ...others, "resource/id": resourceId(r), "resource/tag:customer": `customer-${r % 50}` }));
				const day = hours[h].slice(0, 10);
				dayCents.set(day, (dayCents.get(day) ?? 0) + centsOf(h, r));
			}
		}
		const perDay = (factor: number) =>
			[...dayCents].map(([period, quarters]) => ({ period, group: {}, currency: "USD", cost: String((quarters * factor) / 4) }));
		expect(await expectDrop(await drop(token, "chunked", { operation: "sum", data }))).toMatchObject({ rows: 10_000, hours: 4 });
		expect(await costs(token, "dim[Connection]=chunked")).toEqual(perDay(1));
		expect(await costs(token, "dim[Connection]=chunked&cost_type=on_demand_cost")).toEqual(perDay(3));
		// The drop's scratch table is empty again after its batch.
		expect(await env.DB.prepare("SELECT count(*) AS n FROM cost_drop_dims").first("n")).toBe(0);
		const resource7 = (factor: number) => [
			{
				period: "2024-07",
				group: { Resource: resourceId(7) },
				currency: "USD",
				cost: String(([0, 1, 2, 3].reduce((n, h) => n + centsOf(h, 7), 0) * factor) / 4),
			},
		];
		expect(await costs(token, `dim[Connection]=chunked&granularity=month&group_by=Resource&dim[Resource]=${resourceId(7)}`)).toEqual(
			resource7(1),
		);

		await expectDrop(await drop(token, "chunked", { operation: "sum", data }));
		expect(await costs(token, "dim[Connection]=chunked")).toEqual(perDay(2));
		expect(await costs(token, `dim[Connection]=chunked&granularity=month&group_by=Resource&dim[Resource]=${resourceId(7)}`)).toEqual(
			resource7(2),
		);

		// Replacing the last hour with one row leaves the other three hours (summed twice) and that row.
		await expectDrop(
			await drop(token, "chunked", { operation: "replace_hourly", data: [row(hours[3], 1, { "resource/id": resourceId(7) })] }),
		);
		let lastDay = 0;
		for (let r = 0; r < 2500; r++) lastDay += 2 * centsOf(2, r);
		expect(await costs(token, "dim[Connection]=chunked")).toEqual([
			perDay(2)[0],
			{ period: "2024-07-31", group: {}, currency: "USD", cost: String(lastDay / 4 + 1) },
		]);
	});

	it("replace_drop replaces every hour of its month: leap February, and December (a year's last hour)", async () => {
		expect(await expectDrop(await drop(token, "months", { data: [row("2024-02-29T23:00:00Z", 1)] }))).toMatchObject({
			month: "2024-02",
			hours_replaced: 696,
		});
		expect(await expectDrop(await drop(token, "months", { data: [row("2023-12-31T23:59:59Z", 2)] }))).toMatchObject({
			month: "2023-12",
			hours_replaced: 744,
		});
		expect(await expectDrop(await drop(token, "months", { data: [row("2023-12-01T00:00:00Z", 3)] }))).toMatchObject({ month: "2023-12" });
		expect(await costs(token, "dim[Connection]=months&granularity=month")).toEqual([
			{ period: "2023-12", group: {}, currency: "USD", cost: "3" },
			{ period: "2024-02", group: {}, currency: "USD", cost: "1" },
		]);
	});

	it("a month up to 12 months after the current UTC month is accepted; a later one is refused with future_month", async () => {
		const now = new Date();
		const monthAhead = (n: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + n, 1)).toISOString().slice(0, 7);
		const latest = monthAhead(12);
		expect(await expectDrop(await drop(token, "ahead", { month: latest, data: [row(`${latest}-01T00:00:00Z`, 1)] }))).toMatchObject({
			month: latest,
		});
		const before = await storageSnapshot();
		const tooLate = monthAhead(13);
		const given = await expectError(
			await drop(token, "ahead", { month: tooLate, data: [row(`${tooLate}-01T00:00:00Z`, 1)] }),
			400,
			"future_month",
		);
		expect(given.details).toEqual([
			{ code: "future_month", message: expect.stringContaining(`latest accepted is ${latest}`), path: "month" },
		]);
		// Without month, the rows' month is bounded the same way, and row 0 is named.
		const derived = await expectError(await drop(token, "ahead", { data: [row("2205-03-01T00:00:00Z", 1)] }), 400, "future_month");
		expect(derived.details).toEqual([
			{ code: "future_month", message: expect.stringContaining("2205-03"), record: 0, path: "data[0].time/usage_start" },
		]);
		expect(await storageSnapshot()).toBe(before);
	});

	it("a drop for another connection or organization never changes this one's cost", async () => {
		await expectDrop(await drop(token, "mine", { data: [row("2024-11-05T00:00:00Z", 3)] }));
		await expectDrop(await drop(token, "other", { data: [row("2024-11-05T00:00:00Z", 1000)] }));
		const stranger = (await createToken(uniqueOrg("costs-stranger"), ["write_costs", "read"])).token;
		await expectDrop(await drop(stranger, "mine", { data: [row("2024-11-05T00:00:00Z", 99)] }));
		expect(await costs(token, "dim[Connection]=mine")).toEqual([{ period: "2024-11-05", group: {}, currency: "USD", cost: "3" }]);
		expect(await costs(stranger, "")).toEqual([{ period: "2024-11-05", group: {}, currency: "USD", cost: "99" }]);
	});

	it("a connection keeps its currency: currencies are never added together", async () => {
		await expectDrop(await drop(token, "eur", { currency: "EUR", data: [row("2024-12-01T00:00:00Z", 4)] }));
		await expectDrop(await drop(token, "usd", { data: [row("2024-12-01T00:00:00Z", 6)] }));
		expect(await costs(token, "start_date=2024-12-01&end_date=2024-12-31")).toEqual([
			{ period: "2024-12-01", group: {}, currency: "EUR", cost: "4" },
			{ period: "2024-12-01", group: {}, currency: "USD", cost: "6" },
		]);
		await expectError(await drop(token, "eur", { currency: "USD", data: [row("2024-12-02T00:00:00Z", 1)] }), 409, "currency_mismatch");
		expect(await expectDrop(await drop(token, "eur", { operation: "sum", data: [row("2024-12-02T00:00:00Z", 1)] }))).toMatchObject({
			currency: "EUR",
			connection_created: false,
		});
	});
});

describe("the daily totals the reads scan", () => {
	it("always equal the sums of the stored hours, whatever sequence of operations (seeded)", async () => {
		const r = seededRandom(13);
		for (let step = 0; step < 12; step++) {
			const operation = r.pick(["replace_drop", "replace_hourly", "sum"] as const);
			const data = Array.from({ length: 1 + r.int(20) }, () =>
				row(`2025-07-${String(1 + r.int(3)).padStart(2, "0")}T${String(r.int(24)).padStart(2, "0")}:00:00Z`, (r.int(2000) - 500) / 100, {
					"resource/service": r.pick(["A", "B", "C"]),
				}),
			);
			await expectDrop(await drop(token, r.pick(["model-1", "model-2"]), { operation, data }));
		}
		const compare = async (sql: string) => (await env.DB.prepare(sql).bind(org).all()).results;
		// Exactly: whole units and 10^-10 fractions, each day as one count of 10^-10.
		const daily = await compare(
			"SELECT day, connection_id, dims_id, cost_whole * 10000000000 + cost_frac AS c, on_demand_cost_whole * 10000000000 + on_demand_cost_frac AS o FROM cost_daily WHERE org_id = ? AND cost_daily.connection_id LIKE 'model-%' ORDER BY 1, 2, 3",
		);
		const fromHours = await compare(
			"SELECT substr(hour, 1, 10) AS day, connection_id, dims_id, SUM(cost_whole * 10000000000 + cost_frac) AS c, SUM(on_demand_cost_whole * 10000000000 + on_demand_cost_frac) AS o FROM cost_hourly WHERE org_id = ? AND connection_id LIKE 'model-%' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
		);
		expect(daily.length).toBeGreaterThan(0);
		expect(daily).toEqual(fromHours);
	});
});
