import { expect } from "vitest";
import { api, json } from "./helpers";

export type DataPoint = {
	timestamp: unknown;
	metric_name: unknown;
	metric_value: unknown;
	custom_dimensions?: unknown;
};

export function point(timestamp: unknown, metric_name: unknown, metric_value: unknown, custom_dimensions?: unknown): DataPoint {
	return custom_dimensions === undefined
		? { timestamp, metric_name, metric_value }
		: { timestamp, metric_name, metric_value, custom_dimensions };
}

export function ingest(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
	return api("/streams/ingest", json("POST", body, headers));
}

export function ingestBody(token: string, aggFunc: string, data: DataPoint[]) {
	return { data_stream_token: token, metric_agg_func: aggFunc, data };
}

export interface IngestCreated {
	message: string;
	metric_agg_func: string;
	record_ids: string[];
	counts: { data_points: number; hourly_points_written: number; record_ids: number; metrics: number; daily_values_recomputed: number };
	request_id: string;
}

export async function expectCreated(res: Response): Promise<IngestCreated> {
	const body = await res.json<IngestCreated>();
	expect(res.status, JSON.stringify(body)).toBe(201);
	expect(body.message).toBe("Data ingested");
	expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
	return body;
}

/** Ingests and expects 201. */
export async function send(token: string, aggFunc: string, data: DataPoint[]): Promise<IngestCreated> {
	return expectCreated(await ingest(ingestBody(token, aggFunc, data)));
}

export interface MetricPoint {
	timestamp: string;
	record_id: string;
	metric_value: string;
	hours?: number;
	custom_dimensions: Record<string, string>;
}

export interface MetricPoints {
	metric_name: string;
	metric_agg_func: string;
	granularity: string;
	data: MetricPoint[];
	next_cursor: string | null;
}

export function readMetricRaw(token: string, name: string, query: string): Promise<Response> {
	return api(`/streams/metrics/${encodeURIComponent(name)}?${query}`, { headers: { Authorization: token } });
}

export async function readMetric(token: string, name: string, query: string): Promise<MetricPoints> {
	const res = await readMetricRaw(token, name, query);
	const body = await res.json<MetricPoints>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body;
}

/** [timestamp, value] pairs of a metric's points, for compact assertions. */
export async function values(token: string, name: string, query: string): Promise<Array<[string, string]>> {
	return (await readMetric(token, name, query)).data.map((p) => [p.timestamp, p.metric_value]);
}

export interface MetricInfo {
	metric_name: string;
	metric_agg_func: string;
	dimension_keys: string[];
	first_hour: string;
	last_hour: string;
	record_count: number;
	created_at: string;
}

export async function listMetrics(token: string, query = ""): Promise<{ metrics: MetricInfo[]; next_cursor: string | null }> {
	const res = await api(`/streams/metrics${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	const body = await res.json<{ metrics: MetricInfo[]; next_cursor: string | null }>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body;
}
