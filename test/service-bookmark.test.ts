// Global reads: reads run in a D1 session (Sessions API), a write answers its commit's bookmark
// in X-D1-Bookmark, and a read that sends it back is served data at least that recent.
// Locally there are no replicas, but miniflare's D1 does return bookmarks (its Durable Object's
// storage bookmark after each query) and accepts them back.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { ingestBody, point } from "./cloudthread-helpers";
import { api, createToken, expectAccepted, expectError, uniqueOrg, write } from "./helpers";

const records = [{ timestamp: "2024-05-01", value: "2.5", associated_cost: { "custom:Client": "a" } }];

/** A bookmark as recent as everything committed so far (what a write's X-D1-Bookmark carries). */
async function latestBookmark(): Promise<string> {
	const session = env.DB.withSession("first-primary");
	await session.prepare("SELECT 1").first();
	const bookmark = session.getBookmark();
	expect(bookmark).toBeTypeOf("string");
	return bookmark!;
}

describe("D1 bookmarks (X-D1-Bookmark)", () => {
	it("a write answers its commit's bookmark; a read sent with it sees the write, and answers its own", async () => {
		const org = uniqueOrg("bookmark");
		const { token } = await createToken(org);
		const res = await write(token, "costs", "sum", { records });
		await expectAccepted(res);
		// The write answers the bookmark of its commit (the write ledger's D1 session).
		const bookmark = res.headers.get("X-D1-Bookmark")!;
		expect(bookmark).toMatch(/^[0-9a-f]{8}-/);
		expect(bookmark <= (await latestBookmark())).toBe(true);
		for (const path of ["/unit-cost/v1/telemetry/metric/costs", "/unit-cost/v1/telemetry/metric", "/streams/metrics/none?agg=Sum"]) {
			const read = await api(path, { headers: { Authorization: token, "X-D1-Bookmark": bookmark } });
			expect(read.status, path).toBe(path.startsWith("/streams") ? 404 : 200);
			if (read.status === 200) expect(read.headers.get("X-D1-Bookmark") ?? "", path).toMatch(/^[0-9a-f]/);
		}
		const read = await api("/unit-cost/v1/telemetry/metric/costs", { headers: { Authorization: token, "X-D1-Bookmark": bookmark } });
		const body = await read.json<{ records: Array<{ value: string }> }>();
		expect(body.records.map((r) => r.value)).toEqual(["2.5"]);
		// The read's own bookmark is no older than the one it was sent (bookmarks sort by time).
		expect(read.headers.get("X-D1-Bookmark")! >= bookmark).toBe(true);
	});

	it("a bookmark that is not one is refused before it reaches D1", async () => {
		const { token } = await createToken(uniqueOrg("bookmark"));
		for (const bad of ["not a bookmark", "zz-00", "'; DROP TABLE streams", "0".repeat(600)]) {
			const res = await api("/unit-cost/v1/telemetry/metric/costs", { headers: { Authorization: token, "X-D1-Bookmark": bad } });
			await expectError(res, 400, "invalid_bookmark");
		}
	});

	it("writes answer the bookmark their object returns (CloudZero and Cloudthread)", async () => {
		const app = createApp();
		const answer = (response: unknown) => ({ ok: true, response, replayed: false, bookmark: "0000002a-00000001-00000003-abcdef" });
		const object = {
			write: async (cmd: { op: string; stream: string; requestId: string }) =>
				answer({
					message: "Telemetry accepted",
					operation: cmd.op,
					stream: cmd.stream,
					records: 1,
					stream_created: false,
					request_id: cmd.requestId,
				}),
			ingest: async (cmd: { response: unknown }) => answer(cmd.response),
		};
		const namespace = { idFromName: (name: string) => ({ name }), get: () => object };
		const fakeEnv = { ...env, STREAM: namespace, METRIC: namespace } as unknown as Env;
		const { token } = await createToken(uniqueOrg("bookmark"));
		const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
			const ctx = createExecutionContext();
			const res = await app.fetch(
				new Request(`http://meterline.test${path}`, {
					method: "POST",
					headers: { "Content-Type": "application/json", ...headers },
					body: JSON.stringify(body),
				}),
				fakeEnv,
				ctx,
			);
			await waitOnExecutionContext(ctx);
			return res;
		};
		const cz = await call("/unit-cost/v1/telemetry/metric/costs/sum", { records }, { Authorization: token });
		expect(cz.status, await cz.clone().text()).toBe(200);
		expect(cz.headers.get("X-D1-Bookmark")).toBe("0000002a-00000001-00000003-abcdef");
		const ct = await call("/streams/ingest", ingestBody(token, "Sum", [point("2024-05-01T01:00:00Z", "m", 1)]));
		expect(ct.status, await ct.clone().text()).toBe(201);
		expect(ct.headers.get("X-D1-Bookmark")).toBe("0000002a-00000001-00000003-abcdef");
	});

	it("the OpenAPI document has the header: a response header of writes, a request header of reads", async () => {
		const doc = await (await api("/openapi.json")).json<{
			paths: Record<
				string,
				Record<
					string,
					{ parameters?: Array<{ name: string; in: string }>; responses: Record<string, { headers?: Record<string, unknown> }> }
				>
			>;
		}>();
		const op = (path: string, method: string) => doc.paths[path][method];
		for (const [path, method, status] of [
			["/unit-cost/v1/telemetry/metric/{name}/sum", "post", "200"],
			["/unit-cost/v1/telemetry/metric/{name}/replace", "post", "200"],
			["/unit-cost/v1/telemetry/metric/{name}/delete", "post", "200"],
			["/streams/ingest", "post", "201"],
		]) {
			expect(Object.keys(op(path, method).responses[status].headers ?? {}), path).toContain("X-D1-Bookmark");
		}
		for (const path of [
			"/unit-cost/v1/telemetry/metric/{name}",
			"/streams/metrics/{metric_name}",
			"/unit-cost/v1/telemetry/metric",
			"/streams/metrics",
			"/unit-cost/v1/telemetry/metric/{name}/log",
		]) {
			expect(
				op(path, "get").parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "x-d1-bookmark"),
				path,
			).toBe(true);
		}
	});
});
