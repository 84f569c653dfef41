import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { ALLOCATION_GRANULARITIES } from "../../schemas/allocation";
import { listAllocationStreams } from "../../storage/allocation-streams";

const StreamInfoSchema = z
	.object({
		name: z.string().openapi({ example: "my-allocation-stream" }),
		granularity: z.enum(ALLOCATION_GRANULARITIES).openapi({ description: "Fixed by the stream's first write" }),
		filter_keys: z
			.array(z.string())
			.openapi({ description: "Fixed by the stream's first write", example: ["custom:feature", "tag:environment"] }),
		first_timestamp: z
			.string()
			.nullable()
			.openapi({ description: "Earliest period with a live value, as reads show it", example: "2024-01-01" }),
		last_timestamp: z.string().nullable().openapi({ example: "2024-01-25" }),
		element_count: z.number().int().openapi({ description: "Elements with at least one live value" }),
		created_at: z.string(),
	})
	.openapi("AllocationStreamInfo");

const route = createRoute({
	method: "get",
	operationId: "listAllocationStreams",
	path: "/unit-cost/v1/telemetry/allocation",
	tags: ["CloudZero allocation telemetry"],
	summary: "List the organization's allocation streams",
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
			description: "Allocation streams in name order",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: {
				"application/json": {
					schema: z.object({ streams: z.array(StreamInfoSchema), next_cursor: z.string().nullable() }).openapi("AllocationStreamList"),
				},
			},
		},
		...errorResponses(400, 403, 429),
	},
});

export function registerAllocationList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const rows = await listAllocationStreams(readSession(c), c.get("token").org, cursor ?? "", limit + 1);
		const page = rows.slice(0, limit);
		return c.json(
			{
				streams: page.map((s) => ({
					name: s.name,
					granularity: s.granularity,
					filter_keys: s.filter_keys,
					first_timestamp: s.first_period,
					last_timestamp: s.last_period,
					element_count: s.element_count,
					created_at: s.created_at,
				})),
				next_cursor: rows.length > limit ? page[page.length - 1].name : null,
			},
			200,
		);
	});
}
