import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import scalarBundle from "../../../dist/scalar-standalone.txt";
import type { AppEnv } from "../../http/app-env";
import { base64Url } from "../../lib/encoding";
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

/**
 * The bundle, preceded by the equivalent of zod's `z.config({ jitless: true })` for the copy of zod
 * inside it (zod 4 keeps that configuration in globalThis.__zod_globalConfig, shared by every copy):
 * otherwise zod probes for eval with `Function("")`, which the page's CSP refuses (harmlessly, but
 * the browser reports it as a violation).
 */
const SCRIPT = `(globalThis.__zod_globalConfig ??= {}).jitless = true;\n${scalarBundle}`;

export function registerDocsPage(app: OpenAPIHono<AppEnv>) {
	// The documentation routes are not API operations: the document does not list them.
	app.get(SCALAR_BUNDLE_PATH, (c) =>
		c.body(SCRIPT, 200, {
			"Content-Type": "text/javascript; charset=utf-8",
			// The bundle changes only with a deployment.
			"Cache-Control": "public, max-age=3600",
		}),
	);
	app.get(
		DOCS_PATH,
		// A fresh nonce for each response, in the page's tags and in its Content-Security-Policy.
		Scalar<AppEnv>((c) => {
			const nonce = base64Url(crypto.getRandomValues(new Uint8Array(16)));
			c.header("Content-Security-Policy", docsContentSecurityPolicy(nonce));
			return { ...PAGE, nonce };
		}),
	);
}

/**
 * What the page needs, and no more (checked in Chromium by test-e2e/docs.browser.test.mjs):
 * - scripts: only its two script tags (Scalar's bundle from this Worker, the inline call that starts
 *   it), by a nonce fresh for each response; no eval (see SCRIPT);
 * - styles: inline ones. Scalar's bundle injects several <style> elements without the nonce (its
 *   CSS, its toasts, its theme) and sets style attributes, so a nonce would break the page; styles
 *   run no script, and nothing loads from anywhere else;
 * - the bundle fetches /openapi.json, and "try it" calls this same origin; Scalar's icons include
 *   data: images. No fonts (withDefaultFonts: false), no frames, no form posts, no <base>.
 */
export function docsContentSecurityPolicy(nonce: string): string {
	return [
		"default-src 'none'",
		`script-src 'nonce-${nonce}'`,
		"style-src 'unsafe-inline'",
		"connect-src 'self'",
		"img-src 'self' data:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	].join("; ");
}

/** The page: Scalar's HTML around the bundle served above, offline. */
const PAGE = {
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
} as const;
