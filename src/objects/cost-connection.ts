import { DurableObject } from "cloudflare:workers";
import type { DropAccepted } from "../schemas/costs";
import { rollUpStepStatements } from "../storage/cost-retention";
import { dropStatements, findConnection } from "../storage/costs";
import { connectionKeyScope, connectionLogName, type DropCommand, type DropResult, type RollUpResult } from "./cost-connection-protocol";
import type { StreamFailure } from "./outcome";
import { WriteLedger } from "./write-ledger";

/** D1 refused the drop: a stored cell plus the drop's would pass SQLite's 64-bit integers (migration 0010). */
const COST_CELL_OVERFLOW: StreamFailure = {
	ok: false,
	status: 400,
	code: "value_overflow",
	message:
		"With the cost already stored, an hour or day of one dimension set would hold more than ±9223372036854775807 whole units of a cost type; nothing was applied",
};

/** A replace_hourly drop's first hour before the day the connection keeps hours from, if any. */
function firstRolledUpHour(hours: readonly string[], hoursKeptFrom: string | null): string | undefined {
	if (hoursKeptFrom === null) return undefined;
	// 'YYYY-MM-DDTHH:00:00Z' sorts before 'YYYY-MM-DD' exactly when its day is earlier.
	return hours.filter((hour) => hour < hoursKeptFrom).sort()[0];
}

/**
 * The writer of one organization's cost connection: every billing drop to it goes through its
 * ledger (write-ledger.ts): planned in arrival order (idempotency key, currency and roll-up
 * checks against the state the drops before it leave), its hourly rows, their daily totals and
 * the ingest log row committed with the drops queued beside it, as one D1 batch. A Durable
 * Object does not hold other calls back while it awaits D1, so without the ledger a replace_drop
 * and a sum to the same month could interleave. The roll-up of old hours (rollUpHours) runs its batches in the
 * same queue, between drops.
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
			// Checked here, in the queue: a roll-up step runs between two drops' commits, never between a
			// drop's planning and its commit, so the day read here holds until this drop commits.
			const rolledUp = cmd.operation === "replace_hourly" ? firstRolledUpHour(cmd.hours, existing?.hours_kept_from ?? null) : undefined;
			if (rolledUp !== undefined) {
				return {
					ok: false as const,
					status: 409 as const,
					code: "hours_rolled_up" as const,
					message: `Connection '${cmd.connection}' keeps hourly cost from ${existing!.hours_kept_from} on (COST_HOURLY_RETENTION_DAYS); the drop's hour ${rolledUp} is before it. Older hours were rolled up into daily totals, so replace_hourly cannot replace them; nothing was applied. Send the whole month with replace_drop, or add with sum.`,
				};
			}
			if (existing === null) this.plannedCurrency = currency;
			const response: DropAccepted = { ...cmd.response, currency, connection_created: created };
			return {
				response,
				statements: dropStatements(this.env.DB, { ...cmd, currency }, new Date().toISOString()),
				explainOverflow: async () => COST_CELL_OVERFLOW,
			};
		});
	}

	/**
	 * Rolls this connection's hours before `cutoffDay` up (asked by the Cron Trigger,
	 * src/scheduled.ts): each step is one batch in the ledger's queue that moves the day hours are
	 * kept from forward to `cutoffDay` (never back) and deletes at most `rowsPerStep` hourly rows
	 * before that day, oldest first. The daily totals stay as they are: every drop keeps them.
	 *
	 * Bounded: it stops after `maxRows` rows (the next run goes on from there). One connection may
	 * hold millions of old hours, and D1 has one writer and 30 s per query: small steps keep each
	 * transaction to some tens of milliseconds, and drops to this connection queued meanwhile
	 * commit between two steps instead of waiting for the whole roll-up.
	 */
	async rollUpHours(org: string, connection: string, cutoffDay: string, maxRows: number, rowsPerStep: number): Promise<RollUpResult> {
		let deleted = 0;
		let hoursKeptFrom: string | null = null;
		while (deleted < maxRows) {
			const limit = Math.min(rowsPerStep, maxRows - deleted);
			const [, removed, kept] = await this.ledger.batchBetweenCommits<{ hours_kept_from: string | null }>(
				rollUpStepStatements(this.env.DB, org, connection, cutoffDay, limit),
			);
			deleted += removed.meta.changes;
			hoursKeptFrom = kept.results[0]?.hours_kept_from ?? null;
			if (removed.meta.changes < limit) return { deleted, done: true, hoursKeptFrom };
		}
		return { deleted, done: false, hoursKeptFrom };
	}

	/** Expires this connection's idempotency keys once their 24 hours are over. */
	async alarm(): Promise<void> {
		await this.ledger.expireKeys();
	}
}
