// The simulated round trip to D1 (`npm run bench -- --d1-rtt-ms 0,20`, or `--only rtt` for these
// cases alone). For each delay, a fresh `wrangler dev` runs bench/worker-rtt.ts: the service
// with every D1 round trip (in the Worker and in the Durable Objects) delayed by that many
// milliseconds. Then: small writes from many connections to one stream and to 16, from one
// connection with and without an Idempotency-Key, the read cases, and the listing of 100
// streams holding 73,000 rows. Write cases are verified as the others are.
import { join } from "node:path";
import { request, round, summarize } from "./load.mjs";
import { startService } from "./server.mjs";
import { requestBodies } from "./workload.mjs";

export const DEFAULT_RTT_MS = [0, 20];
const ONLY = ["rtt", "costs", "large-org", "ingest", "small"];

/** `--only rtt|costs|large-org|ingest|small` and `--d1-rtt-ms 0,20` from the command line. */
export function rttOptions(argv) {
	const value = (flag) => {
		const i = argv.indexOf(flag);
		return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
	};
	const only = value("--only");
	if (only !== undefined && !ONLY.includes(only))
		throw new Error(`--only takes ${ONLY.map((o) => JSON.stringify(o)).join(", ")}, not ${JSON.stringify(only)}`);
	const list = value("--d1-rtt-ms");
	const rttMs = list === undefined ? DEFAULT_RTT_MS : list.split(",").map(Number);
	if (rttMs.length === 0 || rttMs.some((ms) => !Number.isFinite(ms) || ms < 0))
		throw new Error(`--d1-rtt-ms takes milliseconds ≥ 0, comma-separated, not ${JSON.stringify(list)}`);
	return { only, onlyRtt: only === "rtt", rttMs };
}

const CASES = [
	{ name: "sum 1 x 1 stream, 64 conn", op: "sum", streams: 1, recordsPerRequest: 1, connections: 64 },
	{ name: "sum 1 x 16 streams, 64 conn", op: "sum", streams: 16, recordsPerRequest: 1, connections: 64 },
	{ name: "sum 1 x 1 stream, 1 conn", op: "sum", streams: 1, recordsPerRequest: 1, connections: 1 },
	{ name: "sum 1 x 1 stream, 1 conn, Idempotency-Key", op: "sum", streams: 1, recordsPerRequest: 1, connections: 1, idempotent: true },
];

/**
 * Runs every case once per delay. `bench`: what run.mjs shares (writeCase, readCase, createToken,
 * log, tmp, seconds). Returns { [ms]: { cases, reads, listing } }.
 */
export async function runRttCases(bench, rttMs) {
	const out = {};
	for (const ms of rttMs) {
		bench.log(`\nSimulated D1 round trip ${ms} ms: wrangler dev bench/worker-rtt.ts --var D1_RTT_MS:${ms} on fresh local state…`);
		const service = await startService({
			stateDir: join(bench.tmp, `state-rtt-${ms}`),
			logFile: join(bench.tmp, `wrangler-rtt-${ms}.log`),
			script: "bench/worker-rtt.ts",
			vars: { D1_RTT_MS: String(ms) },
		});
		try {
			const ctx = { port: service.port, pid: service.pid, auth: await bench.createToken(service, "bench") };
			await bench.writeCase(ctx, {
				name: "warm-up",
				op: "sum",
				streams: 2,
				recordsPerRequest: 100,
				connections: 4,
				seconds: 2,
				quiet: true,
			});
			const result = { d1_rtt_ms: ms, cases: {} };
			for (const spec of CASES) {
				result.cases[spec.name] = await bench.writeCase(ctx, { ...spec, name: `rtt ${ms}: ${spec.name}`, seconds: bench.seconds });
			}
			result.reads = await bench.readCase(ctx);
			result.listing = await listingCase(bench, { port: service.port, auth: await bench.createToken(service, "bench-list") });
			out[ms] = result;
		} finally {
			await service.stop();
		}
	}
	return out;
}

const LIST_STREAMS = 100;
const LIST_DAYS = 73;
const LIST_SERIES = 10; // 100 streams x 73 days x 10 series = 73,000 rows

/** GET …/telemetry/metric (first_day, last_day and series_count of each) over 100 streams holding 73,000 rows. */
async function listingCase(bench, ctx) {
	bench.log(
		`Listing: ${LIST_STREAMS} streams x ${LIST_DAYS} days x ${LIST_SERIES} series (${LIST_STREAMS * LIST_DAYS * LIST_SERIES} rows)…`,
	);
	const [body] = requestBodies(LIST_DAYS, LIST_DAYS * LIST_SERIES, LIST_SERIES);
	for (let i = 0; i < LIST_STREAMS; i++) {
		const res = await request(undefined, {
			port: ctx.port,
			method: "POST",
			path: `/unit-cost/v1/telemetry/metric/list-${String(i).padStart(3, "0")}/sum`,
			headers: ctx.auth,
			body: body.buffer,
		});
		if (res.status !== 200) throw new Error(`loading the listing streams failed: ${res.status} ${res.text.slice(0, 300)}`);
	}
	const samples = [];
	let check = "ok";
	for (let i = 0; i < 30; i++) {
		const res = await request(undefined, {
			port: ctx.port,
			method: "GET",
			path: `/unit-cost/v1/telemetry/metric?limit=${LIST_STREAMS}`,
			headers: ctx.auth,
		});
		if (res.status !== 200) throw new Error(`listing failed: ${res.status} ${res.text.slice(0, 300)}`);
		samples.push(res.ms);
		const { streams } = JSON.parse(res.text);
		const wrong =
			streams.length !== LIST_STREAMS ||
			streams.some((s) => s.series_count !== LIST_SERIES || s.first_day !== "2024-01-01" || s.last_day !== "2024-03-13");
		if (wrong) check = "MISMATCH";
	}
	const result = {
		streams: LIST_STREAMS,
		rows: LIST_STREAMS * LIST_DAYS * LIST_SERIES,
		runs: samples.length,
		ms: summarize(samples),
		verification: { status: check },
	};
	bench.log(`  listing p50 ${result.ms.p50} ms, p99 ${result.ms.p99} ms (${check})`);
	return result;
}

/** The derived figures and targets of the round-trip cases (when 0 and 20 ms were both run). */
export function deriveRtt(rtt) {
	const at0 = rtt?.[0];
	const at20 = rtt?.[20];
	if (!at0 || !at20) return { targets: {} };
	const c = (r, name) => r.cases[name];
	const many0 = c(at0, "sum 1 x 1 stream, 64 conn");
	const many20 = c(at20, "sum 1 x 1 stream, 64 conn");
	const one0 = c(at0, "sum 1 x 1 stream, 1 conn");
	const one20 = c(at20, "sum 1 x 1 stream, 1 conn");
	return {
		small_writes_rtt20_over_rtt0: round(many20.requests_per_second / many0.requests_per_second, 3),
		small_writes_p50_rtt20_over_rtt0: round(many20.latency_ms.p50 / many0.latency_ms.p50, 3),
		rtt_all_verified: [at0, at20].every(
			(r) =>
				Object.values(r.cases).every((x) => x.verification.status === "ok") &&
				r.reads.load.verification.status === "ok" &&
				r.listing.verification.status === "ok",
		),
		targets: {
			"64 connections, 1 stream: req/s at 20 ms >= 0.7 x at 0 ms": many20.requests_per_second >= 0.7 * many0.requests_per_second,
			"64 connections, 1 stream: p50 at 20 ms <= 1.5 x at 0 ms": many20.latency_ms.p50 <= 1.5 * many0.latency_ms.p50,
			"1-record sum, 1 connection: p50 at 20 ms <= 20 + p50 at 0 ms + 5": one20.latency_ms.p50 <= 20 + one0.latency_ms.p50 + 5,
			"filtered read of one series: p50 at 20 ms <= 2 x 20 + p50 at 0 ms + 5":
				at20.reads.filtered.ms.p50 <= 2 * 20 + at0.reads.filtered.ms.p50 + 5,
		},
	};
}

/** Table rows (as run.mjs prints them) for the round-trip cases, 0 and 20 ms side by side. */
export function rttTableRows(rtt) {
	const rows = [];
	for (const [ms, r] of Object.entries(rtt ?? {})) {
		for (const [name, c] of Object.entries(r.cases)) {
			rows.push([
				`rtt ${ms}: ${name}`,
				String(c.requests_per_second),
				String(c.latency_ms.p50),
				String(c.latency_ms.p99),
				c.verification.status,
			]);
		}
		rows.push([
			`rtt ${ms}: read ${r.reads.full.rows} rows (${r.reads.full.pages} pages)`,
			"",
			String(r.reads.full.ms.p50),
			`max ${r.reads.full.ms.max}`,
			"",
		]);
		rows.push([
			`rtt ${ms}: read filtered (${r.reads.filtered.rows} rows)`,
			"",
			String(r.reads.filtered.ms.p50),
			String(r.reads.filtered.ms.p99),
			"",
		]);
		rows.push([
			`rtt ${ms}: list ${r.listing.streams} streams (${r.listing.rows} rows)`,
			"",
			String(r.listing.ms.p50),
			String(r.listing.ms.p99),
			r.listing.verification.status,
		]);
	}
	return rows;
}
