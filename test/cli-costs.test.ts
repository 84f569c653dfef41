/// <reference types="vite/client" />
// `meterline costs import` and `meterline unit-cost` on their own: FOCUS to CBF on real export
// rows (test/fixtures/focus), the spreading of multi-day charges, currencies, drops per month.
import { describe, expect, it } from "vitest";
import { type DropOperation, describeProblems, describeRejectedRows, planDrops, routeCurrencies } from "../cli/costs";
import { type CostRow, columnTotal, periodParts, readCbf, readFocus } from "../cli/costs-file";
import { parseCsv } from "../cli/csv";
import { UsageError } from "../cli/options";
import { rejectionDetails } from "../cli/sender";
import { formatUnitCostCsv, formatUnitCostTable, type UnitCostResponse, unitCostQuery } from "../cli/unit-cost";
import { addDecimals, formatDecimal, parseDecimal, roundToScale, splitDecimal, ZERO } from "../src/lib/decimal";
import focus10 from "./fixtures/focus/focus-1.0-sample.csv?raw";
import focus13 from "./fixtures/focus/focus-1.3-sample.csv?raw";
import { api, createToken, json, uniqueOrg } from "./helpers";

const COST_COLUMNS = ["cost/cost", "cost/discounted_cost", "cost/discounted_amortized_cost", "cost/on_demand_cost", "usage/amount"];
const FOCUS_OF: Record<string, string> = {
	"cost/cost": "BilledCost",
	"cost/discounted_cost": "ContractedCost",
	"cost/discounted_amortized_cost": "EffectiveCost",
	"cost/on_demand_cost": "ListCost",
	"usage/amount": "ConsumedQuantity",
};

/**
 * The exact sum of a FOCUS column, read straight from the CSV (NULL and empty cells skipped), each
 * charge rounded to the 10 decimal places the service keeps of a cost (the sample has 11).
 */
function focusTotal(text: string, column: string): string {
	const [header, ...rows] = parseCsv(text);
	const at = header.fields.indexOf(column);
	let total = ZERO;
	for (const row of rows) {
		const value = parseDecimal(row.fields[at]);
		if (value) total = addDecimals(total, roundToScale(value, 10));
	}
	return formatDecimal(total);
}

const sum = (values: string[]) => formatDecimal(values.map((v) => parseDecimal(v)!).reduce(addDecimals, ZERO));
const day = (iso: string) => Date.parse(iso);

describe("FOCUS 1.0 export (FinOps Foundation sample: AWS, Microsoft, Oracle)", () => {
	const file = readFocus(focus10);

	it("reads every row without a problem: NULL cells, zone-less timestamps, x_ and unknown columns", () => {
		expect(file.problems).toEqual([]);
		expect([...file.read]).toEqual([["USD", 30]]);
		expect(file.rows).toHaveLength(30); // every charge lies within one day
	});

	it("maps an hourly AWS row column by column", () => {
		expect(file.rows[0]).toEqual({
			line: 2,
			currency: "USD",
			at: day("2024-09-18T22:00:00Z"),
			cbf: {
				"time/usage_start": "2024-09-18T22:00:00Z",
				"lineitem/type": "Usage",
				"lineitem/description": "$0.40 per million Amazon SQS standard requests in Tier1 in US West (Oregon)",
				"resource/id": "arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12",
				"resource/service": "Amazon Simple Queue Service",
				"resource/usage_family": "Integration",
				"resource/account": "51738928782",
				"resource/region": "us-west-2",
				"usage/units": "Requests",
				"usage/amount": "2",
				"cost/cost": "0.0000008",
				"cost/discounted_cost": "0",
				"cost/discounted_amortized_cost": "0",
				"cost/on_demand_cost": "0.0000008",
			},
		});
		expect(file.rows[1].cbf).toMatchObject({
			"resource/tag:application": "BrightLensMatrix",
			"resource/tag:environment": "dev",
			"resource/tag:business_unit": "ViennaAI",
		});
	});

	it("gives a row with Tags but no ResourceId the resource id <SubAccountId>/<ChargeCategory>", () => {
		const row = file.rows.find((r) => r.line === 17)!;
		expect(row.cbf["resource/id"]).toBe("84445137922/Usage");
		expect(row.cbf["resource/tag:application"]).toBe("VitalBoxPilot");
		// Without tags, no resource id is made up.
		expect(
			file.rows
				.filter((r) => r.cbf["resource/id"] === undefined)
				.every((r) => !Object.keys(r.cbf).some((k) => k.startsWith("resource/tag:"))),
		).toBe(true);
	});

	it("keeps a credit negative, Oracle adjustments as their own type, and tag keys exactly as written", () => {
		const credit = file.rows.find((r) => r.cbf["lineitem/type"] === "Credit")!;
		expect(credit.cbf["cost/cost"]).toBe("-2.6137");
		expect(credit.cbf["cost/discounted_amortized_cost"]).toBe("-3");
		expect(file.rows.filter((r) => r.cbf["lineitem/type"] === "Adjustment")).toHaveLength(2);
		const azure = file.rows.find((r) => r.cbf["resource/service"] === "Storage Accounts")!;
		expect(azure.cbf["time/usage_start"]).toBe("2024-09-04T00:00:00Z"); // a one-day charge stays at its start
		expect(azure.cbf["resource/tag:org"]).toBe("trey");
		expect(azure.cbf["resource/tag: org"]).toBe("trey");
	});

	it("sends each cost column's total exactly", () => {
		for (const column of COST_COLUMNS) expect(columnTotal(file.rows, column), column).toBe(focusTotal(focus10, FOCUS_OF[column]));
	});
});

describe("FOCUS 1.3 export (synthetic AWS sample)", () => {
	const file = readFocus(focus13);

	it("reads the 1.3 columns (ServiceProviderName, x_ keys in JSON cells) without a problem", () => {
		expect(file.problems).toEqual([]);
		expect([...file.read]).toEqual([["USD", 5]]);
	});

	it("spreads the month-long S3 row over May's 31 days, every cost column exactly", () => {
		const s3 = file.rows.filter((r) => r.line === 2);
		expect(s3).toHaveLength(31);
		expect(s3.map((r) => r.cbf["time/usage_start"])).toEqual(
			Array.from({ length: 31 }, (_, d) => `2026-05-${String(d + 1).padStart(2, "0")}T00:00:00Z`),
		);
		for (const column of COST_COLUMNS) {
			const expected = column === "usage/amount" ? "2022.5207" : "46.5179761";
			expect(sum(s3.map((r) => r.cbf[column])), column).toBe(expected);
		}
		const parts = s3.map((r) => Number(r.cbf["cost/cost"]));
		expect(Math.max(...parts) - Math.min(...parts)).toBeLessThan(1e-9); // even, to the last digit
		expect(s3[0].cbf["resource/tag:Owner"]).toBe("team-payments");
	});

	it("keeps day-long and hourly rows whole, and gives the tax row a resource id for its tags", () => {
		expect(file.rows.filter((r) => r.line === 3).map((r) => r.cbf["time/usage_start"])).toEqual(["2026-05-02T00:00:00Z"]);
		expect(file.rows.filter((r) => r.line === 4).map((r) => r.cbf["time/usage_start"])).toEqual(["2026-05-01T02:00:00Z"]);
		const tax = file.rows.find((r) => r.line === 5)!;
		expect(tax.cbf).toMatchObject({
			"lineitem/type": "Tax",
			"resource/id": "200000000011/Tax",
			"resource/tag:CostCenter": "cc-3110",
			"bill/invoice_id": "INV-2026-05-0002",
		});
		for (const column of COST_COLUMNS) expect(columnTotal(file.rows, column), column).toBe(focusTotal(focus13, FOCUS_OF[column]));
	});
});

describe("spreading a charge over its days", () => {
	it("splits exactly: odd cents, negative credits, more digits than the value", () => {
		const split = (value: string, n: number) => splitDecimal(parseDecimal(value)!, Array(n).fill(1)).map(formatDecimal);
		expect(split("0.01", 3)).toEqual(["0.0033333333", "0.0033333333", "0.0033333334"]);
		expect(split("10.00", 3)).toEqual(["3.3333333333", "3.3333333333", "3.3333333334"]);
		const credit = split("-100.07", 7);
		expect(sum(credit)).toBe("-100.07");
		expect(credit.every((p) => p.startsWith("-"))).toBe(true);
		for (const [value, n] of [
			["123456789012.34", 30],
			["0.0000001", 31],
			["-0.05", 29],
			["7", 1],
			["0", 5],
			["99999999999999.99", 31],
		] as const) {
			expect(sum(split(value, n)), `${value} / ${n}`).toBe(formatDecimal(parseDecimal(value)!));
		}
		// Parts have at most the 10 decimal places the service keeps of a cost, so each is stored as written.
		expect(split("123456789012.34", 30)[0]).toBe("4115226300.4113333333");
		// A charge with more places is rounded to 10 first (as the service would round it), then split.
		expect(split("0.000000000049", 2)).toEqual(["0", "0"]);
		expect(split("0.00000000015", 2)).toEqual(["0.0000000001", "0.0000000001"]);
		expect(sum(split("1.00000000005", 3))).toBe("1.0000000001");
	});

	it("weights each day by the time the period covers in it", () => {
		expect(splitDecimal(parseDecimal("4")!, [1, 2, 1]).map(formatDecimal)).toEqual(["1", "2", "1"]);
	});

	it("puts a charge within one day at its start hour, and one over several days on each day", () => {
		expect(periodParts(day("2024-01-01T05:30:00Z"), day("2024-01-01T07:00:00Z"))).toEqual([{ at: day("2024-01-01T05:00:00Z"), weight: 1 }]);
		expect(periodParts(day("2024-01-01T00:00:00Z"), day("2024-01-02T00:00:00Z"))).toHaveLength(1); // ends at midnight: one day
		// A leap February: 29 days.
		const february = periodParts(day("2024-02-01T00:00:00Z"), day("2024-03-01T00:00:00Z"));
		expect(february).toHaveLength(29);
		expect(new Date(february[28].at).toISOString()).toBe("2024-02-29T00:00:00.000Z");
		expect(new Set(february.map((p) => p.weight)).size).toBe(1);
		// Across a month boundary, half a day on each side.
		expect(periodParts(day("2024-01-31T12:00:00Z"), day("2024-02-01T12:00:00Z"))).toEqual([
			{ at: day("2024-01-31T12:00:00Z"), weight: 43_200_000 },
			{ at: day("2024-02-01T00:00:00Z"), weight: 43_200_000 },
		]);
	});

	it("spreads a monthly fee across a month boundary into both months' drops, the total kept", () => {
		const csv = [
			"ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,BillingCurrency,ChargeCategory,ServiceName",
			"2024-02-15T00:00:00Z,2024-03-15T00:00:00Z,29.01,-0.03,EUR,Purchase,Support",
		].join("\n");
		const { rows, problems } = readFocus(csv);
		expect(problems).toEqual([]);
		expect(rows).toHaveLength(29);
		expect(sum(rows.map((r) => r.cbf["cost/cost"]))).toBe("29.01");
		expect(sum(rows.map((r) => r.cbf["cost/discounted_amortized_cost"]))).toBe("-0.03");
		const drops = planDrops(rows, new Map([["EUR", "eur"]]), {
			operation: "replace_drop",
			maxRecords: 100,
			maxBytes: 1_000_000,
			runId: "",
		});
		expect(drops.map((d) => [d.month, d.count])).toEqual([
			["2024-02", 15],
			["2024-03", 14],
		]);
	});
});

describe("problems in a FOCUS file", () => {
	it("names the file line and the column of every invalid value, and ignores unknown columns", () => {
		const csv = [
			"ChargePeriodStart,ChargePeriodEnd,BilledCost,ListCost,BillingCurrency,Tags,x_Whatever",
			'2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,"1,5",2,USD,,anything',
			"2024-02-30T00:00:00Z,2024-01-01T01:00:00Z,1,abc,usd,,",
			'2024-01-01T02:00:00Z,2024-01-01T01:00:00Z,1,,USD,"[1,2]",',
			"2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,,,,,",
			"2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,1,1,USD",
		].join("\n");
		const { problems, rows } = readFocus(csv);
		expect(rows).toEqual([]);
		expect(describeProblems(problems, "f.csv", 20)).toEqual([
			"f.csv:2: BilledCost: '1,5' is not a decimal number",
			"f.csv:3: BillingCurrency: 'usd' is not an ISO 4217 currency code",
			"f.csv:3: ChargePeriodStart: '2024-02-30T00:00:00Z' is not an ISO 8601 date-time",
			"f.csv:3: ListCost: 'abc' is not a decimal number",
			"f.csv:4: ChargePeriodEnd: must be after ChargePeriodStart",
			"f.csv:4: Tags: is not a JSON object of tag keys and values",
			"f.csv:5: BillingCurrency: is empty: every row needs its currency",
			"f.csv:5: BilledCost: is empty",
			"f.csv:6: expected 7 fields as in the header, found 5",
		]);
		expect(describeProblems(problems, "f.csv", 2)).toEqual([
			"f.csv:2: BilledCost: '1,5' is not a decimal number",
			"f.csv:3: BillingCurrency: 'usd' is not an ISO 4217 currency code",
			"... and 7 more problems",
		]);
		expect(() => readFocus("BilledCost,BillingCurrency\n1,USD\n")).toThrow(
			/not a FOCUS cost-and-usage file: no columns ChargePeriodStart, ChargePeriodEnd/,
		);
	});

	it("reads a CBF file as it is, requiring resource/id where a row has a tag", () => {
		const { rows, problems } = readCbf(
			[
				"time/usage_start,cost/cost,resource/id,resource/tag:team",
				"2024-01-01 06:00:00+01:00,1.5,i-1,a",
				"2024-01-01T06:00:00Z,2,,b",
				"2024-01-01T07:00:00Z,x,,",
			].join("\n"),
		);
		expect(rows.map((r) => r.cbf)).toEqual([
			{ "time/usage_start": "2024-01-01T05:00:00Z", "cost/cost": "1.5", "resource/id": "i-1", "resource/tag:team": "a" },
		]);
		expect(describeProblems(problems, "c.csv", 20)).toEqual([
			"c.csv:3: resource/id: is required when the row has a resource/tag: value",
			"c.csv:4: cost/cost: 'x' is not a decimal number",
		]);
		expect(() => readCbf("time/usage_start,cost/cost,BilledCost\n")).toThrow(/not CBF column: BilledCost/);
	});
});

describe("currencies", () => {
	const mixed = [
		"ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency",
		"2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,1.10,USD",
		"2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2.20,EUR",
		"2024-01-02T00:00:00Z,2024-01-02T01:00:00Z,3.30,USD",
	].join("\n");

	it("refuses a file mixing currencies sent to one connection", () => {
		const file = readFocus(mixed);
		expect([...file.read.keys()].sort()).toEqual(["EUR", "USD"]);
		const routed = routeCurrencies(["aws"], ["EUR", "USD"]);
		expect(routed).toEqual({ error: expect.stringMatching(/2 currencies \(EUR, USD\).*--connection EUR=<id> --connection USD=<id>/) });
		expect(routeCurrencies(["USD=aws-usd"], ["EUR", "USD"])).toEqual({
			error: expect.stringMatching(/costs in EUR but no --connection EUR=<id>/),
		});
	});

	it("sends each currency's rows to its own connection and never adds them together", () => {
		const file = readFocus(mixed);
		const routed = routeCurrencies(["USD=aws-usd", "EUR=aws-eur"], ["EUR", "USD"]);
		if (!("routes" in routed)) throw new Error(routed.error);
		const drops = planDrops(file.rows, routed.routes, { operation: "replace_drop", maxRecords: 10, maxBytes: 1_000_000, runId: "" });
		expect(
			drops.map((d) => [d.connection, d.currency, d.path, JSON.parse(d.body).data.map((r: Record<string, string>) => r["cost/cost"])]),
		).toEqual([
			["aws-usd", "USD", "/v2/connections/billing/anycost/aws-usd/billing_drops", ["1.1", "3.3"]],
			["aws-eur", "EUR", "/v2/connections/billing/anycost/aws-eur/billing_drops", ["2.2"]],
		]);
		expect(
			columnTotal(
				file.rows.filter((r) => r.currency === "USD"),
				"cost/cost",
			),
		).toBe("4.4");
	});

	it("takes one plain connection for a single-currency or CBF file, and refuses ambiguous flags", () => {
		expect(routeCurrencies(["aws"], ["USD"])).toEqual({ routes: new Map([["USD", "aws"]]) });
		expect(routeCurrencies(["cbf-conn"], [""])).toEqual({ routes: new Map([["", "cbf-conn"]]) });
		expect(routeCurrencies(["USD=x"], [""])).toEqual({ error: expect.stringMatching(/CBF file has no currency column/) });
		expect(() => routeCurrencies(["aws", "EUR=b"], [])).toThrow(UsageError);
		expect(() => routeCurrencies(["USD=same", "EUR=same"], [])).toThrow(/'same' is given for USD and EUR/);
		expect(() => routeCurrencies(["has space"], [])).toThrow(UsageError);
	});
});

describe("drops", () => {
	/** Rows at the given hours of 2024-01-01 (hour 24+ is the next day…), one currency. */
	const rowsAt = (hours: number[]): CostRow[] =>
		hours.map((h, i) => {
			const at = day("2024-01-01T00:00:00Z") + h * 3_600_000;
			return { at, line: i + 2, currency: "USD", cbf: { "time/usage_start": new Date(at).toISOString(), "cost/cost": "1" } };
		});
	const plan = (rows: CostRow[], operation: DropOperation, maxRecords: number, runId = "") =>
		planDrops(rows, new Map([["USD", "c"]]), { operation, maxRecords, maxBytes: 1_000_000, runId });

	it("sends a month too large for one request as a replace_drop followed by sums, each body {month, operation, currency, data}", () => {
		const drops = plan(rowsAt([5, 1, 3, 2, 4]), "replace_drop", 2);
		expect(drops.map((d) => [d.month, d.operation, d.count])).toEqual([
			["2024-01", "replace_drop", 2],
			["2024-01", "sum", 2],
			["2024-01", "sum", 1],
		]);
		const bodies = drops.map((d) => JSON.parse(d.body));
		// The drop names the file's currency, so the connection records it.
		expect(bodies[0]).toEqual({
			month: "2024-01",
			operation: "replace_drop",
			currency: "USD",
			data: [expect.any(Object), expect.any(Object)],
		});
		// In time order, whatever the file order.
		expect(bodies.flatMap((b) => b.data.map((r: Record<string, string>) => r["time/usage_start"].slice(11, 13)))).toEqual([
			"01",
			"02",
			"03",
			"04",
			"05",
		]);
		expect(drops[0].where).toBe("drop 1/3 (connection 'c', 2024-01, replace_drop, 2 rows from lines 3-5)");
	});

	it("starts a new drop for each month, each month with its own replace_drop", () => {
		const drops = plan(rowsAt([0, 31 * 24 + 5, 24 * 60]), "replace_drop", 10);
		expect(drops.map((d) => [d.month, d.operation, d.count])).toEqual([
			["2024-01", "replace_drop", 1],
			["2024-02", "replace_drop", 1],
			["2024-03", "replace_drop", 1],
		]);
	});

	it("never cuts an hour across two replace_hourly drops, and refuses an hour larger than a request", () => {
		const drops = plan(rowsAt([1, 1, 2, 2, 2, 3]), "replace_hourly", 4);
		expect(drops.map((d) => [d.operation, d.count])).toEqual([
			["replace_hourly", 2],
			["replace_hourly", 4],
		]);
		expect(plan(rowsAt([1, 1, 2, 2, 2, 3]), "sum", 4).map((d) => d.count)).toEqual([4, 2]);
		expect(() => plan(rowsAt([1, 1, 1]), "replace_hourly", 2)).toThrow(/must go in one request/);
	});

	it("derives idempotency keys from the body and connection: a re-run repeats them, a run id changes them", () => {
		const keys = (runId: string) => plan(rowsAt([1, 2, 3]), "replace_drop", 1, runId).map((d) => d.idempotencyKey);
		expect(keys("")).toEqual(keys(""));
		expect(new Set(keys("")).size).toBe(3);
		expect(keys("again")).not.toEqual(keys(""));
		const other = planDrops(rowsAt([1]), new Map([["USD", "other"]]), {
			operation: "replace_drop",
			maxRecords: 1,
			maxBytes: 1_000_000,
			runId: "",
		});
		expect(other[0].idempotencyKey).not.toBe(keys("")[0]);
	});

	it("names the file line of a row the service refuses", () => {
		const [drop] = plan(rowsAt([3, 1]), "sum", 10);
		expect(
			describeRejectedRows(drop, [{ code: "invalid_value", message: "not a number", record: 1, path: "data[1].cost/cost" }], "f.csv", 20),
		).toEqual(["f.csv:2: cost/cost: not a number [invalid_value]"]);
		const two = [
			{ code: "invalid_value" as const, message: "not a number", record: 0, path: "data[0].cost/cost" },
			{ code: "invalid_value" as const, message: "not a number", record: 1, path: "data[1].cost/cost" },
		];
		// In file order (row 1 of the drop is line 2), at most the limit, then how many more.
		expect(describeRejectedRows(drop, two, "f.csv", 1)).toEqual([
			"f.csv:2: cost/cost: not a number [invalid_value]",
			"... and 1 more problem",
		]);
	});

	it("counts the problems left unlisted from the service's details_total, not from the 100 details it lists", async () => {
		const rows = rowsAt(Array.from({ length: 250 }, (_, h) => h));
		const [drop] = plan(rows, "replace_drop", 1000);
		const body = JSON.parse(drop.body) as { data: Array<Record<string, string>> };
		for (const row of body.data) row["cost/cost"] = "twelve";
		const { token } = await createToken(uniqueOrg("cli-total"), ["write_costs"]);
		const res = await api(`/v2/connections/billing/anycost/${drop.connection}/billing_drops`, json("POST", body, { Authorization: token }));
		expect(res.status).toBe(400);
		const refused = rejectionDetails(await res.json());
		expect([refused.details.length, refused.total]).toEqual([100, 250]);
		const lines = describeRejectedRows(drop, refused.details, "f.csv", 20, refused.total);
		expect(lines).toHaveLength(21);
		// The service's message starts with the column; the CLI names it once.
		expect(lines[0]).toBe("f.csv:2: cost/cost: 'twelve' is not a decimal number [invalid_value]");
		expect(lines[20]).toBe("... and 230 more problems");
		// A body without details_total (or a smaller one) counts what it lists.
		expect(rejectionDetails({ error: { details: refused.details.slice(0, 3) } }).total).toBe(3);
		expect(rejectionDetails({ error: { details: refused.details.slice(0, 3), details_total: 1 } }).total).toBe(3);
	});
});

describe("unit-cost output", () => {
	const body: UnitCostResponse = {
		metric: "api-calls",
		granularity: "month",
		cost_type: "cost",
		results: [
			{ period: "2024-09", group: { "custom:Client": "Sandy, Cheeks" }, currency: "USD", units: "1000", cost: "12.5", unit_cost: "0.0125" },
			{ period: "2024-09", group: {}, currency: "EUR", units: "0", cost: "3", unit_cost: null },
		],
		unmatched_cost: [{ period: "2024-10", currency: "USD", cost: "7.25" }],
	};

	it("prints a table with the unmatched cost", () => {
		expect(formatUnitCostTable(body)).toBe(
			[
				"Unit cost of 'api-calls' (cost, per month)",
				"PERIOD   GROUP                        CURRENCY  UNITS  COST  UNIT COST",
				"2024-09  custom:Client=Sandy, Cheeks  USD        1000  12.5     0.0125",
				"2024-09  -                            EUR           0     3          -",
				"Unmatched cost (matched by no series of the metric):",
				"PERIOD   CURRENCY  COST",
				"2024-10  USD       7.25",
				"",
			].join("\n"),
		);
	});

	it("prints CSV, quoting where needed", () => {
		expect(formatUnitCostCsv(body)).toBe(
			[
				"kind,period,group,currency,units,cost,unit_cost",
				'unit_cost,2024-09,"custom:Client=Sandy, Cheeks",USD,1000,12.5,0.0125',
				"unit_cost,2024-09,,EUR,0,3,",
				"unmatched,2024-10,,USD,,7.25,",
				"",
			].join("\n"),
		);
	});

	it("builds the query from the flags and refuses bad ones", () => {
		expect(
			unitCostQuery({
				start: "2024-09-01",
				end: "2024-09-30",
				granularity: "day",
				"cost-type": "amortized_cost",
				"group-by": "custom:Client",
			}),
		).toBe("?start_date=2024-09-01&end_date=2024-09-30&granularity=day&cost_type=amortized_cost&group_by=custom%3AClient");
		expect(unitCostQuery({})).toBe("");
		// --dim and --exclude: repeatable, split at the first "=", values passed as written.
		const filtered = unitCostQuery({
			"cost-type": "discounted_amortized_cost",
			dim: ["Service=Compute,Storage", "tag:team=a=b"],
			exclude: ["LineItemType=Tax,Credit", "custom:Customer=Smith\\, Jones"],
		});
		expect(filtered).toBe(
			"?cost_type=discounted_amortized_cost&dim%5BService%5D=Compute%2CStorage&dim%5Btag%3Ateam%5D=a%3Db&exclude%5BLineItemType%5D=Tax%2CCredit&exclude%5Bcustom%3ACustomer%5D=Smith%5C%2C+Jones",
		);
		expect([...new URLSearchParams(filtered)]).toEqual([
			["cost_type", "discounted_amortized_cost"],
			["dim[Service]", "Compute,Storage"],
			["dim[tag:team]", "a=b"],
			["exclude[LineItemType]", "Tax,Credit"],
			["exclude[custom:Customer]", "Smith\\, Jones"],
		]);
		expect(() => unitCostQuery({ exclude: ["LineItemType"] })).toThrow(UsageError);
		expect(() => unitCostQuery({ dim: ["=Tax"] })).toThrow(UsageError);
		expect(() => unitCostQuery({ granularity: "week" })).toThrow(UsageError);
		expect(() => unitCostQuery({ start: "2024-9-1" })).toThrow(UsageError);
		expect(() => unitCostQuery({ "cost-type": "billed" })).toThrow(UsageError);
	});
});
