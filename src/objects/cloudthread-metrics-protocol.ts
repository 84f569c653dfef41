// What the Worker sends to a Cloudthread metric object and what it answers (over RPC).
import type { AggFunc, IngestCreated } from "../schemas/cloudthread";
import { configOf } from "../schemas/config";
import type { IngestWrite } from "../storage/custom-metrics";
import type { StreamFailure, StreamSuccess } from "./outcome";
import type { KeyScope, LedgerCall } from "./write-ledger";

/** A validated ingest request, with the response to send (and record) if it is applied. */
export type IngestCommand = IngestWrite & LedgerCall & { response: IngestCreated };

export type IngestResult = StreamSuccess<IngestCreated> | StreamFailure;

/**
 * A Cloudthread metric (name + aggregation function) as ingest_log.stream names it, so that its
 * idempotency keys and log rows are scoped to it. CloudZero stream names cannot contain ':',
 * so the two never collide; the function comes first because metric names may contain ':'.
 */
export function metricStreamName(aggFunc: AggFunc, metricName: string): string {
	return `cloudthread:${aggFunc}:${metricName}`;
}

/** Every metric stream name of one organization and function: from 'cloudthread:F:' to 'cloudthread:F;' (';' follows ':'). */
export function metricKeyScope(org: string, aggFunc: AggFunc): KeyScope {
	return { org, firstStream: `cloudthread:${aggFunc}:`, lastStream: `cloudthread:${aggFunc};` };
}

/**
 * One Durable Object per (organization, aggregation function). A Cloudthread request carries
 * exactly one function, so each request is handled by exactly one object and applied as one
 * D1 batch, whatever metric names it touches; the object's queue serializes every write to
 * each of its metrics. Org ids contain no '/', so names cannot collide.
 */
export function metricObject(env: Env, org: string, aggFunc: AggFunc) {
	// Placed near the D1 database, as stream objects are (see streamObject).
	return env.METRIC.get(env.METRIC.idFromName(`${org}/${aggFunc}`), { locationHint: configOf(env).d1Location });
}
