import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import { dimensionName, refuseSecondAllocation, refuseUnknownNames } from "../../cost/dimensions";
import { formatCost } from "../../cost/money";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { costFilters, csvPage, cursorPosition, dayRange, filterParams, isTuple, pageOf } from "../../http/reads";
import { FILTER_SYNTAX_DESCRIPTION } from "../../schemas/common";
import { CostPageSchema, CostQuerySchema } from "../../schemas/costs";
import { readCostLines } from "../../storage/cost-reads";

// `dim[...]` and `exclude[...]` parameters are the filters, read by filterParams; `dim` and `exclude` alone are no options.
const QUERY_OPTIONS = new Set(Object.keys(CostQuerySchema.shape).filter((key) => key !== "dim" && key !== "exclude"));

const route = createRoute({
	method: "get",
	operationId: "readCosts",
	path: "/unit-cost/v1/costs",
	tags: ["Cost"],
	summary: "Read cost by period, grouped by a dimension",
	description: `The organization's cost of one cost type per period (UTC day or month), group_by value and currency: costs of different currencies are never added together. Dimensions: Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key> (or Tag:<key>), custom:<name> and allocation:<stream> (an allocation stream's elements: each day's cost a record group's filter matches is split among its elements in proportion to their values, exactly; a read splits by one stream, 400 \`bad_request\` for two); a row without a value for a dimension has the value "". ${FILTER_SYNTAX_DESCRIPTION} Any other query parameter is refused (400 \`invalid_filter\`), and so is a name that is no cost dimension (400 \`unknown_dimension\`). Costs are exact sums of the stored costs (10 decimal places each), rounded once to 15 significant digits, as plain decimals. Lines are in (period, group, currency) order, compared as UTF-8 bytes; D1 filters, groups and pages, so a page costs the daily rows of the selected connections in the period, whatever else is stored. In CSV, a cell a spreadsheet would run as a formula is prefixed with an apostrophe.`,
	...streamTokenWithScope("read"),
	request: { query: CostQuerySchema },
	responses: {
		200: {
			description: "Cost lines in (period, group, currency) order (JSON, or CSV with format=csv and the next cursor in X-Next-Cursor)",
			content: { "application/json": { schema: CostPageSchema }, "text/csv": { schema: z.string() } },
		},
		...errorResponses(400, 403, 429),
	},
});

export function registerCostRead(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const query = c.req.valid("query");
		const org = c.get("token").org;
		c.set("logFields", { operation: "read_costs" });
		const [startDay, endDay] = dayRange(query.start_date, query.end_date);
		const after = cursorPosition(query.cursor, isTuple<[string, string, string]>("string", "string", "string"));
		const parsed = filterParams(c.req.queries(), QUERY_OPTIONS, "cost dimension");
		const pathOf = new Map<string, string>();
		const groupBy = query.group_by === undefined ? null : dimensionName(query.group_by, "group_by");
		if (groupBy !== null) pathOf.set(groupBy, "group_by");
		const filters = costFilters(parsed, pathOf);

		// One round trip: D1 resolves custom dimensions, filters, groups, sums and pages.
		const { unknownNames, allocations, lines, rowsRead } = await readCostLines(c.env.DB, {
			org,
			startDay,
			endDay,
			costType: query.cost_type,
			granularity: query.granularity,
			groupBy,
			filters,
			after,
			limit: query.limit + 1,
		});
		c.set("logFields", { operation: "read_costs", rowsRead });
		refuseUnknownNames(unknownNames, (name) => pathOf.get(name) ?? "group_by");
		refuseSecondAllocation(allocations, (name) => pathOf.get(name) ?? "group_by");
		const { page, nextCursor } = pageOf(lines, query.limit, (last) => [last.period, last.group, last.currency]);
		if (query.format === "csv") {
			const header = ["period", ...(query.group_by ? [query.group_by] : []), "currency", "cost"];
			return csvPage(
				c,
				header,
				page.map((l) => [l.period, ...(query.group_by ? [l.group] : []), l.currency, formatCost(l.cost)]),
				nextCursor,
			);
		}
		return c.json(
			{
				costs: page.map((l) => ({
					period: l.period,
					group: query.group_by ? { [query.group_by]: l.group } : {},
					currency: l.currency,
					cost: formatCost(l.cost),
				})),
				next_cursor: nextCursor,
			},
			200,
		);
	});
}
