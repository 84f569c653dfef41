// Idempotency-Key on POST /streams/ingest: a retry within 24 hours returns the first response
// and applies nothing; the same key with another body → 409. Keys are scoped to the
// organization and metric (ingest_log.stream = 'cloudthread:<function>:<metric name>').
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { metricObject } from "../src/objects/cloudthread-metrics-protocol";
import { expectCreated, type IngestCreated, ingest, ingestBody, point, send, values } from "./cloudthread-helpers";
import { createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";

let org: string;
let token: string;
let tokenId: string;
beforeAll(async () => {
	org = uniqueOrg("ct-idem");
	({ token, id: tokenId } = await createToken(org));
});

const key = (name: string) => ({ "Idempotency-Key": `${name}-${crypto.randomUUID()}` });

interface LogRow {
	request_id: string;
	stream: string;
	operation: string;
	token_id: string;
	record_count: number;
	idempotency_key: string | null;
	request_hash: string | null;
	has_response: number;
}

async function logRows(streamPrefix: string): Promise<LogRow[]> {
	const { results } = await env.DB.prepare(
		`SELECT request_id, stream, operation, token_id, record_count, idempotency_key, request_hash, response IS NOT NULL AS has_response
		FROM ingest_log WHERE org_id = ? AND substr(stream, 1, length(?2)) = ?2 ORDER BY id`,
	)
		.bind(org, streamPrefix)
		.all<LogRow>();
	return results;
}

describe("a repeated Idempotency-Key with the same body", () => {
	it("returns the first response with Idempotent-Replayed: true, and writes nothing", async () => {
		const headers = key("replay");
		const body = ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-replay", 10, { team: "a" })]);
		const firstRes = await ingest(body, headers);
		const first = await expectCreated(firstRes);
		expect(firstRes.headers.get("Idempotent-Replayed")).toBeNull();
		const before = await storageSnapshot();

		const againRes = await ingest(body, headers);
		expect(againRes.status).toBe(201);
		expect(againRes.headers.get("Idempotent-Replayed")).toBe("true");
		const again = await againRes.json<IngestCreated>();
		// The recorded response, original request id included; this request has its own id.
		expect(again).toEqual(first);
		expect(againRes.headers.get("X-Request-Id")).not.toBe(first.request_id);
		expect(await storageSnapshot()).toBe(before);
	});

	it("a replay does not re-apply: a value changed in between stays changed", async () => {
		const headers = key("no-reapply");
		const body = ingestBody(token, "Maximum", [point("2022-10-01 00:00:00", "idem-later", 10)]);
		await expectCreated(await ingest(body, headers));
		await send(token, "Maximum", [point("2022-10-01 00:00:00", "idem-later", 3)]);
		const replay = await ingest(body, headers);
		expect(replay.status).toBe(201);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await values(token, "idem-later", "agg=Maximum")).toEqual([["2022-10-01", "3"]]);
	});

	it("records one ingest log row per metric, all in the request's transaction, the response kept once", async () => {
		const headers = key("multi");
		const body = ingestBody(token, "Average", [
			point("2022-10-01 00:00:00", "idem-multi-a", 1),
			point("2022-10-01 01:00:00", "idem-multi-a", 2),
			point("2022-10-01 00:00:00", "idem-multi-b", 3),
		]);
		const created = await expectCreated(await ingest(body, headers));
		const rows = await logRows("cloudthread:Average:idem-multi-");
		expect(rows.map(({ request_hash, ...r }) => ({ ...r, hashed: request_hash !== null }))).toEqual([
			{
				request_id: created.request_id,
				stream: "cloudthread:Average:idem-multi-a",
				operation: "ingest",
				token_id: tokenId,
				record_count: 2,
				idempotency_key: headers["Idempotency-Key"],
				has_response: 1,
				hashed: true,
			},
			{
				request_id: created.request_id,
				stream: "cloudthread:Average:idem-multi-b",
				operation: "ingest",
				token_id: tokenId,
				record_count: 1,
				idempotency_key: headers["Idempotency-Key"],
				has_response: 0,
				hashed: true,
			},
		]);
		const replay = await ingest(body, headers);
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await replay.json()).toEqual(created);
		expect(await logRows("cloudthread:Average:idem-multi-")).toHaveLength(2);
	});

	it("a write without a key is logged too, without key, hash or response", async () => {
		const created = await send(token, "Minimum", [point("2022-10-01 00:00:00", "idem-none", 1)]);
		expect(await logRows("cloudthread:Minimum:idem-none")).toEqual([
			{
				request_id: created.request_id,
				stream: "cloudthread:Minimum:idem-none",
				operation: "ingest",
				token_id: tokenId,
				record_count: 1,
				idempotency_key: null,
				request_hash: null,
				has_response: 0,
			},
		]);
	});
});

describe("the same key with a different body", () => {
	it("→ 409 idempotency_key_reused, nothing written", async () => {
		const headers = key("conflict");
		await expectCreated(await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-conflict", 10)]), headers));
		const before = await storageSnapshot();
		const error = await expectError(
			await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-conflict", 11)]), headers),
			409,
			"idempotency_key_reused",
		);
		expect(error.message).toMatch(/different request/);
		expect(await storageSnapshot()).toBe(before);
		expect(await values(token, "idem-conflict", "agg=Sum")).toEqual([["2022-10-01", "10"]]);
	});

	it("→ 409 when any metric of the request recorded the key for another body", async () => {
		const headers = key("overlap");
		await expectCreated(await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-o1", 1)]), headers));
		const before = await storageSnapshot();
		const both = ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-o2", 1), point("2022-10-01 00:00:00", "idem-o1", 1)]);
		await expectError(await ingest(both, headers), 409, "idempotency_key_reused");
		expect(await storageSnapshot()).toBe(before);
	});

	it("is a new key for another metric or another function (keys are scoped to the metric)", async () => {
		const headers = key("scope");
		await expectCreated(await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-s1", 1)]), headers));
		const otherMetric = await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-s2", 2)]), headers);
		await expectCreated(otherMetric);
		expect(otherMetric.headers.get("Idempotent-Replayed")).toBeNull();
		const otherFunction = await ingest(ingestBody(token, "Maximum", [point("2022-10-01 00:00:00", "idem-s1", 3)]), headers);
		await expectCreated(otherFunction);
		expect(await values(token, "idem-s2", "agg=Sum")).toEqual([["2022-10-01", "2"]]);
		expect(await values(token, "idem-s1", "agg=Maximum")).toEqual([["2022-10-01", "3"]]);
	});

	it("a rejected request records nothing: its key stays free", async () => {
		const headers = key("rejected");
		await expectError(
			await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:30:00", "idem-rej", 1)]), headers),
			400,
			"timestamp_not_hourly",
		);
		const res = await ingest(ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-rej", 1)]), headers);
		await expectCreated(res);
		expect(res.headers.get("Idempotent-Replayed")).toBeNull();
	});
});

describe("key format and expiry", () => {
	it("an invalid key → 400 before anything is written", async () => {
		const body = ingestBody(token, "Sum", [point("2022-10-01 00:00:00", "idem-bad-key", 1)]);
		for (const bad of ["has space", "x".repeat(256), "tab\there"]) {
			const before = await storageSnapshot();
			await expectError(await ingest(body, { "Idempotency-Key": bad }), 400, "invalid_idempotency_key");
			expect(await storageSnapshot()).toBe(before);
		}
	});

	it("after 24 hours a key is free again; the object's alarm clears it", async () => {
		const headers = key("expiry");
		const body = (v: number) => ingestBody(token, "Minimum", [point("2022-10-01 00:00:00", "idem-expiry", v)]);
		await expectCreated(await ingest(body(5), headers));
		// Age the record by 25 hours, as if the alarm had not run yet.
		const aged = new Date(Date.now() - 25 * 3600_000).toISOString();
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND idempotency_key = ?")
			.bind(aged, org, headers["Idempotency-Key"])
			.run();

		// Reused with another body: applied, not 409 (and no clash with the stale row).
		const reused = await ingest(body(4), headers);
		await expectCreated(reused);
		expect(reused.headers.get("Idempotent-Replayed")).toBeNull();
		expect(await values(token, "idem-expiry", "agg=Minimum")).toEqual([["2022-10-01", "4"]]);

		// The alarm forgets expired keys and keeps the live one.
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ? AND idempotency_key = ?")
			.bind(aged, org, headers["Idempotency-Key"])
			.run();
		const live = key("live");
		await expectCreated(await ingest(body(4), live));
		expect(await runDurableObjectAlarm(metricObject(env, org, "Minimum"))).toBe(true);
		const keys = (await logRows("cloudthread:Minimum:idem-expiry")).map((r) => r.idempotency_key);
		expect(keys).toEqual([null, null, live["Idempotency-Key"]]);
	});
});
