import { z } from "@hono/zod-openapi";

/** CloudZero: up to 256 characters of [A-Za-z0-9_.-]. */
export const StreamNameSchema = z
	.string()
	.regex(/^[A-Za-z0-9_.-]{1,256}$/, "stream names are 1 to 256 characters of A-Z, a-z, 0-9, '_', '.' and '-'")
	.openapi({ param: { name: "name", in: "path" }, example: "my-metric-stream" });

export const StreamParamsSchema = z.object({ name: StreamNameSchema });

/** Organization ids name a tenant; kept plain because they are part of KV keys and object names. */
export const OrgSchema = z
	.string()
	.regex(/^[A-Za-z0-9_.-]{1,64}$/, "org must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'")
	.openapi({ example: "acme" });

export const DaySchema = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, "dates are YYYY-MM-DD")
	.refine((s) => isValidDay(s), { message: "not a calendar date", params: { code: "invalid_date" } });

export function isValidDay(day: string): boolean {
	const [y, m, d] = day.split("-").map(Number);
	const date = new Date(Date.UTC(2000, m - 1, d));
	date.setUTCFullYear(y);
	return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Documents the Idempotency-Key header of write endpoints (checked by the handler). */
export const IdempotencyHeadersSchema = z.object({
	"idempotency-key": z
		.string()
		.optional()
		.openapi({
			description:
				"Makes a retry safe: the same key with the same body within 24 hours returns the first response and applies nothing; with a different body, 409.",
			example: "backfill-2024-01-batch-0007",
		}),
});

/**
 * JSON.parse keeps a "__proto__" key as an own property, but z.record skips it silently; a key
 * must never be dropped without an error, so it is refused before the record is parsed.
 */
export function withoutProtoKey<T extends z.ZodType>(schema: T) {
	return z.preprocess((input, ctx) => {
		if (input !== null && typeof input === "object" && Object.hasOwn(input, "__proto__")) {
			ctx.addIssue({ code: "custom", message: "'__proto__' is not allowed as a key", path: ["__proto__"], params: { code: "forbidden_key" } });
		}
		return input;
	}, schema);
}

/** A lone UTF-16 surrogate cannot be stored as UTF-8: it would come back altered. */
export function wellFormed<T extends z.ZodType<string>>(schema: T, what: string) {
	return schema.refine((s) => s.isWellFormed(), { message: `${what} must be valid Unicode (no lone surrogates)`, params: { code: "invalid_unicode" } });
}
