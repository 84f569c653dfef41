import { NewOrgSchema, wellFormed } from "./common";
import { z } from "./zod";

/** CloudZero's key scopes: manage records, read, delete whole streams; and send cost (billing drops). */
export const SCOPES = ["write", "read", "delete_stream", "write_costs"] as const;
export type Scope = (typeof SCOPES)[number];

/** What a request authenticated with a stream token may act as. */
export interface TokenIdentity {
	id: string;
	org: string;
	scopes: Scope[];
}

/** A token as the admin API lists it: never the secret, never its hash. */
export interface TokenRecord extends TokenIdentity {
	name: string;
	created_at: string;
	revoked_at: string | null;
}

export const ScopeSchema = z.enum(SCOPES).openapi({
	description:
		"write: sum/replace/delete records; read: read streams, cost and unit cost; delete_stream: delete whole streams; write_costs: send AnyCost billing drops",
});

// A token's record travels as KV key metadata, which holds at most 1,024 bytes of JSON: the name
// is kept to 400 UTF-8 bytes without control characters (which JSON would escape to 6 bytes each).
const MAX_TOKEN_NAME_BYTES = 400;
const TokenNameSchema = wellFormed(
	z
		.string()
		.min(1)
		.max(200)
		.regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, "a token name has no control characters")
		.refine((name) => new TextEncoder().encode(name).length <= MAX_TOKEN_NAME_BYTES, {
			message: `a token name is at most ${MAX_TOKEN_NAME_BYTES} bytes in UTF-8`,
			params: { code: "out_of_range" },
		}),
	"a token name",
).openapi({
	description: `What the token is for: 1 to 200 characters, at most ${MAX_TOKEN_NAME_BYTES} bytes in UTF-8, no control characters`,
	example: "billing-exporter",
});

export const CreateTokenBodySchema = z
	.strictObject({
		org: NewOrgSchema,
		name: TokenNameSchema,
		scopes: z
			.array(ScopeSchema)
			.min(1)
			.default(["write", "read"])
			.openapi({ example: ["write", "read"] }),
	})
	.openapi("CreateTokenRequest");

export const TokenInfoSchema = z
	.object({
		id: z.string().openapi({ example: "tok_Jx2f0h1Yq8cAZb9T" }),
		org: z.string(),
		name: z.string(),
		scopes: z.array(ScopeSchema),
		created_at: z.string(),
		revoked_at: z.string().nullable(),
	})
	.openapi("TokenInfo");

export const CreatedTokenSchema = TokenInfoSchema.extend({
	token: z.string().openapi({ description: "The secret; shown only in this response", example: "mlt_3q2-Vf..." }),
}).openapi("CreatedToken");
