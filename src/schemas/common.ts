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

/** Raises an issue from one of our own checks, with its machine-readable code in params.code. */
export function fail(ctx: z.RefinementCtx, code: string, message: string): typeof z.NEVER {
	ctx.addIssue({ code: "custom", message, params: { code } });
	return z.NEVER;
}

/**
 * The UTC instant of a date-time given as its parts and an optional UTC offset ('Z', '+05:30',
 * '-0800', '+05'), or why it is not one. `shown` is how error messages quote the input.
 */
export function utcEpochMs(
	shown: string,
	[year, month, day, hour, minute, second]: number[],
	offset: string | undefined,
): { epochMs: number } | { error: string } {
	if (year < 1900) return { error: "timestamp must be in 1900 or later" };
	if (hour > 23 || minute > 59 || second > 59) return { error: `${shown} has an invalid time of day` };
	const calendar = Date.UTC(year, month - 1, day);
	const check = new Date(calendar);
	if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
		return { error: `${shown} is not a calendar date` };
	}
	let offsetMinutes = 0;
	if (offset && offset.toUpperCase() !== "Z") {
		const digits = offset.slice(1).replace(":", "");
		const oh = Number(digits.slice(0, 2));
		const om = Number(digits.slice(2) || "0");
		if (oh > 14 || om > 59) return { error: `${shown} has an invalid UTC offset` };
		offsetMinutes = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om);
	}
	return { epochMs: calendar + ((hour * 60 + minute) * 60 + second) * 1000 - offsetMinutes * 60_000 };
}

/**
 * Dimensions as canonical JSON, keys sorted, so key order never changes an identity: a CloudZero
 * stream's series key, a Cloudthread record's dimensions. Pass the sorted keys if already known.
 */
export function canonicalDimensions(dims: Record<string, string> | undefined, keys = dims ? Object.keys(dims).sort() : []): string {
	if (!dims) return "{}";
	const sorted: Record<string, string> = {};
	for (const key of keys) sorted[key] = dims[key];
	return JSON.stringify(sorted);
}
