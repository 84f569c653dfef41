import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf } from "../../http/idempotency";
import { enforceRecordLimit, maxBodyBytes, readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER } from "../../http/read-session";
import { IDEMPOTENCY_KEY_REUSED } from "../../lib/api-error";
import { AllocationAcceptedSchema, LegacyTelemetryBodySchema } from "../../schemas/allocation";
import { LEGACY_TELEMETRY_EXAMPLES } from "../../schemas/allocation-examples";
import { IdempotencyHeadersSchema } from "../../schemas/common";
import { sendAllocationWrite, valuesCommand } from "./write-records";

const route = createRoute({
	method: "post",
	operationId: "postTelemetry",
	path: "/unit-cost/v1/telemetry",
	tags: ["CloudZero allocation telemetry"],
	summary: "Sum allocation records, each naming its stream (oldest path)",
	description:
		"CloudZero's first telemetry endpoint, deprecated there and kept for its clients: a sum, as `POST …/allocation/{stream}/sum`, to the stream each record names in `telemetry-stream`. All records of a request name the same stream (400 `telemetry_stream_mismatch` otherwise): a request is one transaction on one stream, applied whole or not at all. Send each stream's records in a request of its own.",
	deprecated: true,
	...streamTokenWithScope("write", "at_commit"),
	request: {
		headers: IdempotencyHeadersSchema,
		body: { content: { "application/json": { schema: LegacyTelemetryBodySchema, examples: LEGACY_TELEMETRY_EXAMPLES } }, required: true },
	},
	responses: {
		200: {
			description: "Telemetry accepted (durably written), or the first response again for a repeated Idempotency-Key",
			headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
			content: { "application/json": { schema: AllocationAcceptedSchema } },
		},
		...errorResponses(400, 403, IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
	},
});

export function registerLegacyTelemetry(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		c.set("logFields", { operation: "sum" });
		const body = await readJsonBody(c, maxBodyBytes(c.env));
		enforceRecordLimit(c.env, (body.json as { records?: unknown } | null)?.records, "records");
		const command = valuesCommand("sum", body.json, null);
		c.set("logFields", { stream: command.stream, operation: "sum", records: command.recordCount });
		return c.json(await sendAllocationWrite(c, command, await idempotencyOf(c, "sum", body.text)), 200);
	});
}
