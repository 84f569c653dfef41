// The service's settings (wrangler.toml [vars], overridable with `wrangler dev --var`), parsed
// once per isolate with zod: a bad value fails every request with a message naming it, rather
// than being read as NaN or silently replaced.
import { z } from "./zod";

/**
 * The locations a D1 database can be created in (`wrangler d1 create --location`), which are
 * also Durable Object location hints: western and eastern North America, western and eastern
 * Europe, Asia-Pacific, Oceania.
 */
export const D1_LOCATIONS = ["wnam", "enam", "weur", "eeur", "apac", "oc"] as const;
export type D1Location = (typeof D1_LOCATIONS)[number];

/** A positive whole number given as text, with its default when the variable is not set. */
const count = (fallback: number) =>
	z.preprocess(
		(text) => (text === undefined || text === "" ? fallback : Number(text)),
		z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
	);

/** The most days COST_HOURLY_RETENTION_DAYS may name: 100 years, far beyond any bill's restatement. */
export const MAX_RETENTION_DAYS = 36_500;

const VarsSchema = z.object({
	/** Largest request body of a write endpoint, in bytes (CloudZero: 5 MB). */
	MAX_BODY_BYTES: count(5_000_000),
	/** Most records in one write request (CloudZero: about 10,000). */
	MAX_RECORDS_PER_REQUEST: count(10_000),
	/** "off" turns both rate limiters off (the benchmark and the crash test). */
	RATE_LIMITS: z.enum(["on", "off"]).default("on"),
	/** Where the D1 database is (`wrangler d1 create --location`), and so where the writing Durable Objects are placed. */
	D1_LOCATION: z.enum(D1_LOCATIONS, {
		error: `must be one of ${D1_LOCATIONS.join(", ")}: the --location the D1 database was created with`,
	}),
	/** Days of hourly cost kept before the Cron Trigger rolls them up into their daily totals. */
	COST_HOURLY_RETENTION_DAYS: z.preprocess(
		(text) => (text === undefined || text === "" ? 92 : Number(text)),
		z.number({ error: "must be a whole number of days" }).int({ error: "must be a whole number of days" }).min(1).max(MAX_RETENTION_DAYS),
	),
});

export interface Config {
	maxBodyBytes: number;
	maxRecordsPerRequest: number;
	rateLimits: boolean;
	/**
	 * D1_LOCATION: the location hint of every stream and metric object. Each write is one D1
	 * batch (one round trip) sent by its object, so the object belongs next to the database.
	 */
	d1Location: D1Location;
	/**
	 * COST_HOURLY_RETENTION_DAYS: a connection's hourly cost is kept for the last this many UTC
	 * days (and today); older hours are rolled up into the daily totals by the Cron Trigger.
	 */
	costHourlyRetentionDays: number;
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
		const vars = VarsSchema.safeParse({
			MAX_BODY_BYTES: env.MAX_BODY_BYTES,
			MAX_RECORDS_PER_REQUEST: env.MAX_RECORDS_PER_REQUEST,
			RATE_LIMITS: env.RATE_LIMITS,
			D1_LOCATION: env.D1_LOCATION,
			COST_HOURLY_RETENTION_DAYS: env.COST_HOURLY_RETENTION_DAYS,
		});
		if (!vars.success) {
			const problems = vars.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
			throw new Error(`Invalid configuration (wrangler.toml [vars]): ${problems}`);
		}
		config = {
			maxBodyBytes: vars.data.MAX_BODY_BYTES,
			maxRecordsPerRequest: vars.data.MAX_RECORDS_PER_REQUEST,
			rateLimits: vars.data.RATE_LIMITS === "on",
			d1Location: vars.data.D1_LOCATION,
			costHourlyRetentionDays: vars.data.COST_HOURLY_RETENTION_DAYS,
		};
		parsed.set(env, config);
	}
	return config;
}
