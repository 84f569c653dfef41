import { DurableObject } from "cloudflare:workers";
import { metricWriteStatements } from "../storage/metric-store";
import type { MetricWriteCommand, MetricWriteResult } from "./metric-protocol";
import { SerialQueue } from "./serial-queue";

/**
 * One object per Cloudthread metric (org, name, function); every write to the metric goes
 * through its queue, so writes are applied one at a time in arrival order. The Worker has
 * validated the command completely: this object only applies it, in one D1 transaction.
 */
export class MetricObject extends DurableObject<Env> {
	private readonly queue = new SerialQueue();

	async apply(cmd: MetricWriteCommand): Promise<MetricWriteResult> {
		return this.queue.run(async () => {
			await this.env.DB.batch(metricWriteStatements(this.env.DB, cmd, new Date().toISOString()));
			return { ok: true, hourlyPoints: cmd.points.length };
		});
	}
}
