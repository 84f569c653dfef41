import type { Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { TrieRouter } from "hono/router/trie-router";
import { ApiError } from "../lib/api-error";
import type { AppEnv } from "./app-env";
import { errorResponse } from "./errors";

/** Path prefixes whose every answer concerns an authenticated caller (stream tokens, the admin token; /v2: billing drops). */
const AUTHENTICATED_PREFIXES = ["/unit-cost/", "/streams/", "/admin/", "/v2/"];

function setIfAbsent(c: Context<AppEnv>, name: string, value: string) {
	if (!c.res.headers.has(name)) c.header(name, value);
}

/**
 * Headers every response carries, errors, 404 and 405 included:
 * - X-Content-Type-Options: nosniff, so a browser never runs a JSON or text answer as something else;
 * - Cache-Control: no-store on the authenticated API: no shared or browser cache keeps a tenant's data
 *   or an answer about a token (errors included, since they differ by token).
 * Set before the handler (Hono adds them to the responses c.json/c.body build) and checked after,
 * for responses built another way.
 */
export const edgeHeaders = createMiddleware<AppEnv>(async (c, next) => {
	const noStore = AUTHENTICATED_PREFIXES.some((prefix) => c.req.path.startsWith(prefix));
	c.header("X-Content-Type-Options", "nosniff");
	if (noStore) c.header("Cache-Control", "no-store");
	await next();
	setIfAbsent(c, "X-Content-Type-Options", "nosniff");
	if (noStore) setIfAbsent(c, "Cache-Control", "no-store");
});

// Listed in this order in Allow.
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * The methods each path supports, read from the app's own routes (app.routes) with Hono's own path
 * matching, so a route added later is covered without a table to maintain. Built at the first
 * unmatched request, when every route is registered. HEAD is supported wherever GET is (Hono
 * answers HEAD with the GET handler); OPTIONS everywhere a route exists (answered here).
 */
function allowedMethodsOf(app: Hono<AppEnv>): (path: string) => string[] {
	let router: TrieRouter<string> | undefined;
	return (path) => {
		if (!router) {
			router = new TrieRouter<string>();
			// Middleware added with app.use is registered for "ALL" methods: it is no route.
			for (const route of app.routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method.toUpperCase());
		}
		const methods = new Set(router.match("GET", path)[0].map(([method]) => method));
		if (methods.size === 0) return [];
		if (methods.has("GET")) methods.add("HEAD");
		methods.add("OPTIONS");
		return METHOD_ORDER.filter((m) => methods.has(m)).concat([...methods].filter((m) => !METHOD_ORDER.includes(m)).sort());
	};
}

/**
 * The app's answer when no route matched the method and path: 404 not_found for a path no route
 * has, 405 method_not_allowed with Allow for a path that exists for other methods, and for OPTIONS
 * on an existing path 204 with Allow (no CORS: the API is called by servers and the CLI, and /docs
 * calls its own origin).
 */
export function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
	const allowedMethods = allowedMethodsOf(app);
	return (c: Context<AppEnv>) => {
		const allowed = allowedMethods(c.req.path);
		if (allowed.length === 0) return errorResponse(c, new ApiError(404, "not_found", `No endpoint ${c.req.method} ${c.req.path}`));
		const allow = allowed.join(", ");
		if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
		return errorResponse(
			c,
			new ApiError(405, "method_not_allowed", `${c.req.method} is not supported on ${c.req.path}; allowed: ${allow}`, [], { Allow: allow }),
		);
	};
}
