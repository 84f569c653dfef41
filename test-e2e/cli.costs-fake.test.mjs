// `meterline costs import` and `meterline unit-cost` against a fake AnyCost Stream server in this
// process (no wrangler): the requests as sent, a 429 with Retry-After and a 503 after the drop was
// applied retried with the same Idempotency-Key, a refused row reported at its file line, and
// the summary per currency. Run with `npm run test:cli`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT } from "./service.mjs";

const CLI = join(ROOT, "bin", "meterline.mjs");
const FOCUS_10 = join(ROOT, "test", "fixtures", "focus", "focus-1.0-sample.csv");
const FOCUS_13 = join(ROOT, "test", "fixtures", "focus", "focus-1.3-sample.csv");
const work = mkdtempSync(join(tmpdir(), "meterline-costs-"));

/** Every request the fake server received, and how it answers the next ones. */
const seen = [];
let answer = () => undefined;
const applied = new Map(); // Idempotency-Key -> response body
let server;
let url;

before(async () => {
	server = createServer(async (req, res) => {
		const chunks = [];
		for await (const chunk of req) chunks.push(chunk);
		const text = Buffer.concat(chunks).toString();
		const request = { method: req.method, url: req.url, headers: req.headers, body: text ? JSON.parse(text) : undefined };
		seen.push(request);
		const custom = answer(request, seen.filter((r) => r.headers["idempotency-key"] === req.headers["idempotency-key"]).length);
		const key = req.headers["idempotency-key"];
		if (custom?.before) return send(res, ...custom.before);
		if (req.method === "POST") {
			if (applied.has(key)) return send(res, 200, applied.get(key), { "Idempotent-Replayed": "true" });
			const body = {
				connection_id: req.url.split("/")[5],
				month: request.body.month,
				operation: request.body.operation,
				rows: request.body.data.length,
			};
			applied.set(key, body);
			if (custom?.after) return send(res, ...custom.after);
			return send(res, 200, body);
		}
		return send(res, 404, { error: { code: "not_found", message: "no such route", request_id: "fake" } });
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	url = `http://127.0.0.1:${server.address().port}`;
});
after(async () => {
	await new Promise((resolve) => server.close(resolve));
	rmSync(work, { recursive: true, force: true });
});

function send(res, status, body, headers = {}) {
	res.writeHead(status, { "Content-Type": "application/json", ...headers });
	res.end(JSON.stringify(body));
}

function meterline(args, env = {}) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [CLI, ...args], {
			env: { ...process.env, METERLINE_URL: url, METERLINE_TOKEN: "mlt_fake", ...env },
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d) => (stdout += d));
		child.stderr.on("data", (d) => (stderr += d));
		child.on("exit", (code) => resolve({ code, stdout, stderr }));
	});
}

function reset(handler = () => undefined) {
	seen.length = 0;
	applied.clear();
	answer = handler;
}

describe("meterline costs import against a fake AnyCost Stream server", () => {
	it("sends the FOCUS 1.0 sample as one replace_drop for September 2024, and prints the totals per currency", async () => {
		reset();
		const run = await meterline(["costs", "import", FOCUS_10, "--connection", "aws-usd"]);
		assert.equal(run.code, 0, run.stderr);
		assert.equal(seen.length, 1);
		const [request] = seen;
		assert.equal(request.url, "/v2/connections/billing/anycost/aws-usd/billing_drops");
		assert.equal(request.headers.authorization, "mlt_fake");
		assert.match(request.headers["idempotency-key"], /^[0-9a-f]{64}$/);
		assert.equal(request.body.month, "2024-09");
		assert.equal(request.body.operation, "replace_drop");
		assert.equal(request.body.data.length, 30);
		assert.match(run.stdout, /^Sent 30 CBF rows from 30 FOCUS rows in 1 drop in [\d.]+ s/);
		assert.match(run.stdout, /\n {2}USD: 30 rows read, 30 rows sent to connection 'aws-usd' \(2024-09\), total cost -2\.3023576996 USD\n/);
		assert.match(run.stderr, /batch 1\/1: 30\/30 records sent/);

		// The same command again: the drop is answered from its key.
		const again = await meterline(["costs", "import", FOCUS_10, "--connection", "aws-usd"]);
		assert.equal(again.code, 0, again.stderr);
		assert.equal(seen[1].headers["idempotency-key"], request.headers["idempotency-key"]);
		assert.match(again.stdout, /1 request was already applied earlier \(same Idempotency-Key\)/);
	});

	it("retries a 429 after Retry-After and a 503 after the drop was applied, with the same key", async () => {
		reset((request, attempt) => {
			if (request.body.operation === "replace_drop" && attempt === 1)
				return { before: [429, { error: { code: "rate_limited", message: "slow down", request_id: "fake" } }, { "Retry-After": "1" }] };
			if (request.body.operation === "sum" && attempt === 1)
				return { after: [503, { error: { code: "storage_unavailable", message: "lost answer", request_id: "fake" } }] };
			return undefined;
		});
		const started = Date.now();
		const run = await meterline(["costs", "import", FOCUS_13, "--connection", "aws", "--batch-size", "20"]);
		assert.equal(run.code, 0, run.stderr);
		assert.ok(Date.now() - started >= 1000, "waited for Retry-After");
		assert.match(
			run.stderr,
			/drop 1\/2 \(connection 'aws', 2026-05, replace_drop, 20 rows from lines 2-6\): HTTP 429 rate_limited: slow down; retry 1 in 1\.0 s/,
		);
		assert.match(run.stderr, /drop 2\/2 \(connection 'aws', 2026-05, sum, 15 rows from lines 2-2\): HTTP 503 storage_unavailable/);
		assert.deepEqual(
			seen.map((r) => r.body.operation),
			["replace_drop", "replace_drop", "sum", "sum"],
		);
		assert.equal(seen[2].headers["idempotency-key"], seen[3].headers["idempotency-key"]);
		assert.equal(applied.size, 2, "each drop applied once");
		assert.match(run.stdout, /Sent 35 CBF rows from 5 FOCUS rows in 2 drops .*2 retries; 1 request was already applied earlier/);
		const sent = seen
			.slice(1)
			.filter((_, i) => i !== 1)
			.flatMap((r) => r.body.data);
		assert.equal(sent.length, 35);
		assert.equal(sent.filter((r) => r["resource/id"] === "arn:aws:s3:ap-southeast-1:200000000012:bucket/bucket-f36bd2c40f3a").length, 31);
	});

	it("reports a row the service refuses at its file line, and says what was applied", async () => {
		reset((request) =>
			request.body.operation === "sum"
				? {
						before: [
							400,
							{
								error: {
									code: "validation_failed",
									message: "1 row is invalid",
									request_id: "fake",
									details: [{ code: "invalid_value", message: "made-up problem", record: 0, path: "data[0].cost/cost" }],
								},
							},
						],
					}
				: undefined,
		);
		const run = await meterline(["costs", "import", FOCUS_13, "--connection", "aws", "--batch-size", "20"]);
		assert.equal(run.code, 1);
		assert.match(
			run.stderr,
			/drop 2\/2 .*: HTTP 400 validation_failed: 1 row is invalid\n.*focus-1\.3-sample\.csv:2: cost\/cost: made-up problem \[invalid_value\]/,
		);
		assert.match(run.stderr, /Requests 1-1 were applied; the rest were not\./);
	});

	it("refuses a file mixing currencies unless each has its connection", async () => {
		reset();
		const file = join(work, "mixed.csv");
		writeFileSync(
			file,
			"ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,1.10,USD\n2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2.20,EUR\n",
		);
		const refused = await meterline(["costs", "import", file, "--connection", "one"]);
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /2 currencies \(EUR, USD\).*--connection EUR=<id> --connection USD=<id>; nothing was sent/);
		assert.equal(seen.length, 0);
		const run = await meterline(["costs", "import", file, "--connection", "USD=aws-usd", "--connection", "EUR=aws-eur"]);
		assert.equal(run.code, 0, run.stderr);
		assert.deepEqual(seen.map((r) => r.url.split("/")[5]).sort(), ["aws-eur", "aws-usd"]);
		assert.match(run.stdout, /EUR: 1 row read, 1 row sent to connection 'aws-eur' \(2024-01\), total cost 2\.2 EUR/);
		assert.match(run.stdout, /USD: 1 row read, 1 row sent to connection 'aws-usd' \(2024-01\), total cost 1\.1 USD/);
	});

	it("checks the whole file first: invalid FOCUS values are listed with line and column, nothing is sent", async () => {
		reset();
		const file = join(work, "bad.csv");
		writeFileSync(
			file,
			'ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency,Tags\n2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,abc,USD,\n2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,1,USD,"{oops"\n',
		);
		const run = await meterline(["costs", "import", file, "--connection", "c"]);
		assert.equal(run.code, 1);
		assert.match(run.stderr, /bad\.csv:2: BilledCost: 'abc' is not a decimal number\n.*bad\.csv:3: Tags: is not a JSON object/s);
		assert.match(run.stderr, /2 problems found; nothing was sent\./);
		assert.equal(seen.length, 0);
	});

	it("fails within seconds when nothing answers at the URL", async () => {
		const probe = createServer();
		await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
		const closed = `http://127.0.0.1:${probe.address().port}`;
		await new Promise((resolve) => probe.close(resolve));
		const started = Date.now();
		const run = await meterline(["costs", "import", FOCUS_10, "--connection", "c"], { METERLINE_URL: closed });
		assert.equal(run.code, 1);
		assert.ok(Date.now() - started < 12_000);
		assert.match(run.stderr, /cannot reach .*connection refused/);
		assert.match(run.stderr, /Nothing was applied\./);
	});
});

describe("meterline unit-cost against a fake server", () => {
	it("asks with the flags as query parameters and prints the table or CSV", async () => {
		const response = {
			metric: "api-calls",
			granularity: "day",
			cost_type: "cost",
			results: [{ period: "2024-09-01", group: { "custom:Client": "A" }, currency: "USD", units: "200", cost: "5", unit_cost: "0.025" }],
			unmatched_cost: [{ period: "2024-09-02", currency: "USD", cost: "1.5" }],
		};
		reset((request) => (request.method === "GET" ? { before: [200, response] } : undefined));
		const run = await meterline([
			"unit-cost",
			"api-calls",
			"--start",
			"2024-09-01",
			"--end",
			"2024-09-30",
			"--granularity",
			"day",
			"--group-by",
			"custom:Client",
		]);
		assert.equal(run.code, 0, run.stderr);
		assert.equal(
			seen[0].url,
			"/unit-cost/v1/unit-cost/api-calls?start_date=2024-09-01&end_date=2024-09-30&granularity=day&group_by=custom%3AClient",
		);
		assert.match(run.stdout, /\n2024-09-01 +custom:Client=A +USD +200 +5 +0\.025\n/);
		assert.match(run.stdout, /Unmatched cost \(matched by no series of the metric\):\nPERIOD +CURRENCY +COST\n2024-09-02 +USD +1\.5\n/);
		const csv = await meterline(["unit-cost", "api-calls", "--csv"]);
		assert.equal(
			csv.stdout,
			"kind,period,group,currency,units,cost,unit_cost\nunit_cost,2024-09-01,custom:Client=A,USD,200,5,0.025\nunmatched,2024-09-02,,USD,,1.5,\n",
		);
	});

	it("exits 1 with the service's error", async () => {
		reset((request) =>
			request.method === "GET"
				? { before: [404, { error: { code: "stream_not_found", message: "no metric 'x'", request_id: "fake" } }] }
				: undefined,
		);
		const run = await meterline(["unit-cost", "x"]);
		assert.equal(run.code, 1);
		assert.match(run.stderr, /unit-cost 'x': HTTP 404 stream_not_found: no metric 'x'/);
	});
});
