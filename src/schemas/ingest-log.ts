// The ingest log as both telemetry APIs read it (GET …/metric/{name}/log, …/allocation/{name}/log):
// one query and one page shape, so the two logs page alike.
import { z } from "./zod";

export const IngestLogQuerySchema = z.object({
	limit: z.coerce.number().int().min(1).max(1000).default(100),
	cursor: z
		.string()
		.regex(/^\d+$/, "cursor is not one this service returned")
		.optional()
		.openapi({ description: "next_cursor of the previous page" }),
});

const IngestLogEntrySchema = z
	.object({
		request_id: z.string(),
		operation: z.enum(["sum", "replace", "delete", "delete_stream"]),
		token_id: z.string().openapi({ description: "The token that made the request" }),
		record_count: z.number().int(),
		created_at: z.string(),
		idempotency_key: z.string().nullable().openapi({ description: "Kept for 24 hours" }),
	})
	.openapi("IngestLogEntry");

export type IngestLogEntry = z.infer<typeof IngestLogEntrySchema>;

export const IngestLogPageSchema = z
	.object({ entries: z.array(IngestLogEntrySchema), next_cursor: z.string().nullable() })
	.openapi("IngestLogPage");
