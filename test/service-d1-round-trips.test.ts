// A read costs at most two sequential D1 round trips, the token's revocation check included; the
// reads of values cost one: a batch holding the revocation check, the stream or metric lookup and
// the values query, filters applied in SQL. env.DB is wrapped to record each round trip's start and
// end (bench/worker/d1-interpose.ts, the wrapper the benchmark delays with); a round trip's depth
// is one more than the deepest that ended before it started.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { interposeD1 } from "../bench/worker/d1-interpose";
import { createApp } from "../src/app";
import { allocate } from "./allocation-helpers";
import { point, send } from "./cloudthread-helpers";
import { ADMIN, api, createToken, expectAccepted, uniqueOrg, write } from "./helpers";

const app = createApp();

/** Calls the app with env.DB wrapped; returns the response and the depth of its D1 round trips. */
async function withRoundTrips(path: string, headers: Record<string, string>) {
	let clock = 0;
	const trips: Array<{ kind: string; start: number; end: number }> = [];
	const DB = interposeD1(env.DB, async (kind, go) => {
		const trip = { kind, start: ++clock, end: Infinity };
		trips.push(trip);
		try {
			return await go();
		} finally {
			trip.end = ++clock;
		}
	});
	const ctx = createExecutionContext();
	const res = await app.fetch(new Request(`http://meterline.test${path}`, { headers }), { ...env, DB }, ctx);
	await waitOnExecutionContext(ctx);
	const body = await res.text();
	const depth = new Map<(typeof trips)[number], number>();
	for (const trip of trips) {
		const before = trips.filter((t) => t.end < trip.start).map((t) => depth.get(t)!);
		depth.set(trip, 1 + Math.max(0, ...before));
	}
	return { res, body, trips: trips.length, sequential: Math.max(0, ...depth.values()) };
}

const day = (d: number) => `2024-03-${String(d).padStart(2, "0")}`;
const records = [1, 2, 3].flatMap((d) =>
	["a", "b", "c"].map((client) => ({
		timestamp: day(d),
		value: String(d),
		associated_cost: { "custom:Client": client, "custom:Team": "t" },
	})),
);

describe("D1 round trips per read", () => {
	it("a CloudZero read: at most two in sequence, with or without filters, and for a missing stream", async () => {
		const org = uniqueOrg("rtt");
		const { token } = await createToken(org);
		await expectAccepted(await write(token, "costs", "sum", { records }));
		const auth = { Authorization: token };
		for (const query of [
			"",
			"?dim%5Bcustom%3AClient%5D=b",
			"?dim%5Bcustom%3AClient%5D=b&dim%5Bcustom%3AClient%5D=c&start_date=2024-03-02&format=csv",
			"?limit=2",
		]) {
			const r = await withRoundTrips(`/unit-cost/v1/telemetry/metric/costs${query}`, auth);
			expect(r.res.status, r.body).toBe(200);
			expect(r.sequential, `${query}: ${r.trips} round trips`).toBe(1);
		}
		const filtered = await withRoundTrips("/unit-cost/v1/telemetry/metric/costs?dim%5Bcustom%3AClient%5D=b", auth);
		expect(JSON.parse(filtered.body).records.map((r: { timestamp: string }) => r.timestamp)).toEqual([day(1), day(2), day(3)]);

		const missing = await withRoundTrips("/unit-cost/v1/telemetry/metric/nothing-here", auth);
		expect(missing.res.status).toBe(404);
		expect(missing.sequential).toBeLessThanOrEqual(2);
		// A 404 before a query's own 400, as before.
		const missingBadRange = await withRoundTrips(
			"/unit-cost/v1/telemetry/metric/nothing-here?start_date=2024-02-01&end_date=2024-01-01",
			auth,
		);
		expect(missingBadRange.res.status).toBe(404);
		expect(missingBadRange.sequential).toBeLessThanOrEqual(2);
		const unknownKey = await withRoundTrips("/unit-cost/v1/telemetry/metric/costs?dim%5Bcustom%3ANope%5D=x", auth);
		expect(unknownKey.res.status).toBe(400);
		expect(JSON.parse(unknownKey.body).error.code).toBe("unknown_filter_keys");
	});

	it("an allocation read: one, with or without filters; a missing stream at most two", async () => {
		const org = uniqueOrg("rtt-alloc");
		const { token } = await createToken(org);
		const allocation = records.map((r) => ({
			timestamp: r.timestamp,
			granularity: "DAILY",
			filter: { team: [r.associated_cost["custom:Team"]] },
			element_name: r.associated_cost["custom:Client"],
			value: r.value,
		}));
		await expectAccepted(await allocate(token, "usage", "sum", { records: allocation }));
		const auth = { Authorization: token };
		for (const query of ["", "?dim%5Bteam%5D=t", "?element=b&start_date=2024-03-02&format=csv", "?limit=2"]) {
			const r = await withRoundTrips(`/unit-cost/v1/telemetry/allocation/usage${query}`, auth);
			expect(r.res.status, r.body).toBe(200);
			expect(r.sequential, `${query}: ${r.trips} round trips`).toBe(1);
		}
		const missing = await withRoundTrips("/unit-cost/v1/telemetry/allocation/nothing-here?cursor=nonsense", auth);
		expect(missing.res.status).toBe(404);
		expect(missing.sequential).toBeLessThanOrEqual(2);
	});

	it("a Cloudthread read: at most two in sequence", async () => {
		const org = uniqueOrg("rtt-ct");
		const { token } = await createToken(org);
		await send(token, "Sum", [point("2024-03-01T05:00:00Z", "m", 1, { a: "x" }), point("2024-03-01T06:00:00Z", "m", 2, { a: "y" })]);
		const auth = { Authorization: token };
		for (const query of ["?agg=Sum", "?agg=Sum&granularity=hour", "?agg=Sum&dim%5Ba%5D=y", "?agg=Maximum"]) {
			const r = await withRoundTrips(`/streams/metrics/m${query}`, auth);
			expect(r.res.status, r.body).toBe(query === "?agg=Maximum" ? 404 : 200);
			expect(r.sequential, `${query}: ${r.trips} round trips`).toBe(1);
		}
		const filtered = await withRoundTrips("/streams/metrics/m?agg=Sum&granularity=hour&dim%5Ba%5D=y", auth);
		expect(JSON.parse(filtered.body).data.map((p: { metric_value: string }) => p.metric_value)).toEqual(["2"]);
	});

	it("cost and unit-cost reads: at most two in sequence (the token's check, then every read together)", async () => {
		const org = uniqueOrg("rtt-costs");
		const { token } = await createToken(org, ["read", "write", "write_costs"]);
		await expectAccepted(await write(token, "costs", "sum", { records }));
		const auth = { Authorization: token };
		for (const query of ["", "?group_by=Service&granularity=month", "?dim%5BService%5D=x&format=csv"]) {
			const r = await withRoundTrips(`/unit-cost/v1/costs${query}`, auth);
			expect(r.res.status, r.body).toBe(200);
			expect(r.sequential, `${query}: ${r.trips} round trips`).toBeLessThanOrEqual(2);
		}
		for (const query of ["", "?group_by=custom:Client&granularity=month", "?exclude%5BLineItemType%5D=Tax,Credit&dim%5BService%5D=x"]) {
			const unit = await withRoundTrips(`/unit-cost/v1/unit-cost/costs${query}`, auth);
			expect(unit.res.status, unit.body).toBe(200);
			expect(unit.sequential, `unit cost${query}: ${unit.trips} round trips`).toBeLessThanOrEqual(2);
		}
		// The checks after the reads answer as before: a missing stream before a bad range, then group_by.
		const missingBadRange = await withRoundTrips("/unit-cost/v1/unit-cost/nothing-here?start_date=2024-02-01&end_date=2024-01-01", auth);
		expect(missingBadRange.res.status, missingBadRange.body).toBe(404);
		expect((await withRoundTrips("/unit-cost/v1/unit-cost/costs?start_date=2024-02-01&end_date=2024-01-01", auth)).res.status).toBe(400);
		expect((await withRoundTrips("/unit-cost/v1/unit-cost/nothing-here", auth)).res.status).toBe(404);
		const badGroup = await withRoundTrips("/unit-cost/v1/unit-cost/costs?group_by=Service", auth);
		expect(JSON.parse(badGroup.body).error.code).toBe("unknown_filter_keys");
		// A filter on an undefined custom dimension is found in the same batch.
		const badFilter = await withRoundTrips("/unit-cost/v1/unit-cost/costs?exclude%5Bcustom%3ANope%5D=x", auth);
		expect(JSON.parse(badFilter.body).error.code).toBe("unknown_dimension");
		expect(badFilter.sequential).toBeLessThanOrEqual(2);
	});

	it("the revocation check is in the read's batch: a revoked token gets 403, before any 404 or 400", async () => {
		const org = uniqueOrg("rtt-rev");
		const { id, token } = await createToken(org);
		await expectAccepted(await write(token, "costs", "sum", { records }));
		await send(token, "Sum", [point("2024-03-01T05:00:00Z", "m", 1)]);
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBeLessThan(300);
		const auth = { Authorization: token };
		for (const path of [
			"/unit-cost/v1/telemetry/metric/costs",
			"/unit-cost/v1/telemetry/metric/costs?dim%5Bcustom%3AClient%5D=b",
			"/unit-cost/v1/telemetry/metric/nothing-here",
			"/unit-cost/v1/telemetry/metric/nothing-here?start_date=2024-02-01&end_date=2024-01-01",
			"/unit-cost/v1/telemetry/metric/costs?limit=0",
			"/unit-cost/v1/telemetry/metric/costs?dim%5Bcustom%3ANope%5D=x",
			"/unit-cost/v1/telemetry/metric/costs?cursor=nonsense",
			"/unit-cost/v1/telemetry/allocation/costs",
			"/unit-cost/v1/telemetry/allocation/costs?cursor=nonsense",
			"/streams/metrics/m?agg=Sum",
			"/streams/metrics/m?agg=Maximum",
			"/streams/metrics/m?agg=Sum&cursor=nonsense",
			"/streams/metrics/m?agg=Nope",
		]) {
			const r = await withRoundTrips(path, auth);
			expect(r.res.status, `${path}: ${r.body}`).toBe(403);
			expect(JSON.parse(r.body).error.code, path).toBe("not_authorized");
			expect(r.sequential, path).toBeLessThanOrEqual(2);
		}
	});
});
