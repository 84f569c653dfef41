import type { Context } from "hono";
import { ApiError } from "../lib/api-error";
import { sha256Hex } from "../lib/encoding";
import { IDEMPOTENCY_KEY } from "../schemas/common";
import type { AppEnv } from "./app-env";

/**
 * The request's Idempotency-Key, if any, with a hash of what it asks for: the operation and
 * the exact body. A repeat must match both to be answered with the first response.
 */
export async function idempotencyOf(c: Context<AppEnv>, operation: string, body: string) {
	const key = c.req.header("idempotency-key");
	if (key === undefined) return undefined;
	if (!IDEMPOTENCY_KEY.test(key)) {
		throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces");
	}
	return { key, requestHash: await sha256Hex(`${operation}\n${body}`) };
}

/** Documents the header markReplayed sets. */
export const IDEMPOTENT_REPLAYED_HEADER = {
	"Idempotent-Replayed": {
		description:
			"`true` when this is the recorded response of an earlier request with the same Idempotency-Key and body (nothing was applied this time)",
		schema: { type: "string" as const, enum: ["true"] },
	},
};

/** Marks a response that repeats the one recorded for its idempotency key. */
export function markReplayed(c: Context<AppEnv>, replayed: boolean): void {
	if (replayed) c.header("Idempotent-Replayed", "true");
}
