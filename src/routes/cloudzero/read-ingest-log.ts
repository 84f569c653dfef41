import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { streamNotFound } from "../../lib/api-error";
import { StreamParamsSchema } from "../../schemas/common";
import { type IngestLogEntry, IngestLogPageSchema, IngestLogQuerySchema } from "../../schemas/ingest-log";
import { readIngestLog } from "../../storage/ingest-log";
import { findLiveStream } from "../../storage/streams";

const route = createRoute({
	method: "get",
	operationId: "readMetricIngestLog",
	path: "/unit-cost/v1/telemetry/metric/{name}/log",
	tags: ["CloudZero telemetry"],
	summary: "A stream's ingest log",
	description: "One entry per accepted write request, newest first, written in the same transaction as the data.",
	...streamTokenWithScope("read"),
	request: {
		params: StreamParamsSchema,
		query: IngestLogQuerySchema,
		headers: BookmarkHeadersSchema,
	},
	responses: {
		200: {
			description: "Log entries, newest first",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: {
				"application/json": {
					schema: IngestLogPageSchema,
				},
			},
		},
		...errorResponses(400, 403, 404, 429),
	},
});

export function registerIngestLog(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { name } = c.req.valid("param");
		const { limit, cursor } = c.req.valid("query");
		const org = c.get("token").org;
		const rows = await readIngestLog(readSession(c), org, name, cursor ? Number(cursor) : Number.MAX_SAFE_INTEGER, limit + 1);
		// The log outlives a deleted stream; a name never written to is unknown.
		if (rows.length === 0 && !cursor && !(await findLiveStream(readSession(c), org, name))) {
			throw streamNotFound(name);
		}
		const page = rows.slice(0, limit);
		return c.json(
			{
				entries: page.map(({ id: _internal, ...entry }) => entry as IngestLogEntry),
				next_cursor: rows.length > limit ? String(page[page.length - 1].id) : null,
			},
			200,
		);
	});
}
