// Allocated cost (issue 19): allocation:<stream> as a dimension of the cost and unit-cost reads,
// and as a custom dimension's source. Checked against a BigInt oracle (seeded rows and values),
// against figures computed by hand, and docs/unit-cost.md's worked example.
import { describe, expect, it } from "vitest";
import { allocate, deleteAllocationStream } from "./allocation-helpers";
import { type CostLine, costs, defineDimension, drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectAccepted, expectError, seededRandom, uniqueOrg, write } from "./helpers";

const SCOPES = ["write", "read", "write_costs"];

/** A decimal string as an exact count of 10^-10 (the reads' costs here have at most 15 significant digits, so they are exact). */
function units(decimal: string): bigint {
	const negative = decimal.startsWith("-");
	const [whole, fraction = ""] = decimal.replace("-", "").split(".");
	const n = BigInt(whole) * 10_000_000_000n + BigInt(fraction.padEnd(10, "0"));
	return negative ? -n : n;
}

type Rec = { timestamp: string; granularity: string; filter: Record<string, string[]>; element_name: string; value: number };
const rec = (timestamp: string, granularity: string, filter: Record<string, string[]>, element_name: string, value: number): Rec => ({
	timestamp,
	granularity,
	filter,
	element_name,
	value,
});

async function sendAllocation(token: string, stream: string, records: Rec[]) {
	const res = await allocate(token, stream, "sum", { records });
	expect(res.status, await res.clone().text()).toBe(200);
}

/** Lines as {period|group: cost}. */
const byKey = (lines: CostLine[], name?: string) =>
	Object.fromEntries(lines.map((l) => [name ? `${l.period}|${l.group[name]}` : l.period, l.cost]));

async function unitCost(token: string, metric: string, query: string) {
	const res = await api(`/unit-cost/v1/unit-cost/${metric}?${query}`, { headers: { Authorization: token } });
	const body = await res.json<Record<string, any>>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body;
}

describe("docs/unit-cost.md's worked example: a shared RDS cost split by writes per product, then cost per order per product", () => {
	it("reads the figures the page shows", async () => {
		const org = uniqueOrg("alloc-doc");
		const { token } = await createToken(org, SCOPES);
		// The month's cost: RDS shared by three products, and compute no product's writes cover.
		await expectDrop(
			await drop(token, "aws", {
				month: "2024-09",
				data: [
					row("2024-09-02T00:00:00Z", "100", { "resource/service": "AmazonRDS" }),
					row("2024-09-03T00:00:00Z", "60", { "resource/service": "AmazonRDS" }),
					row("2024-09-02T00:00:00Z", "50", { "resource/service": "AmazonEC2" }),
				],
			}),
		);
		// Writes per product, daily, for the RDS cost.
		const rds = { Service: ["AmazonRDS"] };
		await sendAllocation(token, "rds-writes-by-product", [
			rec("2024-09-02", "DAILY", rds, "A", 600),
			rec("2024-09-02", "DAILY", rds, "B", 300),
			rec("2024-09-02", "DAILY", rds, "C", 100),
			rec("2024-09-03", "DAILY", rds, "A", 1),
			rec("2024-09-03", "DAILY", rds, "B", 2),
		]);
		expect(await defineDimension(org, "Product", "allocation:rds-writes-by-product")).toMatchObject({
			name: "custom:Product",
			source: "allocation:rds-writes-by-product",
		});
		const range = "start_date=2024-09-01&end_date=2024-09-30";
		expect(await costs(token, `${range}&group_by=custom:Product`)).toEqual([
			{ period: "2024-09-02", group: { "custom:Product": "" }, currency: "USD", cost: "50" },
			{ period: "2024-09-02", group: { "custom:Product": "A" }, currency: "USD", cost: "60" },
			{ period: "2024-09-02", group: { "custom:Product": "B" }, currency: "USD", cost: "30" },
			{ period: "2024-09-02", group: { "custom:Product": "C" }, currency: "USD", cost: "10" },
			{ period: "2024-09-03", group: { "custom:Product": "A" }, currency: "USD", cost: "20" },
			{ period: "2024-09-03", group: { "custom:Product": "B" }, currency: "USD", cost: "40" },
		]);
		expect(await costs(token, `${range}&granularity=month&group_by=custom:Product`)).toEqual([
			{ period: "2024-09", group: { "custom:Product": "" }, currency: "USD", cost: "50" },
			{ period: "2024-09", group: { "custom:Product": "A" }, currency: "USD", cost: "80" },
			{ period: "2024-09", group: { "custom:Product": "B" }, currency: "USD", cost: "70" },
			{ period: "2024-09", group: { "custom:Product": "C" }, currency: "USD", cost: "10" },
		]);
		// The same through the stream's own name, and filtered to one product.
		expect(
			byKey(await costs(token, `${range}&granularity=month&group_by=allocation:rds-writes-by-product`), "allocation:rds-writes-by-product"),
		).toEqual({
			"2024-09|": "50",
			"2024-09|A": "80",
			"2024-09|B": "70",
			"2024-09|C": "10",
		});
		expect(await costs(token, `${range}&granularity=month&dim[custom:Product]=B`)).toEqual([
			{ period: "2024-09", group: {}, currency: "USD", cost: "70" },
		]);
		// Orders per product: the metric that divides each product's cost.
		const orders = (day: string, value: number, product: string) => ({
			timestamp: day,
			value,
			associated_cost: { "custom:Product": product },
		});
		await expectAccepted(
			await write(token, "orders", "sum", {
				records: [
					orders("2024-09-02", 40, "A"),
					orders("2024-09-02", 10, "B"),
					orders("2024-09-03", 40, "A"),
					orders("2024-09-03", 20, "B"),
				],
			}),
		);
		const body = await unitCost(token, "orders", `${range}&granularity=month&group_by=custom:Product`);
		expect(body.results).toEqual([
			{ period: "2024-09", group: { "custom:Product": "A" }, currency: "USD", units: "80", cost: "80", unit_cost: "1" },
			{ period: "2024-09", group: { "custom:Product": "B" }, currency: "USD", units: "30", cost: "70", unit_cost: "2.33333333333333" },
		]);
		expect(body.unmatched_cost).toEqual([{ period: "2024-09", currency: "USD", cost: "60" }]);
		expect(body.unknown_dimensions).toEqual([]);
	});
});

describe("the split against a BigInt oracle", () => {
	const DAYS = ["2024-10-01", "2024-10-02", "2024-10-03", "2024-10-04"];
	const SERVICES = ["A", "B", "C", "D"];
	const REGIONS = ["r1", "r2"];
	const ELEMENTS = ["e1", "e2", "e3", "e4"];
	// Keys ANDed, a key's values ORed; (A, r1) matches G1 and G2: split by their records pooled.
	const GROUPS = [
		{ Service: ["A"], Region: ["r1", "r2"] },
		{ Service: ["A", "B"], Region: ["r1"] },
		{ Service: ["C"], Region: ["r2"] },
	];
	const matches = (g: Record<string, string[]>, service: string, region: string) =>
		g.Service.includes(service) && g.Region.includes(region);

	it("each element's line is its rows' exact shares (to a unit of 10^-10 per row), and the lines add up exactly to the day", async () => {
		for (const seed of [1, 2, 3]) {
			const random = seededRandom(seed);
			const org = uniqueOrg(`alloc-oracle-${seed}`);
			const { token } = await createToken(org, SCOPES);
			// Rows: one per (day, service, region, resource), cost with 10 decimals, some negative.
			const rows: Array<{ day: string; service: string; region: string; cost: string }> = [];
			for (const day of DAYS)
				for (const service of SERVICES)
					for (const region of REGIONS)
						for (let i = 0; i < 2; i++) {
							// At most 14 significant digits in a day's line: the read's 15 show them exactly.
							const cost = `${random.int(10) === 0 ? "-" : ""}${random.int(100)}.${String(random.int(10_000_000_000)).padStart(10, "0")}`;
							rows.push({ day, service, region, cost });
						}
			await expectDrop(
				await drop(token, "aws", {
					month: "2024-10",
					data: rows.map((r, i) =>
						row(`${r.day}T0${i % 10}:00:00Z`, r.cost, {
							"resource/service": r.service,
							"resource/region": r.region,
							"resource/id": `res-${i % 2}`,
						}),
					),
				}),
			);
			// Values: no records on the last day; G3 has only zero values on the first.
			const values = new Map<string, number>(); // day|group|element
			const records: Rec[] = [];
			for (const day of DAYS.slice(0, 3))
				GROUPS.forEach((g, gi) => {
					for (const element of ELEMENTS) {
						if (random.int(4) === 0) continue;
						const value = gi === 2 && day === DAYS[0] ? 0 : random.int(10);
						values.set(`${day}|${gi}|${element}`, value);
						records.push(rec(`${day}T12:00:00Z`, "DAILY", g, element, value));
					}
				});
			await sendAllocation(token, "usage", records);

			// The oracle: per (day, element) the exact sum of shares as a fraction-free float
			// estimate plus the number of rows; '' and the day totals exactly.
			const expected = new Map<string, number>();
			const rowsOf = new Map<string, number>();
			const unallocated = new Map<string, bigint>();
			const totals = new Map<string, bigint>();
			for (const r of rows) {
				const t = units(r.cost);
				totals.set(r.day, (totals.get(r.day) ?? 0n) + t);
				const pool = new Map<string, number>();
				GROUPS.forEach((g, gi) => {
					if (!matches(g, r.service, r.region)) return;
					for (const element of ELEMENTS) {
						const v = values.get(`${r.day}|${gi}|${element}`);
						if (v !== undefined) pool.set(element, (pool.get(element) ?? 0) + v);
					}
				});
				const total = [...pool.values()].reduce((a, b) => a + b, 0);
				if (total === 0) {
					unallocated.set(r.day, (unallocated.get(r.day) ?? 0n) + t);
					continue;
				}
				for (const [element, v] of pool) {
					if (v === 0) continue;
					const key = `${r.day}|${element}`;
					expected.set(key, (expected.get(key) ?? 0) + Number((t * BigInt(v) * 1000n) / BigInt(total)) / 1000);
					rowsOf.set(key, (rowsOf.get(key) ?? 0) + 1);
				}
			}
			const lines = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&group_by=allocation:usage&limit=1000");
			const got = new Map(lines.map((l) => [`${l.period}|${l.group["allocation:usage"]}`, units(l.cost)]));
			for (const [key, exact] of expected) {
				const line = got.get(key);
				expect(line, `seed ${seed} ${key}`).toBeDefined();
				expect(Math.abs(Number(line) - exact), `seed ${seed} ${key}`).toBeLessThanOrEqual(rowsOf.get(key)! + 1);
			}
			for (const day of DAYS) {
				expect(got.get(`${day}|`) ?? 0n, `seed ${seed} ${day} unallocated`).toBe(unallocated.get(day) ?? 0n);
				const sum = lines.filter((l) => l.period === day).reduce((a, l) => a + units(l.cost), 0n);
				expect(sum, `seed ${seed} ${day} total`).toBe(totals.get(day));
			}
			expect(lines.filter((l) => l.period === DAYS[3]).map((l) => l.group["allocation:usage"])).toEqual([""]);
			expect([...got.keys()].filter((k) => !k.endsWith("|")).length).toBe(expected.size);
			// Grouping by the allocation never changes the total; by month too.
			const ungrouped = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&limit=1000");
			expect(ungrouped.map((l) => units(l.cost))).toEqual(DAYS.map((d) => totals.get(d)));
			const monthly = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&granularity=month&group_by=allocation:usage");
			const monthTotal = DAYS.reduce((a, d) => a + totals.get(d)!, 0n);
			expect(monthly.reduce((a, l) => a + units(l.cost), 0n)).toBe(monthTotal);
			// Filters: the elements' lines; '' excluded; with another dimension's filter, ANDed.
			const e1e2 = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&dim[allocation:usage]=e1,e2&group_by=allocation:usage");
			expect(e1e2.every((l) => ["e1", "e2"].includes(l.group["allocation:usage"]))).toBe(true);
			expect(e1e2.map((l) => l.cost)).toEqual(lines.filter((l) => ["e1", "e2"].includes(l.group["allocation:usage"])).map((l) => l.cost));
			const allocated = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&granularity=month&exclude[allocation:usage]=");
			expect(units(allocated[0].cost)).toBe(monthTotal - [...unallocated.values()].reduce((a, b) => a + b, 0n));
			const r1 = await costs(token, "start_date=2024-10-01&end_date=2024-10-31&dim[Region]=r1&group_by=allocation:usage&limit=1000");
			for (const day of DAYS) {
				const dayRows = rows.filter((r) => r.day === day && r.region === "r1");
				expect(r1.filter((l) => l.period === day).reduce((a, l) => a + units(l.cost), 0n)).toBe(
					dayRows.reduce((a, r) => a + units(r.cost), 0n),
				);
			}
		}
	});
});

describe("periods, sizes and names", () => {
	it("hourly records are summed to their day; a monthly stream's values apply to each day of its month", async () => {
		const org = uniqueOrg("alloc-periods");
		const { token } = await createToken(org, SCOPES);
		await expectDrop(
			await drop(token, "aws", {
				month: "2024-11",
				data: [row("2024-11-05T03:00:00Z", "12"), row("2024-11-06T03:00:00Z", "8"), row("2024-11-20T03:00:00Z", "100")],
			}),
		);
		await sendAllocation(token, "hourly", [
			rec("2024-11-05T01:00:00Z", "HOURLY", {}, "a", 1),
			rec("2024-11-05T05:00:00Z", "HOURLY", {}, "a", 2),
			rec("2024-11-05T23:59:00Z", "HOURLY", {}, "b", 1),
			rec("2024-11-06T00:00:00Z", "HOURLY", {}, "b", 1),
		]);
		expect(byKey(await costs(token, "start_date=2024-11-01&end_date=2024-11-30&group_by=allocation:hourly"), "allocation:hourly")).toEqual({
			"2024-11-05|a": "9",
			"2024-11-05|b": "3",
			"2024-11-06|b": "8",
			"2024-11-20|": "100",
		});
		await sendAllocation(token, "monthly", [rec("2024-11-17", "MONTHLY", {}, "a", 1), rec("2024-11-01", "MONTHLY", {}, "b", 3)]);
		expect(
			byKey(await costs(token, "start_date=2024-11-01&end_date=2024-11-30&group_by=allocation:monthly"), "allocation:monthly"),
		).toEqual({
			"2024-11-05|a": "3",
			"2024-11-05|b": "9",
			"2024-11-06|a": "2",
			"2024-11-06|b": "6",
			"2024-11-20|a": "25",
			"2024-11-20|b": "75",
		});
		// A read starting mid-month still finds the month's values.
		expect(await costs(token, "start_date=2024-11-20&end_date=2024-11-20&group_by=allocation:monthly")).toHaveLength(2);
	});

	it("a cost far beyond 2^53 units of 10^-10 splits to parts that add up exactly", async () => {
		const org = uniqueOrg("alloc-large");
		const { token } = await createToken(org, SCOPES);
		// 999,999,999,999,999.0000000001 less 999,999,999,999,998: 1.0000000001 split in thirds. Each
		// element's line is its two large parts added, shown exactly; the three add up to the total.
		await expectDrop(
			await drop(token, "aws", {
				month: "2024-12",
				data: [
					row("2024-12-01T00:00:00Z", "999999999999999.0000000001", { "resource/id": "big" }),
					row("2024-12-01T01:00:00Z", "-999999999999998", { "resource/id": "credit" }),
					row("2024-12-02T00:00:00Z", "999999999999999", { "resource/id": "big" }),
				],
			}),
		);
		const all = ["a", "b", "c"].map((e) => rec("2024-12-01", "MONTHLY", {}, e, 1));
		await sendAllocation(token, "thirds", all);
		const lines = await costs(token, "start_date=2024-12-01&end_date=2024-12-01&group_by=allocation:thirds");
		expect(lines.map((l) => l.group["allocation:thirds"])).toEqual(["a", "b", "c"]);
		expect(lines.reduce((a, l) => a + units(l.cost), 0n)).toBe(10_000_000_001n);
		// Each is a third to within the doubles' precision of the large parts (10^-16 of 10^15).
		for (const l of lines) expect(Math.abs(Number(units(l.cost)) - 10_000_000_001 / 3)).toBeLessThan(0.13 * 1e10 * 2);
		// The same row alone: parts within 15 significant digits of the exact thirds.
		const big = await costs(token, "start_date=2024-12-02&end_date=2024-12-02&group_by=allocation:thirds");
		expect(big.map((l) => l.cost)).toEqual(["333333333333333", "333333333333333", "333333333333333"]);
	});

	it("an unknown or deleted stream's elements are '' for all cost; a read may split by one stream; a custom dimension names one", async () => {
		const org = uniqueOrg("alloc-names");
		const { token } = await createToken(org, [...SCOPES, "delete_stream"]);
		await expectDrop(await drop(token, "aws", { month: "2024-09", data: [row("2024-09-02T00:00:00Z", "10")] }));
		const range = "start_date=2024-09-01&end_date=2024-09-30";
		expect(await costs(token, `${range}&group_by=allocation:nothing`)).toEqual([
			{ period: "2024-09-02", group: { "allocation:nothing": "" }, currency: "USD", cost: "10" },
		]);
		expect(await costs(token, `${range}&dim[allocation:nothing]=x`)).toEqual([]);
		await sendAllocation(token, "s1", [rec("2024-09-02", "DAILY", {}, "x", 1)]);
		await sendAllocation(token, "s2", [rec("2024-09-02", "DAILY", {}, "y", 1)]);
		expect(await costs(token, `${range}&dim[allocation:s1]=x`)).toEqual([{ period: "2024-09-02", group: {}, currency: "USD", cost: "10" }]);
		await defineDimension(org, "Two", "allocation:s2");
		const twice = await api(`/unit-cost/v1/costs?${range}&group_by=allocation:s1&dim[custom:Two]=y`, { headers: { Authorization: token } });
		expect((await expectError(twice, 400, "bad_request")).details?.[0]).toMatchObject({ path: "dim[custom:Two]" });
		// The same stream named twice is one split.
		await defineDimension(org, "One", "allocation:s1");
		expect(await costs(token, `${range}&group_by=allocation:s1&dim[custom:One]=x`)).toHaveLength(1);
		const deleted = await deleteAllocationStream(token, "s1", { force: true });
		expect(deleted.status, await deleted.clone().text()).toBeLessThan(300);
		expect(byKey(await costs(token, `${range}&group_by=custom:One`), "custom:One")).toEqual({ "2024-09-02|": "10" });
		// A source that is no allocation stream name is refused, as any other.
		const bad = await api(`/admin/v1/orgs/${org}/dimensions/Bad`, {
			method: "PUT",
			headers: { Authorization: "Bearer test-admin-token", "content-type": "application/json" },
			body: JSON.stringify({ source: "allocation:a b" }),
		});
		expect(bad.status).toBe(400);
	});
});
