import type { OpenAPIHono } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import type { AppEnv } from "../../http/app-env";
import { DOCS_PATH } from "./docs-page";
import { OPENAPI_PATH } from "./openapi";

export const INDEX_PATH = "/";

/** The API's main paths, as the OpenAPI document spells them (a test checks each is one of its paths). */
export const MAIN_PATHS = {
	cloudzero_telemetry: "/unit-cost/v1/telemetry/metric/{name}/sum",
	cloudzero_streams: "/unit-cost/v1/telemetry/metric",
	cloudzero_allocation: "/unit-cost/v1/telemetry/allocation/{name}/sum",
	cloudzero_allocation_streams: "/unit-cost/v1/telemetry/allocation",
	cloudthread_ingest: "/streams/ingest",
	cloudthread_metrics: "/streams/metrics",
	billing_drops: "/v2/connections/billing/anycost/{connection_id}/billing_drops",
	costs: "/unit-cost/v1/costs",
	unit_cost: "/unit-cost/v1/unit-cost/{metric_name}",
	admin_tokens: "/admin/v1/tokens",
} as const;

/**
 * GET /: a short JSON index, so a first request to the service's root finds where to go: the
 * service and its version, the reference (/docs, /openapi.json) and the API's main paths. JSON
 * rather than a redirect to /docs, so curl shows it too. Like /docs and /openapi.json, it is no
 * API operation and is not in the OpenAPI document.
 */
export function registerServiceIndex(app: OpenAPIHono<AppEnv>) {
	app.get(INDEX_PATH, (c) => {
		const origin = new URL(c.req.url).origin;
		return c.json(
			{
				service: "Meterline",
				version,
				description: "Unit-cost metric telemetry, compatible with the CloudZero and Cloudthread ingestion APIs",
				docs: `${origin}${DOCS_PATH}`,
				openapi: `${origin}${OPENAPI_PATH}`,
				paths: MAIN_PATHS,
			},
			200,
		);
	});
}
