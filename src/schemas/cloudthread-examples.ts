// Request bodies shown in the OpenAPI document for POST /streams/ingest, in the shape of
// Cloudthread's published payload (see the seeds). test/service-openapi.test.ts sends each one.

type Example = {
	summary: string;
	description?: string;
	value: { data_stream_token: string; metric_agg_func: string; data: Record<string, unknown>[] };
};

export const INGEST_BODY_EXAMPLES: Record<string, Example> = {
	"hourly-sum": {
		summary: "Hourly points summed per day",
		description: "Timestamps in Cloudthread's documented form, on the hour; custom dimensions segment the metric.",
		value: {
			data_stream_token: "mlt_3q2-Vf...",
			metric_agg_func: "Sum",
			data: [
				{
					timestamp: "2022-10-01 00:00:00",
					metric_name: "api_requests",
					metric_value: 1200,
					custom_dimensions: { team: "growth", env: "prod" },
				},
				{
					timestamp: "2022-10-01 01:00:00",
					metric_name: "api_requests",
					metric_value: "980.5",
					custom_dimensions: { team: "growth", env: "prod" },
				},
			],
		},
	},
	"daily-average": {
		summary: "Daily data (time part 00:00:00), averaged",
		value: {
			data_stream_token: "mlt_3q2-Vf...",
			metric_agg_func: "Average",
			data: [{ timestamp: "2022-10-02T00:00:00Z", metric_name: "active_users", metric_value: 3.14 }],
		},
	},
};
