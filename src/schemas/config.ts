// The service's settings (wrangler.toml [vars], overridable with `wrangler dev --var`), parsed
// once per isolate with zod: a bad value fails every request with a message naming it, rather
// than being read as NaN or silently replaced.
import { z } from "./zod";

/** A positive whole number given as text, with its default when the variable is not set. */
const count = (fallback: number) =>
	z.preprocess((text) => (text === undefined || text === "" ? fallback : Number(text)), z.number().int().min(1).max(Number.MAX_SAFE_INTEGER));

const VarsSchema = z.object({
	/** Largest request body of a write endpoint, in bytes (CloudZero: 5 MB). */
	MAX_BODY_BYTES: count(5_000_000),
	/** Most records in one write request (CloudZero: about 10,000). */
	MAX_RECORDS_PER_REQUEST: count(10_000),
	/** "off" turns both rate limiters off (the benchmark and the crash test). */
	RATE_LIMITS: z.enum(["on", "off"]).default("on"),
});

export interface Config {
	maxBodyBytes: number;
	maxRecordsPerRequest: number;
	rateLimits: boolean;
}

/**
 * The two rate limiting bindings' settings. The platform's binding keeps them in wrangler.toml
 * [[ratelimits]] and cannot report them, so the headers that state them read them from here;
 * test/openapi-validation.global-setup.ts checks that wrangler.toml says the same.
 */
export const RATE_LIMITS = {
	/** Requests per stream token (TOKEN_RATE_LIMITER), counted per Cloudflare location. */
	TOKEN_RATE_LIMITER: { limit: 1000, periodSeconds: 10 },
	/** Failed authentications per client address (AUTH_FAILURE_RATE_LIMITER). */
	AUTH_FAILURE_RATE_LIMITER: { limit: 20, periodSeconds: 10 },
} as const;

const parsed = new WeakMap<object, Config>();

/** The settings of this environment (parsed at its first use). */
export function configOf(env: Partial<Record<keyof z.input<typeof VarsSchema>, string>>): Config {
	let config = parsed.get(env);
	if (!config) {
		const vars = VarsSchema.safeParse({ MAX_BODY_BYTES: env.MAX_BODY_BYTES, MAX_RECORDS_PER_REQUEST: env.MAX_RECORDS_PER_REQUEST, RATE_LIMITS: env.RATE_LIMITS });
		if (!vars.success) {
			const problems = vars.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
			throw new Error(`Invalid configuration (wrangler.toml [vars]): ${problems}`);
		}
		config = { maxBodyBytes: vars.data.MAX_BODY_BYTES, maxRecordsPerRequest: vars.data.MAX_RECORDS_PER_REQUEST, rateLimits: vars.data.RATE_LIMITS === "on" };
		parsed.set(env, config);
	}
	return config;
}
