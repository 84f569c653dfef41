import { DurableObject } from "cloudflare:workers";
import type { DropAccepted } from "../schemas/costs";
import { dropStatements, findConnection } from "../storage/costs";
import type { StreamFailure } from "./outcome";
import { connectionKeyScope, connectionLogName, type DropCommand, type DropResult } from "./cost-connection-protocol";
import { WriteLedger } from "./write-ledger";

/** D1 refused the drop: a stored cell plus the drop's would pass SQLite's 64-bit integers (migration 0010). */
const COST_CELL_OVERFLOW: StreamFailure = {
	ok: false,
	status: 400,
	code: "value_overflow",
	message: "With the cost already stored, an hour or day of one dimension set would hold more than ±9223372036854775807 whole units of a cost type; nothing was applied",
};

/**
 * The writer of one organization's cost connection: every billing drop to it goes through its
 * ledger's queue (idempotency key, currency check, then one D1 batch with the hourly rows, their
 * daily totals and the ingest log row), one drop at a time. A Durable Object does not
 * hold other calls back while it awaits D1, so without the queue a replace_drop and a sum to the
 * same month could interleave.
 */
export class CostConnectionObject extends DurableObject<Env> {
	private readonly ledger = new WriteLedger(this.ctx.storage, this.env.DB, () => (this.plannedCurrency = undefined));
	/**
	 * The currency an earlier drop of the group being planned gives the connection while D1 does
	 * not have it yet: drops planned together must agree on it as if the first had committed.
	 * Forgotten when a commit fails.
	 */
	private plannedCurrency: string | undefined;

	async drop(cmd: DropCommand): Promise<DropResult> {
		const target = { stream: connectionLogName(cmd.connection), operation: cmd.operation, recordCount: cmd.rowCount };
		return this.ledger.change<DropAccepted>(cmd, connectionKeyScope(cmd.org, cmd.connection), [target], async () => {
			const existing = await findConnection(this.env.DB, cmd.org, cmd.connection);
			const created = existing === null && this.plannedCurrency === undefined;
			const currency = existing?.currency ?? this.plannedCurrency ?? cmd.currency ?? "USD";
			if (cmd.currency !== undefined && cmd.currency !== currency) {
				return {
					ok: false as const,
					status: 409 as const,
					code: "currency_mismatch" as const,
					message: `Connection '${cmd.connection}' is in ${currency}; this drop is in ${cmd.currency}. Costs in different currencies are never added together: send them to another connection.`,
				};
			}
			if (existing === null) this.plannedCurrency = currency;
			const response: DropAccepted = { ...cmd.response, currency, connection_created: created };
			return { response, statements: dropStatements(this.env.DB, { ...cmd, currency }, new Date().toISOString()), explainOverflow: async () => COST_CELL_OVERFLOW };
		});
	}

	/** Expires this connection's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		await this.ledger.expireKeys();
	}
}
