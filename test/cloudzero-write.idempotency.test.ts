// Idempotency-Key: a retried write is answered with the first response and applies nothing.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { streamObject } from "../src/objects/cloudzero-stream-protocol";
import { api, createToken, expectAccepted, expectError, readStream, storageSnapshot, uniqueOrg, write } from "./helpers";

const DAY = "2024-03-01";
const record = (value: number, client = "a") => ({ timestamp: DAY, value, associated_cost: { "custom:Client": client } });
const key = (name: string) => ({ "Idempotency-Key": name });

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("idem");
	({ token } = await createToken(org));
});

async function logEntries(stream: string): Promise<Array<{ request_id: string; idempotency_key: string | null; operation: string }>> {
	const res = await api(`/unit-cost/v1/telemetry/metric/${stream}/log`, { headers: { Authorization: token } });
	expect(res.status).toBe(200);
	return (await res.json<{ entries: Array<{ request_id: string; idempotency_key: string | null; operation: string }> }>()).entries;
}

describe("Idempotency-Key on writes", () => {
	it("a repeated sum with the same key and body returns the first response and adds nothing", async () => {
		const body = { records: [record(5)] };
		const first = await write(token, "retried-sum", "sum", body, key("batch-1"));
		const firstBody = await expectAccepted(first, 1);
		expect(first.headers.get("Idempotent-Replayed")).toBeNull();

		for (let attempt = 0; attempt < 3; attempt++) {
			const again = await write(token, "retried-sum", "sum", body, key("batch-1"));
			expect(again.headers.get("Idempotent-Replayed")).toBe("true");
			// The first response, request id included, so the client sees one logical request.
			expect(await expectAccepted(again, 1)).toEqual(firstBody);
		}
		expect(await readStream(token, "retried-sum")).toEqual([{ timestamp: DAY, value: "5", associated_cost: { "custom:Client": "a" } }]);
		const log = await logEntries("retried-sum");
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({ request_id: firstBody.request_id, idempotency_key: "batch-1", operation: "sum" });
	});

	it("a replay does not touch storage, even after other writes changed the stream", async () => {
		const body = { records: [record(1)] };
		await expectAccepted(await write(token, "replay-later", "replace", body, key("r-1")));
		await expectAccepted(await write(token, "replay-later", "sum", { records: [record(10)] }));
		const before = await storageSnapshot();
		const again = await write(token, "replay-later", "replace", body, key("r-1"));
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		await expectAccepted(again);
		expect(await storageSnapshot()).toBe(before);
		expect((await readStream(token, "replay-later"))[0].value).toBe("11");
	});

	it("replays deletes and stream deletions too", async () => {
		await expectAccepted(await write(token, "replay-delete", "sum", { records: [record(3)] }));
		const del = { records: [{ timestamp: DAY }] };
		const first = await expectAccepted(await write(token, "replay-delete", "delete", del, key("d-1")));
		await expectAccepted(await write(token, "replay-delete", "sum", { records: [record(4)] }));
		const again = await write(token, "replay-delete", "delete", del, key("d-1"));
		expect(await expectAccepted(again)).toEqual(first);
		expect((await readStream(token, "replay-delete"))[0].value).toBe("4");

		const remove = () =>
			api("/unit-cost/v1/telemetry/replay-delete", {
				method: "DELETE",
				headers: { Authorization: token, "Content-Type": "application/json", ...key("ds-1") },
				body: JSON.stringify({ force: true }),
			});
		const removed = await remove();
		expect(removed.status).toBe(200);
		const removedAgain = await remove();
		expect(removedAgain.status).toBe(200);
		expect(removedAgain.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await removedAgain.json()).toEqual(await removed.json());
	});

	it("the same key with a different body is refused with 409 and changes nothing", async () => {
		await expectAccepted(await write(token, "conflict", "sum", { records: [record(5)] }, key("k")));
		const before = await storageSnapshot();
		await expectError(await write(token, "conflict", "sum", { records: [record(6)] }, key("k")), 409, "idempotency_key_reused");
		// The operation is part of what the key stands for.
		await expectError(await write(token, "conflict", "replace", { records: [record(5)] }, key("k")), 409, "idempotency_key_reused");
		expect(await storageSnapshot()).toBe(before);
	});

	it("concurrent retries with one key apply the write exactly once", async () => {
		const body = { records: [record(7)] };
		const responses = await Promise.all(Array.from({ length: 10 }, () => write(token, "racing-retries", "sum", body, key("same"))));
		expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
		expect(responses.filter((r) => r.headers.get("Idempotent-Replayed") === "true")).toHaveLength(9);
		expect((await readStream(token, "racing-retries"))[0].value).toBe("7");
	});

	it("keys are scoped to the stream and to the organization", async () => {
		const body = { records: [record(2)] };
		await expectAccepted(await write(token, "scope-a", "sum", body, key("shared")));
		const otherStream = await write(token, "scope-b", "sum", body, key("shared"));
		expect(otherStream.headers.get("Idempotent-Replayed")).toBeNull();
		await expectAccepted(otherStream);

		const other = await createToken(uniqueOrg("idem-other"));
		const otherOrg = await write(other.token, "scope-a", "sum", body, key("shared"));
		expect(otherOrg.headers.get("Idempotent-Replayed")).toBeNull();
		await expectAccepted(otherOrg);
		expect((await readStream(token, "scope-a"))[0].value).toBe("2");
		expect((await readStream(other.token, "scope-a"))[0].value).toBe("2");
	});

	it("a rejected request does not use up its key", async () => {
		await expectError(
			await write(token, "rejected-first", "sum", { records: [{ timestamp: DAY, value: "1,000" }] }, key("fix-me")),
			400,
			"invalid_value",
		);
		await expectAccepted(await write(token, "rejected-first", "sum", { records: [{ timestamp: DAY, value: "1000" }] }, key("fix-me")));
		expect((await readStream(token, "rejected-first"))[0].value).toBe("1000");
	});

	it("refuses malformed keys", async () => {
		const body = { records: [record(1)] };
		for (const bad of ["has space", "x".repeat(256), ""]) {
			await expectError(await write(token, "bad-keys", "sum", body, key(bad)), 400, "invalid_idempotency_key");
		}
		const streams = await api("/unit-cost/v1/telemetry/metric", { headers: { Authorization: token } });
		expect(JSON.stringify(await streams.json())).not.toContain("bad-keys");
	});

	it("after 24 hours a key is forgotten: the alarm clears it, and a late retry is applied as new", async () => {
		const body = { records: [record(1)] };
		await expectAccepted(await write(token, "expiring", "sum", body, key("old")));
		// Pretend the key was recorded 25 hours ago.
		const past = new Date(Date.now() - 25 * 3600_000).toISOString();
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND stream = 'expiring'").bind(past, org).run();

		// Before the alarm has run, the expired key no longer answers and can be recorded again.
		const late = await write(token, "expiring", "sum", body, key("old"));
		expect(late.headers.get("Idempotent-Replayed")).toBeNull();
		await expectAccepted(late);
		expect((await readStream(token, "expiring"))[0].value).toBe("2");

		// The alarm clears every key older than 24 hours and keeps the recent one.
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND stream = 'expiring' AND idempotency_key IS NULL")
			.bind(past, org)
			.run();
		await expectAccepted(await write(token, "expiring", "sum", body, key("older")));
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND stream = 'expiring' AND idempotency_key = 'older'")
			.bind(past, org)
			.run();
		expect(await runDurableObjectAlarm(streamObject(env, org, "expiring"))).toBe(true);
		const keys = await env.DB.prepare("SELECT idempotency_key FROM ingest_log WHERE org_id = ? AND stream = 'expiring' ORDER BY id")
			.bind(org)
			.all();
		expect(keys.results.map((r) => r.idempotency_key)).toEqual([null, "old", null]);
	});
});
