import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import scalarBundle from "../../../dist/scalar-standalone.txt";
import type { AppEnv } from "../../http/app-env";
import { OPENAPI_PATH } from "./openapi";

/**
 * Where the page's script is served from: this Worker, so the page needs no CDN. It is Scalar's
 * standalone bundle (node_modules/@scalar/api-reference, copied by scripts/build.mjs), a 4 MB
 * text module (1.3 MB compressed, within the Worker size limit). Not Workers static assets:
 * under `wrangler dev` those put an asset-router Worker in front of every API request, which
 * costs each one about 0.5 ms and a share of the runtime's garbage collection.
 */
export const SCALAR_BUNDLE_PATH = "/docs/scalar/standalone.js";
/** The API reference page: Scalar rendering the OpenAPI document, every asset served by this Worker. */
export const DOCS_PATH = "/docs";

export function registerDocsPage(app: OpenAPIHono<AppEnv>) {
	// The documentation routes are not API operations: the document does not list them.
	app.get(SCALAR_BUNDLE_PATH, (c) =>
		c.body(scalarBundle, 200, {
			"Content-Type": "text/javascript; charset=utf-8",
			// The bundle changes only with a deployment.
			"Cache-Control": "public, max-age=3600",
		}),
	);
	app.get(
		DOCS_PATH,
		Scalar({
			url: OPENAPI_PATH,
			cdn: SCALAR_BUNDLE_PATH,
			pageTitle: "Meterline API",
			// A small API: every tag open, so every endpoint is visible without clicking.
			defaultOpenAllTags: true,
			// No link to Scalar's hosted MCP generator.
			mcp: { disabled: true },
			// Offline: no web fonts from Scalar's font CDN, no telemetry, no hosted AI agent.
			withDefaultFonts: false,
			telemetry: false,
			agent: { disabled: true },
		}),
	);
}
