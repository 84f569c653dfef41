import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ADMIN_DISABLED, ADMIN_FORBIDDEN, ADMIN_TOKEN_REQUIRED } from "../../auth/middleware";
import { sourceDimension } from "../../cost/dimensions";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { CustomDimensionSchema, DimensionBodySchema, DimensionParamsSchema } from "../../schemas/costs";
import { parseOrThrow } from "../../schemas/validation";
import { putCustomDimension } from "../../storage/costs";

const route = createRoute({
	method: "put",
	operationId: "putCustomDimension",
	path: "/admin/v1/orgs/{org}/dimensions/{name}",
	tags: ["Admin"],
	summary: "Define (or redefine) a custom cost dimension",
	description:
		"Names one cost dimension `custom:<name>` for the organization, as CloudZero's custom dimensions do: unit metrics' associated_cost and the cost reads use that name. The source is a built-in dimension or a tag (`Tag:<key>` is stored as `tag:<key>`); it takes effect at once, for cost already stored too.",
	...ADMIN_TOKEN_REQUIRED,
	request: {
		params: DimensionParamsSchema,
		body: { content: { "application/json": { schema: DimensionBodySchema, example: { source: "tag:customer" } } }, required: true },
	},
	responses: {
		200: { description: "The definition", content: { "application/json": { schema: CustomDimensionSchema } } },
		...errorResponses(400, ADMIN_FORBIDDEN, 413, 415, 429, ADMIN_DISABLED),
	},
});

export function registerDimensionPut(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		const { org, name } = c.req.valid("param");
		const input = parseOrThrow(DimensionBodySchema, (await readJsonBody(c, 10_000)).json);
		const source = sourceDimension(input.source)!;
		const now = new Date().toISOString();
		await putCustomDimension(c.env.DB, org, name, source, now);
		return c.json({ org, name: `custom:${name}`, source, updated_at: now }, 200);
	});
}
