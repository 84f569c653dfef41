import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ADMIN_DISABLED, ADMIN_FORBIDDEN, ADMIN_TOKEN_REQUIRED } from "../../auth/middleware";
import { revokeToken } from "../../auth/tokens";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { ApiError } from "../../lib/api-error";
import { TokenInfoSchema } from "../../schemas/tokens";

const route = createRoute({
	method: "delete",
	operationId: "revokeToken",
	path: "/admin/v1/tokens/{id}",
	tags: ["Admin"],
	summary: "Revoke a token",
	description: "Takes effect at once: D1's revocation list, not KV, decides (reads query it, writes are refused by their own commit).",
	...ADMIN_TOKEN_REQUIRED,
	request: { params: z.object({ id: z.string().regex(/^tok_[A-Za-z0-9_-]{1,64}$/, "not a token id") }) },
	responses: {
		200: { description: "The revoked token", content: { "application/json": { schema: TokenInfoSchema } } },
		...errorResponses(
			400,
			ADMIN_FORBIDDEN,
			{ status: 404, code: "token_not_found", message: "No token with id 'tok_8fK2mQ'" },
			429,
			ADMIN_DISABLED,
		),
	},
});

export function registerTokensRevoke(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { id } = c.req.valid("param");
		const record = await revokeToken(c.env.TOKENS, c.env.DB, id);
		if (!record) throw new ApiError(404, "token_not_found", `No token with id '${id}'`);
		return c.json(record, 200);
	});
}
