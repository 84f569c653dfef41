// The one error shape of every endpoint, as zod schemas: the OpenAPI document's ErrorResponse
// and ErrorDetail, with the closed set of codes (src/lib/error-catalog.ts) as their enum.

import type { ErrorDetail } from "../lib/api-error";
import { ERROR_CODES, errorCatalogMarkdown } from "../lib/error-catalog";
import { z } from "./zod";

const ErrorCodeSchema = z.enum(ERROR_CODES);

/** One problem with one part of a request, e.g. one record's field. */
export const ErrorDetailSchema = z
	.object({
		code: ErrorCodeSchema.openapi({ description: "One of the service's error codes (see ErrorResponse)", example: "negative_value" }),
		message: z.string().openapi({ example: "value must not be negative" }),
		record: z
			.number()
			.int()
			.optional()
			.openapi({ description: "Index of the offending record in the request's records array", example: 3 }),
		path: z.string().optional().openapi({ example: "records[3].value" }),
	})
	.openapi("ErrorDetail");

/** The one error shape every endpoint answers with. */
export const ErrorResponseSchema = z
	.object({
		error: z.object({
			code: ErrorCodeSchema.openapi({
				description: `Machine-readable error code, one of a closed set:\n\n${errorCatalogMarkdown()}`,
				example: "invalid_schema",
			}),
			message: z.string().openapi({ example: "Invalid Schema: 1 record is invalid" }),
			request_id: z.string().openapi({ example: "3f1c0a52-2a57-4cf3-9d2c-51b5b5b0f9c1" }),
			details: z.array(ErrorDetailSchema).optional().openapi({ description: "Per-record problems (at most 100 are listed)" }),
			details_total: z.number().int().optional().openapi({ description: "How many problems were found in all" }),
		}),
	})
	.openapi("ErrorResponse");

export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

// The plain ErrorDetail of lib/api-error.ts is this schema's type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _detailTypesAgree: Same<z.infer<typeof ErrorDetailSchema>, ErrorDetail> = true;
void _detailTypesAgree;
