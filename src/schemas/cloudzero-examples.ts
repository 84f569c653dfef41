// Request bodies shown in the OpenAPI document: CloudZero's published telemetry examples
// (see the seeds), so a client written against CloudZero's docs recognizes them.
// A test parses every one with the service's own schemas, so they cannot drift from what is accepted.

type Example = { summary: string; description?: string; value: { records: Record<string, unknown>[] } };

/** Bodies for /sum, /replace and the legacy path. */
export const VALUE_BODY_EXAMPLES: Record<string, Example> = {
	"single-metric": {
		summary: "Single metric, no dimensions",
		description: "Cost per daily active user across the whole platform (stream `daily-active-user`).",
		value: { records: [{ timestamp: "2023-11-07", value: 10011 }] },
	},
	"one-dimension": {
		summary: "One dimension",
		description: "API calls broken out by a custom Company Services dimension.",
		value: {
			records: [
				{ timestamp: "2023-11-06", associated_cost: { "custom:Company Services": "aggregation" }, value: 10011 },
				{ timestamp: "2023-11-07", associated_cost: { "custom:Company Services": "streaming" }, value: 458.33 },
				{ timestamp: "2023-11-06", associated_cost: { "custom:Company Services": "allocate" }, value: 112.53 },
				{ timestamp: "2023-11-07", associated_cost: { "custom:Company Services": "budget" }, value: 225 },
			],
		},
	},
	"several-dimensions": {
		summary: "Several dimensions",
		description: "Cost per client per region: a custom dimension and the built-in `Region` (no `custom:` prefix).",
		value: {
			records: [
				{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 123", Region: "Australia" }, value: 84 },
				{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 456", Region: "Europe" }, value: 2978 },
				{ timestamp: "2023-11-01", associated_cost: { "custom:Client": "Client 789", Region: "North America" }, value: 26 },
			],
		},
	},
	"string-value": {
		summary: "Numeric string value, time of day",
		description: "Values may be numeric strings; the time of day is ignored (daily granularity, converted to UTC).",
		value: {
			records: [
				{
					timestamp: "2023-12-07T00:00:00",
					value: "12345",
					associated_cost: { "custom:Client": "Patric Star", "custom:Product": "Mayonaise", "custom:Product Group": "Instruments" },
				},
			],
		},
	},
};

/** Bodies for /delete: no value, timestamp required. */
export const DELETE_BODY_EXAMPLES: Record<string, Example> = {
	"one-series": {
		summary: "Delete one series on one day",
		value: {
			records: [
				{
					timestamp: "2023-12-07T00:00:00",
					associated_cost: { "custom:Client": "Patric Star", "custom:Product": "Mayonaise", "custom:Product Group": "Instruments" },
				},
			],
		},
	},
	"whole-day": {
		summary: "Delete every series of a day",
		description: "Without associated_cost, every series of the stream on that day is hidden.",
		value: { records: [{ timestamp: "2023-12-07" }] },
	},
};
