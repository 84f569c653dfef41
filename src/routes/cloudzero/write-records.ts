import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { enforceRecordLimit, maxBodyBytes, readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER, setBookmark } from "../../http/read-session";
import { ApiError, IDEMPOTENCY_KEY_REUSED } from "../../lib/api-error";
import { streamObject, type WriteCommand } from "../../objects/cloudzero-stream-protocol";
import { failureToError } from "../../objects/outcome";
import {
	DeleteBodySchema,
	type DeleteMatch,
	dayTotals,
	plainSumRecords,
	SumBodySchema,
	type ValueRow,
	WRITE_OPERATIONS,
	WriteAcceptedSchema,
	type WriteOperation,
} from "../../schemas/cloudzero";
import { DELETE_BODY_EXAMPLES, VALUE_BODY_EXAMPLES } from "../../schemas/cloudzero-examples";
import { DOT_SEGMENTS, IdempotencyHeadersSchema, StreamNameSchema, StreamParamsSchema } from "../../schemas/common";
import { checkDimensionKeys, parseOrThrow, validationError } from "../../schemas/validation";
import { type ValueChunk, valueChunks } from "../../storage/streams";

const BASE = "/unit-cost/v1/telemetry/metric/{name}";
/** The last segments of …/metric/{name}/… paths: a legacy write to a stream of that name is ambiguous. */
const OPERATION_SEGMENTS: ReadonlySet<string> = new Set([...WRITE_OPERATIONS, "log"]);
const LegacyParamsSchema = z.object({
	name: StreamNameSchema.openapi({
		description: "As for the other write paths, and also not `sum`, `replace`, `delete` or `log` (see the description)",
		not: { enum: [...DOT_SEGMENTS, ...OPERATION_SEGMENTS] },
	}),
});

const DESCRIPTIONS: Record<WriteOperation | "legacy", string> = {
	sum: "Adds each record's value to the day's value of its dimension set (records may be hourly; they are aggregated to the UTC day). Creates the stream if it does not exist. A sum whose day's value would overflow is refused (400 `value_overflow`, naming the record); nothing of the request is applied.",
	legacy:
		"Deprecated CloudZero endpoint, identical to /sum, except that it refuses the stream names `sum`, `replace`, `delete` and `log` (400 `invalid_stream_name`): URLs resolve dot segments, so `…/metric/./replace` reaches the service as `…/metric/replace`, and is refused rather than summed into a stream named `replace`. Write to such a stream with `…/metric/replace/sum`.",
	replace:
		"Sets the day's value of each dimension set the request names to the request's total for that day: records of one request on the same day and dimension set (hourly records, say) are summed first, as CloudZero aggregates finer-grained data to the day, and that sum replaces the stored value (or is added if there is none). Creates the stream if it does not exist.",
	delete:
		"Soft-deletes, for each record's day, every series matching the supplied dimensions (all series of that day when none are supplied). The stream must exist.",
};

function writeRoute(variant: WriteOperation | "legacy") {
	const op: WriteOperation = variant === "legacy" ? "sum" : variant;
	return createRoute({
		method: "post",
		// CloudZero's own names for these operations.
		operationId: `${variant === "legacy" ? "post" : variant}MetricTelemetry`,
		path: variant === "legacy" ? BASE : `${BASE}/${variant}`,
		tags: ["CloudZero telemetry"],
		summary: variant === "legacy" ? "Sum records (legacy path)" : `${op[0].toUpperCase()}${op.slice(1)} records`,
		description: DESCRIPTIONS[variant],
		deprecated: variant === "legacy",
		...streamTokenWithScope("write", "at_commit"),
		request: {
			params: variant === "legacy" ? LegacyParamsSchema : StreamParamsSchema,
			headers: IdempotencyHeadersSchema,
			// Documented here; parsed by the handler, which enforces the size limits first.
			body: {
				content: {
					"application/json":
						op === "delete"
							? { schema: DeleteBodySchema, examples: DELETE_BODY_EXAMPLES }
							: { schema: SumBodySchema, examples: VALUE_BODY_EXAMPLES },
				},
				required: true,
			},
		},
		responses: {
			200: {
				description: "Telemetry accepted (durably written), or the first response again for a repeated Idempotency-Key",
				headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
				content: { "application/json": { schema: WriteAcceptedSchema } },
			},
			...errorResponses(400, 403, ...(op === "delete" ? [404] : []), IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
		},
	});
}

export function registerMetricWrite(app: OpenAPIHono<AppEnv>) {
	for (const variant of ["legacy", "sum", "replace", "delete"] as const) {
		const op: WriteOperation = variant === "legacy" ? "sum" : variant;
		const route = writeRoute(variant);
		app.openapi(withOwnBody(app, route), async (c) => {
			const { name } = c.req.valid("param");
			if (variant === "legacy" && OPERATION_SEGMENTS.has(name)) {
				throw new ApiError(
					400,
					"invalid_stream_name",
					`POST …/metric/${name} is refused: it is what …/metric/./${name} becomes once the URL's dot segment is resolved. To sum into a stream named '${name}', POST …/metric/${name}/sum`,
				);
			}
			const token = c.get("token");
			c.set("logFields", { stream: name, operation: op });
			const body = await readJsonBody(c, maxBodyBytes(c.env));
			const command = parseWrite(c.env, op, body.json);
			c.set("logFields", { stream: name, operation: op, records: command.op === "delete" ? command.matches.length : command.recordCount });
			const idempotency = await idempotencyOf(c, op, body.text);
			const result = await streamObject(c.env, token.org, name).write({
				...command,
				org: token.org,
				stream: name,
				requestId: c.get("requestId"),
				tokenId: token.id,
				idempotency,
			} as WriteCommand);
			if (!result.ok) throw failureToError(result, c.get("refuseToken"));
			markReplayed(c, result.replayed);
			setBookmark(c, result.bookmark);
			return c.json(result.response, 200);
		});
	}
}

type ParsedWrite =
	| { op: "sum" | "replace"; dimensionKeys: string[]; recordCount: number; chunks: ValueChunk[] }
	| { op: "delete"; matches: DeleteMatch[] };

/** Validates a write body completely, listing every problem, before anything is written. */
function parseWrite(env: Env, op: WriteOperation, body: unknown): ParsedWrite {
	enforceRecordLimit(env, (body as { records?: unknown } | null)?.records, "records");
	if (op === "delete") {
		const parsed = parseOrThrow(DeleteBodySchema, body);
		return { op, matches: parsed.records.map((r) => [r.timestamp, r.associated_cost ?? {}]) };
	}
	const valid = plainSumRecords(body) ?? parseOrThrow(SumBodySchema, body).records;

	// The stream's object then checks the request's dimension keys against the stream's.
	const { dimensionKeys, details } = checkDimensionKeys(valid);
	if (details.length > 0) throw validationError(details);
	const totals = dayTotals(valid, dimensionKeys);
	if (totals.details.length > 0) throw validationError(totals.details);
	const rows = totals.rows.map((t): ValueRow => [t.day, t.seriesKey, t.value, t.record]);
	return { op, dimensionKeys, recordCount: valid.length, chunks: valueChunks(rows) };
}
