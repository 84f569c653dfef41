// Idempotency-Key on allocation writes: a retried write is answered with the first response and applies nothing.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allocationStreamObject } from "../src/objects/allocation-stream-protocol";
import { allocate, allocationLog, deleteAllocationStream, postTelemetry, readRows, rec } from "./allocation-helpers";
import { createToken, expectAccepted, expectError, storageSnapshot, uniqueOrg, write } from "./helpers";

const key = (name: string) => ({ "Idempotency-Key": name });

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("alloc-idem");
	({ token } = await createToken(org));
});

describe("Idempotency-Key on allocation writes", () => {
	it("a repeated sum with the same key and body returns the first response and adds nothing", async () => {
		const body = { records: [rec({ value: 5 })] };
		const first = await allocate(token, "retried-sum", "sum", body, key("batch-1"));
		const firstBody = await expectAccepted(first, 1);
		expect(first.headers.get("Idempotent-Replayed")).toBeNull();
		for (let attempt = 0; attempt < 3; attempt++) {
			const again = await allocate(token, "retried-sum", "sum", body, key("batch-1"));
			expect(again.headers.get("Idempotent-Replayed")).toBe("true");
			expect(await expectAccepted(again, 1)).toEqual(firstBody);
		}
		expect(await readRows(token, "retried-sum")).toEqual([["2024-02-08", "customer 1", "5"]]);
		const log = await allocationLog(token, "retried-sum");
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({ request_id: firstBody.request_id, idempotency_key: "batch-1", operation: "sum", record_count: 1 });
	});

	it("the telemetry library's retries of POST /unit-cost/v1/telemetry (urllib3 retries 503s) count once with a key", async () => {
		const body = { records: [rec({ "telemetry-stream": "library-retries", granularity: "hourly", value: 8123.5 })] };
		const first = await expectAccepted(await postTelemetry(token, body, key("snowflake-2024-02-08T13")));
		const before = await storageSnapshot();
		const again = await postTelemetry(token, body, key("snowflake-2024-02-08T13"));
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await expectAccepted(again)).toEqual(first);
		expect(await storageSnapshot()).toBe(before);
		// The same key and body on /sum of the same stream is the same request.
		const viaPath = await allocate(token, "library-retries", "sum", body, key("snowflake-2024-02-08T13"));
		expect(viaPath.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await readRows(token, "library-retries")).toEqual([["2024-02-08T00:00:00Z", "customer 1", "8123.5"]]);
	});

	it("replays deletes and stream deletions too, and a replay does not touch storage after other writes", async () => {
		await expectAccepted(await allocate(token, "replay-delete", "sum", { records: [rec({ value: 3 })] }));
		const del = { records: [{ timestamp: "2024-02-08", granularity: "DAILY" }] };
		const first = await expectAccepted(await allocate(token, "replay-delete", "delete", del, key("d-1")));
		expect(first.values_deleted).toBe(1);
		await expectAccepted(await allocate(token, "replay-delete", "sum", { records: [rec({ value: 4 })] }));
		const before = await storageSnapshot();
		const again = await allocate(token, "replay-delete", "delete", del, key("d-1"));
		expect(await expectAccepted(again)).toEqual(first);
		expect(await storageSnapshot()).toBe(before);
		expect(await readRows(token, "replay-delete")).toEqual([["2024-02-08", "customer 1", "4"]]);

		const removed = await deleteAllocationStream(token, "replay-delete", { force: true }, key("ds-1"));
		expect(removed.status).toBe(200);
		const removedAgain = await deleteAllocationStream(token, "replay-delete", { force: true }, key("ds-1"));
		expect(removedAgain.status).toBe(200);
		expect(removedAgain.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await removedAgain.json()).toEqual(await removed.json());
	});

	it("the same key with a different body or operation → 409, changing nothing", async () => {
		await expectAccepted(await allocate(token, "conflict", "sum", { records: [rec({ value: 5 })] }, key("k")));
		const before = await storageSnapshot();
		await expectError(await allocate(token, "conflict", "sum", { records: [rec({ value: 6 })] }, key("k")), 409, "idempotency_key_reused");
		await expectError(
			await allocate(token, "conflict", "replace", { records: [rec({ value: 5 })] }, key("k")),
			409,
			"idempotency_key_reused",
		);
		expect(await storageSnapshot()).toBe(before);
	});

	it("concurrent retries with one key apply the write exactly once", async () => {
		const body = { records: [rec({ value: 7 })] };
		const responses = await Promise.all(Array.from({ length: 10 }, () => allocate(token, "racing-retries", "sum", body, key("same"))));
		expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
		expect(responses.filter((r) => r.headers.get("Idempotent-Replayed") === "true")).toHaveLength(9);
		expect(await readRows(token, "racing-retries")).toEqual([["2024-02-08", "customer 1", "7"]]);
	});

	it("keys are scoped to the allocation stream: another stream, a metric stream of the same name, another organization", async () => {
		const body = { records: [rec({ value: 2 })] };
		await expectAccepted(await allocate(token, "scope-a", "sum", body, key("shared")));
		for (const res of [
			await allocate(token, "scope-b", "sum", body, key("shared")),
			await write(token, "scope-a", "sum", { records: [{ timestamp: "2024-02-08", value: 2 }] }, key("shared")),
			await allocate((await createToken(uniqueOrg("alloc-idem-other"))).token, "scope-a", "sum", body, key("shared")),
		]) {
			expect(res.headers.get("Idempotent-Replayed")).toBeNull();
			await expectAccepted(res);
		}
		expect(await readRows(token, "scope-a")).toEqual([["2024-02-08", "customer 1", "2"]]);
	});

	it("a rejected request does not use up its key; malformed keys are refused", async () => {
		await expectError(await allocate(token, "fix-me", "sum", { records: [rec({ value: "1,000" })] }, key("fix-me")), 400, "invalid_value");
		await expectAccepted(await allocate(token, "fix-me", "sum", { records: [rec({ value: "1000" })] }, key("fix-me")));
		for (const bad of ["has space", "x".repeat(256), ""]) {
			await expectError(await allocate(token, "fix-me", "sum", { records: [rec()] }, key(bad)), 400, "invalid_idempotency_key");
		}
		expect(await readRows(token, "fix-me")).toEqual([["2024-02-08", "customer 1", "1000"]]);
	});

	it("after 24 hours a key is forgotten: the stream's object's alarm clears it, and a late retry is applied as new", async () => {
		const body = { records: [rec({ value: 1 })] };
		await expectAccepted(await allocate(token, "expiring", "sum", body, key("old")));
		const past = new Date(Date.now() - 25 * 3600_000).toISOString();
		const age = (where: string) =>
			env.DB.prepare(`UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND stream = 'allocation:expiring' AND ${where}`)
				.bind(past, org)
				.run();
		await age("true");
		const late = await allocate(token, "expiring", "sum", body, key("old"));
		expect(late.headers.get("Idempotent-Replayed")).toBeNull();
		await expectAccepted(late);
		expect(await readRows(token, "expiring")).toEqual([["2024-02-08", "customer 1", "2"]]);

		await age("idempotency_key IS NULL");
		await expectAccepted(await allocate(token, "expiring", "sum", body, key("older")));
		await age("idempotency_key = 'older'");
		expect(await runDurableObjectAlarm(allocationStreamObject(env, org, "expiring"))).toBe(true);
		const keys = await env.DB.prepare(
			"SELECT idempotency_key FROM ingest_log WHERE org_id = ? AND stream = 'allocation:expiring' ORDER BY id",
		)
			.bind(org)
			.all();
		expect(keys.results.map((r) => r.idempotency_key)).toEqual([null, "old", null]);
	});
});
