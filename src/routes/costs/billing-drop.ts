import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import { parseCbfRows } from "../../cost/cbf-rows";
import { daysInMonth, dropMonth, MAX_MONTHS_AHEAD } from "../../cost/months";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { maxBodyBytes, readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { IDEMPOTENCY_KEY_REUSED, type NamedError } from "../../lib/api-error";
import { connectionLogName, connectionObject } from "../../objects/cost-connection-protocol";
import { failureToError } from "../../objects/outcome";
import { IdempotencyHeadersSchema } from "../../schemas/common";
import { ConnectionIdSchema, DropAcceptedSchema, DropBodyParseSchema, DropBodySchema } from "../../schemas/costs";
import { parseOrThrow, validationError } from "../../schemas/validation";
import { z } from "../../schemas/zod";
import { encodeDrop, MAX_COST_CELL } from "../../storage/costs";

const CURRENCY_MISMATCH = {
	status: 409 as const,
	code: "currency_mismatch" as const,
	message:
		"Connection 'aws-billing' is in USD; this drop is in EUR. Costs in different currencies are never added together: send them to another connection.",
	description: "The drop's currency differs from the connection's, or its Idempotency-Key was used with another body; nothing was applied",
} satisfies NamedError;

/** This route's other 409 (one example per status: its description is joined to the 409's). */
const HOURS_ROLLED_UP_DESCRIPTION =
	"`hours_rolled_up`: a `replace_hourly` drop has an hour of a day whose hours the connection no longer keeps (rolled up into daily totals after `COST_HOURLY_RETENTION_DAYS`); nothing was applied";

const EXAMPLES = {
	cloudzero_adaptor: {
		summary: "CloudZero's example adaptor: only data",
		value: {
			data: [
				{
					"lineitem/type": "Usage",
					"resource/service": "Compute",
					"resource/id": "instance-1",
					"time/usage_start": "2024-08-16 00:00:00",
					"cost/cost": "12.00",
					"cost/discounted_cost": "10.80",
				},
				{
					"lineitem/type": "Discount",
					"resource/service": "Volume discount",
					"resource/id": "discount-7",
					"time/usage_start": "2024-08-16 00:00:00",
					"cost/cost": "-1.20",
					"cost/discounted_cost": "-1.20",
				},
			],
		},
	},
	litellm: {
		summary: "LiteLLM's CloudZero integration: month, replace_hourly",
		value: {
			month: "2025-04",
			operation: "replace_hourly",
			data: [
				{
					"time/usage_start": "2025-04-19T00:00:00Z",
					"cost/cost": "0.0123",
					"resource/id": "czrn:litellm:openai:cross-region:team-42:llm-usage:gpt-4o",
					"usage/amount": 1500,
					"usage/units": "tokens",
					"resource/service": "litellm",
					"resource/account": "team-42",
					"resource/region": "cross-region",
					"resource/usage_family": "llm-usage",
					"lineitem/type": "Usage",
					"resource/tag:provider": "openai",
					"resource/tag:model": "gpt-4o",
				},
			],
		},
	},
};

const route = createRoute({
	method: "post",
	operationId: "createOneAnyCostStreamConnectionBillingDrop",
	path: "/v2/connections/billing/anycost/{connection_id}/billing_drops",
	tags: ["Cost"],
	summary: "Send a billing drop (CloudZero AnyCost Stream)",
	description: [
		"CBF rows of one month for one connection. The connection belongs to the token's organization and is created by its first drop. Needs the `write_costs` scope; the key goes in `Authorization`, raw or as `Bearer <key>`.",
		"`operation`: `replace_drop` (default) replaces all of this connection's cost in the month; `replace_hourly` replaces its cost in each hour the drop has rows for; `sum` adds. Every row is placed in the UTC hour of its `time/usage_start`.",
		"The drop is checked completely before anything is applied: an unknown column, a bad value or timestamp, a missing required column (`time/usage_start`, `cost/cost`, `resource/id` when a tag column is present) or a row outside the month is refused with 400, naming the row (`record`) and column (`path`, e.g. `data[3].cost/cost`). At most 5 MB per request.",
		`A drop's month (given, or its rows') is at most ${MAX_MONTHS_AHEAD} months after the current UTC month: a later one is refused with 400 \`future_month\` (a bill is for a month that has begun; a year ahead leaves room for cost dated ahead, and catches a mistyped year).`,
		"Stored per (hour, dimension set): Service, Account, Region, UsageFamily, LineItemType, Resource and every tag, with the five cost types summed. Line item ids and descriptions, invoice ids, usage amounts and units, usage_end, action/operation and action/usage_type are checked and aggregated away.",
		"With an `Idempotency-Key`, a repeat of the same body within 24 hours returns the first response (header `Idempotent-Replayed: true`) and applies nothing; the same key with a different body is refused with 409.",
		"Hourly cost is kept for the last `COST_HOURLY_RETENTION_DAYS` days (92 by default); a scheduled job rolls older hours up into their daily totals, which stay. A `replace_hourly` drop with an hour of a rolled-up day is refused with 409 `hours_rolled_up`, and nothing is applied; `replace_drop` and `sum` are still accepted for any month.",
	].join("\n\n"),
	...streamTokenWithScope("write_costs", "at_commit"),
	request: {
		params: z.object({ connection_id: ConnectionIdSchema }),
		headers: IdempotencyHeadersSchema,
		body: { content: { "application/json": { schema: DropBodySchema, examples: EXAMPLES } }, required: true },
	},
	responses: {
		200: {
			description: "Applied (durably written), or the first response again for a repeated Idempotency-Key",
			headers: IDEMPOTENT_REPLAYED_HEADER,
			content: { "application/json": { schema: DropAcceptedSchema } },
		},
		...errorResponses(
			400,
			403,
			{
				...CURRENCY_MISMATCH,
				description: `${CURRENCY_MISMATCH.description}. ${IDEMPOTENCY_KEY_REUSED.description}. ${HOURS_ROLLED_UP_DESCRIPTION}`,
			},
			413,
			415,
			429,
			503,
		),
	},
});

export function registerBillingDrop(app: OpenAPIHono<AppEnv>) {
	app.openapi(withOwnBody(app, route), async (c) => {
		const { connection_id: connection } = c.req.valid("param");
		const token = c.get("token");
		c.set("logFields", { stream: connectionLogName(connection), operation: "billing_drop" });
		const raw = await readJsonBody(c, maxBodyBytes(c.env));
		const body = parseOrThrow(DropBodyParseSchema, raw.json, "data");
		const { rows, details } = parseCbfRows(body.data);
		if (details.length > 0) throw validationError(details);
		const checked = dropMonth(body.month, rows, Date.now());
		if ("problems" in checked) throw validationError(checked.problems);
		const { month } = checked;

		const encoded = encodeDrop(rows);
		if ("overflowAt" in encoded) {
			const record = encoded.overflowAt;
			throw validationError([
				{
					code: "value_overflow",
					message: `with the rows before it in the same hour and dimension set, this row's cost passes ±${MAX_COST_CELL} (the most one hour or day of a dimension set holds)`,
					record,
					path: `data[${record}]`,
				},
			]);
		}
		const hours = encoded.hours.length;
		c.set("logFields", { stream: connectionLogName(connection), operation: body.operation, records: rows.length });
		const result = await connectionObject(c.env, token.org, connection).drop({
			org: token.org,
			connection,
			operation: body.operation,
			month,
			currency: body.currency,
			...encoded,
			rowCount: rows.length,
			requestId: c.get("requestId"),
			tokenId: token.id,
			idempotency: await idempotencyOf(c, "billing_drop", raw.text),
			response: {
				message: "Billing drop accepted",
				drop_id: c.get("requestId"),
				connection_id: connection,
				operation: body.operation,
				month,
				rows: rows.length,
				hours,
				hours_replaced: body.operation === "replace_drop" ? 24 * daysInMonth(month) : body.operation === "replace_hourly" ? hours : 0,
				request_id: c.get("requestId"),
			},
		});
		if (!result.ok) throw failureToError(result, c.get("refuseToken"));
		markReplayed(c, result.replayed);
		return c.json(result.response, 200);
	});
}
