// Authentication, scopes, tenant isolation and the admin API's guard.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashToken } from "../src/auth/tokens";
import { ADMIN, api, createToken, expectAccepted, expectError, json, readStream, storageSnapshot, uniqueOrg, write } from "./helpers";

const NOT_AUTHORIZED = "Not authorized, make sure you're using a valid API key in the header Authorization";
const record = { timestamp: "2024-01-01", value: 1 };

describe("stream tokens", () => {
	it("a missing, empty or unknown key → 403 with CloudZero's message", async () => {
		for (const headers of [
			{} as Record<string, string>,
			{ Authorization: "" },
			{ Authorization: "mlt_not-a-real-token" },
			{ Authorization: "Bearer " },
		]) {
			const error = await expectError(
				await api("/unit-cost/v1/telemetry/metric/s/sum", json("POST", { records: [record] }, headers)),
				403,
				"not_authorized",
			);
			expect(error.message).toBe(NOT_AUTHORIZED);
		}
	});

	it("accepts the raw key (as CloudZero sends it) and 'Bearer <key>'", async () => {
		const { token } = await createToken(uniqueOrg());
		await expectAccepted(await write(token, "s", "sum", { records: [record] }));
		await expectAccepted(await write(`Bearer ${token}`, "s", "sum", { records: [record] }));
		expect(await readStream(token, "s")).toEqual([{ timestamp: "2024-01-01", value: "2" }]);
	});

	it("a revoked key is refused at once, even though KV may still hold it elsewhere", async () => {
		const org = uniqueOrg();
		const { id, token } = await createToken(org);
		await expectAccepted(await write(token, "s", "sum", { records: [record] }));
		const revoked = await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN });
		expect(revoked.status).toBe(200);
		expect((await revoked.json<{ revoked_at: string | null }>()).revoked_at).not.toBeNull();
		await expectError(await write(token, "s", "sum", { records: [record] }), 403, "not_authorized");
		await expectError(await api("/unit-cost/v1/telemetry/metric/s", { headers: { Authorization: token } }), 403, "not_authorized");

		// A location whose KV cache still serves the token (up to a minute): D1 refuses it anyway.
		await env.TOKENS.put(`auth:${await hashToken(token)}`, JSON.stringify({ id, org, scopes: ["write", "read", "delete_stream"] }));
		await expectError(await write(token, "s", "sum", { records: [record] }), 403, "not_authorized");
		expect(await readStream((await createToken(org)).token, "s")).toEqual([{ timestamp: "2024-01-01", value: "1" }]);
	});

	it("a revoked key gets no replay, no other error and no write: every answer of its writes is 403", async () => {
		const org = uniqueOrg();
		const { id, token } = await createToken(org);
		const key = { "Idempotency-Key": "before-revocation" };
		await expectAccepted(await write(token, "s", "sum", { records: [record] }, key));
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);

		const before = await storageSnapshot();
		// A replay, a reused key (409), an unknown stream (404), other dimension keys (400), a stream deletion.
		await expectError(await write(token, "s", "sum", { records: [record] }, key), 403, "not_authorized");
		await expectError(await write(token, "s", "sum", { records: [{ ...record, value: 2 }] }, key), 403, "not_authorized");
		await expectError(await write(token, "nowhere", "delete", { records: [{ timestamp: "2024-01-01" }] }), 403, "not_authorized");
		await expectError(await write(token, "s", "sum", { records: [{ ...record, associated_cost: { a: "b" } }] }), 403, "not_authorized");
		await expectError(
			await api("/unit-cost/v1/telemetry/s", json("DELETE", { force: true }, { Authorization: token })),
			403,
			"not_authorized",
		);
		expect(await storageSnapshot()).toBe(before);
	});

	it("right after revocation, a write refused before its commit is 403 too, not its validation answer", async () => {
		const org = uniqueOrg();
		const { id, token } = await createToken(org);
		// The token is now known to this isolate and to KV's cache, as it is for about a minute.
		await expectAccepted(await write(token, "s", "sum", { records: [record] }));
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		await env.TOKENS.put(`auth:${await hashToken(token)}`, JSON.stringify({ id, org, scopes: ["write", "read", "delete_stream"] }));

		const before = await storageSnapshot();
		const tooMany = { records: Array.from({ length: 10_001 }, () => record) };
		const refusedBeforeCommit: Array<[string, Promise<Response>]> = [
			["invalid record", write(token, "s", "sum", { records: [{ timestamp: "yesterday", value: -1 }] })],
			["unknown field", write(token, "s", "replace", { records: [record], filters: {} })],
			["empty body", api("/unit-cost/v1/telemetry/metric/s/sum", { method: "POST", headers: { Authorization: token } })],
			["not JSON", api("/unit-cost/v1/telemetry/metric/s/sum", { method: "POST", headers: { Authorization: token }, body: "{" })],
			["too many records", write(token, "s", "sum", tooMany)],
			[
				"wrong content type",
				api("/unit-cost/v1/telemetry/metric/s/sum", {
					method: "POST",
					headers: { Authorization: token, "Content-Type": "text/csv" },
					body: "a,b",
				}),
			],
			["bad Idempotency-Key", write(token, "s", "sum", { records: [record] }, { "Idempotency-Key": "" })],
			["ambiguous legacy name", write(token, "replace", "legacy", { records: [record] })],
			["stream deletion body", api("/unit-cost/v1/telemetry/s", json("DELETE", { force: "yes" }, { Authorization: token }))],
		];
		for (const [what, res] of refusedBeforeCommit) {
			const error = await expectError(await res, 403, "not_authorized");
			expect(error.details, what).toBeUndefined();
		}
		// Cloudthread answers its documented 404 for a revoked data_stream_token, whatever the body's other problems.
		const ingestBad = await api("/streams/ingest", json("POST", { data_stream_token: token, metric_agg_func: "Median", data: [] }));
		await expectError(ingestBad, 404, "no_stream_found");
		expect(await storageSnapshot()).toBe(before);
	});

	it("an unknown key is not remembered: it works as soon as it exists", async () => {
		const org = uniqueOrg();
		const token = `mlt_made-up-${org}`;
		await expectError(await write(token, "s", "sum", { records: [record] }), 403, "not_authorized");
		await env.TOKENS.put(`auth:${await hashToken(token)}`, JSON.stringify({ id: `tok_${org}`, org, scopes: ["write", "read"] }));
		await expectAccepted(await write(token, "s", "sum", { records: [record] }));
		expect(await readStream(token, "s")).toEqual([{ timestamp: "2024-01-01", value: "1" }]);
	});

	it("KV stores only a hash of each token", async () => {
		const { token } = await createToken(uniqueOrg());
		const keys = await env.TOKENS.list();
		for (const key of keys.keys) {
			expect(key.name).not.toContain(token);
			expect(JSON.stringify(key.metadata ?? "")).not.toContain(token);
			expect((await env.TOKENS.get(key.name)) ?? "").not.toContain(token);
		}
	});
});

describe("tenant isolation", () => {
	it("one organization can neither read, list, change nor delete another's stream of the same name", async () => {
		const { token: alice } = await createToken(uniqueOrg("alice"));
		const { token: bob } = await createToken(uniqueOrg("bob"));
		const dims = { "custom:Client": "a" };
		await expectAccepted(await write(alice, "shared-name", "sum", { records: [{ ...record, value: 5, associated_cost: dims }] }));

		// Reads and deletes from the other tenant find nothing.
		await expectError(
			await api("/unit-cost/v1/telemetry/metric/shared-name", { headers: { Authorization: bob } }),
			404,
			"stream_not_found",
		);
		await expectError(await write(bob, "shared-name", "delete", { records: [{ timestamp: "2024-01-01" }] }), 404, "stream_not_found");
		await expectError(
			await api("/unit-cost/v1/telemetry/shared-name", json("DELETE", { force: true }, { Authorization: bob })),
			404,
			"stream_not_found",
		);
		const list = await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: bob } });
		expect((await list.json<{ streams: unknown[] }>()).streams).toEqual([]);

		// A write under the same name creates the other tenant's own stream, with its own dimension keys.
		await expectAccepted(
			await write(bob, "shared-name", "replace", { records: [{ ...record, value: 7, associated_cost: { Region: "eu" } }] }),
		);
		expect(await readStream(alice, "shared-name")).toEqual([{ timestamp: "2024-01-01", value: "5", associated_cost: dims }]);
		expect(await readStream(bob, "shared-name")).toEqual([{ timestamp: "2024-01-01", value: "7", associated_cost: { Region: "eu" } }]);
	});
});
