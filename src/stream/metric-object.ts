import { DurableObject } from "cloudflare:workers";
import { ingestStatements } from "../storage/metric-store";
import { metricKeyScope, metricStreamName, type IngestCommand, type IngestResult } from "./metric-protocol";
import { WriteLedger } from "./write-ledger";

/**
 * The writer of one organization's Cloudthread metrics of one aggregation function (see
 * metricObject). The Worker has validated the request completely; this object applies it in
 * its ledger's queue: idempotency key check, then one D1 batch with the points, the
 * recomputed daily aggregates and one ingest log row per metric.
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
		}));
	}

	/** Expires this object's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		await this.ledger.expireKeys();
	}
}
