// The large-organization cost case of `npm run bench` (issue 18), run in the full run, with
// `--only large-org` and with `--only costs`: one organization with 20,050 resources in two
// connections over September 2024, one CBF row per resource and day (601,500 daily cost rows),
// loaded with 10,000-row `sum` drops; a custom dimension Customer (tag:customer) and a
// 500-series metric on it; an allocation stream splitting each Service among 5 products. Then
// five reads, each 12 times (the first 2 discarded), while the RSS
// of wrangler's workerd runtime is sampled every 50 ms:
//   (a) cost by Service, whole month;  (b) cost by Service per day;
//   (c) the small connection's cost per day;  (d) unit cost of the metric by custom:Customer;
//   (e) cost by allocation:<stream>, whole month (issue 19).
// Every cost is a whole number of cents, so every expected total is exact (BigInt); the
// answers' decimal strings are compared with them exactly, as decimals.

import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { request, round, summarize } from "./load.mjs";
import { machineCpuSeconds, processTree, workerdProcesses } from "./server.mjs";

const ORG = "bench-large-org";
const MONTH = "2024-09";
const DAYS = 30;
const FIRST_DAY = `${MONTH}-01`;
const LAST_DAY = `${MONTH}-${DAYS}`;
const ROWS_PER_DROP = 10_000;
/** Resources are numbered across both connections: the big one has 0..19,999, the small one the next 50. */
const CONNECTIONS = [
	{ id: "large-org-main", resources: 20_000 },
	{ id: "large-org-small", resources: 50 },
];
const SMALL = CONNECTIONS[1].id;
const SERVICES = 40;
const ACCOUNTS = 12;
const REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];
const CUSTOMERS = 500;
const METRIC = "large-org-customers";
const ALLOCATION = "large-org-products";
const PRODUCTS = 5;
const RUNS = 12;
const DISCARDED = 2;
const SAMPLE_MS = 50;
const MAX_BODY_BYTES = 5_000_000; // wrangler.toml's MAX_BODY_BYTES

const pad = (n, width) => String(n).padStart(width, "0");
const dayOf = (d) => `${MONTH}-${pad(d + 1, 2)}`;
const serviceOf = (g) => `service-${pad(g % SERVICES, 2)}`;
// 7 and 500 are coprime: every customer has 40 of the big connection's resources.
const customerOf = (g) => `customer-${pad((g * 7) % CUSTOMERS, 3)}`;
/** The day's cost of resource g in cents: 1 to 9,973 ($0.01 to $99.73). */
const centsOf = (d, g) => 1 + ((d * 7919 + g * 104_729) % 9973);
const dollars = (cents) => `${Math.trunc(cents / 100)}.${pad(cents % 100, 2)}`;
/** Units of a customer's series on day d. */
const unitsOf = (d, c) => 1 + ((c * 3 + d) % 10);

/** The CBF row of resource g on day d: several cost types (on-demand on every other resource). */
function cbfRow(d, g) {
	const cents = centsOf(d, g);
	const row = {
		"time/usage_start": `${dayOf(d)}T00:00:00Z`,
		"cost/cost": dollars(cents),
		"cost/discounted_cost": dollars(cents - (cents % 7)),
		"cost/amortized_cost": dollars(cents),
		"resource/id": `i-${pad(g, 5)}`,
		"resource/service": serviceOf(g),
		"resource/account": `account-${pad(Math.floor(g / 16) % ACCOUNTS, 2)}`,
		"resource/region": REGIONS[g % REGIONS.length],
		"lineitem/type": "Usage",
		"usage/amount": 24,
		"resource/tag:customer": customerOf(g),
	};
	if (g % 2 === 0) row["cost/on_demand_cost"] = dollars(cents + 100 * (g % 3));
	return row;
}

/** Every connection's rows, day by day, in drops of at most 10,000 rows: { connection, first day, resources }. */
function dropPlan() {
	const drops = [];
	let first = 0;
	for (const { id, resources } of CONNECTIONS) {
		// Rows (d, r) in day-major order, cut every ROWS_PER_DROP rows.
		const rows = DAYS * resources;
		for (let start = 0; start < rows; start += ROWS_PER_DROP)
			drops.push({ connection: id, firstResource: first, resources, start, end: Math.min(rows, start + ROWS_PER_DROP) });
		first += resources;
	}
	return drops;
}

function dropBody(drop) {
	const data = [];
	for (let i = drop.start; i < drop.end; i++) data.push(cbfRow(Math.floor(i / drop.resources), drop.firstResource + (i % drop.resources)));
	const buffer = Buffer.from(JSON.stringify({ month: MONTH, operation: "sum", data }));
	if (buffer.length > MAX_BODY_BYTES) throw new Error(`a large-org drop is ${buffer.length} bytes, over the ${MAX_BODY_BYTES}-byte limit`);
	return buffer;
}

/** The exact expected answers, in cents and units (BigInt). */
function expectedTotals() {
	const add = (map, key, n) => map.set(key, (map.get(key) ?? 0n) + BigInt(n));
	const byServiceMonth = new Map();
	const byServiceDay = new Map();
	const smallByDay = new Map();
	const byCustomer = new Map();
	const unitsByCustomer = new Map();
	let total = 0n;
	let rows = 0;
	let g = 0;
	for (const { id, resources } of CONNECTIONS) {
		for (let r = 0; r < resources; r++, g++) {
			const service = serviceOf(g);
			const customer = customerOf(g);
			for (let d = 0; d < DAYS; d++) {
				const cents = centsOf(d, g);
				add(byServiceMonth, service, cents);
				add(byServiceDay, `${dayOf(d)}|${service}`, cents);
				if (id === SMALL) add(smallByDay, dayOf(d), cents);
				add(byCustomer, customer, cents);
				total += BigInt(cents);
				rows++;
			}
		}
	}
	for (let c = 0; c < CUSTOMERS; c++) for (let d = 0; d < DAYS; d++) add(unitsByCustomer, `customer-${pad(c, 3)}`, unitsOf(d, c));
	return { rows, total, byServiceMonth, byServiceDay, smallByDay, byCustomer, unitsByCustomer };
}

/**
 * Whether a decimal string the service answered ("100", "12.3", "1.5e-7") is exactly `units`
 * hundredths (cents) or, with scale 0, exactly `units`: compared as integers, never as floats.
 */
export function decimalEquals(text, units, scale = 2) {
	const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(String(text));
	if (!m) return false;
	const fraction = m[3] ?? "";
	let digits = BigInt(`${m[2]}${fraction}`);
	if (m[1]) digits = -digits;
	// text = digits × 10^exp10
	const exp10 = Number(m[4] ?? 0) - fraction.length;
	// digits × 10^exp10 == units × 10^-scale  <=>  digits × 10^(exp10 + scale) == units
	const shift = exp10 + scale;
	return shift >= 0 ? digits * 10n ** BigInt(shift) === units : digits === units * 10n ** BigInt(-shift);
}

/** A plain decimal string ("12.3", "-0.05") as an exact count of 10^-scale. */
function decimalUnits(text, scale) {
	const [whole, fraction = ""] = String(text).replace("-", "").split(".");
	const n = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, "0").slice(0, scale) || "0");
	return String(text).startsWith("-") ? -n : n;
}

/** Compares answer lines with expected amounts; keeps a few examples of what differs. */
function compareLines(lines, expected, keyOf, amountOf, scale = 2) {
	const seen = new Set();
	const examples = [];
	let wrong = 0;
	for (const line of lines) {
		const key = keyOf(line);
		seen.add(key);
		const want = expected.get(key);
		if (want === undefined || !decimalEquals(amountOf(line), want, scale)) {
			wrong++;
			if (examples.length < 3)
				examples.push({ key, answered: amountOf(line), expected: want === undefined ? null : decimalString(want, scale) });
		}
	}
	for (const key of expected.keys()) {
		if (!seen.has(key)) {
			wrong++;
			if (examples.length < 3) examples.push({ key, answered: null, expected: decimalString(expected.get(key), scale) });
		}
	}
	return { status: wrong === 0 ? "ok" : "MISMATCH", lines: lines.length, expected_lines: expected.size, lines_wrong: wrong, examples };
}

function decimalString(units, scale) {
	if (scale === 0) return units.toString();
	const negative = units < 0n;
	const text = (negative ? -units : units).toString().padStart(scale + 1, "0");
	return `${negative ? "-" : ""}${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

// ---- memory ---------------------------------------------------------------------------------

function statusKiB(pid, field) {
	try {
		return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
	} catch {
		return 0;
	}
}

/**
 * Samples the summed VmRSS of `pids` every SAMPLE_MS. Also resets their VmHWM (writing 5 to
 * /proc/<pid>/clear_refs, when allowed) so that the kernel's own peak can confirm the sampled one.
 */
function rssSampler(pids) {
	const rssMiB = () => pids.reduce((n, pid) => n + statusKiB(pid, "VmRSS"), 0) / 1024;
	let hwmReset = true;
	const resetHwm = () => {
		for (const pid of pids) {
			try {
				writeFileSync(`/proc/${pid}/clear_refs`, "5");
			} catch {
				hwmReset = false;
			}
		}
	};
	let timer;
	let samples = 0;
	let peak = 0;
	let windowPeak = 0;
	const sample = () => {
		const mib = rssMiB();
		samples++;
		peak = Math.max(peak, mib);
		windowPeak = Math.max(windowPeak, mib);
		return mib;
	};
	return {
		/** The median of `ms` of samples while nothing is sent: the baseline. */
		async idle(ms) {
			const values = [];
			for (const end = performance.now() + ms; performance.now() < end; ) {
				values.push(rssMiB());
				await new Promise((r) => setTimeout(r, SAMPLE_MS));
			}
			values.sort((a, b) => a - b);
			return values[Math.floor(values.length / 2)];
		},
		start() {
			resetHwm();
			sample();
			timer = setInterval(sample, SAMPLE_MS);
		},
		/** The peak since the last call (per read). */
		window() {
			sample();
			const p = windowPeak;
			windowPeak = 0;
			return p;
		},
		stop() {
			clearInterval(timer);
			const last = sample();
			const hwm = hwmReset ? pids.reduce((n, pid) => n + statusKiB(pid, "VmHWM"), 0) / 1024 : null;
			return { samples, peak, last, hwm };
		},
	};
}

// ---- the case ---------------------------------------------------------------------------------

async function call(ctx, method, path, body, headers = { Authorization: ctx.token }) {
	const res = await request(ctx.agent, {
		port: ctx.port,
		method,
		path,
		headers,
		body: body && (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body))),
	});
	if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
	return res;
}

/** A cost read, every page of it: its lines and the pages it took. */
async function readCosts(ctx, query) {
	const costs = [];
	let cursor = null;
	let pages = 0;
	do {
		const res = await call(ctx, "GET", `/unit-cost/v1/costs?${query}&limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
		const page = JSON.parse(res.text);
		for (const line of page.costs) costs.push(line);
		cursor = page.next_cursor;
		pages++;
	} while (cursor);
	return { lines: costs, pages };
}

/**
 * `pid`: wrangler's (the process group's leader), to find its workerd runtime. Returns the
 * figures for results.json (costs.large_org) with their targets.
 */
export async function largeOrgCase({ port, pid, adminToken, log }) {
	const ctx = { port, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
	const adminHeaders = { Authorization: `Bearer ${adminToken}` };
	const created = await call(
		ctx,
		"POST",
		"/admin/v1/tokens",
		{ org: ORG, name: "bench", scopes: ["write", "read", "write_costs"] },
		adminHeaders,
	);
	ctx.token = JSON.parse(created.text).token;
	const expected = expectedTotals();
	const plan = dropPlan();

	// Loading: one drop at a time (a connection's drops are applied in turn anyway); the next body
	// is built while the previous drop is in flight.
	log(
		`Large org: loading ${expected.rows.toLocaleString("en-US")} daily cost rows (${CONNECTIONS.map((c) => `${c.resources.toLocaleString("en-US")} resources`).join(" + ")}, ${DAYS} days) as ${plan.length} sum drops of up to ${ROWS_PER_DROP.toLocaleString("en-US")} rows…`,
	);
	const loadStarted = performance.now();
	let next = dropBody(plan[0]);
	let bytes = 0;
	for (let i = 0; i < plan.length; i++) {
		bytes += next.length;
		const sent = call(ctx, "POST", `/v2/connections/billing/anycost/${plan[i].connection}/billing_drops`, next);
		next = i + 1 < plan.length ? dropBody(plan[i + 1]) : null;
		await sent;
	}
	const loadSeconds = (performance.now() - loadStarted) / 1000;

	await call(ctx, "PUT", `/admin/v1/orgs/${ORG}/dimensions/Customer`, { source: "tag:customer" }, adminHeaders);
	const records = [];
	for (let d = 0; d < DAYS; d++) {
		for (let c = 0; c < CUSTOMERS; c++)
			records.push({ timestamp: dayOf(d), value: unitsOf(d, c), associated_cost: { "custom:Customer": `customer-${pad(c, 3)}` } });
	}
	for (let i = 0; i < records.length; i += 10_000)
		await call(ctx, "POST", `/unit-cost/v1/telemetry/metric/${METRIC}/sum`, { records: records.slice(i, i + 10_000) });
	// (e)'s allocation stream: each Service's cost split among 5 products by daily values.
	const allocation = [];
	for (let d = 0; d < DAYS; d++)
		for (let s = 0; s < SERVICES; s++)
			for (let p = 0; p < PRODUCTS; p++)
				allocation.push({
					timestamp: dayOf(d),
					granularity: "DAILY",
					filter: { Service: [serviceOf(s)] },
					element_name: `product-${p}`,
					value: 1 + ((d + s + p * 3) % 7),
				});
	await call(ctx, "POST", `/unit-cost/v1/telemetry/allocation/${ALLOCATION}/sum`, { records: allocation });
	const load = {
		drops: plan.length,
		rows: expected.rows,
		megabytes: round(bytes / 1e6, 1),
		seconds: round(loadSeconds),
		rows_per_second: Math.round(expected.rows / loadSeconds),
	};
	log(
		`  loaded ${load.rows_per_second.toLocaleString("en-US")} rows/s (${load.seconds} s, ${load.megabytes} MB); metric '${METRIC}': ${CUSTOMERS} series x ${DAYS} days`,
	);

	const range = `start_date=${FIRST_DAY}&end_date=${LAST_DAY}`;
	const reads = [
		{
			name: "by Service, month",
			path: `costs?${range}&granularity=month&group_by=Service`,
			run: () => readCosts(ctx, `${range}&granularity=month&group_by=Service`),
			verify: ({ lines }) =>
				compareLines(
					lines,
					new Map([...expected.byServiceMonth].map(([s, c]) => [`${MONTH}|${s}|USD`, c])),
					(l) => `${l.period}|${l.group.Service}|${l.currency}`,
					(l) => l.cost,
				),
		},
		{
			name: "by Service, day",
			path: `costs?${range}&granularity=day&group_by=Service`,
			run: () => readCosts(ctx, `${range}&granularity=day&group_by=Service`),
			verify: ({ lines }) =>
				compareLines(
					lines,
					new Map([...expected.byServiceDay].map(([k, c]) => [`${k}|USD`, c])),
					(l) => `${l.period}|${l.group.Service}|${l.currency}`,
					(l) => l.cost,
				),
		},
		{
			name: "small connection, day",
			path: `costs?${range}&granularity=day&dim[Connection]=${SMALL}`,
			run: () => readCosts(ctx, `${range}&granularity=day&dim%5BConnection%5D=${SMALL}`),
			verify: ({ lines }) =>
				compareLines(
					lines,
					new Map([...expected.smallByDay].map(([day, c]) => [`${day}|USD`, c])),
					(l) => `${l.period}|${l.currency}`,
					(l) => l.cost,
				),
		},
		{
			name: "by allocation (5 products), month",
			path: `costs?${range}&granularity=month&group_by=allocation:${ALLOCATION}`,
			run: () => readCosts(ctx, `${range}&granularity=month&group_by=allocation:${ALLOCATION}`),
			// Each product's part is a proportion (not a whole number of cents), shown to 15
			// significant digits: the lines must add up to the month's total within their rounding
			// (half a unit of each line's 15th digit), and be the 5 products (every row is split).
			verify: ({ lines }) => {
				const total = [...expected.byServiceMonth.values()].reduce((a, c) => a + c, 0n) * 10n ** 8n;
				const sum = lines.reduce((a, l) => a + decimalUnits(l.cost, 10), 0n);
				const slack = lines.reduce(
					(a, l) => a + 10n ** BigInt(Math.max(0, l.cost.replace("-", "").split(".")[0].length - 15 + 10)) / 2n,
					0n,
				);
				const names = lines.map((l) => l.group[`allocation:${ALLOCATION}`]).join(",");
				const off = sum > total ? sum - total : total - sum;
				const ok = off <= slack && names === Array.from({ length: PRODUCTS }, (_, p) => `product-${p}`).join(",");
				return { status: ok ? "ok" : "MISMATCH", examples: ok ? [] : [{ names, sum: String(sum), total_cents: String(total) }] };
			},
		},
		{
			name: "unit cost by custom:Customer, month",
			path: `unit-cost/${METRIC}?${range}&granularity=month&group_by=custom:Customer`,
			run: async () => {
				const answer = JSON.parse(
					(await call(ctx, "GET", `/unit-cost/v1/unit-cost/${METRIC}?${range}&granularity=month&group_by=custom:Customer`)).text,
				);
				return { lines: answer.results, unmatched: answer.unmatched_cost, pages: 1 };
			},
			verify: ({ lines, unmatched }) => {
				const key = (l) => `${l.period}|${l.group["custom:Customer"]}|${l.currency}`;
				const cost = compareLines(
					lines,
					new Map([...expected.byCustomer].map(([c, cents]) => [`${MONTH}|${c}|USD`, cents])),
					key,
					(l) => l.cost,
				);
				const units = compareLines(
					lines,
					new Map([...expected.unitsByCustomer].map(([c, u]) => [`${MONTH}|${c}|USD`, u])),
					key,
					(l) => l.units,
					0,
				);
				const status = cost.status === "ok" && units.status === "ok" && unmatched.length === 0 ? "ok" : "MISMATCH";
				return { ...cost, status, units: units.status, units_examples: units.examples, unmatched_lines: unmatched.length };
			},
		},
	];

	const runtime = workerdProcesses(pid, port).filter((p) => p.role === "runtime");
	const sampler = rssSampler(runtime.map((p) => p.pid));
	const baseline = await sampler.idle(1000);
	log(`  reads, ${RUNS} times each (first ${DISCARDED} discarded); workerd runtime RSS before: ${round(baseline, 1)} MiB`);
	// CPU during the reads, % of one core: the runtime's, and every other process's (not the bench's own).
	const cpuNow = () => ({
		machine: machineCpuSeconds().busy,
		ours: processTree(pid).reduce((n, p) => n + p.cpuSeconds, 0) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
		runtime: runtime.reduce((n, p) => n + (processTree(p.pid)[0]?.cpuSeconds ?? 0), 0),
		at: performance.now(),
	});
	const cpuBefore = cpuNow();
	sampler.start();
	const results = {};
	for (const read of reads) {
		const samples = [];
		let last;
		for (let i = 0; i < RUNS; i++) {
			const started = performance.now();
			last = await read.run();
			if (i >= DISCARDED) samples.push(performance.now() - started);
		}
		const verification = read.verify(last);
		results[read.name] = {
			query: `/unit-cost/v1/${read.path}`,
			lines: last.lines.length,
			pages: last.pages,
			runs: samples.length,
			ms: summarize(samples),
			runtime_rss_peak_mib: round(sampler.window(), 1),
			verification,
		};
		log(
			`  ${read.name}: ${last.lines.length} lines, p50 ${results[read.name].ms.p50} ms, p99 ${results[read.name].ms.p99} ms, totals ${verification.status}`,
		);
		if (verification.status !== "ok") log(`    ${JSON.stringify(verification.examples)}`);
	}
	const rss = sampler.stop();
	const cpuAfter = cpuNow();
	const percent = (n) => Math.round((n / ((cpuAfter.at - cpuBefore.at) / 1000)) * 100);
	const cpu = {
		runtime: percent(cpuAfter.runtime - cpuBefore.runtime),
		other_processes: percent(cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours)),
	};
	const memory = {
		what: `VmRSS of wrangler's workerd runtime process${runtime.length === 1 ? "" : "es"} (pid ${runtime.map((p) => p.pid).join(", ")}), sampled every ${SAMPLE_MS} ms during the reads`,
		baseline_mib: round(baseline, 1),
		peak_mib: round(rss.peak, 1),
		growth_mib: round(rss.peak - baseline, 1),
		after_mib: round(rss.last, 1),
		samples: rss.samples,
		// The kernel's peak since the reads began (VmHWM after a reset): catches what falls between samples.
		kernel_peak_mib: rss.hwm === null ? null : round(rss.hwm, 1),
	};
	log(
		`  workerd runtime RSS: ${memory.baseline_mib} MiB before the reads, peak ${memory.peak_mib} MiB (kernel peak ${memory.kernel_peak_mib ?? "n/a"}), growth ${memory.growth_mib} MiB; CPU % of a core during the reads: runtime ${cpu.runtime}, other processes ${cpu.other_processes}`,
	);
	ctx.agent.destroy();

	const p50s = Object.values(results).map((r) => r.ms.p50);
	return {
		organization: {
			connections: CONNECTIONS,
			services: SERVICES,
			accounts: ACCOUNTS,
			regions: REGIONS.length,
			customers: CUSTOMERS,
			days: DAYS,
			daily_cost_rows: expected.rows,
			total_cost: decimalString(expected.total, 2),
		},
		load,
		metric: { name: METRIC, series: CUSTOMERS, days: DAYS, custom_dimension: "Customer = tag:customer" },
		reads: results,
		reads_cpu_percent_of_wall: cpu,
		memory,
		verification: Object.values(results).every((r) => r.verification.status === "ok") ? "ok" : "MISMATCH",
		targets: {
			"large org (601,500 daily cost rows): each of the 5 reads p50 <= 1 s": p50s.every((ms) => ms <= 1000),
			"large org: workerd runtime RSS growth during the reads <= 100 MiB": memory.growth_mib <= 100,
		},
	};
}
