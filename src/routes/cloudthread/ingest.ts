import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authorizeToken } from "../../auth/middleware";
import { refuseBlockedClient } from "../../auth/rate-limit";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { enforceRecordLimit, maxBodyBytes, readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER, setBookmark } from "../../http/read-session";
import { ApiError, IDEMPOTENCY_KEY_REUSED, type NamedError, namedError } from "../../lib/api-error";
import { metricObject, metricStreamName } from "../../objects/cloudthread-metrics-protocol";
import { failureToError } from "../../objects/outcome";
import { type IngestBody, IngestBodySchema, type IngestCreated, IngestCreatedSchema, recordId } from "../../schemas/cloudthread";
import { INGEST_BODY_EXAMPLES } from "../../schemas/cloudthread-examples";
import { canonicalDimensions, IdempotencyHeadersSchema } from "../../schemas/common";
import { parseOrThrow } from "../../schemas/validation";
import type { IngestWrite } from "../../storage/custom-metrics";

const OPERATION = "ingest";

/** Cloudthread answers a token that matches no data stream with 404 "no stream found". */
const UNKNOWN_DATA_STREAM_TOKEN = {
	status: 404 as const,
	code: "no_stream_found",
	message: "No stream found: the data_stream_token is unknown or has been revoked",
	description: "The data_stream_token is unknown or revoked (Cloudthread's answer)",
} satisfies NamedError;

const route = createRoute({
	method: "post",
	operationId: "ingestCustomData",
	path: "/streams/ingest",
	security: [{ dataStreamToken: [] }],
	tags: ["Cloudthread custom data"],
	summary: "Ingest custom data points (Cloudthread-compatible)",
	description: [
		"Authenticated by `data_stream_token` in the body: a Meterline token with the `write` scope, whose organization receives the data. An `X-API-Key` header is accepted and ignored.",
		"Timestamps are hourly. Each point's record ID is a hash of metric name, aggregation function and custom dimensions; sending the same record ID and hour again replaces the value, and within one request the last one wins.",
		"The request is validated completely before anything is written: one invalid point rejects the whole request, listing every problem. A valid request is applied as one transaction, whatever metrics it names.",
		"With an `Idempotency-Key`, a repeat of the same body within 24 hours returns the first response (header `Idempotent-Replayed: true`) and applies nothing; the same key with a different body is refused with 409. Keys are scoped to the organization and metric (name and aggregation function).",
	].join("\n\n"),
	request: {
		headers: IdempotencyHeadersSchema,
		// Documented here; parsed by the handler, which enforces the size limits and authenticates first.
		body: { content: { "application/json": { schema: IngestBodySchema, examples: INGEST_BODY_EXAMPLES } }, required: true },
	},
	responses: {
		201: {
			description: "Data ingested",
			headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
			content: { "application/json": { schema: IngestCreatedSchema } },
		},
		...errorResponses(400, 403, UNKNOWN_DATA_STREAM_TOKEN, IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
	},
});

export function registerCloudthreadIngest(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		c.set("logFields", { operation: OPERATION });
		// An address over its failed-authentication budget is refused before its body is read.
		refuseBlockedClient(c);
		const raw = await readJsonBody(c, maxBodyBytes(c.env));
		const token = await authorizeBodyToken(c, raw.json);

		enforceRecordLimit(c.env, (raw.json as { data?: unknown }).data, "data points");
		const body = parseOrThrow(IngestBodySchema, raw.json, "data");
		const { write, recordIds } = await planIngest(token.org, body);
		const names = write.metrics.map(([name]) => name);
		c.set("logFields", {
			// Several metrics in one request are logged as the function's wildcard.
			stream: names.length === 1 ? metricStreamName(body.metric_agg_func, names[0]) : metricStreamName(body.metric_agg_func, "*"),
			operation: OPERATION,
			records: body.data.length,
		});
		const response: IngestCreated = {
			message: "Data ingested",
			metric_agg_func: body.metric_agg_func,
			record_ids: recordIds,
			counts: {
				data_points: body.data.length,
				hourly_points_written: write.points.length,
				record_ids: write.records.length,
				metrics: write.metrics.length,
				daily_values_recomputed: new Set(write.points.map(([, id, hour]) => `${id} ${hour.slice(0, 10)}`)).size,
			},
			request_id: c.get("requestId"),
		};
		const result = await metricObject(c.env, token.org, body.metric_agg_func).ingest({
			...write,
			requestId: c.get("requestId"),
			tokenId: token.id,
			idempotency: await idempotencyOf(c, OPERATION, raw.text),
			response,
		});
		if (!result.ok) throw failureToError(result, c.get("refuseToken"));
		markReplayed(c, result.replayed);
		setBookmark(c, result.bookmark);
		return c.json(result.response, 201);
	});
}

/**
 * The body's data_stream_token authenticates and selects the organization, before the body is
 * validated, so an unauthenticated caller learns nothing about its payload. Then the request
 * counts against the token's rate limit, as with tokens sent in Authorization.
 *
 * X-API-Key is never read. Cloudthread's API defines it as the account's API key and its
 * clients send it alongside the body token, usually with a different value: refusing a
 * mismatch would break them, and falling back to it when the body has no token would let a
 * credential meant for something else authenticate a write. So it is accepted and ignored.
 */
function authorizeBodyToken(c: Context<AppEnv>, body: unknown) {
	const token = typeof body === "object" && body !== null ? (body as { data_stream_token?: unknown }).data_stream_token : undefined;
	if (typeof token !== "string" || token === "") {
		const [code, problem] =
			token === undefined ? (["missing_field", "is required"] as const) : (["invalid_type", "must be a non-empty string"] as const);
		throw new ApiError(400, code, `Invalid Schema: data_stream_token ${problem}`, [
			{ code, message: `data_stream_token ${problem}`, path: "data_stream_token" },
		]);
	}
	return authorizeToken(c, token, "write", "at_commit", () => namedError(UNKNOWN_DATA_STREAM_TOKEN));
}

/**
 * Groups validated points by metric, computes record IDs and keeps the last of repeated
 * (record, hour) points, as a later request would replace an earlier one.
 */
async function planIngest(org: string, body: IngestBody): Promise<{ write: IngestWrite; recordIds: string[] }> {
	type Metric = { firstHour: string; lastHour: string; dataPoints: number; keys: Set<string> };
	const metrics = new Map<string, Metric>();
	const records = new Map<string, [string, string, string]>();
	const points = new Map<string, [string, string, string, number, number]>();
	const idsByIdentity = new Map<string, string>();
	const recordIds: string[] = [];
	for (const [dataPoint, point] of body.data.entries()) {
		const name = point.metric_name;
		const dimensions = canonicalDimensions(point.custom_dimensions);
		const identity = JSON.stringify([name, dimensions]);
		let id = idsByIdentity.get(identity);
		if (id === undefined) {
			id = await recordId(name, body.metric_agg_func, dimensions);
			idsByIdentity.set(identity, id);
		}
		recordIds.push(id);

		const metric = metrics.get(name) ?? { firstHour: point.timestamp, lastHour: point.timestamp, dataPoints: 0, keys: new Set<string>() };
		metrics.set(name, metric);
		metric.dataPoints++;
		if (point.timestamp < metric.firstHour) metric.firstHour = point.timestamp;
		if (point.timestamp > metric.lastHour) metric.lastHour = point.timestamp;
		for (const key of Object.keys(point.custom_dimensions ?? {})) metric.keys.add(key);
		records.set(id, [name, id, dimensions]);
		// Record IDs hash the metric name, so (record, hour) identifies a point across metrics.
		points.set(`${id} ${point.timestamp}`, [name, id, point.timestamp, point.metric_value, dataPoint]);
	}
	return {
		write: {
			org,
			aggFunc: body.metric_agg_func,
			metrics: [...metrics].map(([name, m]) => [name, m.firstHour, m.lastHour, m.dataPoints]),
			dimensionKeys: [...metrics].flatMap(([name, m]) => [...m.keys].sort().map((key): [string, string] => [name, key])),
			records: [...records.values()],
			points: [...points.values()],
		},
		recordIds,
	};
}
