// Unit cost with cost filters (dim[...] and exclude[...] on cost dimensions: built-in, tag,
// custom, Connection): they choose the cost rows before matching, units are unaffected and
// unmatched_cost follows them. Then a worked example: a FOCUS export with a commitment purchase,
// the usage it covers, tax and a credit, imported through the CLI's conversion, whose amortized
// unit cost without tax and credits counts the purchase once, as computed by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { planDrops } from "../cli/costs";
import { readFocus } from "../cli/costs-file";
import { unitCostQuery } from "../cli/unit-cost";
import { defineDimension, drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectAccepted, expectError, uniqueOrg, write } from "./helpers";

interface UnitCostBody {
	results: Array<{
		period: string;
		group: Record<string, string>;
		currency: string | null;
		units: string;
		cost: string;
		unit_cost: string | null;
	}>;
	unmatched_cost: Array<{ period: string; currency: string; cost: string }>;
}

async function unitCost(token: string, metric: string, query: string): Promise<UnitCostBody> {
	const res = await api(`/unit-cost/v1/unit-cost/${metric}?${query}`, { headers: { Authorization: token } });
	const body = await res.json<UnitCostBody>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body;
}

/** Results as "<customer> <currency> <units> <cost> <unit_cost>" lines, for compact assertions. */
const lines = (body: UnitCostBody) =>
	body.results.map((r) => [Object.values(r.group).join("|") || "-", r.currency ?? "-", r.units, r.cost, r.unit_cost ?? "-"].join(" "));

describe("unit cost filters", () => {
	let org: string;
	let token: string;
	const on = "start_date=2024-08-16&end_date=2024-08-16&group_by=custom:Customer";

	beforeAll(async () => {
		org = uniqueOrg("unit-filters");
		({ token } = await createToken(org, ["write", "read", "write_costs"]));
		await defineDimension(org, "Customer", "tag:customer");
		const tagged = (cost: number, customer: string, extra: Record<string, string>) =>
			row("2024-08-16T01:00:00Z", cost, { "resource/id": `vm-${customer}`, "resource/tag:customer": customer, ...extra });
		await expectDrop(
			await drop(token, "aws", {
				month: "2024-08",
				data: [
					tagged(30, "acme", { "resource/service": "Compute", "resource/region": "us-east-1" }),
					tagged(3, "acme", { "resource/service": "Compute", "lineitem/type": "Tax" }),
					tagged(20, "acme", { "resource/service": "Storage", "resource/region": "eu-west-1" }),
					tagged(9, "globex", { "resource/service": "Compute", "resource/region": "us-east-1" }),
					row("2024-08-16T00:00:00Z", 100, { "lineitem/type": "Support", "resource/service": "Support" }),
				],
			}),
		);
		await expectDrop(await drop(token, "gcp", { data: [tagged(7, "acme", { "resource/service": "Compute" })] }));
		await expectAccepted(
			await write(token, "api-calls", "sum", {
				records: [
					{ timestamp: "2024-08-16", value: 500, associated_cost: { "custom:Customer": "acme" } },
					{ timestamp: "2024-08-16", value: 10, associated_cost: { "custom:Customer": "globex" } },
				],
			}),
		);
	});

	it("without filters: every cost row, the support line unmatched", async () => {
		const body = await unitCost(token, "api-calls", on);
		expect(lines(body)).toEqual(["acme USD 500 60 0.12", "globex USD 10 9 0.9"]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-08-16", currency: "USD", cost: "100" }]);
	});

	it("a built-in dimension: exclude[LineItemType] leaves tax and support out of cost and unmatched_cost, units unchanged", async () => {
		const body = await unitCost(token, "api-calls", `${on}&exclude[LineItemType]=Tax,Support`);
		expect(lines(body)).toEqual(["acme USD 500 57 0.114", "globex USD 10 9 0.9"]);
		expect(body.unmatched_cost).toEqual([]);
		expect(lines(await unitCost(token, "api-calls", `${on}&dim[Service]=Compute&exclude[LineItemType]=Tax`))).toEqual([
			"acme USD 500 37 0.074",
			"globex USD 10 9 0.9",
		]);
		// The same by month (the rows are summed per month before they are matched).
		const month = await unitCost(token, "api-calls", "granularity=month&group_by=custom:Customer&dim[LineItemType]=Usage,Support");
		expect(lines(month)).toEqual(["acme USD 500 57 0.114", "globex USD 10 9 0.9"]);
		expect(month.unmatched_cost).toEqual([{ period: "2024-08", currency: "USD", cost: "100" }]);
	});

	it("a tag and a custom dimension; a row without the tag has the value ''", async () => {
		const body = await unitCost(token, "api-calls", `${on}&exclude[tag:customer]=globex`);
		expect(lines(body)).toEqual(["acme USD 500 60 0.12", "globex - 10 0 0"]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-08-16", currency: "USD", cost: "100" }]);
		expect(lines(await unitCost(token, "api-calls", `${on}&dim[Tag:customer]=acme`))).toEqual(["acme USD 500 60 0.12", "globex - 10 0 0"]);
		// acme or no customer at all: the support line stays, unmatched.
		const custom = await unitCost(token, "api-calls", `${on}&dim[custom:Customer]=acme,`);
		expect(lines(custom)).toEqual(["acme USD 500 60 0.12", "globex - 10 0 0"]);
		expect(custom.unmatched_cost).toEqual([{ period: "2024-08-16", currency: "USD", cost: "100" }]);
		expect((await unitCost(token, "api-calls", `${on}&exclude[custom:Customer]=`)).unmatched_cost).toEqual([]);
	});

	it("Connection: a connection's cost in or out", async () => {
		expect(lines(await unitCost(token, "api-calls", `${on}&exclude[Connection]=aws`))).toEqual(["acme USD 500 7 0.014", "globex - 10 0 0"]);
		expect(
			lines(await unitCost(token, "api-calls", `${on}&dim[Connection]=aws,gcp&exclude[Connection]=gcp&exclude[LineItemType]=Support`)),
		).toEqual(["acme USD 500 53 0.106", "globex USD 10 9 0.9"]);
	});

	it("refuses a name that is no cost dimension (after a missing stream), and a bad escape, naming the parameter", async () => {
		const auth = { headers: { Authorization: token } };
		for (const [query, code, path] of [
			["exclude[Colour]=red", "unknown_dimension", "exclude[Colour]"],
			["dim[Service]=Compute&exclude[custom:Nope]=x", "unknown_dimension", "exclude[custom:Nope]"],
			["dim[custom:Nope]=x&group_by=custom:Customer", "unknown_dimension", "dim[custom:Nope]"],
			[`exclude[LineItemType]=${encodeURIComponent("Tax\\")}`, "invalid_filter", "exclude[LineItemType]"],
			[`dim[tag:customer]=${encodeURIComponent("a\\b")}`, "invalid_filter", "dim[tag:customer]"],
		]) {
			const error = await expectError(await api(`/unit-cost/v1/unit-cost/api-calls?${query}`, auth), 400, code);
			expect(error.details, query).toEqual([expect.objectContaining({ code, path })]);
		}
		// A missing stream is reported before a filter naming no cost dimension, as before a bad range.
		for (const query of ["exclude[Colour]=red", "dim[custom:Nope]=x"])
			await expectError(await api(`/unit-cost/v1/unit-cost/no-such-metric?${query}`, auth), 404, "stream_not_found");
	});
});

/*
 * A month of a one-year commitment, in FOCUS 1.0 columns. On 2024-09-01 the commitment is bought
 * upfront: a Purchase row whose BilledCost is the whole fee, 876 (0.10 an hour for 8,760 hours), and
 * whose EffectiveCost is 0. The instance it covers bills 0 a day (BilledCost) but carries its
 * amortized share, 2.40 a day (EffectiveCost; ListCost 4.80 on demand). Globex's instance is not
 * covered: 3 billed and effective. Then tax (10% of the bill, 87.90; of the effective cost, 0.78) and
 * a promotional credit of -5, both allocated to acme by tag.
 */
const FOCUS_FILE = [
	"BillingAccountId,SubAccountId,BillingCurrency,ChargeCategory,ChargeFrequency,ChargeDescription,ChargePeriodStart,ChargePeriodEnd,BilledCost,ContractedCost,EffectiveCost,ListCost,CommitmentDiscountId,ResourceId,ServiceName,Tags",
	"900,111,USD,Purchase,One-Time,1-year compute commitment,2024-09-01T00:00:00Z,2024-09-01T01:00:00Z,876,876,0,876,cd-1,,Compute,",
	'900,111,USD,Usage,Usage-Based,m5 covered,2024-09-01T00:00:00Z,2024-09-02T00:00:00Z,0,0,2.4,4.8,cd-1,i-acme,Compute,"{""customer"": ""acme""}"',
	'900,111,USD,Usage,Usage-Based,m5 covered,2024-09-02T00:00:00Z,2024-09-03T00:00:00Z,0,0,2.4,4.8,cd-1,i-acme,Compute,"{""customer"": ""acme""}"',
	'900,111,USD,Usage,Usage-Based,m5 on demand,2024-09-01T00:00:00Z,2024-09-02T00:00:00Z,3,3,3,3,,i-globex,Compute,"{""customer"": ""globex""}"',
	'900,111,USD,Tax,One-Time,VAT,2024-09-01T00:00:00Z,2024-09-01T01:00:00Z,87.9,87.9,0.78,87.9,,,Tax,"{""customer"": ""acme""}"',
	'900,111,USD,Credit,One-Time,Promotional credit,2024-09-02T00:00:00Z,2024-09-02T01:00:00Z,-5,-5,-5,-5,,,Compute,"{""customer"": ""acme""}"',
].join("\n");

describe("a FOCUS file: amortized unit cost counts no purchase twice", () => {
	let org: string;
	let token: string;
	const september = "start_date=2024-09-01&end_date=2024-09-30&granularity=month";

	beforeAll(async () => {
		org = uniqueOrg("unit-focus");
		({ token } = await createToken(org, ["write", "read", "write_costs"]));
		// What `meterline costs import <file> --connection aws` sends: the FOCUS rows as CBF drops.
		const file = readFocus(FOCUS_FILE);
		expect(file.problems).toEqual([]);
		const drops = planDrops(file.rows, new Map([["USD", "aws"]]), {
			operation: "replace_drop",
			maxRecords: 10_000,
			maxBytes: 5_000_000,
			runId: "",
		});
		expect(drops.map((d) => [d.month, d.operation, d.count])).toEqual([["2024-09", "replace_drop", 6]]);
		for (const d of drops) await expectDrop(await drop(token, d.connection, JSON.parse(d.body), { "Idempotency-Key": d.idempotencyKey }));
		await defineDimension(org, "Customer", "tag:customer");
		await expectAccepted(
			await write(token, "api-calls", "sum", {
				records: [
					{ timestamp: "2024-09-01", value: 100, associated_cost: { "custom:Customer": "acme" } },
					{ timestamp: "2024-09-02", value: 120, associated_cost: { "custom:Customer": "acme" } },
					{ timestamp: "2024-09-01", value: 50, associated_cost: { "custom:Customer": "globex" } },
				],
			}),
		);
		await expectAccepted(await write(token, "requests", "sum", { records: [{ timestamp: "2024-09-01", value: 1000 }] }));
	});

	it("maps ChargeCategory to LineItemType, EffectiveCost to discounted_amortized_cost, BilledCost to cost", async () => {
		const res = await api(`/unit-cost/v1/costs?${september}&group_by=LineItemType&cost_type=discounted_amortized_cost`, {
			headers: { Authorization: token },
		});
		expect(
			(await res.json<{ costs: Array<{ group: Record<string, string>; cost: string }> }>()).costs.map((l) => [
				l.group.LineItemType,
				l.cost,
			]),
		).toEqual([
			["Credit", "-5"],
			["Purchase", "0"],
			["Tax", "0.78"],
			["Usage", "7.8"],
		]);
		const billed = await api(`/unit-cost/v1/costs?${september}&group_by=LineItemType`, { headers: { Authorization: token } });
		expect(
			(await billed.json<{ costs: Array<{ group: Record<string, string>; cost: string }> }>()).costs.map((l) => [
				l.group.LineItemType,
				l.cost,
			]),
		).toEqual([
			["Credit", "-5"],
			["Purchase", "876"],
			["Tax", "87.9"],
			["Usage", "3"],
		]);
	});

	it("cost_type=discounted_amortized_cost&exclude[LineItemType]=Tax,Credit: the usage's amortized cost per unit", async () => {
		const body = await unitCost(
			token,
			"api-calls",
			`${september}&group_by=custom:Customer&cost_type=discounted_amortized_cost&exclude[LineItemType]=Tax,Credit`,
		);
		// acme: 2.40 + 2.40 for 100 + 120 calls; globex: 3 for 50 calls. The purchase's EffectiveCost is 0
		// and it has no customer: it is unmatched, and adds nothing.
		expect(lines(body)).toEqual(["acme USD 220 4.8 0.0218181818181818", "globex USD 50 3 0.06"]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-09", currency: "USD", cost: "0" }]);
		// Without the exclusion, the tax (0.78) and the credit (-5) land on acme: 0.58 for 220 calls.
		const all = await unitCost(token, "api-calls", `${september}&group_by=custom:Customer&cost_type=discounted_amortized_cost`);
		expect(lines(all)).toEqual(["acme USD 220 0.58 0.00263636363636364", "globex USD 50 3 0.06"]);
		// `meterline unit-cost api-calls ... --exclude LineItemType=Tax,Credit` asks the same.
		const flags = unitCostQuery({
			start: "2024-09-01",
			end: "2024-09-30",
			granularity: "month",
			"group-by": "custom:Customer",
			"cost-type": "discounted_amortized_cost",
			exclude: ["LineItemType=Tax,Credit"],
		});
		expect(await unitCost(token, "api-calls", flags.slice(1))).toEqual(body);
		// A metric matching all cost: the month's amortized cost is the usage alone, 7.80, not 876 more.
		const total = await unitCost(token, "requests", `${september}&cost_type=discounted_amortized_cost&exclude[LineItemType]=Tax,Credit`);
		expect(lines(total)).toEqual(["- USD 1000 7.8 0.0078"]);
	});

	it("cost_type=cost shows the purchase once, on the day it was billed, and the covered usage at 0", async () => {
		const body = await unitCost(
			token,
			"api-calls",
			`${september}&group_by=custom:Customer&cost_type=cost&exclude[LineItemType]=Tax,Credit`,
		);
		expect(lines(body)).toEqual(["acme USD 220 0 0", "globex USD 50 3 0.06"]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-09", currency: "USD", cost: "876" }]);
		const daily = await unitCost(
			token,
			"requests",
			"start_date=2024-09-01&end_date=2024-09-02&cost_type=cost&exclude[LineItemType]=Tax,Credit",
		);
		// 876 + 0 + 3 on the 1st; on the 2nd, acme's covered usage billed 0 (and no units to divide by).
		expect(daily.results.map((r) => [r.period, r.cost, r.unit_cost])).toEqual([
			["2024-09-01", "879", "0.879"],
			["2024-09-02", "0", null],
		]);
		expect(daily.unmatched_cost).toEqual([]);
	});
});
