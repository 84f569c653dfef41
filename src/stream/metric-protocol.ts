// What the Worker sends to a metric's Durable Object and what it answers (over RPC).
import type { AggFunc } from "../schemas/cloudthread";
import type { MetricWrite } from "../storage/metric-store";

export type MetricWriteCommand = MetricWrite & { requestId: string };

export interface MetricWriteResult {
	ok: true;
	hourlyPoints: number;
}

/**
 * One Durable Object per (organization, aggregation function, metric name). Neither org ids
 * nor function names contain '/', so the name cannot collide whatever the metric name holds.
 */
export function metricObjectName(org: string, aggFunc: AggFunc, metricName: string): string {
	return `${org}/${aggFunc}/${metricName}`;
}

export function metricObject(env: Env, org: string, aggFunc: AggFunc, metricName: string) {
	return env.METRIC.get(env.METRIC.idFromName(metricObjectName(org, aggFunc, metricName)));
}
