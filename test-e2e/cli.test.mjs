// The `meterline` CLI against the real service (`wrangler dev`, fresh local state):
// tokens, a 25,000-row CSV in several requests with its totals read back, 429/503/dropped
// connections retried through a faulty proxy without double counting, and a bad row reported
// with its line number, and a URL where nothing answers (closed port, unresolvable host) failing
// within seconds; cost imports and unit costs once the AnyCost Stream routes exist. Run with `npm run test:cli` (ports 8811, 8812, 8815, 8816, and one the OS picks).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT, startService } from "./service.mjs";

// The service and its inspector take the first two free ones.
const SERVICE_PORTS = [8811, 8812, 8816];
const PROXY_PORT = 8815;
const CLI = join(ROOT, "bin", "meterline.mjs");
const work = mkdtempSync(join(tmpdir(), "meterline-cli-"));

let service;
let token;

/** Runs the CLI as a user would (not on a terminal: plain progress lines). */
function meterline(args, env = {}) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [CLI, ...args], {
			env: { ...process.env, METERLINE_URL: service.url, METERLINE_ADMIN_TOKEN: service.adminToken, METERLINE_TOKEN: token ?? "", ...env },
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d) => (stdout += d));
		child.stderr.on("data", (d) => (stderr += d));
		child.on("exit", (code) => resolve({ code, stdout, stderr }));
	});
}

/** "day|dimensions" with the dimensions in a canonical order. */
function seriesDay(day, dims = {}) {
	return `${day}|${JSON.stringify(Object.fromEntries(Object.entries(dims).sort(([a], [b]) => (a < b ? -1 : 1))))}`;
}

/** Every daily value of a stream, all pages, as { "day|dims": number }. */
async function readAll(stream) {
	const values = new Map();
	let cursor = null;
	do {
		const res = await fetch(
			`${service.url}/unit-cost/v1/telemetry/metric/${stream}?limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
			{
				headers: { Authorization: token },
			},
		);
		assert.equal(res.status, 200, await res.clone().text());
		const page = await res.json();
		for (const r of page.records) values.set(seriesDay(r.timestamp, r.associated_cost), Number(r.value));
		cursor = page.next_cursor;
	} while (cursor);
	return values;
}

/** A CSV of days × clients, every value a multiple of 0.25 (exact in binary, so totals compare exactly). */
function makeCsv(file, { days, clients, firstDay = Date.UTC(2024, 0, 1), valueFor = (d, c) => ((d * 31 + c * 7) % 1000) + 0.25 }) {
	const lines = ["timestamp,value,client,region"];
	const expected = new Map();
	for (let d = 0; d < days; d++) {
		const day = new Date(firstDay + d * 86_400_000).toISOString().slice(0, 10);
		for (let c = 0; c < clients; c++) {
			const value = valueFor(d, c);
			const region = ["Europe", "Australia", "North America"][c % 3];
			lines.push(`${day},${value},Client ${c},${region}`);
			expected.set(seriesDay(day, { "custom:Client": `Client ${c}`, Region: region }), value);
		}
	}
	writeFileSync(file, `${lines.join("\n")}\n`);
	return expected;
}

const MAPPING = ["--dimension", "custom:Client=client", "--dimension", "Region=region"];

function dayTotals(values) {
	const totals = new Map();
	for (const [key, value] of values) totals.set(key.split("|")[0], (totals.get(key.split("|")[0]) ?? 0) + value);
	return totals;
}

before(async () => {
	service = await startService({ ports: SERVICE_PORTS });
});
after(async () => {
	await service?.stop();
	rmSync(work, { recursive: true, force: true });
});

describe("meterline tokens", () => {
	it("creates a token (secret shown once), lists it without the secret, and revokes another", async () => {
		const created = await meterline(["tokens", "create", "--org", "acme", "--name", "backfill", "--scopes", "write,read"]);
		assert.equal(created.code, 0, created.stderr);
		token = /Secret \(shown only now\): (\S+)/.exec(created.stdout)?.[1];
		const id = /Created token (tok_\S+)/.exec(created.stdout)?.[1];
		assert.ok(token && id, created.stdout);

		const spare = await meterline(["tokens", "create", "--org", "acme", "--name", "spare", "--scopes", "write", "--json"]);
		assert.equal(spare.code, 0, spare.stderr);
		const spareToken = JSON.parse(spare.stdout);

		const listed = await meterline(["tokens", "list", "--org", "acme"]);
		assert.equal(listed.code, 0, listed.stderr);
		assert.match(listed.stdout, new RegExp(`${id}\\s+backfill\\s+write,read`));
		assert.ok(!listed.stdout.includes(token), "list must not show secrets");

		const revoked = await meterline(["tokens", "revoke", spareToken.id]);
		assert.equal(revoked.code, 0, revoked.stderr);
		assert.match(revoked.stdout, new RegExp(`Revoked ${spareToken.id}`));

		// The revoked token is refused, and the CLI says so with a non-zero exit.
		const file = join(work, "one.csv");
		writeFileSync(file, "timestamp,value\n2024-01-01,1\n");
		const refused = await meterline(["send", file, "--stream", "revoked-check"], { METERLINE_TOKEN: spareToken.token });
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /HTTP 403 not_authorized/);

		const wrongAdmin = await meterline(["tokens", "list", "--org", "acme"], { METERLINE_ADMIN_TOKEN: "wrong" });
		assert.equal(wrongAdmin.code, 1);
		assert.match(wrongAdmin.stderr, /HTTP 403/);
	});
});

describe("meterline send", () => {
	it("sends a 25,000-row CSV in 3 requests; the stored daily totals are the file's", async () => {
		const file = join(work, "backfill.csv");
		const expected = makeCsv(file, { days: 50, clients: 500 });
		assert.equal(expected.size, 25_000);

		const run = await meterline(["send", file, "--stream", "backfill", "--op", "sum", ...MAPPING]);
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /Sent 25,000 records to stream 'backfill' \(sum\) in 3 requests in [\d.]+ s \([\d,]+ records\/s\)\./);
		// Not a terminal: one plain progress line per request, with the rate.
		assert.match(run.stderr, /batch 1\/3: 10000\/25000 records sent \([\d,]+ records\/s\)/);
		assert.match(run.stderr, /batch 3\/3: 25000\/25000 records sent/);

		const stored = await readAll("backfill");
		assert.equal(stored.size, 25_000);
		assert.deepEqual(dayTotals(stored), dayTotals(expected));
		assert.deepEqual(stored, expected);

		// Re-running the same command applies nothing twice: every request is answered from its Idempotency-Key.
		const again = await meterline(["send", file, "--stream", "backfill", ...MAPPING]);
		assert.equal(again.code, 0, again.stderr);
		assert.match(again.stdout, /3 requests were already applied earlier \(same Idempotency-Key\) and not applied again/);
		assert.deepEqual(await readAll("backfill"), expected);

		// A new run id sends the same data again on purpose: every value doubles.
		const twice = await meterline(["send", file, "--stream", "backfill", "--run-id", "second", ...MAPPING]);
		assert.equal(twice.code, 0, twice.stderr);
		const doubled = await readAll("backfill");
		for (const [key, value] of expected) assert.equal(doubled.get(key), value * 2, key);
	});

	it("retries a 429 (honouring Retry-After), a 503 after the write and a dropped connection, without double counting", async () => {
		// Faults by request (in order of first sight) and attempt: before forwarding, or after the service applied it.
		const FAULTS = [["429-before"], ["503-after"], ["drop-after"]];
		const keys = [];
		const attempts = new Map();
		const proxy = createServer(async (req, res) => {
			const chunks = [];
			for await (const chunk of req) chunks.push(chunk);
			const key = req.headers["idempotency-key"];
			if (!keys.includes(key)) keys.push(key);
			const seen = attempts.get(key) ?? [];
			seen.push(Date.now());
			attempts.set(key, seen);
			const fault = FAULTS[keys.indexOf(key)]?.[seen.length - 1];
			if (fault === "429-before") {
				res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "1" });
				return res.end(
					JSON.stringify({ error: { code: "rate_limited", message: "Rate limit exceeded (simulated)", request_id: "proxy" } }),
				);
			}
			const upstream = await fetch(`${service.url}${req.url}`, {
				method: req.method,
				headers: { Authorization: req.headers.authorization, "Content-Type": req.headers["content-type"], "Idempotency-Key": key },
				body: Buffer.concat(chunks),
			});
			const text = await upstream.text();
			if (fault === "503-after") {
				res.writeHead(503, { "Content-Type": "application/json" });
				return res.end(
					JSON.stringify({ error: { code: "storage_unavailable", message: "simulated: applied, answer lost", request_id: "proxy" } }),
				);
			}
			if (fault === "drop-after") return req.socket.destroy();
			res.writeHead(upstream.status, {
				"Content-Type": upstream.headers.get("content-type") ?? "application/json",
				...(upstream.headers.get("idempotent-replayed") ? { "Idempotent-Replayed": "true" } : {}),
			});
			res.end(text);
		});
		await new Promise((resolve) => proxy.listen(PROXY_PORT, "127.0.0.1", resolve));
		try {
			const file = join(work, "retries.csv");
			const expected = makeCsv(file, { days: 40, clients: 300, valueFor: (d, c) => ((d + c) % 50) + 0.5 });
			const run = await meterline(["send", file, "--stream", "retried", "--batch-size", "4000", ...MAPPING], {
				METERLINE_URL: `http://127.0.0.1:${PROXY_PORT}`,
			});
			assert.equal(run.code, 0, run.stderr);
			assert.match(
				run.stderr,
				/request 1\/3 \(lines 2-4001\): HTTP 429 rate_limited: Rate limit exceeded \(simulated\); retry 1 in 1\.0 s/,
			);
			assert.match(run.stderr, /request 2\/3 \(lines 4002-8001\): HTTP 503 storage_unavailable/);
			assert.match(run.stderr, /request 3\/3 \(lines 8002-12001\): network error/);
			assert.match(run.stdout, /3 retries; 2 requests were already applied earlier/);

			assert.equal(keys.length, 3);
			assert.deepEqual(
				keys.map((k) => attempts.get(k).length),
				[2, 2, 2],
			);
			const [first, second] = attempts.get(keys[0]);
			assert.ok(second - first >= 950, `Retry-After: 1 honoured (waited ${second - first} ms)`);

			const stored = await readAll("retried");
			assert.deepEqual(stored, expected, "every value stored exactly once");
		} finally {
			await new Promise((resolve) => proxy.close(resolve));
		}
	});

	it("reports bad rows with their file line numbers, sends nothing and exits 1", async () => {
		const file = join(work, "bad.csv");
		writeFileSync(
			file,
			`${[
				"timestamp,value,client,region",
				"2024-03-01,10,Client 1,Europe",
				"2024-03-02,12,Client 1,Europe",
				"2024-03-03,-3,Client 1,Europe",
				"2024-03-04,1,Client 1,Europe",
				"2024-02-30,5,Client 1,Europe",
				'2024-03-05,"1,5",Client 1,Europe',
			].join("\n")}\n`,
		);
		const run = await meterline(["send", file, "--stream", "bad-rows", ...MAPPING]);
		assert.equal(run.code, 1);
		assert.match(run.stderr, /bad\.csv:4: value: value must not be negative \[negative_value\]/);
		assert.match(run.stderr, /bad\.csv:6: timestamp: '2024-02-30' is not a calendar date \[invalid_timestamp\]/);
		assert.match(run.stderr, /bad\.csv:7: value: value must not contain commas \[invalid_value\]/);
		assert.match(run.stderr, /3 problems found; nothing was sent\./);
		const res = await fetch(`${service.url}/unit-cost/v1/telemetry/metric/bad-rows`, { headers: { Authorization: token } });
		assert.equal(res.status, 404, "nothing was written");

		const ragged = join(work, "ragged.csv");
		writeFileSync(ragged, "timestamp,value\n2024-03-01,1\n2024-03-02,2,extra\n");
		const raggedRun = await meterline(["send", ragged, "--stream", "bad-rows"]);
		assert.equal(raggedRun.code, 1);
		assert.match(raggedRun.stderr, /ragged\.csv:3: expected 2 fields as in the header, found 3/);
	});

	it("sends a replace of hourly records as day totals, so a day split by --batch-size keeps its whole total", async () => {
		// The records CloudZero's UCA toolkit generates for its hourly quick start (replace is its default).
		const hours = [10000, 10000, 20000, 30000, 30000, 10000, 10000, 20000, 30000, 30000];
		const jsonl = join(work, "uca-hourly.jsonl");
		const line = (h, v) =>
			JSON.stringify({ timestamp: `2024-02-08 0${h}:00:00+00:00`, associated_cost: { "custom:product": "product A" }, value: `${v}.00` });
		writeFileSync(jsonl, `${hours.map((v, h) => line(h, v)).join("\n")}\n`);
		const sent = await meterline(["send", jsonl, "--stream", "uca-hourly", "--op", "replace", "--batch-size", "3"]);
		assert.equal(sent.code, 0, sent.stderr);
		assert.match(sent.stderr, /10 records as 1 day totals to stream 'uca-hourly' \(replace\) in 1 request/);
		assert.deepEqual([...(await readAll("uca-hourly"))], [['2024-02-08|{"custom:product":"product A"}', 200000]]);
	});

	it("sends JSONL with replace and JSON with delete, each validated the same way", async () => {
		const jsonl = join(work, "replace.jsonl");
		writeFileSync(
			jsonl,
			[
				JSON.stringify({ timestamp: "2024-05-01", value: "7", associated_cost: { "custom:Client": "A" } }),
				"",
				JSON.stringify({ timestamp: "2024-05-02", value: 8.5, associated_cost: { "custom:Client": "A" } }),
			].join("\n"),
		);
		assert.equal((await meterline(["send", jsonl, "--stream", "mixed", "--op", "replace"])).code, 0);
		writeFileSync(jsonl, `${JSON.stringify({ timestamp: "2024-05-01", value: "9", associated_cost: { "custom:Client": "A" } })}\n`);
		assert.equal((await meterline(["send", jsonl, "--stream", "mixed", "--op", "replace"])).code, 0);

		const del = join(work, "delete.json");
		writeFileSync(del, JSON.stringify({ records: [{ timestamp: "2024-05-02", associated_cost: { "custom:Client": "A" } }] }, null, 2));
		const deleted = await meterline(["send", del, "--stream", "mixed", "--op", "delete"]);
		assert.equal(deleted.code, 0, deleted.stderr);
		assert.deepEqual([...(await readAll("mixed"))], [['2024-05-01|{"custom:Client":"A"}', 9]]);

		// A JSON record with an unknown field is reported at the line it starts on.
		writeFileSync(del, `{"records": [\n  {"timestamp": "2024-05-01"},\n  {"timestamp": "2024-05-02",\n   "filters": {}}\n]}\n`);
		const bad = await meterline(["send", del, "--stream", "mixed", "--op", "delete"]);
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /delete\.json:3: unknown field 'filters' \[unknown_field\]/);
	});

	it("is the package's bin: `npx meterline --help` and usage errors exit 2", async () => {
		const help = await new Promise((resolve) => {
			const child = spawn("npx", ["--no-install", "meterline", "--help"], { cwd: ROOT });
			let out = "";
			child.stdout.on("data", (d) => (out += d));
			child.on("exit", (code) => resolve({ code, out }));
		});
		assert.equal(help.code, 0);
		assert.match(help.out, /meterline send <file> --stream <name>/);
		const usage = await meterline(["send", "x.csv"]);
		assert.equal(usage.code, 2);
		assert.match(usage.stderr, /--stream is required/);
	});
});

describe("meterline costs import and unit-cost (AnyCost Stream billing drops, issue 13)", () => {
	const FOCUS_10 = join(ROOT, "test", "fixtures", "focus", "focus-1.0-sample.csv");

	it("imports the FOCUS 1.0 sample, re-imports it without double counting, and reads the unit cost of a metric", async (t) => {
		// The server side of this API is built on another branch: until it is merged, the route does not exist.
		const probe = await fetch(`${service.url}/v2/connections/billing/anycost/e2e-probe/billing_drops`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: "{}",
		});
		await probe.arrayBuffer();
		if (probe.status === 404) {
			t.skip("POST /v2/connections/billing/anycost/{connection_id}/billing_drops answers 404: the server side is not in this build yet");
			return;
		}
		const created = await meterline([
			"tokens",
			"create",
			"--org",
			"acme",
			"--name",
			"costs",
			"--scopes",
			"write,write_costs,read",
			"--json",
		]);
		assert.equal(created.code, 0, created.stderr);
		const costToken = JSON.parse(created.stdout).token;

		// Units: 1,000 requests a day through September 2024, the sample's month.
		const units = join(work, "focus-units.csv");
		writeFileSync(
			units,
			`${["timestamp,value", ...Array.from({ length: 30 }, (_, d) => `2024-09-${String(d + 1).padStart(2, "0")},1000`)].join("\n")}\n`,
		);
		const sent = await meterline(["send", units, "--stream", "focus-requests"], { METERLINE_TOKEN: costToken });
		assert.equal(sent.code, 0, sent.stderr);

		const run = await meterline(["costs", "import", FOCUS_10, "--connection", "aws-e2e"], { METERLINE_TOKEN: costToken });
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /^Sent 30 CBF rows from 30 FOCUS rows in 1 drop in [\d.]+ s/);
		assert.match(run.stdout, /USD: 30 rows read, 30 rows sent to connection 'aws-e2e' \(2024-09\), total cost -2\.3023576996 USD/);
		const again = await meterline(["costs", "import", FOCUS_10, "--connection", "aws-e2e"], { METERLINE_TOKEN: costToken });
		assert.equal(again.code, 0, again.stderr);
		assert.match(again.stdout, /1 request was already applied earlier/);
		// A new run id sends it again: replace_drop replaces the month, so nothing doubles either.
		const rerun = await meterline(["costs", "import", FOCUS_10, "--connection", "aws-e2e", "--run-id", "second"], {
			METERLINE_TOKEN: costToken,
		});
		assert.equal(rerun.code, 0, rerun.stderr);

		const read = await meterline(
			["unit-cost", "focus-requests", "--start", "2024-09-01", "--end", "2024-09-30", "--granularity", "month", "--csv"],
			{ METERLINE_TOKEN: costToken },
		);
		assert.equal(read.code, 0, read.stderr);
		const [header, ...lines] = read.stdout.trim().split("\n");
		assert.equal(header, "kind,period,group,currency,units,cost,unit_cost");
		const total = lines.reduce((n, line) => n + Number(line.split(",").at(-2)), 0);
		assert.ok(Math.abs(total - -2.3023576996) < 1e-9, `the month's cost, matched or not, is the file's: ${read.stdout}`);
		const table = await meterline(["unit-cost", "focus-requests", "--start", "2024-09-01", "--end", "2024-09-30"], {
			METERLINE_TOKEN: costToken,
		});
		assert.equal(table.code, 0, table.stderr);
		assert.match(table.stdout, /^Unit cost of 'focus-requests'/);

		// Cost filters (issue 19): the month without the sample's AWS credit (-2.6137) and Oracle
		// adjustments (0.192 and 0.08).
		const filtered = await meterline(
			[
				"unit-cost",
				"focus-requests",
				"--start",
				"2024-09-01",
				"--end",
				"2024-09-30",
				"--granularity",
				"month",
				"--csv",
				"--exclude",
				"LineItemType=Credit,Adjustment",
			],
			{ METERLINE_TOKEN: costToken },
		);
		assert.equal(filtered.code, 0, filtered.stderr);
		const filteredTotal = filtered.stdout
			.trim()
			.split("\n")
			.slice(1)
			.reduce((n, line) => n + Number(line.split(",").at(-2)), 0);
		assert.ok(Math.abs(filteredTotal - 0.0393423004) < 1e-9, `the month's cost without credit and adjustments: ${filtered.stdout}`);
		const badEscape = await meterline(["unit-cost", "focus-requests", "--exclude", "LineItemType=Tax\\"], { METERLINE_TOKEN: costToken });
		assert.equal(badEscape.code, 1, badEscape.stderr);
		assert.match(badEscape.stderr, /HTTP 400 invalid_filter/);
		assert.match(badEscape.stderr, /exclude\[LineItemType\]: the value ends with a lone backslash/);
	});
});

describe("meterline against a URL where nothing answers", () => {
	/** A port nothing listens on: one the OS just gave out and took back. */
	async function closedPort() {
		const server = createTcpServer();
		await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address();
		await new Promise((resolve) => server.close(resolve));
		return port;
	}

	function assertUnreachable(run, url, started) {
		const seconds = (Date.now() - started) / 1000;
		assert.equal(run.code, 1, run.stderr);
		assert.ok(seconds < 12, `failed after ${seconds.toFixed(1)} s, not within about 10 s`);
		assert.match(run.stderr, new RegExp(`cannot reach ${url.replace(/[.]/g, "\\.")}: `));
		assert.match(run.stderr, new RegExp(`Check that the Meterline service runs at ${url.replace(/[.]/g, "\\.")} `));
	}

	it("send and tokens fail within seconds on a closed port, naming the URL", async () => {
		const url = `http://127.0.0.1:${await closedPort()}`;
		const file = join(work, "unreachable.csv");
		writeFileSync(file, "timestamp,value\n2024-01-01,1\n");

		let started = Date.now();
		const sent = await meterline(["send", file, "--stream", "nowhere"], { METERLINE_URL: url });
		assertUnreachable(sent, url, started);
		assert.match(sent.stderr, /connection refused \(ECONNREFUSED\)/);
		assert.match(sent.stderr, /Nothing was applied\./);

		for (const args of [
			["tokens", "list", "--org", "acme"],
			["tokens", "create", "--org", "acme", "--name", "x"],
		]) {
			started = Date.now();
			assertUnreachable(await meterline(args, { METERLINE_URL: url }), url, started);
		}
	});

	it("send fails within seconds where connections are accepted and closed before any answer", async () => {
		const hangUp = createTcpServer((socket) => socket.destroy());
		await new Promise((resolve) => hangUp.listen(0, "127.0.0.1", resolve));
		try {
			const url = `http://127.0.0.1:${hangUp.address().port}`;
			const file = join(work, "hang-up.csv");
			writeFileSync(file, "timestamp,value\n2024-01-01,1\n");
			const started = Date.now();
			const run = await meterline(["send", file, "--stream", "nowhere"], { METERLINE_URL: url });
			assertUnreachable(run, url, started);
			assert.match(run.stderr, /connection closed without an answer/);
		} finally {
			await new Promise((resolve) => hangUp.close(resolve));
		}
	});

	/** Run in the CLI process (--import): every host name lookup fails as getaddrinfo's ENOTFOUND does, and says so on stderr. */
	function refuseLookups(dns) {
		const notFound = (hostname) =>
			Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname });
		dns.lookup = (hostname, options, callback) => {
			process.stderr.write(`dns-stub: lookup ${hostname} refused\n`);
			process.nextTick(typeof options === "function" ? options : callback, notFound(hostname));
		};
		dns.promises.lookup = async (hostname) => {
			process.stderr.write(`dns-stub: lookup ${hostname} refused\n`);
			throw notFound(hostname);
		};
	}

	it("send fails within seconds on a host name that does not resolve (no real DNS query)", async () => {
		// `.invalid` never resolves (RFC 6761), but asking the system resolver would still send a
		// query off this machine: a preload answers every lookup of the CLI process with ENOTFOUND,
		// as getaddrinfo does, and says so on stderr. A host name cannot be connected to without a lookup.
		const stub = join(work, "dns-stub.mjs");
		writeFileSync(stub, `import dns from "node:dns";\n(${refuseLookups})(dns);\n`);
		const url = "http://meterline.invalid:8787";
		const file = join(work, "unresolvable.csv");
		writeFileSync(file, "timestamp,value\n2024-01-01,1\n");
		const started = Date.now();
		const run = await meterline(["send", file, "--stream", "nowhere"], {
			METERLINE_URL: url,
			NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${pathToFileURL(stub).href}`.trim(),
		});
		assert.match(run.stderr, /dns-stub: lookup meterline\.invalid refused/, "the CLI's lookups went to the stub");
		assertUnreachable(run, url, started);
		assert.match(run.stderr, /host name not found \(ENOTFOUND\)/);
	});
});
