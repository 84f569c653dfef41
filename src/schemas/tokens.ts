import { z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/tokens";
import { OrgSchema } from "./common";

export const ScopeSchema = z.enum(SCOPES).openapi({ description: "write: sum/replace/delete records; read: read streams; delete_stream: delete whole streams" });

export const CreateTokenBodySchema = z
	.strictObject({
		org: OrgSchema,
		name: z.string().min(1).max(200).openapi({ description: "What the token is for", example: "billing-exporter" }),
		scopes: z.array(ScopeSchema).min(1).default(["write", "read"]).openapi({ example: ["write", "read"] }),
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
