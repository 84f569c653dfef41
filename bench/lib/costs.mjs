// The cost cases of `npm run bench` (issue 13), called from run.mjs: AnyCost billing drops of
// 10,000 CBF rows (rows/s, totals verified through GET /unit-cost/v1/costs), and a unit-cost
// query over 30 days of a 200-series metric against 1,000,000 cost rows (p50).
import http from "node:http";
import { closedLoop, request, round, summarize } from "./load.mjs";

const ROWS_PER_DROP = 10_000;
const RESOURCES = 1389; // 720 hours x 1,389 resources = 1,000,080 cost rows
const CUSTOMERS = 200;
const SERVICES = 7;
const DAYS = 30; // September 2024

const hourOf = (h) => `2024-09-${String(Math.floor(h / 24) + 1).padStart(2, "0")}T${String(h % 24).padStart(2, "0")}:00:00Z`;
/** Cost of the (hour, resource) row: whole cents, so every total is exact. */
const costOf = (h, r) => ((h * 31 + r * 17) % 97) + 1;

function cbfRow(h, r) {
	return {
		"time/usage_start": hourOf(h),
		"cost/cost": String(costOf(h, r) / 100),
		"resource/id": `vm-${r}`,
		"resource/service": `service-${r % SERVICES}`,
		"resource/region": r % 2 ? "us-east-1" : "eu-west-1",
		"lineitem/type": "Usage",
		"usage/amount": 1,
		"resource/tag:customer": `customer-${r % CUSTOMERS}`,
	};
}

/** Drop bodies of 10,000 rows each, covering 720 hours x RESOURCES resources in order. */
function dropBodies(totalRows, operation) {
	const bodies = [];
	let rows = [];
	let cents = 0;
	for (let i = 0; i < totalRows; i++) {
		const h = Math.floor(i / RESOURCES) % (DAYS * 24);
		const r = i % RESOURCES;
		rows.push(cbfRow(h, r));
		cents += costOf(h, r);
		if (rows.length === ROWS_PER_DROP || i === totalRows - 1) {
			bodies.push({ buffer: Buffer.from(JSON.stringify({ month: "2024-09", operation, data: rows })), rows: rows.length, cents });
			rows = [];
			cents = 0;
		}
	}
	return bodies;
}

async function call(ctx, method, path, body, token = ctx.token) {
	const res = await request(ctx.agent, {
		port: ctx.port,
		method,
		path,
		headers: { Authorization: token },
		body: body && (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body))),
	});
	if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
	return res;
}

/** Total cost of a connection in September 2024, in cents, as the service reads it. */
async function connectionCents(ctx, connection) {
	const res = await call(ctx, "GET", `/unit-cost/v1/costs?granularity=month&dim%5BConnection%5D=${connection}`);
	const costs = JSON.parse(res.text).costs;
	return Math.round(costs.reduce((n, c) => n + Number(c.cost), 0) * 100);
}

export async function costCases({ port, adminToken, seconds, connections, log }) {
	const ctx = { port, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
	const created = await request(undefined, {
		port,
		method: "POST",
		path: "/admin/v1/tokens",
		headers: { Authorization: `Bearer ${adminToken}` },
		body: Buffer.from(JSON.stringify({ org: "bench-costs", name: "bench", scopes: ["write", "read", "write_costs"] })),
	});
	if (created.status !== 201) throw new Error(`token creation failed: ${created.status} ${created.text}`);
	ctx.token = JSON.parse(created.text).token;
	const results = {};

	// 1. Drops of 10,000 rows: sum into 4 connections (one object each), closed loop.
	log(`Cost drops: sum, ${ROWS_PER_DROP}-row CBF drops, 4 connections, ${connections} HTTP connections, ${seconds} s`);
	const bodies = dropBodies(ROWS_PER_DROP * 4, "sum");
	const targets = bodies.map((b, i) => ({
		connection: `drops-${i}`,
		body: b.buffer,
		rows: b.rows,
		cents: b.cents,
		path: `/v2/connections/billing/anycost/drops-${i}/billing_drops`,
		acked: 0,
	}));
	const run = await closedLoop({ port, headers: { Authorization: ctx.token }, targets, connections, seconds });
	let verified = true;
	for (const t of targets) {
		const cents = await connectionCents(ctx, t.connection);
		if (cents !== t.acked * t.cents) verified = false;
	}
	const rows = targets.reduce((n, t) => n + t.acked * t.rows, 0);
	results.drops = {
		operation: "sum",
		rows_per_drop: ROWS_PER_DROP,
		connections: 4,
		http_connections: connections,
		seconds: round(run.seconds),
		drops_acknowledged: targets.reduce((n, t) => n + t.acked, 0),
		rows_acknowledged: rows,
		rows_per_second: Math.round(rows / run.seconds),
		latency_ms: run.latencies,
		failures: run.failures,
		verification: verified ? "ok" : "MISMATCH",
	};
	log(
		`  ${results.drops.rows_per_second.toLocaleString("en-US")} rows/s, p50 ${run.latencies.p50} ms, totals ${results.drops.verification}`,
	);

	// 2. Unit cost over 30 days: 1,000,000 cost rows (sum drops of disjoint rows into one connection), a 200-series metric.
	const total = DAYS * 24 * RESOURCES;
	log(`Unit cost: loading ${total.toLocaleString("en-US")} cost rows and a 200-series metric…`);
	const loadStarted = performance.now();
	let loadCents = 0;
	for (const b of dropBodies(total, "sum")) {
		await call(ctx, "POST", "/v2/connections/billing/anycost/bulk/billing_drops", b.buffer);
		loadCents += b.cents;
	}
	const loadSeconds = (performance.now() - loadStarted) / 1000;
	const adminHeaders = { Authorization: `Bearer ${adminToken}` };
	const put = await request(ctx.agent, {
		port,
		method: "PUT",
		path: "/admin/v1/orgs/bench-costs/dimensions/Customer",
		headers: adminHeaders,
		body: Buffer.from(JSON.stringify({ source: "tag:customer" })),
	});
	if (put.status !== 200) throw new Error(`custom dimension: ${put.status} ${put.text}`);
	const records = [];
	for (let d = 1; d <= DAYS; d++) {
		for (let c = 0; c < CUSTOMERS; c++)
			records.push({
				timestamp: `2024-09-${String(d).padStart(2, "0")}`,
				value: c + 1,
				associated_cost: { "custom:Customer": `customer-${c}` },
			});
	}
	await call(ctx, "POST", "/unit-cost/v1/telemetry/metric/bench-units/sum", { records });

	const path = "/unit-cost/v1/unit-cost/bench-units?start_date=2024-09-01&end_date=2024-09-30&group_by=custom:Customer";
	const samples = [];
	let answer;
	for (let i = 0; i < 12; i++) {
		const started = performance.now();
		answer = JSON.parse((await call(ctx, "GET", path)).text);
		if (i >= 2) samples.push(performance.now() - started);
	}
	const matchedCents = Math.round(answer.results.reduce((n, r) => n + Number(r.cost), 0) * 100);
	const bulkCents = await connectionCents(ctx, "bulk");
	// The organization's whole cost (the drop case's connections too): every row is some customer's.
	const all = JSON.parse((await call(ctx, "GET", "/unit-cost/v1/costs?granularity=month")).text).costs;
	const orgCents = Math.round(all.reduce((n, c) => n + Number(c.cost), 0) * 100);
	results.unit_cost = {
		cost_rows: total,
		load: { drops: Math.ceil(total / ROWS_PER_DROP), seconds: round(loadSeconds), rows_per_second: Math.round(total / loadSeconds) },
		metric: { series: CUSTOMERS, days: DAYS },
		query: path,
		results: answer.results.length,
		runs: samples.length,
		ms: summarize(samples),
		// Every cost row is tagged with one of the 200 customers; the metric's series cover them all.
		cents: {
			loaded: loadCents,
			read_back: bulkCents,
			organization: orgCents,
			matched: matchedCents,
			unmatched_lines: answer.unmatched_cost.length,
		},
		verification: matchedCents === orgCents && bulkCents === loadCents && answer.unmatched_cost.length === 0 ? "ok" : "MISMATCH",
	};
	log(
		`  load ${results.unit_cost.load.rows_per_second.toLocaleString("en-US")} rows/s; unit cost over 30 days (${answer.results.length} results) p50 ${results.unit_cost.ms.p50} ms, p99 ${results.unit_cost.ms.p99} ms; totals ${results.unit_cost.verification}`,
	);
	results.targets = {
		"cost drops >= 100,000 rows/s": results.drops.rows_per_second >= 100_000,
		"unit cost over 1,000,000 cost rows <= 1 s (p50)": results.unit_cost.ms.p50 <= 1000,
	};
	ctx.agent.destroy();
	return results;
}
