// Request bodies shown in the OpenAPI document for allocation telemetry: the shapes the real clients
// send (CloudZero's reference, the UCA toolkit, the usage-data shipper, the telemetry library), with
// values of our own. A test sends every one, so they cannot drift from what is accepted.

type Example = { summary: string; description?: string; value: { records: Record<string, unknown>[] } };

/** Bodies for /sum, /replace and the bare path. */
export const ALLOCATION_BODY_EXAMPLES: Record<string, Example> = {
	reference: {
		summary: "One customer's daily usage of a feature",
		description: "CloudZero's reference shape: `element_name`, a filter of three keys (one with two values), a numeric string.",
		value: {
			records: [
				{
					timestamp: "2024-01-25T00:00:00Z",
					granularity: "DAILY",
					filter: { "custom:feature": ["billing"], "tag:environment": ["prod"], "tag:owner": ["alice", "bob"] },
					element_name: "customer-42",
					value: "250000000",
				},
			],
		},
	},
	"uca-toolkit": {
		summary: "Hourly records as the UCA toolkit generates them",
		description: "`granularity` HOURLY, timestamps with a space and an offset, values as strings with the toolkit's 4 decimals.",
		value: {
			records: [
				{
					timestamp: "2024-02-08 00:00:00+00:00",
					granularity: "HOURLY",
					element_name: "customer 1",
					filter: { "custom:product": ["product A"] },
					value: "10.0000",
				},
				{
					timestamp: "2024-02-08 00:00:00+00:00",
					granularity: "HOURLY",
					element_name: "customer 2",
					filter: { "custom:product": ["product A"] },
					value: "30.0000",
				},
			],
		},
	},
	"usage-data-shipper": {
		summary: "Records as the usage-data shipper sends a CSV's rows",
		description: "Integer values, a `Z` timestamp with a space, and a filter value list split from `us-east-1|us-west-2`.",
		value: {
			records: [
				{
					timestamp: "2024-03-31 14:00:00Z",
					granularity: "DAILY",
					filter: { "custom:Technical Owner": ["finops@example.com"], region: ["us-east-1", "us-west-2"] },
					value: 833971,
					element_name: "tenant-a",
				},
			],
		},
	},
	"element-name": {
		summary: "The element as `element-name`",
		description: "The telemetry library's spelling, with a lower-case granularity, a number value and a timestamp without offset (UTC).",
		value: {
			records: [
				{
					granularity: "hourly",
					"element-name": "acme||analytics",
					filter: { "custom:Snowflake Warehouse": ["compute_wh"] },
					value: 1234.5,
					timestamp: "2024-02-08T13:00:00",
				},
			],
		},
	},
};

/** Bodies for /delete: no value. */
export const ALLOCATION_DELETE_EXAMPLES: Record<string, Example> = {
	"one-element": {
		summary: "Delete one element's value on one day",
		value: {
			records: [
				{
					timestamp: "2024-01-25T00:00:00Z",
					granularity: "DAILY",
					filter: { "custom:feature": ["billing"], "tag:environment": ["prod"], "tag:owner": ["alice", "bob"] },
					element_name: "customer-42",
				},
			],
		},
	},
	"whole-period": {
		summary: "Delete every value of a day",
		description: "Without filter and element, every value of the stream in that period is hidden.",
		value: { records: [{ timestamp: "2024-01-25", granularity: "DAILY" }] },
	},
};

/** Bodies for the oldest POST /unit-cost/v1/telemetry: each record names its stream. */
export const LEGACY_TELEMETRY_EXAMPLES: Record<string, Example> = {
	"telemetry-api": {
		summary: "CloudZero's first telemetry format",
		description: "`element-name` and `telemetry-stream` in each record.",
		value: {
			records: [
				{
					timestamp: "2024-01-25T00:00:00Z",
					granularity: "DAILY",
					filter: { "custom:feature": ["billing"], "tag:environment": ["prod"] },
					"element-name": "customer-42",
					"telemetry-stream": "records-processed",
					value: "250000000",
				},
			],
		},
	},
	"telemetry-library": {
		summary: "Records as the telemetry library sends them",
		description: "Lower-case `hourly`, a float value and Python's `isoformat()` timestamp (microseconds, no offset: UTC).",
		value: {
			records: [
				{
					granularity: "hourly",
					"element-name": "acme||analytics||reporting||prod||api",
					filter: { "custom:Snowflake Warehouse": ["compute_wh"] },
					"telemetry-stream": "snowflake-telemetry",
					value: 8123.0,
					timestamp: "2024-02-08T13:00:00.250000",
				},
			],
		},
	},
};
