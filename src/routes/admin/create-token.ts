import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ADMIN_DISABLED, ADMIN_FORBIDDEN, ADMIN_TOKEN_REQUIRED } from "../../auth/middleware";
import { createToken } from "../../auth/tokens";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { CreatedTokenSchema, CreateTokenBodySchema } from "../../schemas/tokens";
import { parseOrThrow } from "../../schemas/validation";

const route = createRoute({
	method: "post",
	operationId: "createToken",
	path: "/admin/v1/tokens",
	tags: ["Admin"],
	summary: "Create a stream token for an organization",
	...ADMIN_TOKEN_REQUIRED,
	request: { body: { content: { "application/json": { schema: CreateTokenBodySchema } }, required: true } },
	responses: {
		201: { description: "The token; its secret is shown only here", content: { "application/json": { schema: CreatedTokenSchema } } },
		...errorResponses(400, ADMIN_FORBIDDEN, 413, 415, 429, ADMIN_DISABLED),
	},
});

export function registerTokensCreate(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		const input = parseOrThrow(CreateTokenBodySchema, (await readJsonBody(c, 10_000)).json);
		const { token, record } = await createToken(c.env.TOKENS, input);
		return c.json({ ...record, token }, 201);
	});
}
