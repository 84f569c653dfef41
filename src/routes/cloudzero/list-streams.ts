import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { listStreams } from "../../storage/streams";

const StreamInfoSchema = z
	.object({
		name: z.string().openapi({ example: "my-metric-stream" }),
		dimension_keys: z.array(z.string()).openapi({ example: ["custom:Client", "custom:Product"] }),
		first_day: z.string().nullable().openapi({ description: "Earliest day with a live value", example: "2023-11-01" }),
		last_day: z.string().nullable().openapi({ example: "2023-12-07" }),
		series_count: z.number().int().openapi({ description: "Dimension sets with at least one live value" }),
		created_at: z.string(),
	})
	.openapi("StreamInfo");

const route = createRoute({
	method: "get",
	operationId: "listMetricStreams",
	path: "/unit-cost/v1/telemetry/metric",
	tags: ["CloudZero telemetry"],
	summary: "List the organization's streams",
	...streamTokenWithScope("read"),
	request: {
		query: z.object({
			limit: z.coerce.number().int().min(1).max(1000).default(100),
			cursor: z.string().max(300).optional().openapi({ description: "next_cursor of the previous page" }),
		}),
		headers: BookmarkHeadersSchema,
	},
	responses: {
		200: {
			description: "Streams in name order",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: {
				"application/json": {
					schema: z.object({ streams: z.array(StreamInfoSchema), next_cursor: z.string().nullable() }).openapi("StreamList"),
				},
			},
		},
		...errorResponses(400, 403, 429),
	},
});

export function registerMetricList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const rows = await listStreams(readSession(c), c.get("token").org, cursor ?? "", limit + 1);
		const page = rows.slice(0, limit);
		return c.json(
			{
				streams: page.map(({ id: _internal, ...s }) => s),
				next_cursor: rows.length > limit ? page[page.length - 1].name : null,
			},
			200,
		);
	});
}
