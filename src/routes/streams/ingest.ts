import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate, type TokenIdentity } from "../../auth/tokens";
import type { AppEnv } from "../../http/app-env";
import { ApiError, errorResponses, type ErrorDetail } from "../../http/errors";
import { maxBodyBytes, readJsonBody } from "../../http/json-body";
import {
	canonicalDimensions,
	IngestBodySchema,
	IngestCreatedSchema,
	recordId,
	type IngestBody,
	type IngestCreated,
} from "../../schemas/cloudthread";
import { parseOrThrow } from "../../schemas/validation";
import type { MetricWrite } from "../../storage/metric-store";
import { metricObject } from "../../stream/metric-protocol";

/**
 * Distinct metric names one request may touch: each is one call to that metric's Durable
 * Object, and a Worker on the Free plan may make only 50 subrequests per request.
 */
export const MAX_METRICS_PER_REQUEST = 40;

const route = createRoute({
	method: "post",
	path: "/streams/ingest",
	tags: ["Cloudthread custom data"],
	summary: "Ingest custom data points (Cloudthread-compatible)",
	description: [
		"Authenticated by `data_stream_token` in the body: a Meterline token with the `write` scope, whose organization receives the data. An `X-API-Key` header is accepted and ignored.",
		"Timestamps are hourly. Each point's record ID is a hash of metric name, aggregation function and custom dimensions; sending the same record ID and hour again replaces the value, and within one request the last one wins.",
		"The request is validated completely before anything is written: one invalid point rejects the whole request, listing every problem.",
		`Each metric's points are written in one transaction by that metric's Durable Object. A request naming several metrics (at most ${MAX_METRICS_PER_REQUEST}) writes them in parallel; if storage fails for some, the answer is 503 \`partially_applied\` naming which metrics were written, and retrying the whole request is safe because every write is a replace.`,
	].join("\n\n"),
	request: {
		// Documented here; parsed by the handler, which enforces the size limits and authenticates first.
		body: { content: { "application/json": { schema: IngestBodySchema } }, required: true },
	},
	responses: {
		201: { description: "Data ingested", content: { "application/json": { schema: IngestCreatedSchema } } },
		...errorResponses(400, 403, 413, 415, 503),
	},
});

export function registerCloudthreadIngest(app: OpenAPIHono<AppEnv>) {
	const { body: _documentedOnly, ...request } = route.request;
	app.openAPIRegistry.registerPath(route);
	app.openapi({ ...route, request, hide: true }, async (c) => {
		const raw = await readJsonBody(c, maxBodyBytes(c.env));
		const identity = await authenticateBodyToken(c, raw);

		const maxRecords = Number(c.env.MAX_RECORDS_PER_REQUEST) || 10_000;
		const data = (raw as { data?: unknown }).data;
		if (Array.isArray(data) && data.length > maxRecords) {
			throw new ApiError(413, "too_many_records", `A request may carry at most ${maxRecords} data points; this one has ${data.length}. Split it into several requests.`);
		}
		const body = parseOrThrow(IngestBodySchema, raw, "data");
		const plan = await planIngest(identity.org, body);
		if (plan.writes.length > MAX_METRICS_PER_REQUEST) {
			throw new ApiError(413, "too_many_metrics", `A request may name at most ${MAX_METRICS_PER_REQUEST} metrics; this one names ${plan.writes.length}. Split it into several requests.`);
		}
		await applyWrites(c, plan.writes);

		const created: IngestCreated = {
			message: "Data ingested",
			metric_agg_func: body.metric_agg_func,
			record_ids: plan.recordIds,
			counts: {
				data_points: body.data.length,
				hourly_points_written: plan.writes.reduce((n, w) => n + w.points.length, 0),
				record_ids: plan.writes.reduce((n, w) => n + w.records.length, 0),
				metrics: plan.writes.length,
				daily_values_recomputed: plan.dailyValues,
			},
			request_id: c.get("requestId"),
		};
		return c.json(created, 201);
	});
}

/**
 * The body's data_stream_token authenticates and selects the organization, before the body is
 * validated, so an unauthenticated caller learns nothing about its payload.
 *
 * X-API-Key is never read. Cloudthread's API defines it as the account's API key and its
 * clients send it alongside the body token, usually with a different value: refusing a
 * mismatch would break them, and falling back to it when the body has no token would let a
 * credential meant for something else authenticate a write. So it is accepted and ignored.
 */
async function authenticateBodyToken(c: Context<AppEnv>, body: unknown): Promise<TokenIdentity> {
	const token = typeof body === "object" && body !== null ? (body as { data_stream_token?: unknown }).data_stream_token : undefined;
	const identity = typeof token === "string" && token !== "" ? await authenticate(c.env.TOKENS, c.env.DB, token) : null;
	if (!identity) throw new ApiError(403, "not_authorized", "Not authorized: data_stream_token is missing, unknown or revoked");
	if (!identity.scopes.includes("write")) {
		throw new ApiError(403, "insufficient_scope", "This data_stream_token does not have the 'write' scope");
	}
	return identity;
}

interface IngestPlan {
	/** One write per metric name, in order of first appearance. */
	writes: MetricWrite[];
	/** Each data point's record ID, in request order. */
	recordIds: string[];
	dailyValues: number;
}

/** Groups validated points by metric, computes record IDs and keeps the last of repeated (record, hour) points. */
async function planIngest(org: string, body: IngestBody): Promise<IngestPlan> {
	type Draft = { records: Map<string, string>; points: Map<string, [string, string, number]>; keys: Set<string> };
	const drafts = new Map<string, Draft>();
	const idsByIdentity = new Map<string, string>();
	const recordIds: string[] = [];
	for (const point of body.data) {
		const dimensions = canonicalDimensions(point.custom_dimensions);
		const identity = JSON.stringify([point.metric_name, dimensions]);
		let id = idsByIdentity.get(identity);
		if (id === undefined) {
			id = await recordId(point.metric_name, body.metric_agg_func, dimensions);
			idsByIdentity.set(identity, id);
		}
		recordIds.push(id);

		let draft = drafts.get(point.metric_name);
		if (!draft) {
			draft = { records: new Map(), points: new Map(), keys: new Set() };
			drafts.set(point.metric_name, draft);
		}
		draft.records.set(id, dimensions);
		for (const key of Object.keys(point.custom_dimensions ?? {})) draft.keys.add(key);
		// A later point for the same record and hour replaces an earlier one, as a later request would.
		draft.points.set(`${id} ${point.timestamp}`, [id, point.timestamp, point.metric_value]);
	}

	let dailyValues = 0;
	const writes = [...drafts].map(([metricName, draft]): MetricWrite => {
		const points = [...draft.points.values()];
		dailyValues += new Set(points.map(([id, hour]) => `${id} ${hour.slice(0, 10)}`)).size;
		return {
			org,
			metricName,
			aggFunc: body.metric_agg_func,
			records: [...draft.records],
			points,
			dimensionKeys: [...draft.keys].sort(),
		};
	});
	return { writes, recordIds, dailyValues };
}

/**
 * Has each metric's Durable Object apply its part. Each part is one D1 transaction; parts of
 * different metrics are separate transactions, so a storage failure can leave some applied.
 * Then the client is told which, and that retrying the whole request is safe (replaces only).
 */
async function applyWrites(c: Context<AppEnv>, writes: MetricWrite[]): Promise<void> {
	const requestId = c.get("requestId");
	const outcomes = await Promise.allSettled(
		writes.map((w) => metricObject(c.env, w.org, w.aggFunc, w.metricName).apply({ ...w, requestId })),
	);
	const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ write: writes[i], error: outcome.reason as unknown }] : []));
	if (failures.length === 0) return;
	// No part confirmed: answer as for any storage failure (the app's error handler).
	if (failures.length === writes.length) throw failures[0].error;

	for (const { write, error } of failures) {
		console.error(JSON.stringify({ level: "error", request_id: requestId, metric: write.metricName, error: String(error) }));
	}
	const failed = new Set(failures.map((f) => f.write));
	const details: ErrorDetail[] = writes.map((w) =>
		failed.has(w)
			? { code: "metric_not_applied", message: `metric '${w.metricName}': storage failed; its points may not have been written` }
			: { code: "metric_applied", message: `metric '${w.metricName}': ${w.points.length} hourly points written` },
	);
	throw new ApiError(
		503,
		"partially_applied",
		`Storage failed for ${failures.length} of ${writes.length} metrics; the others were written. Every write replaces values, so retrying the whole request is safe.`,
		details,
		{ "Retry-After": "1" },
	);
}
