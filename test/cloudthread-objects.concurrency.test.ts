// Concurrent ingests to the same metrics, each replacing the same hours, with clients retrying
// at the same time under their Idempotency-Key. The organization's object for the function
// must apply them one at a time: without its queue, a retry's key look-up runs while the first
// attempt awaits D1, both miss, and the second write fails on the ingest log's unique key.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type IngestCreated, ingest, ingestBody, point, readMetric } from "./cloudthread-helpers";
import { createToken, uniqueOrg } from "./helpers";

const WRITERS = 8;
const HOURS = ["2022-10-01 00:00:00", "2022-10-01 01:00:00", "2022-10-01 02:00:00"];
const DIMS = { team: "core" };

/** Writer i's value for hour h of metric m: distinct per writer, and not monotonic in i. */
const writerValue = (writer: number, hour: number, metric: number) => ((writer * 7 + hour * 3 + metric * 5) % 11) + writer / 100;

describe("concurrent ingests with replacements to the same metrics", () => {
	it("end in the state of a serial order (the ingest log's), each applied exactly once, retries replayed", async () => {
		const org = uniqueOrg("ct-conc");
		const { token } = await createToken(org);
		for (let round = 0; round < 4; round++) {
			const metrics = [`conc-${round}-a`, `conc-${round}-b`];
			const bodies = Array.from({ length: WRITERS }, (_, w) =>
				ingestBody(
					token,
					"Maximum",
					metrics.flatMap((name, m) => HOURS.map((ts, h) => point(ts, name, writerValue(w, h, m), DIMS))),
				),
			);
			// Every request is sent twice at once with the same key: a client retrying a timed-out call.
			const sends = bodies.flatMap((body, w) => {
				const headers = { "Idempotency-Key": `round-${round}-writer-${w}` };
				return [ingest(body, headers), ingest(body, headers)];
			});
			const responses = await Promise.all(sends);
			const outcomes = await Promise.all(
				responses.map(async (r) => ({ status: r.status, replayed: r.headers.get("Idempotent-Replayed") === "true", body: await r.text() })),
			);
			expect(
				outcomes.map((o) => `${o.status} ${o.status === 201 ? "" : o.body}`),
				`round ${round}`,
			).toEqual(Array(2 * WRITERS).fill("201 "));
			for (let w = 0; w < WRITERS; w++) {
				const [a, b] = [outcomes[2 * w], outcomes[2 * w + 1]];
				// Exactly one of the two attempts applied; the other got its recorded response.
				expect([a.replayed, b.replayed].sort(), `round ${round} writer ${w}`).toEqual([false, true]);
				expect(JSON.parse(a.body) as IngestCreated).toEqual(JSON.parse(b.body) as IngestCreated);
			}

			// The serial order: the ingest log, written in each request's own transaction.
			const { results: log } = await env.DB.prepare(
				"SELECT idempotency_key, stream FROM ingest_log WHERE org_id = ? AND stream IN (?, ?) ORDER BY id",
			)
				.bind(org, `cloudthread:Maximum:${metrics[0]}`, `cloudthread:Maximum:${metrics[1]}`)
				.all<{ idempotency_key: string; stream: string }>();
			expect(log).toHaveLength(2 * WRITERS);
			const order = log.filter((_, i) => i % 2 === 0).map((row) => Number(row.idempotency_key.split("-").pop()));
			// A request's two metrics are logged together: no other request's row between them.
			for (const [i, row] of log.entries()) expect(row.idempotency_key).toBe(log[i - (i % 2)].idempotency_key);
			expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: WRITERS }, (_, w) => w));

			// Applying the requests one at a time in that order leaves the last one's values in every hour
			// of both metrics, and each day's Maximum over exactly those.
			const last = order[order.length - 1];
			for (const [m, name] of metrics.entries()) {
				const expectedHours = HOURS.map((_, h) => writerValue(last, h, m));
				const hourly = await readMetric(token, name, "agg=Maximum&granularity=hour");
				expect(
					hourly.data.map((p) => Number(p.metric_value)),
					`round ${round} ${name}`,
				).toEqual(expectedHours);
				const daily = await readMetric(token, name, "agg=Maximum");
				expect(daily.data.map((p) => [Number(p.metric_value), p.hours])).toEqual([[Math.max(...expectedHours), HOURS.length]]);
			}
		}
	});
});
