import type { OpenAPIHono } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import type { AppEnv } from "../../http/app-env";

export const OPENAPI_PATH = "/openapi.json";

type OpenAPIDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

const DESCRIPTION = `Meterline stores unit-cost metric telemetry: daily values per stream, optionally broken out by up to five dimensions.

The \`/unit-cost/v1/telemetry/metric\` endpoints are compatible with CloudZero's Unit Cost Metric Telemetry API, and \`/unit-cost/v1/telemetry/allocation\` (with the oldest \`POST /unit-cost/v1/telemetry\`) with its Allocation Telemetry API: usage per element (customer, team) within a filter of the cost, per hour, day or month, which the cost is later split by; \`/streams/ingest\` is compatible with Cloudthread's custom data ingestion (hourly points, Sum/Average/Maximum/Minimum daily rollups), read back with \`/streams/metrics\`.

Cost comes in as CloudZero AnyCost Stream billing drops (\`/v2/connections/billing/anycost/{connection_id}/billing_drops\`, Common Bill Format rows, scope \`write_costs\`), is read by dimension with \`/unit-cost/v1/costs\`, and is divided by a telemetry stream's values with \`/unit-cost/v1/unit-cost/{metric_name}\` (scope \`read\`).

**Authentication.** Stream endpoints take a stream token in the \`Authorization\` header, sent raw as CloudZero expects (\`Authorization: mlt_...\`); \`Bearer mlt_...\` is accepted too. \`/streams/ingest\` takes the same token in its body (\`data_stream_token\`), as Cloudthread clients send it. Tokens are created with the admin API, which takes \`Authorization: Bearer <ADMIN_TOKEN>\` (the token alone is accepted too).

**Limits.** A write request carries at most 10,000 records and 5,000,000 bytes (413 otherwise; a billing drop is bounded by its bytes only). Records are validated all together before anything is written: a 400 lists every problem with the record's index.

**Errors.** Every error has the same shape: \`{"error": {"code", "message", "request_id", "details"?}}\`. \`code\` is one of a closed set, listed with each code's status and meaning under the \`ErrorResponse\` schema; a problem with one record names its index (\`record\`) and field (\`path\`) in \`details\`. A rejected request changes nothing. A 503 means nothing was applied; retry it with exponential backoff.

**Values.** Stored as finite numbers rounded to 15 significant digits, and read back as plain decimal strings (never an exponent: 8e-7 reads "0.0000008"). Costs are exact decimals (10 places each), summed exactly. A value, or a day's sum, beyond 1.79769313486231e308 is refused (\`value_overflow\`), and so is a non-zero value too small to represent, such as 1e-400 (\`value_underflow\`), rather than stored as 0.

**Days.** CloudZero data is kept per UTC day: records sent hourly are aggregated to their day. \`sum\` adds each record; \`replace\` first sums the request's records of each day and dimension set, then stores that sum in place of the day's value.

**Filters.** Reads filter by dimension with \`dim[<dimension name>]=<value>\`, which addresses every dimension name.

**Safe retries.** Write endpoints take an \`Idempotency-Key\` header: the same key with the same body within 24 hours returns the first response (with \`Idempotent-Replayed: true\`) and applies nothing again; the same key with another body is refused with 409 \`idempotency_key_reused\`. Each stream token is rate limited: over the limit, 429 with \`Retry-After\` and \`RateLimit-*\` headers.`;

/** Serves the OpenAPI 3.1 document generated from the routes' zod schemas (built at the first request, so route order does not matter). */
export function registerOpenApi(app: OpenAPIHono<AppEnv>) {
	app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
		type: "apiKey",
		in: "header",
		name: "Authorization",
		description: "A stream token, sent raw as CloudZero expects (`Authorization: mlt_...`); a `Bearer ` prefix is accepted too.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "dataStreamToken", {
		type: "apiKey",
		in: "header",
		name: "data_stream_token",
		description:
			"Cloudthread's convention: a stream token with the `write` scope in the JSON body's `data_stream_token` field, **not** in a header (OpenAPI cannot place a credential in a body, so this scheme names the field). An `X-API-Key` header is accepted and ignored.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
		type: "http",
		scheme: "bearer",
		description:
			"The ADMIN_TOKEN secret of the deployment (`Authorization: Bearer <ADMIN_TOKEN>`); as for stream tokens, the token alone without `Bearer ` is accepted too.",
	});

	// Routes are all registered before the first request, so the document is built once per isolate.
	let document: OpenAPIDocument | undefined;
	const buildDocument = () =>
		app.getOpenAPI31Document({
			openapi: "3.1.0",
			info: {
				title: "Meterline",
				version,
				description: DESCRIPTION,
				license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
			},
			tags: [
				{ name: "CloudZero telemetry", description: "Send, replace, delete and read unit cost metric telemetry (CloudZero-compatible)" },
				{
					name: "CloudZero allocation telemetry",
					description:
						"Send, replace, delete and read allocation telemetry: usage per element, to split shared cost by (CloudZero-compatible)",
				},
				{
					name: "Cloudthread custom data",
					description: "Ingest hourly custom data points and read their daily rollups (Cloudthread-compatible)",
				},
				{
					name: "Cost",
					description:
						"Send cost as CloudZero AnyCost Stream billing drops (CBF), read it by dimension, and divide it by a metric: unit cost",
				},
				{ name: "Admin", description: "Stream tokens and custom cost dimensions, behind the deployment's ADMIN_TOKEN" },
			],
		});

	// Not listed in the document itself: it is no API operation.
	app.get(OPENAPI_PATH, (c) => {
		document ??= buildDocument();
		// The server is wherever this document was fetched from, so "try it" calls the same deployment.
		return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] }, 200);
	});
}
