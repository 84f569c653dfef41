import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";

/**
 * One structured JSON line per request, for Workers Logs / `wrangler tail`, written at the
 * line's level: console.info, or console.error for a 5xx.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
	const started = performance.now();
	await next();
	const token = c.get("token");
	const fields = c.get("logFields");
	const level = c.res.status >= 500 ? "error" : "info";
	console[level](
		JSON.stringify({
			level,
			request_id: c.get("requestId"),
			method: c.req.method,
			path: c.req.path,
			org: token?.org ?? null,
			token_id: token?.id ?? null,
			stream: fields?.stream ?? null,
			operation: fields?.operation ?? null,
			records: fields?.records ?? null,
			rows_read: fields?.rowsRead ?? null,
			status: c.res.status,
			duration_ms: Math.round(performance.now() - started),
		}),
	);
});
