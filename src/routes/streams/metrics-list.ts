import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { requireScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { ApiError, errorResponses } from "../../http/errors";
import { decodeCursor, encodeCursor } from "../../lib/values";
import { MetricListQuerySchema, MetricListSchema } from "../../schemas/cloudthread";
import { listMetrics } from "../../storage/metric-store";

const route = createRoute({
	method: "get",
	operationId: "listCustomMetrics",
	path: "/streams/metrics",
	tags: ["Cloudthread custom data"],
	summary: "List the organization's custom metrics",
	description: "One entry per (metric name, aggregation function), in that order.",
	security: [{ apiKey: [] }],
	middleware: [requireScope("read")] as const,
	request: { query: MetricListQuerySchema },
	responses: {
		200: { description: "Metrics in name order", content: { "application/json": { schema: MetricListSchema } } },
		...errorResponses(400, 403, 429),
	},
});

export function registerCustomMetricsList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { limit, cursor } = c.req.valid("query");
		c.set("logFields", { operation: "list_metrics" });
		let after: [string, string] | null = null;
		if (cursor !== undefined) {
			const decoded = decodeCursor(cursor);
			if (!Array.isArray(decoded) || decoded.length !== 2 || !decoded.every((part) => typeof part === "string")) {
				throw new ApiError(400, "invalid_cursor", "cursor is not one this service returned");
			}
			after = decoded as [string, string];
		}
		const rows = await listMetrics(c.env.DB, c.get("token").org, after, limit + 1);
		const page = rows.slice(0, limit);
		const last = page[page.length - 1];
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
				next_cursor: rows.length > limit ? encodeCursor([last.name, last.agg_func]) : null,
			},
			200,
		);
	});
}
