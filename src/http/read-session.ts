// Reads go through D1's Sessions API, so that read replicas may answer them when the database
// has read replication on (otherwise every query goes to the primary, as before). A write
// answers the bookmark of its commit in X-D1-Bookmark; a read that sends it back is answered by
// a replica at least that recent, so it sees the write. Without one, the read's session starts
// "first-unconstrained": any replica, then each later query of the request at least as recent.
import type { Context } from "hono";
import { ApiError } from "../lib/api-error";
import { z } from "../schemas/zod";
import type { AppEnv } from "./app-env";

export const BOOKMARK_HEADER = "X-D1-Bookmark";

/** What D1 bookmarks look like (hex groups separated by '-'); anything else is refused before it reaches D1. */
export const BOOKMARK = /^[0-9a-f]{1,64}(-[0-9a-f]{1,64}){0,7}$/;

/** The OpenAPI description of the header on a read (request) and on a write (response). */
export const BOOKMARK_REQUEST_HEADER_SCHEMA = {
	description:
		"The X-D1-Bookmark a write answered: the read is then served by a copy of the database that has that write (read-your-writes across read replicas). Optional; without it a read may be answered by any replica.",
	pattern: BOOKMARK.source,
	example: "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683",
};

/** The request headers of every read route (documents the header; readSession reads and checks it). */
export const BookmarkHeadersSchema = z.object({ "x-d1-bookmark": z.string().optional().openapi(BOOKMARK_REQUEST_HEADER_SCHEMA) });

export const BOOKMARK_RESPONSE_HEADER = {
	[BOOKMARK_HEADER]: {
		description:
			"D1's session bookmark after this request's queries (for a write: its commit). Send it as X-D1-Bookmark on a later read to be served data at least that recent.",
		schema: { type: "string" as const },
	},
};

/** This request's D1 session for reading (one per request, so its queries are sequentially consistent). */
export function readSession(c: Context<AppEnv>): D1DatabaseSession {
	let session = c.get("readSession") as D1DatabaseSession | undefined;
	if (!session) {
		const bookmark = c.req.header(BOOKMARK_HEADER);
		if (bookmark !== undefined && !BOOKMARK.test(bookmark)) {
			throw new ApiError(400, "invalid_bookmark", `${BOOKMARK_HEADER} is not a bookmark this service returned`);
		}
		session = c.env.DB.withSession(bookmark ?? "first-unconstrained");
		c.set("readSession", session);
	}
	return session;
}

/** Puts a bookmark (a write's, or the read session's latest) on the response. */
export function setBookmark(c: Context<AppEnv>, bookmark: string | null | undefined): void {
	if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
}
