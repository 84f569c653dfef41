import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";
import { BOOKMARK_HEADER, readSession } from "../http/read-session";
import { ApiError, type NamedError, NOT_AUTHORIZED_MESSAGE, namedError } from "../lib/api-error";
import type { Scope, TokenIdentity } from "../schemas/tokens";
import { isTokenRevoked, revocationQuery } from "../storage/revocations";
import { enforceRateLimit, refuseAuthentication, refuseBlockedClient, uncountedRefusal } from "./rate-limit";
import { authenticate, hashToken, type RevocationCheck, secretsEqual } from "./tokens";

/** CloudZero sends the raw key in Authorization; many clients add "Bearer ": accept both. */
export function presentedToken(header: string | undefined): string | null {
	if (!header) return null;
	const token = header.replace(/^Bearer\s+/i, "").trim();
	return token === "" ? null : token;
}

const unknownApiKey = () => new ApiError(403, "not_authorized", NOT_AUTHORIZED_MESSAGE);

/**
 * Admits a request made with a stream token that has the scope: sets it as the request's
 * token (for handlers and the request log) and counts the request against its rate limit.
 * unknownToken: the error for a token that is unknown or revoked, kept as refuseToken for a
 * revocation found when a write commits. A missing, unknown or revoked token counts as a failed
 * authentication of the client's address; an address over that budget gets 429 before any lookup.
 */
export async function authorizeToken(
	c: Context<AppEnv>,
	token: string | null,
	scope: Scope,
	revocation: RevocationCheck,
	unknownToken: () => ApiError = unknownApiKey,
): Promise<TokenIdentity> {
	refuseBlockedClient(c);
	// Checked now: in the request's read session (reads), so a replica near the client may answer.
	const identity = token ? await authenticate(c.env.TOKENS, revocation === "now" ? readSession(c) : c.env.DB, token, revocation) : null;
	if (!identity) return refuseAuthentication(c, unknownToken());
	if (!identity.scopes.includes(scope)) {
		throw new ApiError(403, "insufficient_scope", `This API key does not have the '${scope}' scope`);
	}
	c.set("token", identity);
	// A revocation found later (reads: counted where found; writes: at commit, counted by the app's
	// error handler) is a failed authentication too.
	c.set("refuseToken", () => uncountedRefusal(unknownToken()));
	c.set("revocationUnchecked", revocation === "at_commit");
	if (revocation === "in_read") c.set("pendingRevocation", await hashToken(token!));
	await enforceRateLimit(c, identity.id);
	return identity;
}

/**
 * What a route taking a stream token in Authorization declares: the OpenAPI security requirement,
 * naming the scope (OpenAPI 3.1 lets an apiKey requirement list the roles it needs), and the
 * middleware that enforces it. One call, so the document and the check cannot disagree.
 */
export function streamTokenWithScope(scope: Scope, revocation: RevocationCheck = "now") {
	return { security: [{ apiKey: [scope] }], middleware: requireScope(scope, revocation) };
}

/**
 * Authenticates the stream token in the Authorization header and requires one of its scopes.
 * Routes that write through a stream's Durable Object pass "at_commit" (see RevocationCheck).
 */
export function requireScope(scope: Scope, revocation: RevocationCheck = "now") {
	return createMiddleware<AppEnv>(async (c, next) => {
		await authorizeToken(c, presentedToken(c.req.header("authorization")), scope, revocation);
		await next();
		// "in_read": a handler that ended before its batch (a 400, a 404 found without it) has not
		// checked the revocation yet; a revoked token gets its 403 instead of that answer.
		const pending = c.get("pendingRevocation");
		if (pending !== undefined) {
			c.set("pendingRevocation", undefined);
			if (await isTokenRevoked(readSession(c), pending)) await refuseAuthentication(c, c.get("refuseToken")());
		}
		// A read answers the bookmark its session reached, to send back on the next read.
		const bookmark = c.get("readSession")?.getBookmark();
		if (bookmark && !c.res.headers.has(BOOKMARK_HEADER)) c.res.headers.set(BOOKMARK_HEADER, bookmark);
	});
}

/**
 * A route with revocation "in_read" puts `statement` first in its D1 batch and passes its result
 * to `check` before answering: a revoked token is then refused as the middleware would have.
 */
export function revocationInRead(c: Context<AppEnv>, db: Pick<D1Database, "prepare">) {
	const hash = c.get("pendingRevocation");
	if (hash === undefined) throw new Error("revocationInRead: the route's token was not admitted with revocation 'in_read'");
	return {
		statement: revocationQuery(db, hash),
		async check(result: D1Result): Promise<void> {
			c.set("pendingRevocation", undefined);
			if (result.results.length > 0) await refuseAuthentication(c, c.get("refuseToken")());
		},
	};
}

export const ADMIN_DISABLED = {
	status: 503 as const,
	code: "admin_disabled",
	message: "The admin API is disabled: set the ADMIN_TOKEN secret",
	description: "The deployment has no ADMIN_TOKEN secret",
} satisfies NamedError;
export const ADMIN_FORBIDDEN = {
	status: 403 as const,
	code: "not_authorized",
	message: "Not authorized: the admin API needs the deployment's ADMIN_TOKEN in Authorization: 'Bearer <ADMIN_TOKEN>', or the token alone",
	description: "Missing or wrong admin token",
} satisfies NamedError;

/**
 * The admin API is guarded by the ADMIN_TOKEN secret, sent as a bearer token or, as stream tokens
 * may be, alone (presentedToken): the documents say both. A missing or wrong
 * one counts as a failed authentication of the client's address, as for stream tokens.
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
	refuseBlockedClient(c);
	const token = presentedToken(c.req.header("authorization"));
	const expected = c.env.ADMIN_TOKEN;
	if (!expected) throw namedError(ADMIN_DISABLED);
	if (!token || !(await secretsEqual(token, expected))) await refuseAuthentication(c, namedError(ADMIN_FORBIDDEN));
	await next();
});

/** What an admin route declares: the OpenAPI security requirement and the middleware enforcing it. */
export const ADMIN_TOKEN_REQUIRED = { security: [{ adminToken: [] }], middleware: requireAdmin };
