// Cost reads are bounded in SQL (issue 18): D1 filters, groups and pages, so a read of a small
// connection reads that connection's rows only, whatever else the organization stores; each
// read's D1 rows read (what D1 bills) is in its request log line.
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BUILTIN_COST_DIMENSIONS, sourceDimension } from "../src/cost/dimensions";
import { sourceOfName } from "../src/storage/cost-reads";
import { costs, defineDimension, drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectAccepted, uniqueOrg, write } from "./helpers";

let org: string;
let token: string;
const DAYS = 30;
const RESOURCES = 200;

beforeAll(async () => {
	org = uniqueOrg("bounded");
	({ token } = await createToken(org, ["write", "read", "write_costs"]));
	// A big connection: 30 days x 200 resources = 6,000 daily rows; a small one: 3 days x 2 resources.
	const big = Array.from({ length: DAYS * RESOURCES }, (_, i) =>
		row(`2024-09-${String(1 + Math.floor(i / RESOURCES)).padStart(2, "0")}T00:00:00Z`, "0.01", {
			"resource/id": `vm-${i % RESOURCES}`,
			"resource/service": `s-${i % 7}`,
		}),
	);
	await expectDrop(await drop(token, "big", { data: big }));
	const small = Array.from({ length: 6 }, (_, i) =>
		row(`2024-09-0${1 + (i % 3)}T05:00:00Z`, "1.25", { "resource/id": `db-${i % 2}`, "resource/service": "Database" }),
	);
	await expectDrop(await drop(token, "small", { data: small }));
	await defineDimension(org, "Source", "Connection");
});
afterEach(() => vi.restoreAllMocks());

/** The request log line of each request made while `run` runs. */
async function logged(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
	const lines: string[] = [];
	vi.spyOn(console, "info").mockImplementation((line: unknown) => void lines.push(String(line)));
	await run();
	vi.restoreAllMocks();
	return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("rows read per request", () => {
	it("a small connection's read reads its own rows, not the big connection's 6,000", async () => {
		for (const filter of ["dim[Connection]=small", "dim[custom:Source]=small"]) {
			let answer: unknown;
			const [line] = await logged(async () => (answer = await costs(token, `${filter}&granularity=month`)));
			expect(answer).toEqual([{ period: "2024-09", group: {}, currency: "USD", cost: "7.5" }]);
			expect(line).toMatchObject({ operation: "read_costs", status: 200 });
			// 6 daily rows, their 2 dimension sets, 2 connections, the custom dimension, the read's
			// names looked over for an allocation stream: far below 6,000.
			expect(line.rows_read as number, filter).toBeLessThan(70);
		}
	});

	it("a whole-organization read reads each stored daily row and its intermediate sums", async () => {
		let answer: Array<{ cost: string }> = [];
		const [line] = await logged(async () => (answer = await costs(token, "granularity=month&group_by=Service")));
		// Row i of the big drop is service s-(i % 7), at 0.01 each: 858 rows of s-0, 857 of the others.
		const cents = Array.from(
			{ length: 7 },
			(_, service) => Array.from({ length: DAYS * RESOURCES }, (_, i) => i % 7).filter((s) => s === service).length,
		);
		expect(answer.map((l) => l.cost)).toEqual(["7.5", ...cents.map((n) => (n / 100).toString())]);
		expect(line.rows_read as number).toBeGreaterThanOrEqual(DAYS * RESOURCES);
		// The daily rows twice (for the dimension sets they use, then summed), and D1's sorter and
		// automatic index read back: about 6 rows read per stored row here (docs/unit-cost.md).
		expect(line.rows_read as number).toBeLessThan(7 * DAYS * RESOURCES);
	});

	it("an allocated read reads each stored row's parts a few times, as a read reads its rows", async () => {
		// A stream splitting each service's cost among 5 products, every day of the month: 7 x 5 x 30 = 1,050 values.
		const records = Array.from({ length: 7 * 5 * DAYS }, (_, i) => ({
			timestamp: `2024-09-${String(1 + (i % DAYS)).padStart(2, "0")}`,
			granularity: "DAILY",
			filter: { Service: [`s-${Math.floor(i / (5 * DAYS))}`] },
			element_name: `p-${Math.floor(i / DAYS) % 5}`,
			value: 1 + (i % 3),
		}));
		const res = await api("/unit-cost/v1/telemetry/allocation/by-product/sum", {
			method: "POST",
			headers: { Authorization: token, "content-type": "application/json" },
			body: JSON.stringify({ records }),
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const perProduct = Array.from({ length: 5 }, (_, p) => ({
			timestamp: "2024-09-01",
			value: 1 + p,
			associated_cost: { "allocation:by-product": `p-${p}` },
		}));
		await expectAccepted(await write(token, "orders", "sum", { records: perProduct }));
		for (const granularity of ["month", "day"]) {
			const [line] = await logged(() =>
				api(`/unit-cost/v1/unit-cost/orders?granularity=${granularity}`, { headers: { Authorization: token } }),
			);
			expect(line).toMatchObject({ operation: "unit_cost", status: 200 });
			// The parts twice (matched to the series, then summed): about 232,000 (month) and 310,000 (day).
			expect(line.rows_read as number, `unit cost ${granularity}`).toBeLessThan(11 * 5 * DAYS * RESOURCES);
		}
		for (const granularity of ["month", "day"]) {
			let answer: Array<{ cost: string }> = [];
			const [line] = await logged(
				async () => (answer = await costs(token, `granularity=${granularity}&group_by=allocation:by-product&limit=1000`)),
			);
			// 5 products, and "" for the small connection's Database cost (3 days).
			expect(answer.length).toBe(granularity === "month" ? 6 : 5 * DAYS + 3);
			expect(line).toMatchObject({ operation: "read_costs", status: 200 });
			// Each of the 6,000 rows becomes its 5 parts, which the read sums as it sums rows; the
			// stream's 1,050 values and the 1,400 (connection, set) pairs' matching add little:
			// about 198,000 rows read (month) and 268,000 (day) here, 7 and 9 per part (docs/unit-cost.md).
			expect(line.rows_read as number, granularity).toBeLessThan(10 * 5 * DAYS * RESOURCES);
		}
	});

	it("a page holds at most `limit` lines however many the read has", async () => {
		const res = await api("/unit-cost/v1/costs?group_by=Resource&granularity=day&limit=5", { headers: { Authorization: token } });
		const body = await res.json<{ costs: unknown[]; next_cursor: string | null }>();
		expect(body.costs).toHaveLength(5);
		expect(body.next_cursor).not.toBeNull();
	});

	it("unit cost reads the cost rows and the metric's values of the period", async () => {
		const records = Array.from({ length: 7 }, (_, s) => ({ timestamp: "2024-09-01", value: 10, associated_cost: { Service: `s-${s}` } }));
		await expectAccepted(await write(token, "per-service", "sum", { records }));
		let body: Record<string, any> = {};
		const [line] = await logged(async () => {
			const res = await api(
				"/unit-cost/v1/unit-cost/per-service?start_date=2024-09-01&end_date=2024-09-30&granularity=month&group_by=Service",
				{ headers: { Authorization: token } },
			);
			body = await res.json();
		});
		expect(body.results).toHaveLength(7);
		expect(line).toMatchObject({ operation: "unit_cost", status: 200 });
		// The daily rows twice (the (connection, set) pairs they use, then summed) and D1's sorters:
		// about 6 rows read per stored daily row here (docs/unit-cost.md).
		expect(line.rows_read as number).toBeGreaterThanOrEqual(DAYS * RESOURCES);
		expect(line.rows_read as number).toBeLessThan(8 * DAYS * RESOURCES);
	});

	it("unit cost with filters: a Connection filter reads that connection's rows only, others stay within the bound", async () => {
		const read = async (query: string) => {
			let body: Record<string, any> = {};
			const [line] = await logged(async () => {
				const res = await api(`/unit-cost/v1/unit-cost/per-service?start_date=2024-09-01&end_date=2024-09-30&granularity=month&${query}`, {
					headers: { Authorization: token },
				});
				body = await res.json();
			});
			expect(line).toMatchObject({ operation: "unit_cost", status: 200 });
			return { body, rowsRead: line.rows_read as number };
		};
		const small = await read("group_by=Service&dim[Connection]=small");
		expect(small.body.unmatched_cost).toEqual([{ period: "2024-09", currency: "USD", cost: "7.5" }]);
		// 6 daily rows (twice), their sets, the metric's 7 values and series, the stream, the sorters:
		// about 120, far below the big connection's 6,000.
		expect(small.rowsRead).toBeLessThan(200);
		const most = await read("group_by=Service&exclude[Service]=s-0&exclude[Connection]=small");
		expect(most.body.results.map((r: { cost: string }) => r.cost)).toEqual(["0", "8.57", "8.57", "8.57", "8.57", "8.57", "8.57"]);
		expect(most.body.unmatched_cost).toEqual([]);
		expect(most.rowsRead).toBeLessThan(8 * DAYS * RESOURCES);
	});

	it("unit cost logs its rows read too", async () => {
		const lines = await logged(() => api("/unit-cost/v1/unit-cost/no-such-metric", { headers: { Authorization: token } }));
		expect(lines[0]).toMatchObject({ operation: "unit_cost", status: 404 });
		// A metric that does not exist reads no cost.
		expect(lines[0].rows_read as number).toBeLessThan(20);
	});
});

describe("custom dimensions resolve inside the query", () => {
	it("the SQL resolution of a dimension name agrees with sourceDimension and the org's definitions", async () => {
		await defineDimension(org, "Team", "Tag:team");
		await defineDimension(org, "Svc", "Service");
		const names = [
			...BUILTIN_COST_DIMENSIONS,
			"tag:team",
			"Tag:team",
			'tag:a.b"c\\d',
			`tag:${"é".repeat(128)}`,
			`tag:${"x".repeat(129)}`,
			"tag:",
			"TAG:team",
			"service",
			"custom:Team",
			"custom:Svc",
			"custom:Source",
			"custom:Undefined",
			"custom:",
			"Custom:Team",
			"",
		];
		const definitions = new Map([
			["Team", "Tag:team"],
			["Svc", "Service"],
			["Source", "Connection"],
		]);
		const expected = (name: string) => {
			if (!name.startsWith("custom:")) return sourceDimension(name);
			const source = definitions.get(name.slice("custom:".length));
			return source === undefined ? null : sourceDimension(source);
		};
		for (const name of names) {
			const got = await env.DB.prepare(`SELECT ${sourceOfName("?2")} AS source`)
				.bind(org, name)
				.first<{ source: string | null }>();
			expect(got?.source ?? null, name).toBe(expected(name));
		}
	});
});
