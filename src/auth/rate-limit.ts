import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";

/**
 * Counts a request against its token's budget with the platform's rate limiter (per
 * Cloudflare location, approximate). Over the limit: 429 with Retry-After and RateLimit-*.
 */
export async function enforceRateLimit(c: Context<AppEnv>, tokenId: string): Promise<void> {
	if (c.env.RATE_LIMITS === "off") return;
	const limit = Number(c.env.RATE_LIMIT_REQUESTS);
	const period = Number(c.env.RATE_LIMIT_PERIOD_SECONDS);
	const policy = `${limit};w=${period}`;
	c.header("RateLimit-Policy", policy);
	c.header("RateLimit-Limit", String(limit));
	const { success } = await c.env.TOKEN_RATE_LIMITER.limit({ key: tokenId });
	if (success) return;
	throw new ApiError(429, "rate_limited", `Rate limit exceeded: at most ${limit} requests per ${period} seconds per token; retry after a short delay`, [], {
		"Retry-After": String(period),
		"RateLimit-Policy": policy,
		"RateLimit-Limit": String(limit),
		"RateLimit-Remaining": "0",
		"RateLimit-Reset": String(period),
	});
}
