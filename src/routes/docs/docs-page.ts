import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "../../http/app-env";
import { OPENAPI_PATH } from "./openapi";

/**
 * Where the Scalar bundle is served from: a static asset of this Worker (wrangler.toml [assets],
 * copied from node_modules/@scalar/api-reference by scripts/build.mjs), so the page needs no CDN.
 * Not in the Worker script itself: the 4 MB bundle would count against the script size limit.
 */
export const SCALAR_BUNDLE_PATH = "/docs/scalar/standalone.js";

const route = createRoute({
	method: "get",
	path: "/docs",
	tags: ["Documentation"],
	summary: "API reference page",
	description: "Renders the OpenAPI document with Scalar; every asset it needs is served by this Worker.",
	responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
});

export function registerDocsPage(app: OpenAPIHono<AppEnv>) {
	app.openAPIRegistry.registerPath(route);
	app.get(
		route.path,
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
