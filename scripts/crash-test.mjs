#!/usr/bin/env node
// `npm run test:crash`: proves that an acknowledged write is never lost and never counted twice
// when the server dies mid-flight. Runs `wrangler dev` on fresh local state, sends thousands of
// sums with known values from concurrent clients, kill -9s the server at random moments and
// restarts it; clients retry every failed call with the same Idempotency-Key. At the end every
// stored total must equal the sum of the acknowledged values, and every acknowledged request
// must be in the ingest log exactly once.
//
// Options (environment): CRASH_REQUESTS (default 2400), CRASH_CLIENTS (8), CRASH_KILLS (4), CRASH_SEED.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startService } from "./lib/dev-server.mjs";

const REQUESTS = Number(process.env.CRASH_REQUESTS ?? 2400);
const CLIENTS = Number(process.env.CRASH_CLIENTS ?? 8);
const KILLS = Number(process.env.CRASH_KILLS ?? 4);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const PORTS = [8821, 8822, 8823, 8824, 8825, 8826, 8827, 8828, 8829];
const STREAMS = ["crash-a", "crash-b", "crash-c", "crash-d"];
const DAYS = Array.from({ length: 10 }, (_, i) => `2024-01-${String(i + 1).padStart(2, "0")}`);
const CLIENT_NAMES = ["ann", "bob", "cyd", "dee", "eve"];

let state = SEED >>> 0;
function random() {
	state = (state + 0x6d2b79f5) >>> 0;
	let t = Math.imul(state ^ (state >>> 15), state | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), "meterline-crash-"));
const stateDir = join(dir, "state");
const logFile = join(dir, "wrangler.log");
const log = (msg) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
const t0 = performance.now();

let server = await startService({ stateDir, logFile, ports: PORTS, vars: { RATE_LIMITS: "off" } });
log(`wrangler dev on ${server.url}, state in ${stateDir}, seed ${SEED}`);
const adminToken = server.adminToken;
const restart = () => startService({ stateDir, logFile, ports: PORTS, vars: { RATE_LIMITS: "off" }, adminToken });

const tokenRes = await fetch(`${server.url}/admin/v1/tokens`, {
	method: "POST",
	headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
	body: JSON.stringify({ org: "crash-test", name: "crash", scopes: ["write", "read"] }),
});
if (tokenRes.status !== 201) throw new Error(`token creation failed: ${tokenRes.status} ${await tokenRes.text()}`);
const { token } = await tokenRes.json();

// The work: each request sums 1-5 records of small integers (exact in floating point) into
// one stream; the expected totals count only acknowledged requests.
const work = Array.from({ length: REQUESTS }, (_, i) => {
	const records = Array.from({ length: 1 + Math.floor(random() * 5) }, () => ({
		timestamp: pick(DAYS),
		value: 1 + Math.floor(random() * 100),
		associated_cost: { "custom:Client": pick(CLIENT_NAMES) },
	}));
	return { key: `crash-${SEED}-${i}`, stream: pick(STREAMS), records };
});

const stats = { acknowledged: 0, attempts: 0, retried: 0, replayed: 0, failures: {} };
const expected = new Map(); // stream|day|client → total
let nextIndex = 0;
let serverUp = true;

async function send(item) {
	for (let attempt = 0; ; attempt++) {
		if (attempt > 0) stats.retried++;
		if (attempt > 200) throw new Error(`request ${item.key} failed 200 times`);
		stats.attempts++;
		try {
			const res = await fetch(`${server.url}/unit-cost/v1/telemetry/metric/${item.stream}/sum`, {
				method: "POST",
				headers: { Authorization: token, "Content-Type": "application/json", "Idempotency-Key": item.key },
				body: JSON.stringify({ records: item.records }),
				signal: AbortSignal.timeout(15_000),
			});
			const text = await res.text();
			if (res.status === 200) {
				if (res.headers.get("Idempotent-Replayed") === "true") stats.replayed++;
				return;
			}
			// A 4xx other than an overloaded server would be a bug in the service or in this script.
			if (res.status < 500 && res.status !== 429) throw new Error(`request ${item.key}: ${res.status} ${text}`);
			stats.failures[res.status] = (stats.failures[res.status] ?? 0) + 1;
		} catch (err) {
			if (err instanceof Error && err.message.startsWith(`request ${item.key}`)) throw err;
			const kind = err?.cause?.code ?? err?.name ?? "error";
			stats.failures[kind] = (stats.failures[kind] ?? 0) + 1;
		}
		await sleep(serverUp ? 50 + Math.random() * 100 : 300);
	}
}

async function client() {
	while (nextIndex < work.length) {
		const item = work[nextIndex++];
		await send(item);
		stats.acknowledged++;
		for (const r of item.records) {
			const cell = `${item.stream}|${r.timestamp}|${r.associated_cost["custom:Client"]}`;
			expected.set(cell, (expected.get(cell) ?? 0) + r.value);
		}
	}
}

async function killer() {
	for (let kill = 1; kill <= KILLS; kill++) {
		// Kill at a random moment while requests are in flight, spread over the run.
		const target = Math.floor(((kill - 0.5 + (random() - 0.5) * 0.6) / (KILLS + 1)) * REQUESTS);
		while (stats.acknowledged < target) await sleep(5);
		if (nextIndex >= work.length) throw new Error("all requests were sent before the kills: raise CRASH_REQUESTS");
		const inFlight = nextIndex - stats.acknowledged;
		serverUp = false;
		await server.crash();
		log(`kill -9 #${kill} after ${stats.acknowledged} acknowledged, ${inFlight} in flight`);
		server = await restart();
		serverUp = true;
		log(`restarted on ${server.url}`);
	}
}

try {
	const killing = killer();
	await Promise.all([...Array.from({ length: CLIENTS }, client), killing]);
	log(`all ${stats.acknowledged} requests acknowledged after ${stats.attempts} attempts`);

	// What is stored: every stream read back in full, and its ingest log.
	const stored = new Map();
	const logged = new Map(); // idempotency key → times logged
	for (const stream of STREAMS) {
		for (let cursor = ""; ; ) {
			const res = await fetch(`${server.url}/unit-cost/v1/telemetry/metric/${stream}?limit=50000${cursor ? `&cursor=${cursor}` : ""}`, {
				headers: { Authorization: token },
			});
			if (res.status !== 200) throw new Error(`read ${stream}: ${res.status} ${await res.text()}`);
			for (const r of (await res.json()).records)
				stored.set(`${stream}|${r.timestamp}|${r.associated_cost["custom:Client"]}`, Number(r.value));
			cursor = res.headers.get("X-Next-Cursor") ?? "";
			if (!cursor) break;
		}
		for (let cursor = ""; ; ) {
			const res = await fetch(`${server.url}/unit-cost/v1/telemetry/metric/${stream}/log?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, {
				headers: { Authorization: token },
			});
			if (res.status !== 200) throw new Error(`log ${stream}: ${res.status} ${await res.text()}`);
			const page = await res.json();
			for (const e of page.entries) if (e.idempotency_key) logged.set(e.idempotency_key, (logged.get(e.idempotency_key) ?? 0) + 1);
			cursor = page.next_cursor ?? "";
			if (!cursor) break;
		}
	}

	const storedRequests = work.filter((w) => logged.get(w.key) === 1).length;
	const lostRequests = work.filter((w) => !logged.has(w.key)).length;
	const duplicatedRequests = [...logged.values()].filter((n) => n > 1).length;
	let lostValue = 0;
	let duplicatedValue = 0;
	for (const cell of new Set([...expected.keys(), ...stored.keys()])) {
		const diff = (stored.get(cell) ?? 0) - (expected.get(cell) ?? 0);
		if (diff < 0) lostValue -= diff;
		if (diff > 0) duplicatedValue += diff;
	}
	const expectedTotal = [...expected.values()].reduce((a, b) => a + b, 0);
	const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);

	console.log(`
kills=${KILLS} clients=${CLIENTS} attempts=${stats.attempts} retried=${stats.retried} replayed=${stats.replayed} failures=${JSON.stringify(stats.failures)}
cells=${expected.size} expected_total=${expectedTotal} stored_total=${storedTotal} lost_value=${lostValue} duplicated_value=${duplicatedValue}
acknowledged=${stats.acknowledged} stored=${storedRequests} lost=${lostRequests} duplicated=${duplicatedRequests}`);
	const ok =
		stats.acknowledged === REQUESTS &&
		storedRequests === REQUESTS &&
		lostRequests === 0 &&
		duplicatedRequests === 0 &&
		lostValue === 0 &&
		duplicatedValue === 0;
	if (!ok) {
		console.error(`FAIL: state and wrangler log kept in ${dir}`);
		process.exitCode = 1;
	} else if (stats.retried === 0) {
		console.error("FAIL: no request had to be retried, so the kills proved nothing");
		process.exitCode = 1;
	}
} finally {
	await server.stop();
	if (!process.exitCode) rmSync(dir, { recursive: true, force: true });
}
