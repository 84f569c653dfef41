import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import type { AppEnv } from "../../http/app-env";

export const OPENAPI_PATH = "/openapi.json";

type OpenAPIDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

const DESCRIPTION = `Meterline stores unit-cost metric telemetry: daily values per stream, optionally broken out by up to five dimensions.

The \`/unit-cost/v1/telemetry\` endpoints are compatible with CloudZero's Unit Cost Metric Telemetry API; \`/streams/ingest\` is compatible with Cloudthread's custom data ingestion (hourly points, Sum/Average/Maximum/Minimum daily rollups), read back with \`/streams/metrics\`.

**Authentication.** Stream endpoints take a stream token in the \`Authorization\` header, sent raw as CloudZero expects (\`Authorization: mlt_...\`); \`Bearer mlt_...\` is accepted too. \`/streams/ingest\` takes the same token in its body (\`data_stream_token\`), as Cloudthread clients send it. Tokens are created with the admin API, which takes \`Authorization: Bearer <ADMIN_TOKEN>\`.

**Limits.** A write request carries at most 10,000 records and 5,000,000 bytes (413 otherwise). Records are validated all together before anything is written: a 400 lists every problem with the record's index.

**Errors.** Every error has the same shape: \`{"error": {"code", "message", "request_id", "details"?}}\`. A 503 means nothing was applied; retry it with exponential backoff.

**Safe retries.** Write endpoints take an \`Idempotency-Key\` header: the same key with the same body within 24 hours returns the first response (with \`Idempotent-Replayed: true\`) and applies nothing again; the same key with another body is refused with 409 \`idempotency_key_reused\`. Each stream token is rate limited: over the limit, 429 with \`Retry-After\` and \`RateLimit-*\` headers.`;

// The document answers { openapi, info, paths, ... }; its full shape is the OpenAPI 3.1 schema itself.
const OpenApiDocumentSchema = z.looseObject({ openapi: z.string().openapi({ example: "3.1.0" }) }).openapi({ description: "OpenAPI 3.1 document" });

const route = createRoute({
	method: "get",
	path: OPENAPI_PATH,
	tags: ["Documentation"],
	summary: "This API's OpenAPI 3.1 document",
	responses: { 200: { description: "The OpenAPI document", content: { "application/json": { schema: OpenApiDocumentSchema } } } },
});

/** Serves the OpenAPI 3.1 document generated from the routes' zod schemas (built at the first request, so route order does not matter). */
export function registerOpenApi(app: OpenAPIHono<AppEnv>) {
	app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
		type: "apiKey",
		in: "header",
		name: "Authorization",
		description: "A stream token, sent raw as CloudZero expects (`Authorization: mlt_...`); a `Bearer ` prefix is accepted too.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
		type: "http",
		scheme: "bearer",
		description: "The ADMIN_TOKEN secret of the deployment (`Authorization: Bearer <ADMIN_TOKEN>`).",
	});

	// Routes are all registered before the first request, so the document is built once per isolate.
	let document: OpenAPIDocument | undefined;
	const buildDocument = () =>
		withoutRouteOnlyFields(app.getOpenAPI31Document({
			openapi: "3.1.0",
			info: { title: "Meterline", version, description: DESCRIPTION },
			tags: [
				{ name: "CloudZero telemetry", description: "Send, replace, delete and read unit cost metric telemetry (CloudZero-compatible)" },
				{ name: "Cloudthread custom data", description: "Ingest hourly custom data points and read their daily rollups (Cloudthread-compatible)" },
				{ name: "Admin", description: "Stream tokens, behind the deployment's ADMIN_TOKEN" },
				{ name: "Documentation", description: "This document and its rendering" },
			],
		}));

	app.openAPIRegistry.registerPath(route);
	app.get(route.path, (c) => {
		document ??= buildDocument();
		// The server is wherever this document was fetched from, so "try it" calls the same deployment.
		return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] }, 200);
	});
}

/**
 * Routes whose body the handler parses itself are documented with registerPath(route), which
 * copies the route's Hono-only `middleware` into the operation; OpenAPI allows no such field.
 */
function withoutRouteOnlyFields(document: OpenAPIDocument): OpenAPIDocument {
	for (const item of Object.values(document.paths ?? {})) {
		for (const operation of Object.values(item)) {
			if (operation && typeof operation === "object" && "middleware" in operation) delete operation.middleware;
		}
	}
	return document;
}
