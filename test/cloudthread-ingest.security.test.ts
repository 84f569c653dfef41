// Who may ingest and read Cloudthread metrics: the body's data_stream_token decides the
// organization; tenants never see or change each other's metrics.
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectCreated, ingest, ingestBody, listMetrics, point, readMetric, readMetricRaw, send } from "./cloudthread-helpers";
import { ADMIN, api, createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";

const data = [point("2022-10-01 00:00:00", "secure", 1, { team: "a" })];

async function refused(body: unknown, code: string, headers: Record<string, string> = {}, status = 403) {
	const before = await storageSnapshot();
	const error = await expectError(await ingest(body, headers), status, code);
	expect(await storageSnapshot()).toBe(before);
	return error;
}

afterEach(() => vi.restoreAllMocks());

describe("data_stream_token", () => {
	it("missing → 400, empty or not a string → 400, unknown → 404 no stream found (as Cloudthread); nothing else is validated or written", async () => {
		const { metric_agg_func, data: points } = ingestBody("", "Sum", data);
		const missing = await refused({ metric_agg_func, data: points }, "missing_field", {}, 400);
		expect(missing.details).toEqual([expect.objectContaining({ path: "data_stream_token" })]);
		await refused(ingestBody("", "Sum", data), "invalid_type", {}, 400);
		await refused({ data_stream_token: 42, metric_agg_func, data: points }, "invalid_type", {}, 400);
		const error = await refused(ingestBody("mlt_not-a-real-token", "Sum", data), "no_stream_found", {}, 404);
		expect(error.message).toMatch(/data_stream_token/);
		// An unauthenticated caller learns nothing about its payload's validity.
		const unknown = await refused(ingestBody("mlt_unknown", "Median", [point("bad", "", "x")]), "no_stream_found", {}, 404);
		expect(unknown.details ?? []).toEqual([]);
	});

	it("a token sent only in Authorization or X-API-Key does not authenticate the body", async () => {
		const { token } = await createToken(uniqueOrg("ct-sec"));
		const { metric_agg_func, data: points } = ingestBody(token, "Sum", data);
		await refused({ metric_agg_func, data: points }, "missing_field", { Authorization: token, "X-API-Key": token }, 400);
	});

	it("X-API-Key is accepted and ignored: a different value does not refuse a valid body token", async () => {
		const { token } = await createToken(uniqueOrg("ct-sec"));
		await expectCreated(await ingest(ingestBody(token, "Sum", data), { "X-API-Key": "cloudthread-account-api-key" }));
	});

	it("needs the write scope; reading needs the read scope", async () => {
		const org = uniqueOrg("ct-sec");
		const reader = await createToken(org, ["read"]);
		const writer = await createToken(org, ["write"]);
		expect((await refused(ingestBody(reader.token, "Sum", data), "insufficient_scope")).message).toMatch(/'write'/);
		await send(writer.token, "Sum", data);
		await expectError(await readMetricRaw(writer.token, "secure", "agg=Sum"), 403, "insufficient_scope");
		await expectError(await api("/streams/metrics", { headers: { Authorization: writer.token } }), 403, "insufficient_scope");
		expect((await readMetric(reader.token, "secure", "agg=Sum")).data).toHaveLength(1);
	});

	it("a revoked token is refused at once, replays included", async () => {
		const { id, token } = await createToken(uniqueOrg("ct-sec"));
		const key = { "Idempotency-Key": "ct-before-revocation" };
		await expectCreated(await ingest(ingestBody(token, "Sum", data), key));
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		await refused(ingestBody(token, "Sum", data), "no_stream_found", {}, 404);
		await refused(ingestBody(token, "Sum", data), "no_stream_found", key, 404);
	});

	it("reads without a token → 403", async () => {
		await expectError(await api("/streams/metrics"), 403, "not_authorized");
		await expectError(await api("/streams/metrics/secure?agg=Sum"), 403, "not_authorized");
	});
});

describe("tenants", () => {
	it("mixed tenants writing the same metric, function and dimensions stay isolated", async () => {
		const a = await createToken(uniqueOrg("ct-tenant-a"));
		const b = await createToken(uniqueOrg("ct-tenant-b"));
		const day = "2022-10-01";
		// Interleaved and concurrent, same metric name, function, dimensions and hours.
		await Promise.all([
			send(a.token, "Maximum", [
				point(`${day} 00:00:00`, "shared", 10, { team: "x" }),
				point(`${day} 01:00:00`, "shared", 30, { team: "x" }),
			]),
			send(b.token, "Maximum", [point(`${day} 00:00:00`, "shared", 1000, { team: "x" })]),
			send(a.token, "Sum", [point(`${day} 00:00:00`, "only-a", 1)]),
		]);
		expect((await readMetric(a.token, "shared", "agg=Maximum")).data.map((p) => [p.metric_value, p.hours])).toEqual([["30", 2]]);
		expect((await readMetric(b.token, "shared", "agg=Maximum")).data.map((p) => [p.metric_value, p.hours])).toEqual([["1000", 1]]);

		// b replacing its hour does not touch a's.
		await send(b.token, "Maximum", [point(`${day} 01:00:00`, "shared", 2, { team: "x" })]);
		expect((await readMetric(a.token, "shared", "agg=Maximum&granularity=hour")).data.map((p) => p.metric_value)).toEqual(["10", "30"]);

		expect((await listMetrics(a.token)).metrics.map((m) => `${m.metric_name}/${m.metric_agg_func}`)).toEqual([
			"only-a/Sum",
			"shared/Maximum",
		]);
		expect((await listMetrics(b.token)).metrics.map((m) => `${m.metric_name}/${m.metric_agg_func}`)).toEqual(["shared/Maximum"]);
		await expectError(await readMetricRaw(b.token, "only-a", "agg=Sum"), 404, "metric_not_found");
	});

	it("an Idempotency-Key of one organization means nothing to another", async () => {
		const a = await createToken(uniqueOrg("ct-tenant-a"));
		const b = await createToken(uniqueOrg("ct-tenant-b"));
		const headers = { "Idempotency-Key": "same-key-everywhere" };
		const first = await expectCreated(await ingest(ingestBody(a.token, "Sum", data), headers));
		const other = await ingest(ingestBody(b.token, "Sum", [point("2022-10-01 00:00:00", "secure", 7, { team: "a" })]), headers);
		const created = await expectCreated(other);
		expect(other.headers.get("Idempotent-Replayed")).toBeNull();
		expect(created.request_id).not.toBe(first.request_id);
		expect((await readMetric(b.token, "secure", "agg=Sum")).data[0].metric_value).toBe("7");
		expect((await readMetric(a.token, "secure", "agg=Sum")).data[0].metric_value).toBe("1");
	});
});

describe("rate limits and request logs apply to the Cloudthread endpoints", () => {
	it("ingest and reads count against the token's rate limit (RateLimit-* headers)", async () => {
		const { token } = await createToken(uniqueOrg("ct-sec"));
		const res = await ingest(ingestBody(token, "Sum", data));
		await expectCreated(res);
		expect(res.headers.get("RateLimit-Policy")).toMatch(/^\d+;w=\d+$/);
		expect((await readMetricRaw(token, "secure", "agg=Sum")).headers.get("RateLimit-Policy")).toMatch(/^\d+;w=\d+$/);
		expect((await api("/streams/metrics", { headers: { Authorization: token } })).headers.get("RateLimit-Policy")).toMatch(/^\d+;w=\d+$/);
	});

	it("one JSON log line per ingest with organization, token, metric, operation, record count and status", async () => {
		const org = uniqueOrg("ct-sec");
		const { id, token } = await createToken(org);
		const log = vi.spyOn(console, "info");
		const res = await ingest(ingestBody(token, "Average", [...data, point("2022-10-01 01:00:00", "secure", 3)]), {
			"X-Request-Id": "ct-log-check-1",
		});
		await expectCreated(res);
		const lines = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"request_id":"ct-log-check-1"'));
		expect(lines).toHaveLength(1);
		expect(JSON.parse(lines[0])).toMatchObject({
			level: "info",
			request_id: "ct-log-check-1",
			method: "POST",
			path: "/streams/ingest",
			org,
			token_id: id,
			stream: "cloudthread:Average:secure",
			operation: "ingest",
			records: 2,
			status: 201,
		});
	});
});
