import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import { refuseSecondAllocation, refuseUnknownNames } from "../../cost/dimensions";
import { unitCostLines } from "../../cost/unit-cost";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { costFilters, dayRange, filterParams } from "../../http/reads";
import { ApiError, streamNotFound } from "../../lib/api-error";
import { type DimensionFilter, FILTER_SYNTAX_DESCRIPTION } from "../../schemas/common";
import { UnitCostParamsSchema, UnitCostQuerySchema, UnitCostSchema } from "../../schemas/costs";
import { readUnitCostSums } from "../../storage/cost-reads";
import { findLiveStream } from "../../storage/streams";

// `dim[...]` and `exclude[...]` parameters are the cost filters, read by filterParams; `dim` and `exclude` alone are no options.
const QUERY_OPTIONS = new Set(Object.keys(UnitCostQuerySchema.shape).filter((key) => key !== "dim" && key !== "exclude"));

const route = createRoute({
	method: "get",
	operationId: "readUnitCost",
	path: "/unit-cost/v1/unit-cost/{metric_name}",
	tags: ["Cost"],
	summary: "Unit cost: a metric's units against the cost they divide",
	description: [
		"The metric is a CloudZero telemetry stream. Each of its series divides the cost whose dimensions equal its associated_cost: `Service`, `Account`, `Region`, `UsageFamily`, `LineItemType`, `Resource`, `Connection`, `tag:<key>` (or `Tag:<key>`) are read from the cost rows, `allocation:<stream>` from the cost split among an allocation stream's elements, `custom:<name>` through the organization's custom dimension of that name. A series without associated_cost divides all of the organization's cost. An associated_cost name that names no cost dimension (an undefined custom dimension, say) is listed in `unknown_dimensions`, and no cost matches the stream's series.",
		"Per period (UTC day or month) and group (the value of `group_by`, one of the stream's associated_cost names; one group without it): `units` is the sum of the group's series' values, `cost` the cost its series matched, `unit_cost` = cost ÷ units (null when units are 0). Costs of different currencies are never added: a group with cost in two currencies has one result per currency, each with the group's units; a group without matched cost has one result with currency null and cost 0.",
		"`unmatched_cost`: the cost of each period and currency that no series of the metric matched. Values are plain decimal strings (never an exponent) of at most 15 significant digits; costs are exact sums rounded once. A group whose units add up beyond 1.79769313486231e308 is refused (400 `value_overflow`, naming the period and group).",
		`Cost filters choose the cost rows before they are matched to the series, as on the cost read (\`GET /unit-cost/v1/costs\`): names are cost dimensions (a row without a value for one has the value ""), an unknown one is 400 \`unknown_dimension\` naming the parameter. Units are not filtered, and cost the filters leave out is in neither \`cost\` nor \`unmatched_cost\`: \`cost_type=discounted_amortized_cost&exclude[LineItemType]=Tax,Credit\` is the amortized unit cost without tax and credits. ${FILTER_SYNTAX_DESCRIPTION}`,
		"Any other query parameter is refused (400 `invalid_filter`), so that a misspelt option is an error rather than an answer without it.",
	].join("\n\n"),
	...streamTokenWithScope("read"),
	request: { params: UnitCostParamsSchema, query: UnitCostQuerySchema },
	responses: {
		200: { description: "Unit cost per period and group", content: { "application/json": { schema: UnitCostSchema } } },
		...errorResponses(400, 403, 404, 429),
	},
});

export function registerUnitCost(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { metric_name: name } = c.req.valid("param");
		const query = c.req.valid("query");
		// A misspelt option (group-by) would otherwise give an answer that ignores it.
		const parsed = filterParams(c.req.queries(), QUERY_OPTIONS, "cost dimension");
		const org = c.get("token").org;
		c.set("logFields", { stream: name, operation: "unit_cost" });
		let range: [string, string];
		const pathOf = new Map<string, string>();
		let filters: DimensionFilter[];
		try {
			range = dayRange(query.start_date, query.end_date);
			filters = costFilters(parsed, pathOf);
		} catch (err) {
			// A missing stream is reported before a bad range or filter name, as on the telemetry reads.
			if (!(await findLiveStream(c.env.DB, org, name))) throw streamNotFound(name);
			throw err;
		}
		const [startDay, endDay] = range;
		const groupBy = query.group_by ?? null;
		// One round trip: D1 finds the stream, resolves its names and the filters', and sums units and matched cost.
		const [stream, sums] = await Promise.all([
			findLiveStream(c.env.DB, org, name),
			readUnitCostSums(c.env.DB, {
				org,
				stream: name,
				startDay,
				endDay,
				costType: query.cost_type,
				granularity: query.granularity,
				groupBy,
				filters,
			}),
		]);
		c.set("logFields", { stream: name, operation: "unit_cost", rowsRead: sums.rowsRead });
		if (!stream) throw streamNotFound(name);
		refuseUnknownNames(sums.unknownFilterNames, (filterName) => pathOf.get(filterName) ?? "dim");
		refuseSecondAllocation(sums.allocations, (n) => pathOf.get(n) ?? "metric_name");
		if (groupBy !== null && !stream.dimension_keys.includes(groupBy)) {
			throw new ApiError(400, "unknown_filter_keys", "Invalid Schema: Unrecognized filter keys", [
				{
					code: "unknown_filter_keys",
					message: `'${groupBy.slice(0, 200)}' is not an associated_cost name of stream '${name}' (${stream.dimension_keys.join(", ") || "none"})`,
					path: "group_by",
				},
			]);
		}
		const result = unitCostLines(sums.units, sums.costs, groupBy);
		return c.json(
			{ metric: name, granularity: query.granularity, cost_type: query.cost_type, ...result, unknown_dimensions: sums.unknownNames },
			200,
		);
	});
}
