import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";

// A caller-chosen id is echoed so it can be traced end to end, but only if it is short
// and plain: it goes into logs and headers.
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
	const sent = c.req.header("x-request-id");
	const id = sent && ACCEPTED_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
	c.set("requestId", id);
	c.header("X-Request-Id", id);
	await next();
});
