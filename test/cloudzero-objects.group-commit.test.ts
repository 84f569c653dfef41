// Group commit: while an object's commit is in flight, the changes that arrive queue up and the
// next commit takes them all as one D1 batch. D1 is slowed down inside the objects here (as it
// is in production, a network round trip away), so that groups form; each change must keep its
// own outcome: a refused one never fails the others, keys replay or conflict as one at a time.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metricObject } from "../src/objects/cloudthread-metrics-protocol";
import { streamObject } from "../src/objects/cloudzero-stream-protocol";
import { connectionObject } from "../src/objects/cost-connection-protocol";
import { ingest, ingestBody, point, readMetric } from "./cloudthread-helpers";
import { costs, drop, expectDrop, row } from "./costs-helpers";
import { createToken, expectAccepted, plainOf, readStream, uniqueOrg, write } from "./helpers";
import { slowLedgerD1 } from "./slow-d1";

const day = "2024-01-01";
const one = (value: number | string, associated_cost: Record<string, string> = { Region: "eu" }) => ({
	records: [{ timestamp: day, value, associated_cost }],
});

async function outcomes(responses: Response[]) {
	return Promise.all(
		responses.map(async (res) => ({
			status: res.status,
			replayed: res.headers.get("Idempotent-Replayed") === "true",
			body: await res.json<Record<string, any>>(),
		})),
	);
}

describe("group commit in the CloudZero stream object", () => {
	it("commits concurrent changes in far fewer D1 batches than changes, every one acknowledged and stored", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		await expectAccepted(await write(token, "busy", "sum", one(1)));
		const d1 = await slowLedgerD1(streamObject(env, org, "busy"));
		const results = await outcomes(await Promise.all(Array.from({ length: 40 }, () => write(token, "busy", "sum", one(1)))));
		expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
		expect(d1.batches()).toBeGreaterThan(0);
		expect(d1.batches()).toBeLessThanOrEqual(10);
		expect(await readStream(token, "busy")).toEqual([{ timestamp: day, value: "41", associated_cost: { Region: "eu" } }]);
		const log = await env.DB.prepare("SELECT COUNT(*) AS n FROM ingest_log WHERE org_id = ? AND stream = 'busy'")
			.bind(org)
			.first<{ n: number }>();
		expect(log?.n).toBe(41);
	});

	it("a change refused against the stream (other dimension names) fails alone; the rest of its group commits", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		await expectAccepted(await write(token, "mixed", "sum", one(1)));
		const d1 = await slowLedgerD1(streamObject(env, org, "mixed"));
		const bodies = Array.from({ length: 20 }, (_, i) => (i === 7 ? one(100, { "custom:Other": "x" }) : one(1)));
		const results = await outcomes(await Promise.all(bodies.map((b) => write(token, "mixed", "sum", b))));
		expect(results.filter((r) => r.status === 200)).toHaveLength(19);
		expect(results[7]).toMatchObject({ status: 400, body: { error: { code: "inconsistent_filter_keys" } } });
		expect(d1.batches()).toBeLessThan(19);
		expect((await readStream(token, "mixed"))[0].value).toBe("20");
	});

	it("a revoked token caught by the commit fails alone: the group is retried without it", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		const revoked = await createToken(org);
		await expectAccepted(await write(token, "shared", "sum", one(1)));
		await expectAccepted(await write(revoked.token, "shared", "sum", one(1))); // admitted from now on by this isolate's cache
		await env.DB.prepare("INSERT INTO token_revocations (token_id, revoked_at) VALUES (?, ?)")
			.bind(revoked.id, new Date().toISOString())
			.run();
		await slowLedgerD1(streamObject(env, org, "shared"));
		const tokens = Array.from({ length: 12 }, (_, i) => (i === 5 ? revoked.token : token));
		const results = await outcomes(await Promise.all(tokens.map((t) => write(t, "shared", "sum", one(1)))));
		expect(results[5]).toMatchObject({ status: 403, body: { error: { code: "not_authorized" } } });
		expect(results.filter((r) => r.status === 200)).toHaveLength(11);
		expect((await readStream(token, "shared"))[0].value).toBe(String(2 + 11));
	});

	it("a sum that would overflow the stored value fails alone with value_overflow; the others commit", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		await expectAccepted(
			await write(token, "huge", "sum", {
				records: [
					{ timestamp: day, value: 1e308 },
					{ timestamp: "2024-01-02", value: 1 },
				],
			}),
		);
		await slowLedgerD1(streamObject(env, org, "huge"));
		const bodies = Array.from({ length: 9 }, (_, i) =>
			i === 4 ? { records: [{ timestamp: day, value: 1e308 }] } : { records: [{ timestamp: "2024-01-02", value: 1 }] },
		);
		const results = await outcomes(await Promise.all(bodies.map((b) => write(token, "huge", "sum", b))));
		expect(results[4]).toMatchObject({
			status: 400,
			body: { error: { code: "value_overflow", details: [{ record: 0, path: "records[0].value" }] } },
		});
		expect(results.filter((r) => r.status === 200)).toHaveLength(8);
		expect((await readStream(token, "huge")).map((r) => r.value)).toEqual([plainOf(1e308), "9"]);
	});

	it("replays and conflicts of one Idempotency-Key inside a group: one applies, the same body replays it, another body gets 409", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		await expectAccepted(await write(token, "keyed", "sum", one(1)));
		await slowLedgerD1(streamObject(env, org, "keyed"));
		const key = { "Idempotency-Key": "nightly-batch-7" };
		const sends = [
			write(token, "keyed", "sum", one(1)), // no key: occupies a commit, so the rest queue up
			...Array.from({ length: 4 }, () => write(token, "keyed", "sum", one(10), key)),
			write(token, "keyed", "sum", one(1000), key),
			write(token, "keyed", "sum", one(10), { "Idempotency-Key": "other" }),
		];
		const results = await outcomes(await Promise.all(sends));
		const keyed = results.slice(1, 6);
		const applied = keyed.filter((r) => r.status === 200 && !r.replayed);
		expect(applied).toHaveLength(1);
		const appliedValue = keyed.indexOf(applied[0]) === 4 ? 1000 : 10;
		for (const [i, r] of keyed.entries()) {
			const sameBody = (i === 4 ? 1000 : 10) === appliedValue;
			if (r === applied[0]) continue;
			if (sameBody) expect(r, JSON.stringify(r)).toMatchObject({ status: 200, replayed: true, body: applied[0].body });
			else expect(r).toMatchObject({ status: 409, body: { error: { code: "idempotency_key_reused" } } });
		}
		expect(results[6].status).toBe(200);
		expect((await readStream(token, "keyed"))[0].value).toBe(String(1 + 1 + appliedValue + 10));
	});

	it("a delete waits for the commit before it and sees the sums that arrived first", async () => {
		const org = uniqueOrg("group");
		const { token } = await createToken(org);
		await expectAccepted(await write(token, "ordered", "sum", one(1)));
		await slowLedgerD1(streamObject(env, org, "ordered"));
		const first = Array.from({ length: 5 }, () => write(token, "ordered", "sum", one(1)));
		const del = write(token, "ordered", "delete", { records: [{ timestamp: day }] });
		const after = Array.from({ length: 3 }, () => write(token, "ordered", "sum", one(1)));
		const results = await outcomes(await Promise.all([...first, del, ...after]));
		expect(results.map((r) => r.status)).toEqual(Array(9).fill(200));
		expect(results[5].body.series_deleted).toBe(1);
		// The delete removed what was committed before it: exactly the sums the ingest log (commit
		// order) lists after it remain.
		const { results: log } = await env.DB.prepare("SELECT operation FROM ingest_log WHERE org_id = ? ORDER BY id")
			.bind(org)
			.all<{ operation: string }>();
		const afterDelete = log.slice(log.findIndex((e) => e.operation === "delete") + 1).length;
		expect((await readStream(token, "ordered"))[0]?.value ?? "0").toBe(String(afterDelete));
	});
});

describe("group commit in the Cloudthread metric object", () => {
	it("groups concurrent ingests; a revoked token's ingest fails alone", async () => {
		const org = uniqueOrg("group-ct");
		const { token } = await createToken(org);
		const revoked = await createToken(org);
		expect((await ingest(ingestBody(revoked.token, "Sum", [point("2024-01-01 00:00:00", "m", 1)]))).status).toBe(201);
		await env.DB.prepare("INSERT INTO token_revocations (token_id, revoked_at) VALUES (?, ?)")
			.bind(revoked.id, new Date().toISOString())
			.run();
		const d1 = await slowLedgerD1(metricObject(env, org, "Sum"));
		const sends = Array.from({ length: 24 }, (_, hour) =>
			ingest(ingestBody(hour === 9 ? revoked.token : token, "Sum", [point(`2024-01-02 ${String(hour).padStart(2, "0")}:00:00`, "m", 1)])),
		);
		const statuses = (await Promise.all(sends)).map((r) => r.status);
		expect(statuses[9]).toBe(404); // Cloudthread's answer to a revoked data_stream_token
		expect(statuses.filter((s) => s === 201)).toHaveLength(23);
		expect(d1.batches()).toBeLessThan(23);
		const days = await readMetric(token, "m", "agg=Sum");
		expect(days.data.map((p) => [p.timestamp, p.metric_value, p.hours])).toEqual([
			["2024-01-01", "1", 1],
			["2024-01-02", "23", 23],
		]);
	});
});

describe("group commit in the cost connection object", () => {
	it("drops committed in one batch each number their own dimension sets: every set gets its own cost", async () => {
		const org = uniqueOrg("group-costs");
		const { token } = await createToken(org, ["write_costs", "read"]);
		const hour = "2025-05-01T00:00:00Z";
		await expectDrop(await drop(token, "grouped", { operation: "sum", data: [row(hour, 1, { "resource/id": "common" })] }));
		const d1 = await slowLedgerD1(connectionObject(env, org, "grouped"));
		// Each drop's first set is its own, so a set numbered 0 means a different set in every drop.
		const drops = Array.from({ length: 12 }, (_, i) => ({
			operation: "sum",
			data: [
				row(hour, i + 1, { "resource/id": `own-${i}` }),
				row(hour, 1000, { "resource/id": `own-${i}-b` }),
				row(hour, 1, { "resource/id": "common" }),
			],
		}));
		const results = await Promise.all(drops.map((body) => drop(token, "grouped", body)));
		expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
		expect(d1.batches()).toBeLessThan(12);
		const byResource = Object.fromEntries(
			(await costs(token, "dim[Connection]=grouped&group_by=Resource&limit=100")).map((c) => [c.group.Resource, c.cost]),
		);
		const expected: Record<string, string> = { common: "13" };
		for (let i = 0; i < 12; i++) Object.assign(expected, { [`own-${i}`]: String(i + 1), [`own-${i}-b`]: "1000" });
		expect(byResource).toEqual(expected);
		expect(await env.DB.prepare("SELECT count(*) AS n FROM cost_drop_dims").first("n")).toBe(0);
	});

	it("drops to a new connection planned in one group agree on its currency: the first one's (a refused commit fixes none)", async () => {
		const org = uniqueOrg("group-currency");
		const { token } = await createToken(org, ["write_costs", "read"]);
		const revoked = await createToken(org, ["write_costs", "read"]);
		const hour = "2025-06-01T00:00:00Z";
		await expectDrop(await drop(revoked.token, "warm", { data: [row(hour, 1)] })); // admitted from now on by this isolate's cache
		await env.DB.prepare("INSERT INTO token_revocations (token_id, revoked_at) VALUES (?, ?)")
			.bind(revoked.id, new Date().toISOString())
			.run();
		await slowLedgerD1(connectionObject(env, org, "fresh"));
		// The revoked token's drop occupies the first commit, which fails: the other three are planned
		// together while D1 has no connection yet.
		const results = await outcomes(
			await Promise.all([
				drop(revoked.token, "fresh", { currency: "GBP", data: [row(hour, 1)] }),
				drop(token, "fresh", { currency: "EUR", data: [row(hour, 2)] }),
				drop(token, "fresh", { currency: "USD", data: [row(hour, 4)] }),
				drop(token, "fresh", { operation: "sum", data: [row(hour, 8)] }),
			]),
		);
		// Whichever of the three is planned first fixes the currency (the one without currency: USD);
		// the EUR or the USD drop is then refused, and every accepted one is in that currency.
		expect(results[0].status).toBe(403);
		const accepted = results.slice(1).filter((r) => r.status === 200);
		expect(accepted).toHaveLength(2);
		expect(
			results
				.slice(1, 3)
				.filter((r) => r.status === 409)
				.map((r) => r.body.error.code),
		).toEqual(["currency_mismatch"]);
		const currency = accepted[0].body.currency;
		expect(accepted.map((r) => r.body.currency)).toEqual([currency, currency]);
		expect(accepted.filter((r) => r.body.connection_created)).toHaveLength(1);
		const cost = results.slice(1).reduce((n, r, i) => (r.status === 200 ? n + [2, 4, 8][i] : n), 0);
		expect(await costs(token, "dim[Connection]=fresh")).toEqual([{ period: "2025-06-01", group: {}, currency, cost: String(cost) }]);
	});
});
