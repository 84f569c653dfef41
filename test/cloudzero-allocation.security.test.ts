// Allocation telemetry's authentication, scopes, revocation and tenant isolation: as the metric endpoints'.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashToken } from "../src/auth/tokens";
import { allocate, deleteAllocationStream, postTelemetry, readRows, rec } from "./allocation-helpers";
import { ADMIN, api, createToken, expectAccepted, expectError, storageSnapshot, uniqueOrg } from "./helpers";

const NOT_AUTHORIZED = "Not authorized, make sure you're using a valid API key in the header Authorization";
const body = { records: [rec()] };
const get = (path: string, token: string) => api(path, { headers: { Authorization: token } });

/** Every allocation endpoint, called with the given token (valid requests but for the token). */
function everyEndpoint(token: string) {
	return [
		allocate(token, "s", "sum", body),
		allocate(token, "s", "replace", body),
		allocate(token, "s", "bare", body),
		allocate(token, "s", "delete", { records: [{ timestamp: "2024-02-08", granularity: "DAILY" }] }),
		postTelemetry(token, { records: [rec({ "telemetry-stream": "s" })] }),
		get("/unit-cost/v1/telemetry/allocation/s", token),
		get("/unit-cost/v1/telemetry/allocation", token),
		get("/unit-cost/v1/telemetry/allocation/s/log", token),
		deleteAllocationStream(token, "s", { force: true }),
	];
}

describe("tokens", () => {
	it("a missing, empty or unknown key → 403 with CloudZero's message on every endpoint, changing nothing", async () => {
		const before = await storageSnapshot();
		for (const token of ["", "mlt_not-a-real-token", "Bearer "]) {
			for (const res of await Promise.all(everyEndpoint(token)))
				expect((await expectError(res, 403, "not_authorized")).message).toBe(NOT_AUTHORIZED);
		}
		expect(await storageSnapshot()).toBe(before);
	});

	it("accepts the raw key, as the three clients send it, and 'Bearer <key>'", async () => {
		const { token } = await createToken(uniqueOrg());
		await expectAccepted(await allocate(token, "s", "sum", body));
		await expectAccepted(await allocate(`Bearer ${token}`, "s", "sum", body));
		expect(await readRows(token, "s")).toEqual([["2024-02-08", "customer 1", "20"]]);
	});
});

describe("scopes", () => {
	it("writes need write, reads read, stream deletion delete_stream (403 insufficient_scope, nothing applied)", async () => {
		const org = uniqueOrg();
		const { token: all } = await createToken(org, ["write", "read", "delete_stream"]);
		await expectAccepted(await allocate(all, "s", "sum", body));
		const { token: readOnly } = await createToken(org, ["read"]);
		const { token: writeOnly } = await createToken(org, ["write"]);
		const before = await storageSnapshot();
		const [sum, replace, bare, del, legacy, read, list, log, drop] = await Promise.all(everyEndpoint(readOnly));
		for (const res of [sum, replace, bare, del, legacy, drop]) await expectError(res, 403, "insufficient_scope");
		for (const res of [read, list, log]) expect(res.status).toBe(200);
		const writes = await Promise.all(everyEndpoint(writeOnly));
		for (const res of writes.slice(5)) await expectError(res, 403, "insufficient_scope");
		expect(await storageSnapshot()).not.toBe(before); // the write-only token's writes were applied
		expect(writes.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
	});
});

describe("revocation", () => {
	it("a revoked key is refused at once on every endpoint, even while KV still holds it, with no replay and no write", async () => {
		const org = uniqueOrg();
		const { id, token } = await createToken(org);
		const key = { "Idempotency-Key": "before-revocation" };
		await expectAccepted(await allocate(token, "s", "sum", body, key));
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		// A location whose KV cache still serves the token (up to a minute): D1 refuses it anyway.
		await env.TOKENS.put(`auth:${await hashToken(token)}`, JSON.stringify({ id, org, scopes: ["write", "read", "delete_stream"] }));
		const before = await storageSnapshot();
		for (const res of await Promise.all(everyEndpoint(token))) await expectError(res, 403, "not_authorized");
		// A replay of its key, a reused key, an unknown stream, other filter keys, an invalid record: 403 all the same.
		await expectError(await allocate(token, "s", "sum", body, key), 403, "not_authorized");
		await expectError(await allocate(token, "s", "sum", { records: [rec({ value: 2 })] }, key), 403, "not_authorized");
		await expectError(
			await allocate(token, "nowhere", "delete", { records: [{ timestamp: "2024-02-08", granularity: "DAILY" }] }),
			403,
			"not_authorized",
		);
		await expectError(await allocate(token, "s", "sum", { records: [rec({ filter: { other: ["x"] } })] }), 403, "not_authorized");
		const invalid = await expectError(await allocate(token, "s", "sum", { records: [rec({ value: -1 })] }), 403, "not_authorized");
		expect(invalid.details).toBeUndefined();
		expect(await storageSnapshot()).toBe(before);
		expect(await readRows((await createToken(org)).token, "s")).toEqual([["2024-02-08", "customer 1", "10"]]);
	});
});

describe("tenant isolation", () => {
	it("one organization can neither read, list, change nor delete another's allocation stream of the same name", async () => {
		const { token: alice } = await createToken(uniqueOrg("alice"));
		const { token: bob } = await createToken(uniqueOrg("bob"));
		await expectAccepted(await allocate(alice, "shared-name", "sum", { records: [rec({ element_name: "alice-customer", value: 5 })] }));

		await expectError(await get("/unit-cost/v1/telemetry/allocation/shared-name", bob), 404, "stream_not_found");
		await expectError(await get("/unit-cost/v1/telemetry/allocation/shared-name/log", bob), 404, "stream_not_found");
		await expectError(
			await allocate(bob, "shared-name", "delete", { records: [{ timestamp: "2024-02-08", granularity: "DAILY" }] }),
			404,
			"stream_not_found",
		);
		await expectError(await deleteAllocationStream(bob, "shared-name", { force: true }), 404, "stream_not_found");
		const list = await get("/unit-cost/v1/telemetry/allocation", bob);
		expect((await list.json<{ streams: unknown[] }>()).streams).toEqual([]);

		// A write under the same name creates the other tenant's own stream, with its own granularity and keys.
		await expectAccepted(
			await allocate(bob, "shared-name", "replace", { records: [rec({ granularity: "HOURLY", filter: { team: ["b"] }, value: 7 })] }),
		);
		await expectAccepted(
			await postTelemetry(bob, {
				records: [rec({ "telemetry-stream": "shared-name", granularity: "HOURLY", filter: { team: ["b"] }, value: 1 })],
			}),
		);
		expect(await readRows(alice, "shared-name")).toEqual([["2024-02-08", "alice-customer", "5"]]);
		expect(await readRows(bob, "shared-name")).toEqual([["2024-02-08T00:00:00Z", "customer 1", "8"]]);
	});
});
