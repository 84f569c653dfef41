import type { OpenAPIHono } from "@hono/zod-openapi";
import swaggerUiBundle from "../../../dist/swagger-ui-bundle.txt";
import swaggerUiCss from "../../../dist/swagger-ui-css.txt";
import type { AppEnv } from "../../http/app-env";
import { base64Url } from "../../lib/encoding";
import { OPENAPI_PATH } from "./openapi";

/**
 * Where the page's script and stylesheet are served from: this Worker, so the page needs no CDN.
 * They are Swagger UI's self-contained bundle and its CSS (node_modules/swagger-ui-dist, copied by
 * scripts/build.mjs), text modules of 1.7 MB and 0.2 MB (about 0.5 MB compressed). Not Workers
 * static assets: under `wrangler dev` those put an asset-router Worker in front of every API
 * request, which costs each one about 0.5 ms and a share of the runtime's garbage collection.
 */
export const DOCS_SCRIPT_PATH = "/docs/swagger-ui/swagger-ui-bundle.js";
export const DOCS_STYLESHEET_PATH = "/docs/swagger-ui/swagger-ui.css";
/** The API reference page: Swagger UI rendering the OpenAPI document, every asset served by this Worker. */
export const DOCS_PATH = "/docs";

/**
 * Swagger UI's settings (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/).
 * A small API: every tag open with its operations listed (summary and operationId), each expanding
 * on a click, with "Try it out" against this origin (the document's server). No validator badge:
 * it would send the document's URL to validator.swagger.io. The page's URL cannot choose another
 * document (queryConfigEnabled stays false).
 */
const SWAGGER_UI_CONFIG = {
	url: OPENAPI_PATH,
	dom_id: "#swagger-ui",
	docExpansion: "list",
	deepLinking: true,
	displayOperationId: true,
	validatorUrl: null,
	queryConfigEnabled: false,
};

/** JSON that can sit inside a <script> element: no "</script>", no "<!--". */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

/** The page; every tag that loads or runs something carries the response's nonce. */
function page(nonce: string): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Meterline API</title>
<link rel="stylesheet" href="${DOCS_STYLESHEET_PATH}" nonce="${nonce}">
<style nonce="${nonce}">body { margin: 0; background: #fafafa; }</style>
</head>
<body>
<noscript><p>This page needs JavaScript. The API's OpenAPI document is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="${DOCS_SCRIPT_PATH}" nonce="${nonce}"></script>
<script nonce="${nonce}">SwaggerUIBundle(${scriptJson(SWAGGER_UI_CONFIG)});</script>
</body>
</html>
`;
}

export function registerDocsPage(app: OpenAPIHono<AppEnv>) {
	// The documentation routes are not API operations: the document does not list them.
	// The script and stylesheet change only with a deployment.
	app.get(DOCS_SCRIPT_PATH, (c) =>
		c.body(swaggerUiBundle, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600" }),
	);
	app.get(DOCS_STYLESHEET_PATH, (c) =>
		c.body(swaggerUiCss, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600" }),
	);
	app.get(DOCS_PATH, (c) => {
		// A fresh nonce for each response, in the page's tags and in its Content-Security-Policy.
		const nonce = base64Url(crypto.getRandomValues(new Uint8Array(16)));
		c.header("Content-Security-Policy", docsContentSecurityPolicy(nonce));
		return c.html(page(nonce));
	});
}

/**
 * What the page needs, and no more (checked in Chromium by test-e2e/docs.browser.test.mjs):
 * - scripts: only its two script tags (Swagger UI's bundle from this Worker, the inline call that
 *   starts it), by a nonce fresh for each response; no eval (the bundle needs none);
 * - styles: only the page's stylesheet link and <style> element, by the same nonce. Swagger UI
 *   injects no <style> element and sets no style attribute (React sets its few inline styles
 *   through the CSSOM, which CSP does not restrict), so no 'unsafe-inline';
 * - the bundle fetches /openapi.json, and "Try it out" calls this same origin; the stylesheet's
 *   icons are data: images. No fonts, no frames, no form posts, no <base>.
 */
export function docsContentSecurityPolicy(nonce: string): string {
	return [
		"default-src 'none'",
		`script-src 'nonce-${nonce}'`,
		`style-src 'nonce-${nonce}'`,
		"connect-src 'self'",
		"img-src data:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	].join("; ");
}
