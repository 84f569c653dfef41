// The CloudZero stream object runs on the write ledger it shares with the Cloudthread metric and
// cost connection objects:
// Idempotency-Key replay, 409 on another body, one ingest log row, expiry by alarm.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { streamObject } from "../src/objects/cloudzero-stream-protocol";
import { TOKEN_REVOKED } from "../src/objects/outcome";
import { valueChunks } from "../src/storage/streams";
import { createToken, expectAccepted, expectError, readStream, storageSnapshot, uniqueOrg, write } from "./helpers";

describe("Idempotency-Key on CloudZero writes (shared write ledger)", () => {
	it("a repeat replays without applying; another body → 409; the key expires after 24 hours", async () => {
		const org = uniqueOrg("ledger");
		const { token } = await createToken(org);
		const headers = { "Idempotency-Key": "sum-batch-1" };
		const body = { records: [{ timestamp: "2024-01-01", value: 5 }] };
		const first = await expectAccepted(await write(token, "ledger", "sum", body, headers), 1);

		const before = await storageSnapshot();
		const again = await write(token, "ledger", "sum", body, headers);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await again.json()).toEqual(first);
		expect(await storageSnapshot()).toBe(before);
		await expectError(
			await write(token, "ledger", "sum", { records: [{ timestamp: "2024-01-01", value: 6 }] }, headers),
			409,
			"idempotency_key_reused",
		);
		expect(await readStream(token, "ledger")).toEqual([{ timestamp: "2024-01-01", value: "5" }]);

		const { results } = await env.DB.prepare("SELECT stream, operation, record_count, idempotency_key FROM ingest_log WHERE org_id = ?")
			.bind(org)
			.all();
		expect(results).toEqual([{ stream: "ledger", operation: "sum", record_count: 1, idempotency_key: "sum-batch-1" }]);

		// 25 hours later the key is free: reused with another body it applies, and the alarm clears the old row.
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ?")
			.bind(new Date(Date.now() - 25 * 3600_000).toISOString(), org)
			.run();
		await expectAccepted(await write(token, "ledger", "sum", { records: [{ timestamp: "2024-01-01", value: 6 }] }, headers), 1);
		expect(await readStream(token, "ledger")).toEqual([{ timestamp: "2024-01-01", value: "11" }]);
		await env.DB.prepare("UPDATE ingest_log SET created_at = ? WHERE org_id = ?")
			.bind(new Date(Date.now() - 25 * 3600_000).toISOString(), org)
			.run();
		expect(await runDurableObjectAlarm(streamObject(env, org, "ledger"))).toBe(true);
		const keys = await env.DB.prepare("SELECT idempotency_key, request_hash, response FROM ingest_log WHERE org_id = ?").bind(org).all();
		expect(keys.results).toEqual([
			{ idempotency_key: null, request_hash: null, response: null },
			{ idempotency_key: null, request_hash: null, response: null },
		]);
	});
});

describe("revocation at commit", () => {
	it("a token revoked after the Worker admitted its write (say, while it waited in the queue) is refused by the commit", async () => {
		const org = uniqueOrg("ledger");
		const { id, token } = await createToken(org);
		await expectAccepted(await write(token, "queued", "sum", { records: [{ timestamp: "2024-01-01", value: 5 }] }));
		await env.DB.prepare("INSERT INTO token_revocations (token_id, revoked_at) VALUES (?, ?)").bind(id, new Date().toISOString()).run();

		const before = await storageSnapshot();
		// The call the Worker makes once it has admitted the token: straight to the stream's object.
		const result = await streamObject(env, org, "queued").write({
			op: "sum",
			org,
			stream: "queued",
			requestId: "req-after-revocation",
			tokenId: id,
			dimensionKeys: [],
			recordCount: 1,
			chunks: valueChunks([["2024-01-01", "{}", 7, 0]]),
		});
		expect(result).toEqual(TOKEN_REVOKED);
		expect(await storageSnapshot()).toBe(before);
		// The object still writes for other tokens.
		await expectAccepted(
			await write((await createToken(org)).token, "queued", "sum", { records: [{ timestamp: "2024-01-01", value: 1 }] }),
		);
		expect(await readStream((await createToken(org)).token, "queued")).toEqual([{ timestamp: "2024-01-01", value: "6" }]);
	});
});
