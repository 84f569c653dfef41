// Listing streams reads each stream's summary (first_day, last_day, series_count; migration 0007),
// kept by the write statements: after any mix of sums, replaces and deletes, including requests
// split into several chunks, the summary equals what the live daily values say.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { listStreams } from "../src/storage/streams";
import { api, createToken, expectAccepted, uniqueOrg, write } from "./helpers";

interface Listed {
	name: string;
	first_day: string | null;
	last_day: string | null;
	series_count: number;
}

async function listed(token: string): Promise<Listed[]> {
	const res = await api("/unit-cost/v1/telemetry/metric?limit=1000", { headers: { Authorization: token } });
	expect(res.status).toBe(200);
	return (await res.json<{ streams: Listed[] }>()).streams.map(({ name, first_day, last_day, series_count }) => ({
		name,
		first_day,
		last_day,
		series_count,
	}));
}

/** The summaries computed from the live daily values (what listing answered before migration 0007). */
async function recomputed(org: string): Promise<Listed[]> {
	const { results } = await env.DB.prepare(
		`SELECT s.name,
			(SELECT MIN(day) FROM daily_values WHERE stream_id = s.id) AS first_day,
			(SELECT MAX(day) FROM daily_values WHERE stream_id = s.id) AS last_day,
			(SELECT COUNT(DISTINCT series_id) FROM daily_values WHERE stream_id = s.id) AS series_count
		FROM streams s WHERE s.org_id = ? AND s.deleted_at IS NULL ORDER BY s.name`,
	)
		.bind(org)
		.all<Listed>();
	return results;
}

const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const rec = (d: number, client: string, value = "1") => ({ timestamp: day(d), value, associated_cost: { "custom:Client": client } });

describe("listing streams: summaries kept by the writes", () => {
	it("match the live values after sums, replaces and deletes", async () => {
		const org = uniqueOrg("list");
		const { token } = await createToken(org);
		const check = async (when: string) => expect(await listed(token), when).toEqual(await recomputed(org));

		await expectAccepted(await write(token, "a", "sum", { records: [rec(5, "x"), rec(3, "y"), rec(5, "y")] }));
		await check("first sum");
		await expectAccepted(await write(token, "a", "replace", { records: [rec(1, "z", "0"), rec(9, "x")] }));
		await expectAccepted(await write(token, "b", "sum", { records: [rec(2, "x")] }));
		await check("replace, a second stream");
		// Deleting the first day's only value moves first_day; y keeps day 5.
		await expectAccepted(
			await write(token, "a", "delete", {
				records: [{ timestamp: day(1) }, { timestamp: day(3), associated_cost: { "custom:Client": "y" } }],
			}),
		);
		await check("deletes");
		expect((await listed(token))[0]).toEqual({ name: "a", first_day: day(5), last_day: day(9), series_count: 2 });
		// Every value of the stream deleted: no days, no series; then a series comes back.
		await expectAccepted(await write(token, "b", "delete", { records: [{ timestamp: day(2) }] }));
		expect((await listed(token))[1]).toEqual({ name: "b", first_day: null, last_day: null, series_count: 0 });
		await expectAccepted(await write(token, "b", "sum", { records: [rec(4, "x")] }));
		await check("a series back after its values were deleted");
	});

	it("match with requests split into several chunks (10,000 records)", async () => {
		const org = uniqueOrg("list-big");
		const { token } = await createToken(org);
		// 5,000 series with names of 90 characters: their keys take more than one chunk's budget.
		const records = Array.from({ length: 10_000 }, (_, i) => rec(i % 600, `c${i % 5000}`.padEnd(90, "x")));
		await expectAccepted(await write(token, "big", "sum", { records }), 10_000);
		await expectAccepted(
			await write(token, "big", "replace", {
				records: records.slice(0, 5000).map((r) => ({ ...r, associated_cost: { "custom:Client": "new" } })),
			}),
		);
		expect(await listed(token)).toEqual(await recomputed(org));
		expect((await listed(token))[0]).toMatchObject({ first_day: day(0), last_day: day(599), series_count: 5001 });
	});

	it("the listing query reads the streams table only", async () => {
		let sql = "";
		const capture = {
			prepare: (text: string) => {
				sql = text;
				return env.DB.prepare(text);
			},
			batch: env.DB.batch.bind(env.DB),
		};
		await listStreams(capture, "o", "", 10);
		const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind("o", "", 10).all<{ detail: string }>();
		expect(results.map((r) => r.detail).join("\n")).not.toMatch(/daily_values|series/);
	});
});
