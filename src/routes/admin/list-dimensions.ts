import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ADMIN_DISABLED, ADMIN_FORBIDDEN, ADMIN_TOKEN_REQUIRED } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { CustomDimensionSchema, OrgPathSchema } from "../../schemas/costs";
import { listCustomDimensions } from "../../storage/costs";

const route = createRoute({
	method: "get",
	operationId: "listCustomDimensions",
	path: "/admin/v1/orgs/{org}/dimensions",
	tags: ["Admin"],
	summary: "List an organization's custom cost dimensions",
	...ADMIN_TOKEN_REQUIRED,
	request: { params: z.object({ org: OrgPathSchema }) },
	responses: {
		200: {
			description: "Custom dimensions by name",
			content: { "application/json": { schema: z.object({ dimensions: z.array(CustomDimensionSchema) }) } },
		},
		...errorResponses(400, ADMIN_FORBIDDEN, 429, ADMIN_DISABLED),
	},
});

export function registerDimensionList(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { org } = c.req.valid("param");
		const rows = await listCustomDimensions(c.env.DB, org);
		return c.json({ dimensions: rows.map((d) => ({ org, name: `custom:${d.name}`, source: d.source, updated_at: d.updated_at })) }, 200);
	});
}
