import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamTokenWithScope } from "../../auth/middleware";
import type { AppEnv } from "../../http/app-env";
import { errorResponses } from "../../http/errors";
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyOf, markReplayed } from "../../http/idempotency";
import { enforceRecordLimit, maxBodyBytes, readJsonBody } from "../../http/json-body";
import { withOwnBody } from "../../http/own-body-route";
import { BOOKMARK_RESPONSE_HEADER, setBookmark } from "../../http/read-session";
import { ApiError, IDEMPOTENCY_KEY_REUSED } from "../../lib/api-error";
import { type AllocationWriteCommand, allocationStreamObject } from "../../objects/allocation-stream-protocol";
import { failureToError } from "../../objects/outcome";
import {
	type AllocationAccepted,
	AllocationAcceptedSchema,
	AllocationBodySchema,
	AllocationDeleteBodySchema,
	parseAllocationDelete,
	parseAllocationValues,
} from "../../schemas/allocation";
import { ALLOCATION_BODY_EXAMPLES, ALLOCATION_DELETE_EXAMPLES } from "../../schemas/allocation-examples";
import { WRITE_OPERATIONS, type WriteOperation } from "../../schemas/cloudzero";
import { DOT_SEGMENTS, IdempotencyHeadersSchema, StreamNameSchema } from "../../schemas/common";
import { allocationChunks } from "../../storage/allocation-streams";

const BASE = "/unit-cost/v1/telemetry/allocation/{name}";
/** The last segments of …/allocation/{name}/… paths: a bare write to a stream of that name is ambiguous. */
const OPERATION_SEGMENTS: ReadonlySet<string> = new Set([...WRITE_OPERATIONS, "log"]);

const ParamsSchema = z.object({ name: StreamNameSchema.openapi({ example: "my-allocation-stream" }) });
const BareParamsSchema = z.object({
	name: StreamNameSchema.openapi({
		description: "As for the other write paths, and also not `sum`, `replace`, `delete` or `log` (see the description)",
		not: { enum: [...DOT_SEGMENTS, ...OPERATION_SEGMENTS] },
		example: "my-allocation-stream",
	}),
});

const DESCRIPTIONS: Record<WriteOperation | "bare", string> = {
	sum: "Adds each record's value to the stored value of its period, filter and element. Records may be finer than the stream's granularity (an HOURLY record at 10:25 counts for 10:00; a DAILY one at any hour for its UTC day). Creates the stream if it does not exist: its first write fixes its granularity and filter keys, and a later record with another granularity (400 `inconsistent_granularity`) or other filter keys (400 `inconsistent_filter_keys`) is refused. A request is applied whole or not at all.",
	bare: "Deprecated CloudZero endpoint, identical to /sum, except that it refuses the stream names `sum`, `replace`, `delete` and `log` (400 `invalid_stream_name`): URLs resolve dot segments, so `…/allocation/./replace` reaches the service as `…/allocation/replace`. Write to such a stream with `…/allocation/replace/sum`.",
	replace:
		"Sets the value of each period, filter and element the request names to the request's total for it (its records there are added up first), or adds it when there is none; other values are left alone. Creates the stream if it does not exist, as /sum does.",
	delete:
		"Soft-deletes, for each record's period, the values it matches: every value of the period, or only the element's (if the record names one) and only those whose filter has, for each key the record's filter gives, exactly those values (in any order). The record's granularity must be the stream's; the stream must exist (404). Values are kept apart, hidden from reads.",
};

function writeRoute(variant: WriteOperation | "bare") {
	const op: WriteOperation = variant === "bare" ? "sum" : variant;
	return createRoute({
		method: "post",
		// CloudZero's own names for these operations.
		operationId: `${variant === "bare" ? "post" : variant}AllocationTelemetry`,
		path: variant === "bare" ? BASE : `${BASE}/${variant}`,
		tags: ["CloudZero allocation telemetry"],
		summary: variant === "bare" ? "Sum allocation records (legacy path)" : `${op[0].toUpperCase()}${op.slice(1)} allocation records`,
		description: DESCRIPTIONS[variant],
		deprecated: variant === "bare",
		...streamTokenWithScope("write", "at_commit"),
		request: {
			params: variant === "bare" ? BareParamsSchema : ParamsSchema,
			headers: IdempotencyHeadersSchema,
			// Documented here; parsed by the handler, which enforces the size limits first.
			body: {
				content: {
					"application/json":
						op === "delete"
							? { schema: AllocationDeleteBodySchema, examples: ALLOCATION_DELETE_EXAMPLES }
							: { schema: AllocationBodySchema, examples: ALLOCATION_BODY_EXAMPLES },
				},
				required: true,
			},
		},
		responses: {
			200: {
				description: "Telemetry accepted (durably written), or the first response again for a repeated Idempotency-Key",
				headers: { ...IDEMPOTENT_REPLAYED_HEADER, ...BOOKMARK_RESPONSE_HEADER },
				content: { "application/json": { schema: AllocationAcceptedSchema } },
			},
			...errorResponses(400, 403, ...(op === "delete" ? [404] : []), IDEMPOTENCY_KEY_REUSED, 413, 415, 429, 503),
		},
	});
}

export function registerAllocationWrite(app: OpenAPIHono<AppEnv>) {
	for (const variant of ["bare", "sum", "replace", "delete"] as const) {
		const op: WriteOperation = variant === "bare" ? "sum" : variant;
		app.openapi(withOwnBody(app, writeRoute(variant)), async (c) => {
			const { name } = c.req.valid("param");
			if (variant === "bare" && OPERATION_SEGMENTS.has(name)) {
				throw new ApiError(
					400,
					"invalid_stream_name",
					`POST …/allocation/${name} is refused: it is what …/allocation/./${name} becomes once the URL's dot segment is resolved. To sum into a stream named '${name}', POST …/allocation/${name}/sum`,
				);
			}
			c.set("logFields", { stream: name, operation: op });
			const body = await readJsonBody(c, maxBodyBytes(c.env));
			enforceRecordLimit(c.env, (body.json as { records?: unknown } | null)?.records, "records");
			const command = op === "delete" ? deleteCommand(body.json, name) : valuesCommand(op, body.json, name);
			c.set("logFields", { stream: name, operation: op, records: command.op === "delete" ? command.matches.length : command.recordCount });
			return c.json(await sendAllocationWrite(c, command, await idempotencyOf(c, op, body.text)), 200);
		});
	}
}

/** A write as the Worker plans it; the object's call adds who asks for it. */
type Planned<T> = Omit<T, "org" | "requestId" | "tokenId" | "idempotency">;
type PlannedValues = Planned<Extract<AllocationWriteCommand, { op: "sum" | "replace" }>>;
type PlannedWrite = PlannedValues | Planned<Extract<AllocationWriteCommand, { op: "delete" }>>;

/** A sum or replace body, validated completely, as the command its stream's object applies. */
export function valuesCommand(op: "sum" | "replace", json: unknown, pathStream: string | null): PlannedValues {
	const parsed = parseAllocationValues(json, pathStream);
	return {
		op,
		stream: parsed.stream,
		granularity: parsed.granularity,
		filterKeys: parsed.filterKeys,
		recordCount: parsed.recordCount,
		chunks: allocationChunks(parsed.rows),
	};
}

function deleteCommand(json: unknown, stream: string): PlannedWrite {
	return { op: "delete", stream, matches: parseAllocationDelete(json, stream) };
}

/** Sends a validated write to its stream's object; its answer, or the error it answered. */
export async function sendAllocationWrite(
	c: Context<AppEnv>,
	command: PlannedWrite,
	idempotency: Awaited<ReturnType<typeof idempotencyOf>>,
): Promise<AllocationAccepted> {
	const token = c.get("token");
	const result = await allocationStreamObject(c.env, token.org, command.stream).write({
		...command,
		org: token.org,
		requestId: c.get("requestId"),
		tokenId: token.id,
		idempotency,
	} as AllocationWriteCommand);
	if (!result.ok) throw failureToError(result, c.get("refuseToken"));
	markReplayed(c, result.replayed);
	setBookmark(c, result.bookmark);
	return result.response;
}
