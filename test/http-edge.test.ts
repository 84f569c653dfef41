// What every answer shares at the HTTP edge: 405 with Allow for a method a path does not support,
// 404 for paths that do not exist, security and cache headers, the Content-Security-Policy of /docs.
import { describe, expect, it } from "vitest";
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
			await api("/docs/scalar/standalone.js"),
			await api("/admin/v1/tokens", json("POST", { org: "x", name: "y" })),
		];
		expect(responses.map((r) => r.status)).toEqual([200, 403, 403, 404, 405, 204, 200, 200, 200, 403]);
		for (const res of responses) {
			expect(res.headers.get("X-Content-Type-Options"), `${res.status} ${res.url}`).toBe("nosniff");
			await res.body?.cancel();
		}
	});

	it("Cache-Control: no-store on every answer of the authenticated API, errors included", async () => {
		const org = uniqueOrg("edge");
		const { token } = await createToken(org);
		const responses = [
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } }),
			await api("/unit-cost/v1/telemetry/metric/s/sum", json("POST", { records: [{ timestamp: "2024-01-01", value: 1 }] }, { Authorization: token })),
			await api("/unit-cost/v1/telemetry/metric/missing", { headers: { Authorization: token } }),
			await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: "mlt_unknown" } }),
			await api("/unit-cost/v1/telemetry/metric", { method: "POST" }),
			await api("/streams/metrics", { headers: { Authorization: token } }),
			await api("/streams/ingest", json("POST", { data_stream_token: "mlt_unknown", metric_agg_func: "Sum", data: [] })),
			await api(`/admin/v1/tokens?org=${org}`, { headers: ADMIN }),
			await api("/admin/v1/tokens", json("POST", { org, name: "x", scopes: ["read"] }, ADMIN)),
			await api("/admin/v1/tokens?org=x", { headers: { Authorization: "Bearer wrong" } }),
			await api("/admin/v1/nothing-here"),
		];
		expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 403, 405, 200, 404, 200, 201, 403, 404]);
		for (const res of responses) {
			expect(res.headers.get("Cache-Control"), `${res.status} ${res.url}`).toBe("no-store");
			await res.body?.cancel();
		}
	});

	it("public documents keep their own caching", async () => {
		const script = await api("/docs/scalar/standalone.js");
		expect(script.headers.get("Cache-Control")).toBe("public, max-age=3600");
		await script.body?.cancel();
		const doc = await api("/openapi.json");
		expect(doc.headers.get("Cache-Control")).not.toBe("no-store");
		await doc.body?.cancel();
	});
});

describe("Content-Security-Policy of /docs", () => {
	const nonceOf = (csp: string) => /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];

	it("allows only the page's own nonced scripts, same-origin fetches and inline styles; nothing else loads", async () => {
		const res = await api("/docs");
		expect(res.status).toBe(200);
		const csp = res.headers.get("Content-Security-Policy") ?? "";
		const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
		const nonce = nonceOf(csp);
		expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(directives).toEqual({
			"default-src": "'none'",
			"script-src": `'nonce-${nonce}'`,
			"style-src": "'unsafe-inline'",
			"connect-src": "'self'",
			"img-src": "'self' data:",
			"base-uri": "'none'",
			"form-action": "'none'",
			"frame-ancestors": "'none'",
		});

		// Every script tag of the page carries the nonce, and it loads the bundle from this Worker.
		const html = await res.text();
		const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
		expect(scripts.length).toBe(2);
		for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
		expect(scripts[0]).toContain('src="/docs/scalar/standalone.js"');
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
