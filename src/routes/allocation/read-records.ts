import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { revocationInRead, streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { BOOKMARK_RESPONSE_HEADER, BookmarkHeadersSchema, readSession } from "../../http/read-session";
import { checkFilterKeys, csvPage, cursorPosition, dayRange, filterParams, isTuple, pageOf } from "../../http/reads";
import { streamNotFound } from "../../lib/api-error";
import { formatValue } from "../../lib/numbers";
import { ALLOCATION_GRANULARITIES, type Filter } from "../../schemas/allocation";
import {
	DaySchema,
	type DimensionFilter,
	FILTER_SYNTAX_DESCRIPTION,
	filterParamDocumentation,
	StreamNameSchema,
} from "../../schemas/common";
import {
	type AllocationValueRow,
	allocationValuesQuery,
	liveAllocationStreamQuery,
	liveAllocationStreamRow,
} from "../../storage/allocation-streams";
import { MAX_READ_LIMIT } from "../cloudzero/read-records";

const QuerySchema = z.object({
	start_date: DaySchema.optional().openapi({
		description: "First day, inclusive (YYYY-MM-DD): a MONTHLY stream's value of that day's month is included",
		example: "2024-01-01",
	}),
	end_date: DaySchema.optional().openapi({ description: "Last day, inclusive (YYYY-MM-DD)", example: "2024-01-31" }),
	limit: z.coerce.number().int().min(1).max(MAX_READ_LIMIT).default(1000),
	cursor: z.string().max(300).optional().openapi({ description: "next_cursor of the previous page" }),
	format: z.enum(["json", "csv"]).default("json"),
	element: z.string().min(1).max(1024).optional().openapi({ description: "Only this element's values", example: "customer-42" }),
	dim: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ "custom:feature": "billing" })),
	exclude: z
		.record(z.string(), z.string())
		.optional()
		.openapi(filterParamDocumentation({ "custom:feature": "search,export" }, "exclude")),
});
// `dim[...]` and `exclude[...]` parameters are the filters, read by filterParams; `dim` and `exclude` alone are no options.
const QUERY_OPTIONS = new Set(Object.keys(QuerySchema.shape).filter((key) => key !== "dim" && key !== "exclude"));

const ReadRecordSchema = z
	.object({
		timestamp: z.string().openapi({
			description: "The period: YYYY-MM-DDTHH:00:00Z (HOURLY), YYYY-MM-DD (DAILY) or YYYY-MM-01 (MONTHLY), in UTC",
			example: "2024-01-25",
		}),
		granularity: z.enum(ALLOCATION_GRANULARITIES),
		filter: z
			.record(z.string(), z.array(z.string()))
			.openapi({ description: "The filter group, values sorted", example: { "custom:feature": ["billing"] } }),
		element_name: z.string().openapi({ example: "customer-42" }),
		value: z.string().openapi({
			description: "Plain decimal string (never an exponent) of at most 15 significant digits, which can be sent back as it was read",
			example: "250000000",
		}),
	})
	.openapi("AllocationReadRecord");

const route = createRoute({
	method: "get",
	operationId: "readAllocationTelemetry",
	path: "/unit-cost/v1/telemetry/allocation/{name}",
	tags: ["CloudZero allocation telemetry"],
	summary: "Read an allocation stream's values",
	description: `Values in (period, filter, element) order, deleted ones excluded, in the shape they are written: a record read can be sent back as it is. ${FILTER_SYNTAX_DESCRIPTION} A value's filter lists values per name: \`dim\` keeps the values whose filter lists one of its values for that name, \`exclude\` those whose filter lists none of them (a filter without the name lists none). \`element\` keeps one element's values. Any other query parameter is refused (400 \`invalid_filter\`), and so is a filter on a name that is not one of the stream's filter keys (400 \`unknown_filter_keys\`). In CSV, each filter key is a column holding its values as a JSON array, and a text cell that a spreadsheet would run as a formula is prefixed with an apostrophe.`,
	...streamTokenWithScope("read", "in_read"),
	request: {
		params: z.object({ name: StreamNameSchema.openapi({ example: "my-allocation-stream" }) }),
		query: QuerySchema,
		headers: BookmarkHeadersSchema,
	},
	responses: {
		200: {
			description: "Values (JSON, or CSV with format=csv and the next cursor in X-Next-Cursor)",
			headers: BOOKMARK_RESPONSE_HEADER,
			content: {
				"application/json": {
					schema: z.object({ records: z.array(ReadRecordSchema), next_cursor: z.string().nullable() }).openapi("AllocationReadPage"),
				},
				"text/csv": { schema: z.string() },
			},
		},
		...errorResponses(400, 403, 404, 429),
	},
});

export function registerAllocationRead(app: OpenAPIHono<AppEnv>) {
	app.openapi(route, async (c) => {
		const { name } = c.req.valid("param");
		const query = c.req.valid("query");
		const org = c.get("token").org;
		const db = readSession(c);
		const revocation = revocationInRead(c, db);
		// One D1 round trip: the token's revocation, the stream and its values in one batch; a 404
		// still comes before the query's own 400s, and a 403 for a revoked token before both.
		let read: {
			startDay: string;
			endDay: string;
			after: [string, number, number] | null;
			filters: DimensionFilter[];
			elements: string[];
		};
		try {
			const [startDay, endDay] = dayRange(query.start_date, query.end_date);
			const after = cursorPosition(query.cursor, isTuple<[string, number, number]>("string", "integer", "integer"));
			const filters = filterParams(c.req.queries(), QUERY_OPTIONS, WHOSE);
			read = { startDay, endDay, after, filters, elements: query.element === undefined ? [] : [query.element] };
		} catch (err) {
			const [revoked, found] = await db.batch([revocation.statement, liveAllocationStreamQuery(db, org, name)]);
			await revocation.check(revoked);
			if (!liveAllocationStreamRow(found.results[0])) throw streamNotFound(name);
			throw err;
		}
		const [revoked, found, values] = await db.batch([
			revocation.statement,
			liveAllocationStreamQuery(db, org, name),
			allocationValuesQuery(db, { org, name, ...read, limit: query.limit + 1 }),
		]);
		await revocation.check(revoked);
		const stream = liveAllocationStreamRow(found.results[0]);
		if (!stream) throw streamNotFound(name);
		checkFilterKeys(read.filters, stream.filter_keys, WHOSE);
		const rows = values.results as AllocationValueRow[];
		const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.period, last.group_id, last.element_id]);

		if (query.format === "csv") {
			const keys = stream.filter_keys;
			const lines = page.map((row) => {
				const filter = JSON.parse(row.filter) as Filter;
				return [row.period, stream.granularity, row.element, formatValue(row.value), ...keys.map((k) => JSON.stringify(filter[k] ?? []))];
			});
			return csvPage(c, ["timestamp", "granularity", "element_name", "value", ...keys], lines, nextCursor);
		}
		const records = page.map((row) => ({
			timestamp: row.period,
			granularity: stream.granularity,
			filter: JSON.parse(row.filter) as Filter,
			element_name: row.element,
			value: formatValue(row.value),
		}));
		return c.json({ records, next_cursor: nextCursor }, 200);
	});
}

const WHOSE = "filter key of this stream";
