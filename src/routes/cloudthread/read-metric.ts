import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { revocationInRead, streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { checkFilterKeys, csvPage, cursorPosition, dayRange, filterParams, isTuple, pageOf } from "../../http/reads";
import { ApiError } from "../../lib/api-error";
import { formatValue } from "../../lib/numbers";
import { metricStreamName } from "../../objects/cloudthread-metrics-protocol";
import { MetricNameParamsSchema, MetricPointsQuerySchema, MetricPointsSchema } from "../../schemas/cloudthread";
import { type DimensionFilter, FILTER_SYNTAX_DESCRIPTION } from "../../schemas/common";
import { type MetricPointRow, metricPointsQuery, metricQuery, metricRow } from "../../storage/custom-metrics";

// `dim[...]` and `exclude[...]` parameters are the filters, read by filterParams; `dim` and `exclude` alone are no options.
const QUERY_OPTIONS = new Set(Object.keys(MetricPointsQuerySchema.shape).filter((key) => key !== "dim" && key !== "exclude"));

const route = createRoute({
	method: "get",
	operationId: "readCustomMetric",
	path: "/streams/metrics/{metric_name}",
	tags: ["Cloudthread custom data"],
	summary: "Read a custom metric's daily aggregates or hourly points",
	description: `Per record ID, in (timestamp, record ID) order. ${FILTER_SYNTAX_DESCRIPTION} A record without a filter's dimension (the records of a metric may have different keys) matches no \`dim\` filter and passes every \`exclude\` filter. Any other query parameter is refused (400 \`invalid_filter\`), and so is a filter on a custom dimension the metric does not have (400 \`unknown_filter_keys\`). In CSV, a text cell that a spreadsheet would run as a formula (starting with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return, unless it is a plain number) is prefixed with an apostrophe.`,
	...streamTokenWithScope("read", "in_read"),
	request: {
		params: MetricNameParamsSchema,
		query: MetricPointsQuerySchema,
		headers: BookmarkHeadersSchema,
	},
	responses: {
		200: {
			description: "Points (JSON, or CSV with format=csv and the next cursor in X-Next-Cursor)",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: { "application/json": { schema: MetricPointsSchema }, "text/csv": { schema: z.string() } },
		},
		...errorResponses(400, 403, 404, 429),
	},
});

const WHOSE = "custom dimension of this metric";

export function registerCustomMetricRead(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { metric_name: name } = c.req.valid("param");
		const query = c.req.valid("query");
		c.set("logFields", { stream: metricStreamName(query.agg, name), operation: "read" });
		const org = c.get("token").org;
		const db = readSession(c);
		const revocation = revocationInRead(c, db);
		const notFound = () => new ApiError(404, "metric_not_found", `No metric '${name}' with aggregation function ${query.agg}`);
		// The cursor names its granularity: a day cursor means nothing among hours.
		const kind = query.granularity === "day" ? "d" : "h";
		// One D1 round trip: the token's revocation, the metric and its points in one batch. A 404
		// still comes before the query's own 400s, as when the metric was read first, and a 403
		// for a revoked token before both.
		let read: { startDay: string; endDay: string; after: [string, string] | null; filters: DimensionFilter[] };
		try {
			const [startDay, endDay] = dayRange(query.start_date, query.end_date);
			const position = cursorPosition(
				query.cursor,
				isTuple<[string, string, string]>({ literal: kind }, "string", "string"),
				" for this granularity",
			);
			read = {
				startDay,
				endDay,
				after: position && [position[1], position[2]],
				filters: filterParams(c.req.queries(), QUERY_OPTIONS, WHOSE),
			};
		} catch (err) {
			const [revoked, found] = await db.batch([revocation.statement, metricQuery(db, org, name, query.agg)]);
			await revocation.check(revoked);
			if (!metricRow(found.results[0])) throw notFound();
			throw err;
		}
		const [revoked, found, points] = await db.batch([
			revocation.statement,
			metricQuery(db, org, name, query.agg),
			metricPointsQuery(db, { org, name, aggFunc: query.agg, granularity: query.granularity, ...read, limit: query.limit + 1 }),
		]);
		await revocation.check(revoked);
		const metric = metricRow(found.results[0]);
		if (!metric) throw notFound();
		checkFilterKeys(read.filters, metric.dimension_keys, WHOSE);
		const rows = points.results as MetricPointRow[];
		const { page, nextCursor } = pageOf(rows, query.limit, (last) => [kind, last.timestamp, last.record_id]);

		if (query.format === "csv") {
			const keys = metric.dimension_keys;
			const daily = query.granularity === "day";
			const lines = page.map((row) => {
				const dims = JSON.parse(row.dimensions) as Record<string, string>;
				return [
					row.timestamp,
					row.record_id,
					formatValue(row.value),
					...(daily ? [String(row.hours)] : []),
					...keys.map((k) => dims[k] ?? ""),
				];
			});
			return csvPage(c, ["timestamp", "record_id", "metric_value", ...(daily ? ["hours"] : []), ...keys], lines, nextCursor);
		}
		return c.json(
			{
				metric_name: metric.name,
				metric_agg_func: metric.agg_func,
				granularity: query.granularity,
				data: page.map((row) => ({
					timestamp: row.timestamp,
					record_id: row.record_id,
					metric_value: formatValue(row.value),
					...(row.hours === null ? {} : { hours: row.hours }),
					custom_dimensions: JSON.parse(row.dimensions) as Record<string, string>,
				})),
				next_cursor: nextCursor,
			},
			200,
		);
	});
}
