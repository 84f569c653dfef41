// Cost: the zod schemas of billing drops (CBF rows) in, custom dimensions, and cost and unit cost
// out. They validate requests and make the OpenAPI document; the rules they document (CBF rows,
// months, dimension names) are plain functions in src/cost.

import { CBF_NUMBER_PATTERN, COLUMN_KIND, COST_TYPES, MAX_CBF_NUMBER, MAX_CBF_TEXT_LENGTH, TAG_COLUMN_PATTERN } from "../cost/cbf-rows";
import { COST_DIMENSION_PATTERN, CUSTOM_DIMENSION_NAME, DIMENSION_SOURCE_PATTERN } from "../cost/dimensions";
import { MAX_MONTHS_AHEAD, MONTH_PATTERN, parseMonth } from "../cost/months";
import { TIMESTAMP_PATTERN } from "../lib/timestamps";
import { DaySchema, type FilterKind, fail, filterParamDocumentation, NewOrgSchema, StreamNameSchema, wellFormed } from "./common";
import { z } from "./zod";

// ---- names -----------------------------------------------------------------------------------

/**
 * A connection id: 1 to 128 characters of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '.'
 * (so never the dot segments '.' and '..', which no URL can address). CloudZero's ids (UUIDs)
 * and LiteLLM's `conn_…` fit.
 */
export const CONNECTION_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
export const ConnectionIdSchema = z
	.string()
	.refine((id) => CONNECTION_ID.test(id), {
		message: "a connection id is 1 to 128 characters of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '.'",
		params: { code: "invalid_format" },
	})
	.openapi({
		param: { name: "connection_id", in: "path" },
		description:
			"1 to 128 characters of A-Z, a-z, 0-9, `_`, `.` and `-`, not starting with `.`. The connection is created by its first drop.",
		pattern: CONNECTION_ID.source,
		example: "0b7f3c52-1f4e-4d8a-9a57-6c0e5f1d2a33",
	});

// ---- billing drops ---------------------------------------------------------------------------

export const DROP_OPERATIONS = ["replace_drop", "replace_hourly", "sum"] as const;
export type DropOperation = (typeof DROP_OPERATIONS)[number];

const CbfTextSchema = z.string().max(MAX_CBF_TEXT_LENGTH);
const CbfNumberSchema = z
	.union([z.number().min(-MAX_CBF_NUMBER).max(MAX_CBF_NUMBER), z.string().max(MAX_CBF_TEXT_LENGTH).regex(new RegExp(CBF_NUMBER_PATTERN))])
	.openapi({
		description: `A JSON number or a decimal string within ±${MAX_CBF_NUMBER} (inclusive): at most 15 digits before the point (or exactly 10^15), no commas, an exponent only negative (8e-7 is read exactly); negative for discounts and credits. Costs keep 10 decimal places: more are rounded to 10 (halves away from zero). A JSON number is a double, exact to about 15 significant digits: send a string for more.`,
	});
const CbfTimeSchema = z.string().openapi({
	description: "ISO 8601 date-time (or date), optional UTC offset within ±14:00; no offset means UTC; from 1900-01-01T00:00:00Z on",
	pattern: TIMESTAMP_PATTERN,
});

const COLUMN_DESCRIPTIONS: Record<string, string> = {
	"lineitem/type":
		"Usage (the default), Tax, Support, Purchase, CommittedUsePurchase, Discount, Credit, Fee, Refund, ...: dimension LineItemType",
	"time/usage_start": "Required. The hour the charge applies to (minutes and seconds are ignored)",
	"time/usage_end": "Checked, then ignored: every charge is placed in the hour of time/usage_start",
	"resource/id": "Dimension Resource. Required when a resource/tag:<key> column is present",
	"resource/service": "Dimension Service",
	"resource/account": "Dimension Account",
	"resource/region": "Dimension Region (no-region when absent)",
	"resource/usage_family": "Dimension UsageFamily",
	"action/region": "Deprecated alias of resource/region (used when resource/region is absent)",
	"action/account": "Deprecated alias of resource/account (used when resource/account is absent)",
	"cost/cost": "Required. The billed cost",
};

const cbfShape: Record<string, z.ZodType> = {};
for (const [column, kind] of COLUMN_KIND) {
	const base = kind === "text" ? CbfTextSchema : kind === "time" ? CbfTimeSchema : CbfNumberSchema;
	const described = COLUMN_DESCRIPTIONS[column] ? base.openapi({ description: COLUMN_DESCRIPTIONS[column] }) : base;
	cbfShape[column] = column === "time/usage_start" || column === "cost/cost" ? described : described.optional();
}

/** A CBF row, for the OpenAPI document (parseCbfRows in cost/cbf-rows.ts checks it). */
export const CbfRowSchema = z
	.object(cbfShape)
	.catchall(CbfTextSchema.openapi({ description: "A tag: resource/tag:<key>" }))
	.openapi("CbfRow", {
		description:
			"One charge in CloudZero's Common Bill Format: an object keyed by column name. Any other column is refused (unknown_field). Costs absent from the row (discounted, amortized, ...) are its cost/cost. Text values and tag keys must be valid Unicode: a lone UTF-16 surrogate is refused (invalid_unicode).",
		propertyNames: { type: "string", pattern: `^(?:${[...COLUMN_KIND.keys()].join("|")}|${TAG_COLUMN_PATTERN.slice(1, -1)})$` },
		example: {
			"time/usage_start": "2024-08-16T10:00:00Z",
			"cost/cost": "12.5",
			"resource/service": "Compute",
			"resource/id": "instance-1",
			"resource/tag:customer": "acme",
		},
	} as object);

const CurrencySchema = z
	.string()
	.regex(/^[A-Z]{3}$/, "currency is an ISO 4217 code such as USD")
	.openapi({
		description:
			"ISO 4217 code of the drop's costs (CBF has no currency column). The connection's first drop sets it (USD when absent); a later drop in another currency is refused (409 currency_mismatch).",
		example: "USD",
	});

const MonthSchema = z
	.string()
	.openapi({
		description: `The billing month: YYYY-MM, or an ISO 8601 date-time in that month (UTC). When absent, the month of the rows (which must then all be in one month). Every row must be in it. At most ${MAX_MONTHS_AHEAD} months after the current UTC month (400 \`future_month\` otherwise).`,
		anyOf: [{ pattern: MONTH_PATTERN }, { pattern: TIMESTAMP_PATTERN }],
		example: "2024-08",
	} as object)
	.transform((input, ctx) => {
		const month = parseMonth(input);
		return typeof month === "string" ? month : fail(ctx, "invalid_timestamp", month.error);
	});

const dropFields = {
	month: MonthSchema.optional(),
	operation: z.enum(DROP_OPERATIONS).default("replace_drop").openapi({
		description:
			"replace_drop (default): replaces all of this connection's cost in the month; replace_hourly: replaces this connection's cost in each hour the drop has rows for; sum: adds to what is there.",
	}),
	currency: CurrencySchema.optional(),
};

/** The billing drop as the handler parses it: the rows are checked by parseCbfRows (cost/cbf-rows.ts). */
export const DropBodyParseSchema = z.strictObject({ ...dropFields, data: z.array(z.unknown()).min(1, "data must not be empty") });

/** The billing drop as the document shows it. */
export const DropBodySchema = z
	.strictObject({ ...dropFields, data: z.array(CbfRowSchema).min(1).openapi({ description: "CBF rows; one request is at most 5 MB" }) })
	.openapi("BillingDrop");

export const DropAcceptedSchema = z
	.object({
		message: z.literal("Billing drop accepted"),
		drop_id: z.string().openapi({ description: "This drop's id (its request id); the connection's ingest log lists it" }),
		connection_id: z.string(),
		operation: z.enum(DROP_OPERATIONS),
		month: z.string().openapi({ example: "2024-08" }),
		currency: z.string().openapi({ example: "USD" }),
		rows: z.number().int().openapi({ description: "CBF rows in the drop" }),
		hours: z.number().int().openapi({ description: "Distinct hours the rows fall in" }),
		hours_replaced: z.number().int().openapi({
			description:
				"Hours whose earlier cost was replaced: every hour of the month (replace_drop), the drop's hours (replace_hourly), 0 (sum)",
		}),
		connection_created: z.boolean(),
		request_id: z.string(),
	})
	.openapi("BillingDropAccepted");
export type DropAccepted = z.infer<typeof DropAcceptedSchema>;

// ---- custom dimensions ----------------------------------------------------------------------

/** An organization in a path: as NewOrgSchema (tokens are only created for such orgs). */
export const OrgPathSchema = NewOrgSchema.openapi({ param: { name: "org", in: "path" } });

export const DimensionParamsSchema = z.object({
	org: OrgPathSchema,
	name: z
		.string()
		.regex(CUSTOM_DIMENSION_NAME, "a custom dimension name is 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '.'")
		.openapi({
			param: { name: "name", in: "path" },
			description: "The name after `custom:`",
			pattern: CUSTOM_DIMENSION_NAME.source,
			example: "Customer",
		}),
});

export const DimensionBodySchema = z
	.strictObject({
		source: wellFormed(
			z
				.string()
				.regex(
					new RegExp(DIMENSION_SOURCE_PATTERN, "u"),
					"source is Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key> or allocation:<stream>",
				),
			"source",
		).openapi({
			description:
				"The dimension it names: Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key> (also Tag:<key>) or allocation:<stream> (an allocation stream's elements, see docs/unit-cost.md)",
			pattern: DIMENSION_SOURCE_PATTERN,
			example: "tag:customer",
		}),
	})
	.openapi("CustomDimensionDefinition");

export const CustomDimensionSchema = z
	.object({
		org: z.string(),
		name: z.string().openapi({ example: "custom:Customer" }),
		source: z.string().openapi({ example: "tag:customer" }),
		updated_at: z.string(),
	})
	.openapi("CustomDimension");

// ---- reads -----------------------------------------------------------------------------------

const CostTypeSchema = z.enum(COST_TYPES).default("cost").openapi({ description: "Which CBF cost is read" });
const GranularitySchema = z
	.enum(["day", "month"])
	.default("day")
	.openapi({ description: "Periods: UTC days (YYYY-MM-DD) or months (YYYY-MM)" });
const GroupBySchema = z.string().openapi({ pattern: COST_DIMENSION_PATTERN, example: "Service" } as object);

/** A cost filter parameter (dim or exclude) as the document shows it: its names are cost dimensions. */
const costFilterParam = (example: Record<string, string>, kind: FilterKind) =>
	z
		.record(z.string(), z.string())
		.optional()
		.openapi({
			...filterParamDocumentation(example, kind),
			propertyNames: { type: "string", pattern: COST_DIMENSION_PATTERN },
		} as object);

export const CostQuerySchema = z.object({
	start_date: DaySchema.optional().openapi({ description: "First UTC day, inclusive (YYYY-MM-DD)", example: "2024-08-01" }),
	end_date: DaySchema.optional().openapi({ description: "Last UTC day, inclusive (YYYY-MM-DD)", example: "2024-08-31" }),
	granularity: GranularitySchema,
	cost_type: CostTypeSchema,
	group_by: GroupBySchema.optional().openapi({
		description:
			"A cost dimension: Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key> (or Tag:<key>), or custom:<name> of a defined custom dimension",
	}),
	limit: z.coerce.number().int().min(1).max(50_000).default(1000),
	cursor: z.string().max(4000).optional().openapi({ description: "next_cursor of the previous page" }),
	format: z.enum(["json", "csv"]).default("json"),
	dim: costFilterParam({ Service: "Compute" }, "dim"),
	exclude: costFilterParam({ LineItemType: "Tax,Credit" }, "exclude"),
});

const PeriodSchema = z.string().openapi({ description: "YYYY-MM-DD (day) or YYYY-MM (month), UTC", example: "2024-08-16" });
const AmountSchema = z.string().openapi({
	description:
		"Plain decimal string (never an exponent): the exact sum, rounded once to 15 significant digits; it can be sent back as it was read",
	example: "12",
});

export const CostPageSchema = z
	.object({
		costs: z.array(
			z.object({
				period: PeriodSchema,
				group: z
					.record(z.string(), z.string())
					.openapi({ description: "The group_by dimension and its value ({} without group_by)", example: { Service: "Compute" } }),
				currency: z.string().openapi({ example: "USD" }),
				cost: AmountSchema,
			}),
		),
		next_cursor: z.string().nullable(),
	})
	.openapi("CostPage");

export const UnitCostParamsSchema = z.object({
	// A CloudZero telemetry stream, named as on the telemetry paths.
	metric_name: StreamNameSchema.openapi({ param: { name: "metric_name", in: "path" } }),
});

export const UnitCostQuerySchema = z.object({
	start_date: DaySchema.optional().openapi({ description: "First UTC day, inclusive (YYYY-MM-DD)", example: "2024-08-01" }),
	end_date: DaySchema.optional().openapi({ description: "Last UTC day, inclusive (YYYY-MM-DD)", example: "2024-08-31" }),
	granularity: GranularitySchema,
	cost_type: CostTypeSchema,
	group_by: z.string().min(1).optional().openapi({
		description: "One of the stream's associated_cost names (e.g. custom:Customer): one result per value of it",
		example: "custom:Client",
	}),
	dim: costFilterParam({ Service: "Compute" }, "dim"),
	exclude: costFilterParam({ LineItemType: "Tax,Credit" }, "exclude"),
});

export const UnitCostSchema = z
	.object({
		metric: z.string(),
		granularity: z.enum(["day", "month"]),
		cost_type: z.enum(COST_TYPES),
		results: z.array(
			z.object({
				period: PeriodSchema,
				group: z.record(z.string(), z.string()).openapi({ example: { "custom:Client": "Patric Star" } }),
				currency: z.string().nullable().openapi({ description: "null when no cost matched the group in the period", example: "USD" }),
				units: AmountSchema.openapi({ example: "600" }),
				cost: AmountSchema,
				unit_cost: z.string().nullable().openapi({
					description:
						"cost ÷ units, computed exactly and rounded once to 15 significant digits (plain decimal); null when units are 0, or when the quotient is beyond ±1.79769313486231e308 or so small that a double holds it as 0",
					example: "0.02",
				}),
			}),
		),
		unmatched_cost: z.array(z.object({ period: PeriodSchema, currency: z.string(), cost: AmountSchema })),
		unknown_dimensions: z.array(z.string()).openapi({
			description:
				"associated_cost names of the stream that name no cost dimension (e.g. an undefined custom:<name>): their series match no cost",
		}),
	})
	.openapi("UnitCost");
