import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../lib/api-error";
import { configOf, RATE_LIMITS } from "../schemas/config";

/*
 * Both limits use the platform's rate limiting binding (wrangler.toml [[ratelimits]]). What
 * Cloudflare documents about it (developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit):
 * `limit` calls per `period` of 10 or 60 seconds, counted per key and per Cloudflare location;
 * counters are cached on the machine running the Worker and synchronized in the background, so it
 * is "permissive, eventually consistent" and not an accounting system. limit() answers only
 * { success }: nothing about the count or when the window ends, and where a window starts is not
 * documented. The local simulation (miniflare's RateLimiterObject, which `wrangler dev` and the
 * tests run) counts in fixed windows aligned to the clock: window = floor(now / period).
 *
 * So Retry-After and RateLimit-Reset give the time left in the current clock-aligned window,
 * rounded up to whole seconds (the headers carry whole seconds; a client that waits that long finds
 * the window over): exact for clock-aligned windows, and never more than one period. A count kept
 * by this isolate from when it first saw the key would not do: other isolates and machines of the
 * location may have started the window earlier, so that end would claim more than remains.
 */

/** Milliseconds from `now` to the end of its clock-aligned window of `periodSeconds`. */
export function msLeftInWindow(periodSeconds: number, now: number): number {
	const periodMs = periodSeconds * 1000;
	return periodMs - (now % periodMs);
}

/** The whole seconds Retry-After and RateLimit-Reset state for `ms` left in the window (at least 1). */
export function retryAfterSeconds(ms: number): number {
	return Math.max(1, Math.ceil(ms / 1000));
}

function rateLimited(message: string, limit: number, periodSeconds: number, msLeft: number): ApiError {
	const seconds = String(retryAfterSeconds(msLeft));
	return new ApiError(429, "rate_limited", message, [], {
		"Retry-After": seconds,
		"RateLimit-Policy": `${limit};w=${periodSeconds}`,
		"RateLimit-Limit": String(limit),
		"RateLimit-Remaining": "0",
		"RateLimit-Reset": seconds,
	});
}

/**
 * Counts a request against its token's budget with the platform's rate limiter (per
 * Cloudflare location, approximate). Over the limit: 429 with Retry-After and RateLimit-*.
 */
export async function enforceRateLimit(c: Context<AppEnv>, tokenId: string): Promise<void> {
	if (!configOf(c.env).rateLimits) return;
	const { limit, periodSeconds: period } = RATE_LIMITS.TOKEN_RATE_LIMITER;
	c.header("RateLimit-Policy", `${limit};w=${period}`);
	c.header("RateLimit-Limit", String(limit));
	const { success } = await c.env.TOKEN_RATE_LIMITER.limit({ key: tokenId });
	if (success) return;
	const msLeft = msLeftInWindow(period, Date.now());
	throw rateLimited(
		`Rate limit exceeded: at most ${limit} requests per ${period} seconds per token; retry after a short delay`,
		limit,
		period,
		msLeft,
	);
}

// ---- Failed authentications per client address ------------------------------------------------

const { limit: AUTH_FAILURE_LIMIT, periodSeconds: AUTH_FAILURE_PERIOD_SECONDS } = RATE_LIMITS.AUTH_FAILURE_RATE_LIMITER;

/**
 * The client's address: CF-Connecting-IP, which Cloudflare's edge sets on the requests it passes
 * to the Worker, and `wrangler dev` to the local client's address (unless the request has one). A request without it did not come through the edge: a service binding or a
 * test calling the Worker directly. Those are not limited by address (null): there is no
 * address to tell callers apart, and one shared budget would let any one of them lock out the rest.
 */
function clientAddress(c: Context<AppEnv>): string | null {
	return c.req.header("cf-connecting-ip") || null;
}

/**
 * Addresses this isolate found over their failure budget, each until the end of its window. The
 * binding has no way to ask without counting, so without this record each request of a blocked
 * address would still cost its lookups. Bounded: entries are added in order of their end (every
 * window has the same length), so the oldest is the first to expire; when full, the oldest goes,
 * and that address is merely counted by the binding again at its next failure.
 */
class BlockedAddresses {
	private readonly until = new Map<string, number>();

	constructor(private readonly maxEntries: number) {}

	/** When the address's block ends (ms), or null if it is not blocked. */
	get(address: string, now: number): number | null {
		const until = this.until.get(address);
		if (until === undefined) return null;
		if (until > now) return until;
		this.until.delete(address);
		return null;
	}

	add(address: string, until: number, now: number): void {
		this.until.delete(address);
		for (const [oldest, end] of this.until) {
			if (end > now && this.until.size < this.maxEntries) break;
			this.until.delete(oldest);
		}
		this.until.set(address, until);
	}
}

const blocked = new BlockedAddresses(10_000);

function tooManyFailures(msLeft: number): ApiError {
	return rateLimited(
		`Too many failed authentications from this address: at most ${AUTH_FAILURE_LIMIT} per ${AUTH_FAILURE_PERIOD_SECONDS} seconds. ` +
			`Every request from it is refused until the window ends, in ${retryAfterSeconds(msLeft)} s; check the key before retrying`,
		AUTH_FAILURE_LIMIT,
		AUTH_FAILURE_PERIOD_SECONDS,
		msLeft,
	);
}

/**
 * Called before a credential is looked up: 429 if this isolate knows the client's address is over
 * its failure budget. Every authentication from that address is refused until its window ends,
 * a valid credential's too: telling a valid one from the rest would take the lookups the block
 * exists to save.
 */
export function refuseBlockedClient(c: Context<AppEnv>): void {
	if (!configOf(c.env).rateLimits) return;
	const address = clientAddress(c);
	if (!address) return;
	const now = Date.now();
	const until = blocked.get(address, now);
	if (until !== null) throw tooManyFailures(until - now);
}

/**
 * Refusals of a credential that was admitted and found revoked later, where no failure can be
 * counted at once: a write's commit (the Durable Object answers token_revoked) or its error path
 * (app.ts). The app's error handler counts them (countRefusal) before answering.
 */
const uncounted = new WeakSet<ApiError>();

/** Marks `refusal` as a failed authentication still to be counted (see countRefusal). */
export function uncountedRefusal(refusal: ApiError): ApiError {
	uncounted.add(refusal);
	return refusal;
}

/**
 * The answer to `err`: as it is, unless it is a refusal marked by uncountedRefusal, which is then
 * counted against the client's address like any failed authentication (and becomes 429 if the
 * address is now over its budget).
 */
export async function countRefusal(c: Context<AppEnv>, err: ApiError): Promise<ApiError> {
	if (!uncounted.has(err)) return err;
	try {
		return await refuseAuthentication(c, err);
	} catch (refusal) {
		return refusal as ApiError;
	}
}

/**
 * Called when a credential was refused (missing, unknown, revoked or wrong): counts the failure
 * against the client's address and throws `refusal`, or, if the address is now over its budget,
 * blocks it until its window ends and throws 429.
 */
export async function refuseAuthentication(c: Context<AppEnv>, refusal: ApiError): Promise<never> {
	uncounted.delete(refusal);
	const address = !configOf(c.env).rateLimits ? null : clientAddress(c);
	if (!address) throw refusal;
	const { success } = await c.env.AUTH_FAILURE_RATE_LIMITER.limit({ key: address });
	if (success) throw refusal;
	const now = Date.now();
	const msLeft = msLeftInWindow(AUTH_FAILURE_PERIOD_SECONDS, now);
	blocked.add(address, now + msLeft, now);
	throw tooManyFailures(msLeft);
}
