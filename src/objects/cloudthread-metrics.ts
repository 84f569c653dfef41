import { DurableObject } from "cloudflare:workers";
import type { ErrorDetail } from "../lib/api-error";
import { isStorable, MAX_STORED_VALUE } from "../lib/numbers";
import { hourlyPointsOnRecordDays, ingestStatements, recordDaysOf } from "../storage/custom-metrics";
import { type IngestCommand, type IngestResult, metricKeyScope, metricStreamName } from "./cloudthread-metrics-protocol";
import { invalid, type StreamFailure } from "./outcome";
import { WriteLedger } from "./write-ledger";

/**
 * The writer of one organization's Cloudthread metrics of one aggregation function (see
 * metricObject). The Worker has validated the request completely; this object applies it
 * through its ledger (write-ledger.ts): idempotency key check in arrival order, then the points,
 * the recomputed daily aggregates and one ingest log row per metric, committed with the
 * requests queued beside it as one D1 batch (group commit).
 */
export class MetricObject extends DurableObject<Env> {
	private readonly ledger = new WriteLedger(this.ctx.storage, this.env.DB);

	async ingest(cmd: IngestCommand): Promise<IngestResult> {
		const targets = cmd.metrics.map(([name, , , dataPoints]) => ({
			stream: metricStreamName(cmd.aggFunc, name),
			operation: "ingest",
			recordCount: dataPoints,
		}));
		return this.ledger.change(cmd, metricKeyScope(cmd.org, cmd.aggFunc), targets, async () => ({
			response: cmd.response,
			statements: ingestStatements(this.env.DB, cmd, new Date().toISOString()),
			explainOverflow: () => this.explainOverflow(cmd),
		}));
	}

	/**
	 * The data points on a (record, day) whose Sum would overflow: the day's stored hourly
	 * points, with this request's replacing those of the same hour, added up.
	 */
	private async explainOverflow(cmd: IngestCommand): Promise<StreamFailure> {
		const hours = new Map<string, number>();
		const key = (name: string, id: string, hour: string) => JSON.stringify([name, id, hour]);
		for (const p of await hourlyPointsOnRecordDays(this.env.DB, cmd.org, cmd.aggFunc, recordDaysOf(cmd))) {
			hours.set(key(p.metric_name, p.record_id, p.hour), p.value);
		}
		for (const [name, id, hour, value] of cmd.points) hours.set(key(name, id, hour), value);
		const dayTotals = new Map<string, number>();
		for (const [json, value] of hours) {
			const [name, id, hour] = JSON.parse(json) as [string, string, string];
			const day = key(name, id, hour.slice(0, 10));
			dayTotals.set(day, (dayTotals.get(day) ?? 0) + value);
		}
		const details: ErrorDetail[] = cmd.points
			.filter(([name, id, hour]) => !isStorable(dayTotals.get(key(name, id, hour.slice(0, 10))) ?? 0))
			.map(([name, , hour, , dataPoint]) => ({
				code: "value_overflow",
				message: `the Sum of '${name}' on ${hour.slice(0, 10)} for this record's dimensions would be beyond the largest value stored, ${MAX_STORED_VALUE}`,
				record: dataPoint,
				path: `data[${dataPoint}].metric_value`,
			}));
		return invalid(details.length > 0 ? details : [{ code: "value_overflow", message: `a daily Sum would be beyond ${MAX_STORED_VALUE}` }]);
	}

	/** Expires this object's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		await this.ledger.expireKeys();
	}
}
