// Exact money (issue 18): every cost line equals the exact decimal sum of the stored rows' costs
// (10 decimal places kept), rounded once to 15 significant digits and written as a plain
// decimal; unit cost never answers Infinity or NaN. Oracles are BigInt sums of the rows as sent.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Decimal, formatDecimal, parseDecimal, roundToSignificantDigits } from "../src/lib/decimal";
import { costs, drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectAccepted, expectError, readStream, seededRandom, storageSnapshot, uniqueOrg, write } from "./helpers";

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("exact");
	({ token } = await createToken(org, ["write", "read", "write_costs"]));
});

/** The oracle: costs as sent, summed as BigInt counts of 10^-10, then rounded once to 15 digits. */
function scaled(text: string): bigint {
	const d = parseDecimal(text)!;
	expect(d.scale, text).toBeLessThanOrEqual(10);
	return d.units * 10n ** BigInt(10 - d.scale);
}
const shown = (units: bigint) => formatDecimal(roundToSignificantDigits({ units, scale: 10 } satisfies Decimal, 15));

async function unitCost(metric: string, query = "") {
	const res = await api(`/unit-cost/v1/unit-cost/${metric}${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	return { status: res.status, body: await res.json<Record<string, any>>() };
}

describe("exact sums", () => {
	it("1,000 rows of 0.10 read 100; 60 sums of 0.1 read 6", async () => {
		const data = Array.from({ length: 1000 }, (_, i) =>
			row(`2024-03-01T${String(i % 24).padStart(2, "0")}:00:00Z`, "0.10", { "resource/id": `r-${i}` }),
		);
		await expectDrop(await drop(token, "tenths", { data }));
		expect(await costs(token, "dim[Connection]=tenths")).toEqual([{ period: "2024-03-01", group: {}, currency: "USD", cost: "100" }]);
		for (let i = 0; i < 60; i++)
			await expectDrop(await drop(token, "sixty", { operation: "sum", data: [row("2024-03-02T05:00:00Z", "0.1")] }));
		expect(await costs(token, "dim[Connection]=sixty&granularity=month")).toEqual([
			{ period: "2024-03", group: {}, currency: "USD", cost: "6" },
		]);
	});

	it("LiteLLM's CloudZero ETL (costs as f'{spend:.10f}' trimmed, month, replace_hourly, Bearer): totals read back exactly", async () => {
		// What the ETL sends for spends 0.0333333333258, 75.2, 0.0999999999 ... (ten decimals at most).
		const spends = ["0.0333333333", "75.2", "0.0999999925", "0.0000000001", "0.00012345", "12.3456789012", "0.3", "0.6", "1e-10"];
		const etlRow = (hour: number, spend: string, model: string) => ({
			"time/usage_start": `2025-04-19T${String(hour).padStart(2, "0")}:00:00Z`,
			"cost/cost": spend,
			"resource/id": `czrn:litellm:openai:cross-region:team-42:llm-usage:${model}`,
			"usage/amount": "1500",
			"usage/units": "tokens",
			"resource/service": "litellm",
			"resource/account": "team-42|sk-...abcd",
			"resource/region": "cross-region",
			"resource/usage_family": "llm-usage",
			"lineitem/type": "Usage",
			"resource/tag:provider": "openai",
			"resource/tag:model": model,
		});
		const data = spends.map((spend, i) => etlRow(i, spend, i % 2 ? "gpt-4o" : "gpt-4o-mini"));
		await expectDrop(await drop(`Bearer ${token}`, "conn_litellm_etl", { month: "2025-04", operation: "replace_hourly", data }));
		const total = spends.reduce((sum, s) => sum + scaled(s), 0n);
		expect(await costs(token, "dim[Connection]=conn_litellm_etl")).toEqual([
			{ period: "2025-04-19", group: {}, currency: "USD", cost: shown(total) },
		]);
		expect(shown(total)).toBe("88.5791356772");
		const byModel = await costs(token, "dim[Connection]=conn_litellm_etl&group_by=tag:model");
		for (const model of ["gpt-4o", "gpt-4o-mini"]) {
			const expected = spends.filter((_, i) => (i % 2 ? "gpt-4o" : "gpt-4o-mini") === model).reduce((sum, s) => sum + scaled(s), 0n);
			expect(byModel.find((l) => l.group["tag:model"] === model)?.cost).toBe(shown(expected));
		}
	});

	it("keeps 10 decimal places: more are rounded, halves away from zero; exponents are read exactly", async () => {
		await expectDrop(
			await drop(token, "places", {
				data: [
					row("2024-05-01T00:00:00Z", "0.00000000005", { "resource/id": "half-up" }),
					row("2024-05-01T00:00:00Z", "-0.00000000005", { "resource/id": "half-down" }),
					row("2024-05-01T00:00:00Z", "0.000000000049", { "resource/id": "below-half" }),
					row("2024-05-01T00:00:00Z", "8e-7", { "resource/id": "exponent" }),
					row("2024-05-01T00:00:00Z", "1e-400", { "resource/id": "tiny" }),
					row("2024-05-01T00:00:00Z", "1000000000000000", { "resource/id": "max" }),
					row("2024-05-01T00:00:00Z", "-1000000000000000.000", { "resource/id": "min" }),
				],
			}),
		);
		const byResource = Object.fromEntries(
			(await costs(token, "dim[Connection]=places&group_by=Resource")).map((l) => [l.group.Resource, l.cost]),
		);
		expect(byResource).toEqual({
			"half-up": "0.0000000001",
			"half-down": "-0.0000000001",
			"below-half": "0",
			exponent: "0.0000008",
			tiny: "0",
			max: "1000000000000000",
			min: "-1000000000000000",
		});
		// What a read returns can be sent back as it was read.
		await expectDrop(
			await drop(token, "places-again", {
				data: Object.values(byResource).map((cost, i) => row("2024-05-01T00:00:00Z", cost, { "resource/id": `again-${i}` })),
			}),
		);
		expect(await costs(token, "dim[Connection]=places-again")).toEqual([
			{ period: "2024-05-01", group: {}, currency: "USD", cost: "0.0000008" },
		]);
	});

	it("a JSON number cost is read as its shortest decimal form", async () => {
		await expectDrop(
			await drop(token, "json-numbers", {
				data: [0.1, 0.2, 0.3, 1e-7, 1234.123].map((cost, i) => row("2024-06-01T00:00:00Z", cost, { "resource/id": `n-${i}` })),
			}),
		);
		expect(await costs(token, "dim[Connection]=json-numbers")).toEqual([
			{ period: "2024-06-01", group: {}, currency: "USD", cost: "1234.7230001" },
		]);
	});

	it("a total of more than 15 significant digits is rounded once, and written without an exponent", async () => {
		const data = [
			row("2024-07-01T00:00:00Z", "999999999999999.9999999999", { "resource/id": "a" }),
			row("2024-07-01T01:00:00Z", "999999999999999.9999999999", { "resource/id": "b" }),
		];
		await expectDrop(await drop(token, "large", { data }));
		expect(await costs(token, "dim[Connection]=large")).toEqual([
			{ period: "2024-07-01", group: {}, currency: "USD", cost: "2000000000000000" },
		]);
	});
});

describe("a stored cell's bound", () => {
	it("a drop whose rows would put more than ±9e15 in one hour and dimension set is refused, naming the row", async () => {
		const data = Array.from({ length: 10 }, () => row("2024-08-01T00:00:00Z", "1000000000000000", { "resource/id": "big" }));
		const before = await storageSnapshot();
		const error = await expectError(await drop(token, "cells", { data }), 400, "value_overflow");
		expect(error.details).toEqual([expect.objectContaining({ code: "value_overflow", record: 9, path: "data[9]" })]);
		expect(await storageSnapshot()).toBe(before);
	});

	it("a sum past SQLite's 64-bit integers with the stored cell is refused (migration 0010's STRICT tables), nothing applied", async () => {
		await expectDrop(
			await drop(token, "cells-2", { operation: "sum", data: [row("2024-08-02T00:00:00Z", "1", { "resource/id": "big" })] }),
		);
		// A stored cell near the largest 64-bit integer (no drop of ±10^15 rows gets there quickly).
		for (const table of ["cost_hourly", "cost_daily"]) {
			await env.DB.prepare(`UPDATE ${table} SET cost_whole = 9223372036854775000 WHERE org_id = ? AND connection_id = 'cells-2'`)
				.bind(org)
				.run();
		}
		expect(await costs(token, "dim[Connection]=cells-2")).toEqual([
			{ period: "2024-08-02", group: {}, currency: "USD", cost: "9223372036854780000" },
		]);
		const before = await storageSnapshot();
		await expectError(
			await drop(token, "cells-2", { operation: "sum", data: [row("2024-08-02T00:00:00Z", "1000", { "resource/id": "big" })] }),
			400,
			"value_overflow",
		);
		expect(await storageSnapshot()).toBe(before);
		// Reads of the largest cells never overflow: D1 sums them in parts.
		await expectDrop(
			await drop(token, "cells-3", { operation: "sum", data: [row("2024-08-02T00:00:00Z", "1", { "resource/id": "big" })] }),
		);
		await env.DB.prepare("UPDATE cost_daily SET cost_whole = 9223372036854775000 WHERE org_id = ? AND connection_id = 'cells-3'")
			.bind(org)
			.run();
		expect(await costs(token, "dim[Connection]=cells-2&dim[Connection]=cells-3&granularity=month")).toEqual([
			{ period: "2024-08", group: {}, currency: "USD", cost: "18446744073709600000" },
		]);
	});
});

describe("property: every read equals the BigInt oracle (seeded)", () => {
	it("random rows of at most 10 decimals over days, services and connections: costs by day and month, grouped, filtered and paged; unit cost", async () => {
		const r = seededRandom(18);
		const services = ["A", "B", "C", "D"];
		type Sent = { day: string; connection: string; service: string; cost: bigint };
		const sent: Sent[] = [];
		for (let drops = 0; drops < 6; drops++) {
			const connection = r.pick(["p-1", "p-2"]);
			const data = Array.from({ length: 50 + r.int(150) }, () => {
				const whole = r.pick([0, 1, 7, 999, 123456789, 99999999999]) * (r.next() < 0.3 ? -1 : 1);
				const places = r.int(11);
				const fraction = places === 0 ? "" : `.${r.chars("0123456789", places)}`;
				const text = `${whole < 0 ? "-" : ""}${Math.abs(whole)}${fraction}`;
				const day = `2024-09-${String(1 + r.int(4)).padStart(2, "0")}`;
				const service = r.pick(services);
				sent.push({ day, connection, service, cost: scaled(text) });
				return row(`${day}T${String(r.int(24)).padStart(2, "0")}:00:00Z`, r.next() < 0.5 ? text : text.replace(/^(-?)0\./, "$1."), {
					"resource/service": service,
					"resource/id": `vm-${r.int(30)}`,
				});
			});
			await expectDrop(await drop(token, connection, { operation: "sum", data }));
		}
		const oracle = (keyOf: (s: Sent) => string | null) => {
			const sums = new Map<string, bigint>();
			for (const s of sent) {
				const key = keyOf(s);
				if (key !== null) sums.set(key, (sums.get(key) ?? 0n) + s.cost);
			}
			return [...sums].map(([key, units]) => [key, shown(units)]).sort();
		};
		const read = async (query: string, keyOf: (l: { period: string; group: Record<string, string> }) => string) => {
			const lines = await costs(token, `dim[Connection]=p-1&dim[Connection]=p-2&${query}`);
			return lines.map((l) => [keyOf(l), l.cost]).sort();
		};
		expect(await read("group_by=Service", (l) => `${l.period}|${l.group.Service}`)).toEqual(oracle((s) => `${s.day}|${s.service}`));
		expect(await read("granularity=month", (l) => l.period)).toEqual(oracle((s) => s.day.slice(0, 7)));
		expect(await read("granularity=month&group_by=Connection", (l) => l.group.Connection)).toEqual(oracle((s) => s.connection));
		expect(await read("dim[Service]=B&group_by=Service", (l) => `${l.period}|${l.group.Service}`)).toEqual(
			oracle((s) => (s.service === "B" ? `${s.day}|B` : null)),
		);

		// Paged one line at a time, the pages are the lines of the whole read.
		const whole = await costs(token, "dim[Connection]=p-1&dim[Connection]=p-2&group_by=Service");
		const paged: unknown[] = [];
		let cursor: string | null = null;
		do {
			const res = await api(
				`/unit-cost/v1/costs?dim[Connection]=p-1&dim[Connection]=p-2&group_by=Service&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
				{ headers: { Authorization: token } },
			);
			const body = await res.json<{ costs: unknown[]; next_cursor: string | null }>();
			paged.push(...body.costs);
			cursor = body.next_cursor;
		} while (cursor !== null);
		expect(paged).toEqual(whole);

		// Unit cost: one series per service; its cost is the exact sum.
		await expectAccepted(
			await write(token, "per-service", "sum", {
				records: services.map((s) => ({ timestamp: "2024-09-01", value: 3, associated_cost: { Service: s } })),
			}),
		);
		const { body } = await unitCost("per-service", "start_date=2024-09-01&end_date=2024-09-04&granularity=month&group_by=Service");
		const expected = oracle((s) => s.service);
		expect(body.results.map((l: any) => [l.group.Service, l.cost])).toEqual(expected);
	});
});

describe("unit cost is never Infinity or NaN", () => {
	it("units that add up beyond the largest double: 400 value_overflow naming the group", async () => {
		const records = ["a", "b"].map((k) => ({ timestamp: "2024-10-01", value: 1.7e308, associated_cost: { "custom:K": k } }));
		await expectAccepted(await write(token, "huge-units", "sum", { records }));
		const { status, body } = await unitCost("huge-units", "start_date=2024-10-01&end_date=2024-10-01");
		expect(status, JSON.stringify(body)).toBe(400);
		expect(body.error.code).toBe("value_overflow");
		expect(body.error.message).toContain("2024-10-01");
		// Grouped, each group fits.
		const grouped = await unitCost("huge-units", "start_date=2024-10-01&end_date=2024-10-01&group_by=custom:K");
		expect(grouped.status).toBe(200);
		expect(grouped.body.results.map((l: any) => l.units)).toEqual([`17${"0".repeat(307)}`, `17${"0".repeat(307)}`]);
	});

	it("a quotient beyond the largest double is null, for positive and negative cost", async () => {
		await expectDrop(
			await drop(token, "denormal", {
				data: [
					row("2024-10-02T00:00:00Z", "5", { "resource/id": "x", "resource/tag:k": "pos" }),
					row("2024-10-02T00:00:00Z", "-5", { "resource/id": "y", "resource/tag:k": "neg" }),
				],
			}),
		);
		await expectAccepted(
			await write(token, "denormal-units", "sum", {
				records: ["pos", "neg"].map((k) => ({ timestamp: "2024-10-02", value: 5e-324, associated_cost: { "tag:k": k } })),
			}),
		);
		const { status, body } = await unitCost("denormal-units", "start_date=2024-10-02&end_date=2024-10-02&group_by=tag:k");
		expect(status, JSON.stringify(body)).toBe(200);
		expect(body.results.map((l: any) => [l.group["tag:k"], l.cost, l.unit_cost])).toEqual([
			["neg", "-5", null],
			["pos", "5", null],
		]);
		expect(JSON.stringify(body)).not.toMatch(/Infinity|NaN|e[+-]?\d/);
	});
});

describe("plain decimals out", () => {
	it("telemetry values read back without an exponent, and are taken back as they were read", async () => {
		await expectAccepted(
			await write(token, "plain", "replace", {
				records: [
					{ timestamp: "2024-11-01", value: 8e-7 },
					{ timestamp: "2024-11-02", value: 1.5e21 },
					{ timestamp: "2024-11-03", value: "1e-300" },
				],
			}),
		);
		const records = await readStream(token, "plain");
		const values = records.map((r) => r.value);
		expect(values).toEqual(["0.0000008", "1500000000000000000000", `0.${"0".repeat(299)}1`]);
		await expectAccepted(
			await write(token, "plain-again", "replace", { records: records.map((r) => ({ timestamp: r.timestamp, value: r.value })) }),
		);
		expect((await readStream(token, "plain-again")).map((r) => r.value)).toEqual(values);
	});
});
