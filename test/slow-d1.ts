// D1 slowed down inside a writing Durable Object (as it is in production, a network round trip
// away), so that concurrent calls into the object interleave as they would there.
import { runInDurableObject } from "cloudflare:test";

export const ROUND_TRIP_MS = 25;

/**
 * Slows every D1 batch of an object's write ledger by a round trip, and counts them: those of
 * the D1 session each group of changes runs in (its commit, and its Idempotency-Key look-ups)
 * by `commitMs`, the ledger's other batches (batchBetweenCommits) by `otherMs`.
 */
export async function slowLedgerD1(
	stub: DurableObjectStub,
	{ commitMs = ROUND_TRIP_MS, otherMs = ROUND_TRIP_MS } = {},
): Promise<{ batches: () => number; commits: () => number; order: () => string }> {
	let batches = 0;
	let commits = 0;
	/** The batches in the order they reached D1: "c" for a session's, "o" for another. */
	let order = "";
	await runInDurableObject(stub, (instance) => {
		const ledger = (instance as unknown as { ledger: { db: D1Database } }).ledger;
		const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
		// The ledger's commits go through D1 sessions (db.withSession(...).batch): slow and count those.
		const slowBatches = <T extends object>(target: T, inSession: boolean): T =>
			new Proxy(target, {
				get(inner, prop) {
					if (prop === "batch") {
						return async (statements: D1PreparedStatement[]) => {
							batches++;
							if (inSession) commits++;
							await pause(inSession ? commitMs : otherMs);
							order += inSession ? "c" : "o";
							return (inner as unknown as D1Database).batch(statements);
						};
					}
					if (prop === "withSession")
						return (constraint?: string) => slowBatches((inner as unknown as D1Database).withSession(constraint), true);
					const value = Reflect.get(inner, prop);
					return typeof value === "function" ? value.bind(inner) : value;
				},
			});
		ledger.db = slowBatches(ledger.db, false);
	});
	return { batches: () => batches, commits: () => commits, order: () => order };
}
