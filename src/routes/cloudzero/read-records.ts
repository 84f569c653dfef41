import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { revocationInRead, streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { checkFilterKeys, csvPage, cursorPosition, dayRange, filterParams, isTuple, pageOf } from "../../http/reads";
import { streamNotFound } from "../../lib/api-error";
import { formatValue } from "../../lib/numbers";
import {
	DaySchema,
	type DimensionFilter,
	FILTER_SYNTAX_DESCRIPTION,
	filterParamDocumentation,
	StreamParamsSchema,
} from "../../schemas/common";
import { liveStreamQuery, liveStreamRow, type ValueReadRow, valuesQuery } from "../../storage/streams";

/** Page size ceiling: a year of 200 series (73,000 rows) fits in two pages. */
export const MAX_READ_LIMIT = 50_000;

const QuerySchema = z.object({
	start_date: DaySchema.optional().openapi({ description: "First day, inclusive (YYYY-MM-DD)", example: "2023-12-01" }),
	end_date: DaySchema.optional().openapi({ description: "Last day, inclusive (YYYY-MM-DD)", example: "2023-12-31" }),
	limit: z.coerce.number().int().min(1).max(MAX_READ_LIMIT).default(1000),
	cursor: z.string().max(300).optional().openapi({ description: "next_cursor of the previous page" }),
	format: z.enum(["json", "csv"]).default("json"),
	dim: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ "custom:Client": "Patric Star" })),
	exclude: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ Region: "Europe" }, "exclude")),
});
// `dim[...]` and `exclude[...]` parameters are the filters, read by filterParams; `dim` and `exclude` alone are no options.
const QUERY_OPTIONS = new Set(Object.keys(QuerySchema.shape).filter((key) => key !== "dim" && key !== "exclude"));

const ReadRecordSchema = z
	.object({
		timestamp: z.string().openapi({ example: "2023-12-07" }),
		value: z.string().openapi({
			description: "Plain decimal string (never an exponent) of at most 15 significant digits, which can be sent back as it was read",
			example: "67890",
		}),
		associated_cost: z
			.record(z.string(), z.string())
			.optional()
			.openapi({ example: { "custom:Client": "Patric Star" } }),
	})
	.openapi("TelemetryReadRecord");

const route = createRoute({
	method: "get",
	operationId: "readMetricTelemetry",
	path: "/unit-cost/v1/telemetry/metric/{name}",
	tags: ["CloudZero telemetry"],
	summary: "Read a stream's daily values",
	description: `Daily values in date order, deleted data excluded, in the shape they are written. ${FILTER_SYNTAX_DESCRIPTION} Any other query parameter is refused (400 \`invalid_filter\`), and so is a filter on a dimension the stream does not have (400 \`unknown_filter_keys\`). In CSV, a text cell that a spreadsheet would run as a formula (starting with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return, unless it is a plain number) is prefixed with an apostrophe.`,
	...streamTokenWithScope("read", "in_read"),
	request: {
		params: StreamParamsSchema,
		query: QuerySchema,
		headers: BookmarkHeadersSchema,
	},
	responses: {
		200: {
			description: "Daily values (JSON, or CSV with format=csv and the next cursor in X-Next-Cursor)",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: {
				"application/json": {
					schema: z.object({ records: z.array(ReadRecordSchema), next_cursor: z.string().nullable() }).openapi("TelemetryReadPage"),
				},
				"text/csv": { schema: z.string() },
			},
		},
		...errorResponses(400, 403, 404, 429),
	},
});

export function registerMetricRead(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { name } = c.req.valid("param");
		const query = c.req.valid("query");
		const org = c.get("token").org;
		const db = readSession(c);
		const revocation = revocationInRead(c, db);
		// One D1 round trip: the token's revocation, the stream and its values (the filters applied
		// in SQL) in one batch. A 404 still comes before the query's own 400s, as when the stream
		// was read first, and a 403 for a revoked token before both.
		let read: { startDay: string; endDay: string; after: [string, number] | null; filters: DimensionFilter[] };
		try {
			const [startDay, endDay] = dayRange(query.start_date, query.end_date);
			const after = cursorPosition(query.cursor, isTuple<[string, number]>("string", "integer"));
			read = { startDay, endDay, after, filters: filterParams(c.req.queries(), QUERY_OPTIONS, WHOSE) };
		} catch (err) {
			const [revoked, found] = await db.batch([revocation.statement, liveStreamQuery(db, org, name)]);
			await revocation.check(revoked);
			if (!liveStreamRow(found.results[0])) throw streamNotFound(name);
			throw err;
		}
		const [revoked, found, values] = await db.batch([
			revocation.statement,
			liveStreamQuery(db, org, name),
			valuesQuery(db, { org, name, ...read, limit: query.limit + 1 }),
		]);
		await revocation.check(revoked);
		const stream = liveStreamRow(found.results[0]);
		if (!stream) throw streamNotFound(name);
		checkFilterKeys(read.filters, stream.dimension_keys, WHOSE);
		const rows = values.results as ValueReadRow[];
		const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.day, last.series_id]);

		if (query.format === "csv") {
			const keys = stream.dimension_keys;
			const lines = page.map((row) => {
				const dims = JSON.parse(row.series_key) as Record<string, string>;
				return [row.day, formatValue(row.value), ...keys.map((k) => dims[k] ?? "")];
			});
			return csvPage(c, ["timestamp", "value", ...keys], lines, nextCursor);
		}
		const hasDimensions = stream.dimension_keys.length > 0;
		const records = page.map((row) => ({
			timestamp: row.day,
			value: formatValue(row.value),
			...(hasDimensions ? { associated_cost: JSON.parse(row.series_key) as Record<string, string> } : {}),
		}));
		return c.json({ records, next_cursor: nextCursor }, 200);
	});
}

const WHOSE = "dimension of this stream";
