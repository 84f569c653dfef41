import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER, setBookmark } from "../../http/read-session";
import { IDEMPOTENCY_KEY_REUSED } from "../../lib/api-error";
import { streamObject } from "../../objects/cloudzero-stream-protocol";
import { failureToError } from "../../objects/outcome";
import { IdempotencyHeadersSchema, StreamParamsSchema } from "../../schemas/common";
import { parseOrThrow } from "../../schemas/validation";

export const DeleteStreamBodySchema = z
	.strictObject({ force: z.boolean().default(false).openapi({ description: "Delete even if the stream has data" }) })
	.openapi("DeleteStreamBody");

export const StreamDeletedSchema = z
	.object({ message: z.string(), stream: z.string(), deleted_at: z.string(), request_id: z.string() })
	.openapi("StreamDeleted");

const route = createRoute({
	method: "delete",
	operationId: "deleteMetricStream",
	path: "/unit-cost/v1/telemetry/{name}",
	tags: ["CloudZero telemetry"],
	summary: "Delete a whole stream (soft)",
	description:
		'Hides the stream and its data; the name can then be used for a new stream. A stream with data is refused unless the body is {"force": true}.',
	...streamTokenWithScope("delete_stream", "at_commit"),
	request: {
		params: StreamParamsSchema,
		headers: IdempotencyHeadersSchema,
		// Documented here; parsed by the handler (an absent body means {"force": false}).
		body: { content: { "application/json": { schema: DeleteStreamBodySchema, example: { force: true } } }, required: false },
	},
	responses: {
		200: {
			description: "Stream deleted",
			headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
			content: {
				"application/json": {
					schema: StreamDeletedSchema,
				},
			},
		},
		...errorResponses(400, 403, 404, 409, IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
	},
});

export function registerStreamDelete(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		const { name } = c.req.valid("param");
		c.set("logFields", { stream: name, operation: "delete_stream" });
		const body = await readJsonBody(c, 10_000, { optional: true });
		const { force } = parseOrThrow(DeleteStreamBodySchema, body.json === undefined ? {} : body.json);
		const token = c.get("token");
		const result = await streamObject(c.env, token.org, name).deleteStream({
			org: token.org,
			stream: name,
			force,
			requestId: c.get("requestId"),
			tokenId: token.id,
			idempotency: await idempotencyOf(c, "delete_stream", body.text),
		});
		if (!result.ok) throw failureToError(result, c.get("refuseToken"));
		markReplayed(c, result.replayed);
		setBookmark(c, result.bookmark);
		return c.json(result.response, 200);
	});
}
