import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ADMIN_DISABLED, ADMIN_FORBIDDEN, ADMIN_TOKEN_REQUIRED } from "../../auth/middleware";
import { listTokens } from "../../auth/tokens";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { OrgSchema } from "../../schemas/common";
import { TokenInfoSchema } from "../../schemas/tokens";

const route = createRoute({
	method: "get",
	operationId: "listTokens",
	path: "/admin/v1/tokens",
	tags: ["Admin"],
	summary: "List an organization's tokens (never their secrets)",
	...ADMIN_TOKEN_REQUIRED,
	request: { query: z.object({ org: OrgSchema }) },
	responses: {
		200: {
			description: "Tokens, oldest first",
			content: { "application/json": { schema: z.object({ tokens: z.array(TokenInfoSchema) }) } },
		},
		...errorResponses(400, ADMIN_FORBIDDEN, 429, ADMIN_DISABLED),
	},
});

export function registerTokensList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => c.json({ tokens: await listTokens(c.env.TOKENS, c.req.valid("query").org) }, 200));
}
