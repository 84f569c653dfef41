import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER, setBookmark } from "../../http/read-session";
import { IDEMPOTENCY_KEY_REUSED } from "../../lib/api-error";
import { allocationStreamObject } from "../../objects/allocation-stream-protocol";
import { failureToError } from "../../objects/outcome";
import { IdempotencyHeadersSchema, StreamNameSchema } from "../../schemas/common";
import { parseOrThrow } from "../../schemas/validation";
import { DeleteStreamBodySchema, StreamDeletedSchema } from "../cloudzero/delete-stream";

const route = createRoute({
	method: "delete",
	operationId: "deleteAllocationStream",
	path: "/unit-cost/v1/telemetry/allocation/{name}",
	tags: ["CloudZero allocation telemetry"],
	summary: "Delete a whole allocation stream (soft)",
	description:
		'Hides the stream and its values; the name can then be used for a new allocation stream, with another granularity and other filter keys. A stream with values is refused unless the body is {"force": true}.',
	...streamTokenWithScope("delete_stream", "at_commit"),
	request: {
		params: z.object({ name: StreamNameSchema.openapi({ example: "my-allocation-stream" }) }),
		headers: IdempotencyHeadersSchema,
		// Documented here; parsed by the handler (an absent body means {"force": false}).
		body: { content: { "application/json": { schema: DeleteStreamBodySchema, example: { force: true } } }, required: false },
	},
	responses: {
		200: {
			description: "Stream deleted",
			headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
			content: { "application/json": { schema: StreamDeletedSchema } },
		},
		...errorResponses(400, 403, 404, 409, IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
	},
});

export function registerAllocationStreamDelete(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		const { name } = c.req.valid("param");
		c.set("logFields", { stream: name, operation: "delete_stream" });
		const body = await readJsonBody(c, 10_000, { optional: true });
		const { force } = parseOrThrow(DeleteStreamBodySchema, body.json === undefined ? {} : body.json);
		const token = c.get("token");
		const result = await allocationStreamObject(c.env, token.org, name).deleteStream({
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
