// What every answer shares at the HTTP edge: 405 with Allow for a method a path does not support,
// 404 for paths that do not exist, security and cache headers, the Content-Security-Policy of /docs,
// and the limit on failed authentications per client address.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { msLeftInWindow, retryAfterSeconds } from "../src/auth/rate-limit";
import { ADMIN, api, createToken, expectError, json, uniqueOrg } from "./helpers";

const allowOf = (res: Response) => res.headers.get("Allow")?.split(/,\s*/);

describe("methods", () => {
	// [method, path, the methods its route(s) support]
	const cases: Array<[string, string, string[]]> = [
		["PUT", "/unit-cost/v1/telemetry/metric/my-stream", ["GET", "HEAD", "POST", "OPTIONS"]],
		["PATCH", "/unit-cost/v1/telemetry/metric/my-stream/sum", ["POST", "OPTIONS"]],
		["GET", "/unit-cost/v1/telemetry/metric/my-stream/replace", ["POST", "OPTIONS"]],
		// Also the path of DELETE /unit-cost/v1/telemetry/{name} for a stream named "metric".
		["POST", "/unit-cost/v1/telemetry/metric", ["GET", "HEAD", "DELETE", "OPTIONS"]],
		["DELETE", "/unit-cost/v1/telemetry/metric/my-stream/log", ["GET", "HEAD", "OPTIONS"]],
		["POST", "/unit-cost/v1/telemetry/my-stream", ["DELETE", "OPTIONS"]],
		["PUT", "/unit-cost/v1/telemetry/allocation/my-stream", ["GET", "HEAD", "POST", "DELETE", "OPTIONS"]],
		["GET", "/unit-cost/v1/telemetry/allocation/my-stream/delete", ["POST", "OPTIONS"]],
		// Also the path of DELETE /unit-cost/v1/telemetry/{name} for a metric stream named "allocation".
		["POST", "/unit-cost/v1/telemetry/allocation", ["GET", "HEAD", "DELETE", "OPTIONS"]],
		["GET", "/unit-cost/v1/telemetry", ["POST", "OPTIONS"]],
		["GET", "/streams/ingest", ["POST", "OPTIONS"]],
		["DELETE", "/streams/metrics/cpu_hours", ["GET", "HEAD", "OPTIONS"]],
		["PUT", "/admin/v1/tokens", ["GET", "HEAD", "POST", "OPTIONS"]],
		["GET", "/admin/v1/tokens/tok_abc", ["DELETE", "OPTIONS"]],
		["POST", "/openapi.json", ["GET", "HEAD", "OPTIONS"]],
		["DELETE", "/docs", ["GET", "HEAD", "OPTIONS"]],
	];

	for (const [method, path, allowed] of cases) {
		it(`${method} ${path} → 405 with Allow: ${allowed.join(", ")}`, async () => {
			const res = await api(path, { method, headers: { Authorization: "mlt_whatever" } });
			const error = await expectError(res, 405, "method_not_allowed");
			expect(error.message).toContain(method);
			expect(allowOf(res)).toEqual(allowed);
		});
	}

	it("a method no route has anywhere is 405 too, and HEAD on a path without GET is 405 with no body", async () => {
		const res = await api("/unit-cost/v1/telemetry/metric/s", { method: "PROPFIND" });
		await expectError(res, 405, "method_not_allowed");
		const head = await api("/streams/ingest", { method: "HEAD" });
		expect(head.status).toBe(405);
		expect(allowOf(head)).toEqual(["POST", "OPTIONS"]);
		expect(await head.text()).toBe("");
	});

	it("HEAD is answered where GET is", async () => {
		const res = await api("/openapi.json", { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("");
	});

	it("OPTIONS on an existing path → 204 with Allow, before any authentication", async () => {
		const res = await api("/unit-cost/v1/telemetry/metric/my-stream/sum", { method: "OPTIONS" });
		expect(res.status).toBe(204);
		expect(allowOf(res)).toEqual(["POST", "OPTIONS"]);
		expect(await res.text()).toBe("");
	});

	it("paths that exist for no method stay 404 not_found, whatever the method", async () => {
		for (const [method, path] of [
			["GET", "/no/such/path"],
			["POST", "/unit-cost/v1/telemetry/metric/a/b/c"],
			["OPTIONS", "/nowhere"],
			["DELETE", "/streams"],
			["GET", "/docs/"],
			["PUT", "/admin/v1"],
		]) {
			const res = await api(path, { method });
			await expectError(res, 404, "not_found");
			expect(res.headers.get("Allow")).toBeNull();
		}
	});

	it("supported methods are unaffected: they authenticate as before", async () => {
		await expectError(await api("/unit-cost/v1/telemetry/metric/s", { method: "GET" }), 403, "not_authorized");
		await expectError(await api("/unit-cost/v1/telemetry/s", json("DELETE", { force: true })), 403, "not_authorized");
		const { token } = await createToken(uniqueOrg("edge"), ["read"]);
		const ok = await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } });
		expect(ok.status).toBe(200);
		expect(ok.headers.get("Allow")).toBeNull();
		expect((await api(`/admin/v1/tokens?org=${uniqueOrg()}`, { headers: ADMIN })).status).toBe(200);
	});
});

describe("headers", () => {
	it("X-Content-Type-Options: nosniff on every response: success, errors, 404, 405, OPTIONS, docs", async () => {
		const { token } = await createToken(uniqueOrg("edge"), ["read"]);
		const responses = [
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } }),
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: "mlt_unknown" } }),
			await api("/unit-cost/v1/telemetry/metric/s/sum", json("POST", "{", { Authorization: token })),
			await api("/no/such/path"),
			await api("/streams/ingest", { method: "GET" }),
			await api("/streams/ingest", { method: "OPTIONS" }),
			await api("/openapi.json"),
			await api("/docs"),
			await api("/docs/swagger-ui/swagger-ui-bundle.js"),
			await api("/docs/swagger-ui/swagger-ui.css"),
			await api("/admin/v1/tokens", json("POST", { org: "x", name: "y" })),
		];
		expect(responses.map((r) => r.status)).toEqual([200, 403, 403, 404, 405, 204, 200, 200, 200, 200, 403]);
		for (const res of responses) {
			expect(res.headers.get("X-Content-Type-Options"), `${res.status} ${res.url}`).toBe("nosniff");
			await res.body?.cancel();
		}
	});

	it("Cache-Control: no-store on every answer of the authenticated API, errors included", async () => {
		const org = uniqueOrg("edge");
		const { token } = await createToken(org);
		const { token: costToken } = await createToken(org, ["write_costs"]);
		const responses = [
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } }),
			await api(
				"/unit-cost/v1/telemetry/metric/s/sum",
				json("POST", { records: [{ timestamp: "2024-01-01", value: 1 }] }, { Authorization: token }),
			),
			await api("/unit-cost/v1/telemetry/metric/missing", { headers: { Authorization: token } }),
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: "mlt_unknown" } }),
			await api("/unit-cost/v1/telemetry/metric", { method: "POST" }),
			await api("/streams/metrics", { headers: { Authorization: token } }),
			await api("/streams/ingest", json("POST", { data_stream_token: "mlt_unknown", metric_agg_func: "Sum", data: [] })),
			await api(`/admin/v1/tokens?org=${org}`, { headers: ADMIN }),
			await api("/admin/v1/tokens", json("POST", { org, name: "x", scopes: ["read"] }, ADMIN)),
			await api("/admin/v1/tokens?org=x", { headers: { Authorization: "Bearer wrong" } }),
			await api("/admin/v1/nothing-here"),
			// Billing drops (/v2): accepted, refused, unauthenticated, a path that is not there.
			await api(
				"/v2/connections/billing/anycost/c1/billing_drops",
				json("POST", { data: [{ "time/usage_start": "2024-01-01T00:00:00Z", "cost/cost": 1 }] }, { Authorization: costToken }),
			),
			await api("/v2/connections/billing/anycost/c1/billing_drops", json("POST", { data: [] }, { Authorization: costToken })),
			await api("/v2/connections/billing/anycost/c1/billing_drops", json("POST", { data: [] })),
			await api("/v2/nothing-here"),
		];
		expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 403, 405, 200, 404, 200, 201, 403, 404, 200, 400, 403, 404]);
		for (const res of responses) {
			expect(res.headers.get("Cache-Control"), `${res.status} ${res.url}`).toBe("no-store");
			await res.body?.cancel();
		}
	});

	it("public documents keep their own caching", async () => {
		for (const path of ["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/swagger-ui/swagger-ui.css"]) {
			const asset = await api(path);
			expect(asset.headers.get("Cache-Control"), path).toBe("public, max-age=3600");
			await asset.body?.cancel();
		}
		const doc = await api("/openapi.json");
		expect(doc.headers.get("Cache-Control")).not.toBe("no-store");
		await doc.body?.cancel();
	});
});

describe("Content-Security-Policy of /docs", () => {
	const nonceOf = (csp: string) => /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];

	it("allows only the page's own nonced scripts and styles, same-origin fetches and data: images; nothing else loads", async () => {
		const res = await api("/docs");
		expect(res.status).toBe(200);
		const csp = res.headers.get("Content-Security-Policy") ?? "";
		const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
		const nonce = nonceOf(csp);
		expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(directives).toEqual({
			"default-src": "'none'",
			"script-src": `'nonce-${nonce}'`,
			"style-src": `'nonce-${nonce}'`,
			"connect-src": "'self'",
			"img-src": "data:",
			"base-uri": "'none'",
			"form-action": "'none'",
			"frame-ancestors": "'none'",
		});

		// Every script and style tag of the page carries the nonce; the bundle and stylesheet come from this Worker.
		const html = await res.text();
		const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
		expect(scripts.length).toBe(2);
		for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
		expect(scripts[0]).toContain('src="/docs/swagger-ui/swagger-ui-bundle.js"');
		const styles = [...html.matchAll(/<(?:style|link)\b[^>]*>/g)].map(([tag]) => tag);
		expect(styles.length).toBe(2);
		for (const tag of styles) expect(tag).toContain(`nonce="${nonce}"`);
		expect(styles[0]).toContain('href="/docs/swagger-ui/swagger-ui.css"');
		expect(html).not.toMatch(/\sstyle=/);
	});

	it("a fresh nonce for each response; no CSP on the API's JSON answers", async () => {
		const [a, b] = await Promise.all([api("/docs"), api("/docs")]);
		expect(nonceOf(a.headers.get("Content-Security-Policy")!)).not.toBe(nonceOf(b.headers.get("Content-Security-Policy")!));
		await Promise.all([a.body?.cancel(), b.body?.cancel()]);
		const doc = await api("/openapi.json");
		expect(doc.headers.get("Content-Security-Policy")).toBeNull();
		await doc.body?.cancel();
	});
});

describe("failed authentications per client address", () => {
	// wrangler.toml: AUTH_FAILURE_RATE_LIMITER simple = { limit = 20, period = 10 }.
	const LIMIT = 20;
	const PERIOD_MS = 10_000;
	const run = Math.floor(Math.random() * 0xffff).toString(16);
	let lastAddress = 0;
	/** An address no other test (or earlier run) uses, in the IPv6 documentation prefix. */
	const freshAddress = () => `2001:db8:${run}::${++lastAddress}`;
	const from = (address: string, headers: Record<string, string> = {}) => ({ "CF-Connecting-IP": address, ...headers });
	const readAs = (address: string, token: string) =>
		api("/unit-cost/v1/telemetry/metric", { headers: from(address, { Authorization: token }) });
	const ingestAs = (address: string, token: string) =>
		api(
			"/streams/ingest",
			json(
				"POST",
				{
					data_stream_token: token,
					metric_agg_func: "Sum",
					data: [{ timestamp: "2022-10-01 05:00:00", metric_name: "m", metric_value: 1 }],
				},
				from(address),
			),
		);
	const adminAs = (address: string, token: string) =>
		api("/admin/v1/tokens?org=x", { headers: from(address, { Authorization: `Bearer ${token}` }) });
	const msLeft = () => msLeftInWindow(PERIOD_MS / 1000, Date.now());

	/**
	 * Waits until the current window (clock-aligned, as the local limiter counts) has 4 to 8 s left:
	 * a test's requests then all fall in one window, and one that has already begun.
	 */
	async function midWindow() {
		while (msLeft() > 8_000 || msLeft() < 4_000) await new Promise((resolve) => setTimeout(resolve, 100));
	}

	async function expectFailureLimited(res: Response, before: number) {
		const error = await expectError(res, 429, "rate_limited");
		expect(error.message).toContain("failed authentications");
		const retryAfter = Number(res.headers.get("Retry-After"));
		// Never more than what is left of the window: `before` was measured before the request was sent.
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(retryAfterSeconds(before));
		expect(retryAfter).toBeLessThan(PERIOD_MS / 1000);
		expect(res.headers.get("RateLimit-Reset")).toBe(String(retryAfter));
		expect(res.headers.get("RateLimit-Policy")).toBe(`${LIMIT};w=10`);
		expect(res.headers.get("RateLimit-Remaining")).toBe("0");
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
	}

	it("the window arithmetic: time to the end of the clock-aligned window, in whole seconds rounded up", () => {
		expect(msLeftInWindow(10, 1_700_000_003_500)).toBe(6_500);
		expect(retryAfterSeconds(6_500)).toBe(7);
		expect(msLeftInWindow(10, 1_700_000_000_000)).toBe(10_000);
		expect(retryAfterSeconds(10_000)).toBe(10);
		expect(msLeftInWindow(60, 1_700_000_039_999)).toBe(1);
		expect(retryAfterSeconds(1)).toBe(1);
	});

	it("after 20 failures in a window, an address gets 429 for every authentication, a valid key's too, until the window ends; other addresses are unaffected", async () => {
		const org = uniqueOrg("edge-limit");
		const { token } = await createToken(org, ["read", "write"]);
		const blockedAddress = freshAddress();
		const other = freshAddress();
		await midWindow();
		const windowEnd = Date.now() + msLeft();

		// A valid key is not a failure: it counts nothing.
		expect((await readAs(blockedAddress, token)).status).toBe(200);
		for (let i = 0; i < LIMIT; i++) await expectError(await readAs(blockedAddress, `mlt_guess-${i}`), 403, "not_authorized");
		let before = msLeft();
		await expectFailureLimited(await readAs(blockedAddress, "mlt_guess-21"), before);

		// Blocked: the valid key, the Cloudthread body token and the admin token are refused alike, before any lookup.
		for (const send of [
			() => readAs(blockedAddress, token),
			() => ingestAs(blockedAddress, token),
			() => adminAs(blockedAddress, "test-admin-token"),
		]) {
			before = msLeft();
			await expectFailureLimited(await send(), before);
		}
		expect(Date.now(), "the test outlived its window: rerun").toBeLessThan(windowEnd);

		// Another address, and requests that name no address, are not affected.
		await expectError(await readAs(other, "mlt_guess"), 403, "not_authorized");
		expect((await readAs(other, token)).status).toBe(200);
		expect((await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } })).status).toBe(200);

		// The next window admits the address again.
		await new Promise((resolve) => setTimeout(resolve, windowEnd - Date.now() + 50));
		expect((await readAs(blockedAddress, token)).status).toBe(200);
	}, 30_000);

	it("a revoked token's writes count as failures, also while this isolate still has the token cached (refused at commit)", async () => {
		const { id, token } = await createToken(uniqueOrg("edge-revoked"), ["write"]);
		const address = freshAddress();
		const writeAs = (body: unknown) =>
			api("/unit-cost/v1/telemetry/metric/s/sum", json("POST", body, from(address, { Authorization: token })));
		const valid = { records: [{ timestamp: "2024-01-01", value: 1 }] };
		// Admitted (its identity is now cached for a minute), then revoked.
		expect((await writeAs(valid)).status).toBe(200);
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		await midWindow();
		// Refused at the write's commit (a valid body), or before it (an invalid one): each one counts.
		for (let i = 0; i < LIMIT; i++) await expectError(await writeAs(i % 2 === 0 ? valid : "{"), 403, "not_authorized");
		await expectFailureLimited(await writeAs(valid), msLeft());
	}, 30_000);

	it("the Cloudthread body token's failures (404 no_stream_found) count too", async () => {
		const address = freshAddress();
		await midWindow();
		for (let i = 0; i < LIMIT; i++) await expectError(await ingestAs(address, `mlt_guess-${i}`), 404, "no_stream_found");
		await expectFailureLimited(await ingestAs(address, "mlt_guess"), msLeft());
	}, 30_000);

	it("the admin bearer token's failures count too", async () => {
		const address = freshAddress();
		await midWindow();
		for (let i = 0; i < LIMIT; i++) await expectError(await adminAs(address, `wrong-${i}`), 403, "not_authorized");
		await expectFailureLimited(await adminAs(address, "wrong"), msLeft());
	}, 30_000);

	it("requests without CF-Connecting-IP (not from Cloudflare's edge: tests, service bindings) are not limited by address", async () => {
		for (let i = 0; i < LIMIT + 5; i++)
			await expectError(await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: "mlt_guess" } }), 403, "not_authorized");
	});

	it("RATE_LIMITS=off switches it off", async () => {
		const app = createApp();
		const address = freshAddress();
		const offEnv = { ...env, RATE_LIMITS: "off" };
		for (let i = 0; i < LIMIT + 5; i++) {
			const req = new Request("http://meterline.test/unit-cost/v1/telemetry/metric", {
				headers: from(address, { Authorization: "mlt_guess" }),
			});
			await expectError(await app.fetch(req, offEnv, createExecutionContext()), 403, "not_authorized");
		}
	});
});
