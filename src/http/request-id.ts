import { requestId as honoRequestId } from "hono/request-id";

// A caller-chosen id is echoed so a request can be traced end to end, but only if it is short and
// plain: it goes into logs and headers. Hono's middleware takes ids of word characters, '-' and '='
// up to limitLength; ids with '.' or ':' (common in trace ids) reach the generator, which accepts them too.
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:=-]{1,128}$/;

/** Sets c.get("requestId") and the X-Request-Id response header. */
export const requestId = honoRequestId({
	limitLength: 128,
	generator: (c) => {
		const sent = c.req.header("x-request-id");
		return sent !== undefined && ACCEPTED_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
	},
});
