import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { cursorPosition, isTuple, pageOf } from "../../http/reads";
import { MetricListQuerySchema, MetricListSchema } from "../../schemas/cloudthread";
import { listMetrics } from "../../storage/custom-metrics";

const route = createRoute({
	method: "get",
	operationId: "listCustomMetrics",
	path: "/streams/metrics",
	tags: ["Cloudthread custom data"],
	summary: "List the organization's custom metrics",
	description: "One entry per (metric name, aggregation function), in that order.",
	...streamTokenWithScope("read"),
	request: { query: MetricListQuerySchema, headers: BookmarkHeadersSchema },
	responses: {
		200: {
			description: "Metrics in name order",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: { "application/json": { schema: MetricListSchema } },
		},
		...errorResponses(400, 403, 429),
	},
});

export function registerCustomMetricsList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { limit, cursor } = c.req.valid("query");
		c.set("logFields", { operation: "list_metrics" });
		const after = cursorPosition(cursor, isTuple<[string, string]>("string", "string"));
		const rows = await listMetrics(readSession(c), c.get("token").org, after, limit + 1);
		const { page, nextCursor } = pageOf(rows, limit, (last) => [last.name, last.agg_func]);
		return c.json(
			{
				metrics: page.map((m) => ({
					metric_name: m.name,
					metric_agg_func: m.agg_func,
					dimension_keys: m.dimension_keys,
					first_hour: m.first_hour,
					last_hour: m.last_hour,
					record_count: m.record_count,
					created_at: m.created_at,
				})),
				next_cursor: nextCursor,
			},
			200,
		);
	});
}
