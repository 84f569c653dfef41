// Request ids, one structured log line per request, and the ingest log.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN, api, createToken, expectAccepted, expectError, json, uniqueOrg, write } from "./helpers";

const DAY = "2024-05-01";

let org: string;
let token: string;
let tokenId: string;
beforeAll(async () => {
	org = uniqueOrg("obs");
	({ token, id: tokenId } = await createToken(org));
});
afterEach(() => vi.restoreAllMocks());

describe("X-Request-Id", () => {
	it("is generated for every response, errors included", async () => {
		const ok = await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } });
		expect(ok.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
		const denied = await api("/unit-cost/v1/telemetry/metric");
		const error = await expectError(denied, 403, "not_authorized");
		expect(error.request_id).toMatch(/^[0-9a-f-]{36}$/);
		const missing = await api("/no/such/path");
		expect(missing.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("echoes the caller's id into the header, the error body and the write response", async () => {
		const sent = { "X-Request-Id": "client-trace.42:abc" };
		const res = await write(token, "traced", "sum", { records: [{ timestamp: DAY, value: 1 }] }, sent);
		expect(res.headers.get("X-Request-Id")).toBe("client-trace.42:abc");
		expect((await expectAccepted(res)).request_id).toBe("client-trace.42:abc");
		const bad = await write(token, "traced", "sum", { records: [] }, sent);
		expect((await expectError(bad, 400, "out_of_range")).request_id).toBe("client-trace.42:abc");
	});

	it("replaces an id that is too long or could forge log lines", async () => {
		for (const sent of ["x".repeat(129), 'a"}\\n{"level":"error', "has space"]) {
			const res = await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token, "X-Request-Id": sent } });
			expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
		}
	});
});

describe("structured request log", () => {
	function captureLog() {
		const lines: string[] = [];
		for (const level of ["info", "error"] as const)
			vi.spyOn(console, level).mockImplementation((line: unknown) => void lines.push(String(line)));
		return () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
	}

	it("writes one JSON line per request with id, organization, stream, operation, records, status and duration", async () => {
		const logged = captureLog();
		const res = await write(
			token,
			"logged",
			"sum",
			{
				records: [
					{ timestamp: DAY, value: 1 },
					{ timestamp: "2024-05-02", value: 2 },
				],
			},
			{ "X-Request-Id": "log-1" },
		);
		await expectAccepted(res, 2);
		const lines = logged();
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatchObject({
			level: "info",
			request_id: "log-1",
			method: "POST",
			path: "/unit-cost/v1/telemetry/metric/logged/sum",
			org,
			token_id: tokenId,
			stream: "logged",
			operation: "sum",
			records: 2,
			status: 200,
		});
		expect(lines[0].duration_ms).toEqual(expect.any(Number));
	});

	it("logs rejected requests with their status", async () => {
		const logged = captureLog();
		await write(token, "logged", "replace", { records: [{ timestamp: "not a date", value: 1 }] }, { "X-Request-Id": "log-2" });
		await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: "wrong" } });
		const [rejected, denied] = logged();
		expect(rejected).toMatchObject({ request_id: "log-2", org, stream: "logged", operation: "replace", status: 400 });
		expect(denied).toMatchObject({ org: null, status: 403 });
	});
});

describe("ingest log", () => {
	const logOf = (stream: string, query = "", auth = token) =>
		api(`/unit-cost/v1/telemetry/metric/${stream}/log${query}`, { headers: { Authorization: auth } });

	it("has one entry per accepted write, newest first, with request id, operation, token and record count", async () => {
		const ids: string[] = [];
		for (const [op, records] of [
			[
				"sum",
				[
					{ timestamp: DAY, value: 1 },
					{ timestamp: "2024-05-02", value: 1 },
				],
			],
			["replace", [{ timestamp: DAY, value: 5 }]],
			["delete", [{ timestamp: "2024-05-02" }]],
		] as const) {
			ids.push(String((await expectAccepted(await write(token, "audited", op, { records }))).request_id));
		}
		// Rejected requests leave no entry.
		await write(token, "audited", "sum", { records: [{ timestamp: DAY, value: -1 }] });

		const res = await logOf("audited");
		expect(res.status).toBe(200);
		const { entries, next_cursor } = await res.json<{ entries: Array<Record<string, unknown>>; next_cursor: string | null }>();
		expect(next_cursor).toBeNull();
		expect(entries.map((e) => [e.request_id, e.operation, e.record_count, e.token_id])).toEqual([
			[ids[2], "delete", 1, tokenId],
			[ids[1], "replace", 1, tokenId],
			[ids[0], "sum", 2, tokenId],
		]);
		for (const e of entries) expect(Date.parse(String(e.created_at))).toBeGreaterThan(Date.now() - 60_000);
	});

	it("pages with a cursor and records stream deletions", async () => {
		for (let i = 0; i < 5; i++) await expectAccepted(await write(token, "paged-log", "sum", { records: [{ timestamp: DAY, value: i }] }));
		const page1 = await (await logOf("paged-log", "?limit=2")).json<{ entries: unknown[]; next_cursor: string }>();
		expect(page1.entries).toHaveLength(2);
		const page2 = await (await logOf("paged-log", `?limit=2&cursor=${page1.next_cursor}`)).json<{
			entries: unknown[];
			next_cursor: string;
		}>();
		const page3 = await (await logOf("paged-log", `?limit=2&cursor=${page2.next_cursor}`)).json<{
			entries: unknown[];
			next_cursor: null;
		}>();
		expect([page1.entries.length, page2.entries.length, page3.entries.length, page3.next_cursor]).toEqual([2, 2, 1, null]);

		const removed = await api("/unit-cost/v1/telemetry/paged-log", { ...json("DELETE", { force: true }, { Authorization: token }) });
		expect(removed.status).toBe(200);
		const after = await (await logOf("paged-log")).json<{ entries: Array<{ operation: string }> }>();
		expect(after.entries[0].operation).toBe("delete_stream");
	});

	it("needs the read scope, and is invisible to other organizations", async () => {
		await expectAccepted(await write(token, "private-log", "sum", { records: [{ timestamp: DAY, value: 1 }] }));
		const writeOnly = await createToken(org, ["write"]);
		await expectError(await logOf("private-log", "", writeOnly.token), 403, "insufficient_scope");
		const stranger = await createToken(uniqueOrg("obs-stranger"));
		await expectError(await logOf("private-log", "", stranger.token), 404, "stream_not_found");
		await expectError(await logOf("never-written"), 404, "stream_not_found");
		await expectError(await logOf("private-log", "?limit=0"), 400, "out_of_range");
		await expectError(await logOf("private-log", "?cursor=abc"), 400, "invalid_format");
	});
});

describe("rate limits", () => {
	it("a token over its limit gets 429 with Retry-After and RateLimit-* headers; other tokens are unaffected", async () => {
		const busy = await createToken(uniqueOrg("busy"), ["read"]);
		const calm = await createToken(uniqueOrg("calm"), ["read"]);
		const list = (t: string) => api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: t } });

		const first = await list(busy.token);
		expect(first.status).toBe(200);
		expect(first.headers.get("RateLimit-Policy")).toBe("1000;w=10");
		expect(first.headers.get("RateLimit-Limit")).toBe("1000");

		// wrangler.toml allows 1000 requests per 10 s per token. A window may end mid-way on a busy
		// machine, so keep going until one window has seen more than 1000.
		let limited: Response | undefined;
		let msLeft = 0;
		for (let i = 0; i < 5000 && !limited; i += 100) {
			// The limiter counts in clock-aligned windows: a 429 in this batch is in the window that has this long left.
			msLeft = 10_000 - (Date.now() % 10_000);
			const batch = await Promise.all(Array.from({ length: 100 }, () => list(busy.token)));
			limited = batch.find((r) => r.status === 429);
			for (const r of batch) if (r !== limited) await r.body?.cancel();
		}
		expect(limited, "no 429 after 5000 requests").toBeDefined();
		const error = await expectError(limited!, 429, "rate_limited");
		expect(error.message).toContain("1000 requests per 10 seconds");
		// Never more than the time left in the window (whole seconds, rounded up), and the same in both headers.
		const retryAfter = Number(limited!.headers.get("Retry-After"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(Math.ceil(msLeft / 1000));
		expect(limited!.headers.get("RateLimit-Remaining")).toBe("0");
		expect(limited!.headers.get("RateLimit-Reset")).toBe(String(retryAfter));
		expect(limited!.headers.get("RateLimit-Limit")).toBe("1000");

		expect((await list(calm.token)).status).toBe(200);
	}, 60_000);

	it("the admin API is not counted against stream tokens", async () => {
		const res = await api(`/admin/v1/tokens?org=${org}`, { headers: ADMIN });
		expect(res.status).toBe(200);
		expect(res.headers.get("RateLimit-Limit")).toBeNull();
	});
});
