import { IDEMPOTENCY_KEY_REUSED } from "../lib/api-error";
import { MAX_STORED_VALUE } from "../lib/numbers";
import { expireIdempotencyKeys, findIdempotentWrites, ingestLogStatements, releaseExpiredIdempotencyKeys, type IngestLogTarget } from "../storage/ingest-log";
import { isRevokedTokenError, isTokenIdRevoked } from "../storage/revocations";
import { isValueOverflowError } from "../storage/finite-values";
import { TOKEN_REVOKED, type StreamFailure, type StreamSuccess } from "./outcome";
import { SerialQueue } from "./serial-queue";

/** How long a repeated Idempotency-Key is answered with the first response. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Who asks for a change, and the Idempotency-Key it came with. */
export interface LedgerCall {
	org: string;
	requestId: string;
	tokenId: string;
	/** The client's Idempotency-Key and a hash of what it asked for (operation and body). */
	idempotency?: { key: string; requestHash: string };
}

/** A change ready to commit: its statements, and the response to send and to record for its key. */
export interface Applied<T> {
	response: T;
	statements: D1PreparedStatement[];
	afterCommit?: () => void;
	/**
	 * The 400 to answer when D1 refused the commit because a value it would store is beyond
	 * MAX_STORED_VALUE (migration 0006): only D1 sees a sum with the stored value, so the
	 * records at fault are found after the rolled-back commit.
	 */
	explainOverflow?: () => Promise<StreamFailure>;
}

const UNEXPLAINED_OVERFLOW: StreamFailure = {
	ok: false,
	status: 400,
	code: "value_overflow",
	message: `A value this request would store is beyond the largest value stored, ${MAX_STORED_VALUE}; nothing was applied`,
};

/**
 * The ingest_log.stream values whose idempotency keys one Durable Object keeps, as an inclusive
 * range: a CloudZero stream object keeps [name, name], a Cloudthread object every
 * 'cloudthread:<function>:<metric name>' of its organization and function.
 */
export interface KeyScope {
	org: string;
	firstStream: string;
	lastStream: string;
}

const SCOPE_STORAGE_KEY = "idempotency_key_scope";

/**
 * The part of a writing Durable Object shared by the CloudZero stream object and the
 * Cloudthread metric object: a queue that runs one change at a time, idempotency keys looked
 * up in and recorded with D1's ingest_log, and their expiry by alarm.
 *
 * Each change: look the key up (a replay answers the recorded response, a different body
 * with the same key gets 409), otherwise commit the change's statements together with its
 * ingest log rows (key, request hash, response) in one D1 batch, then respond. The queue makes
 * the look-up and the commit one step: a Durable Object lets the next call run while it
 * awaits D1, so without it two retries with one key would both find nothing and both write.
 *
 * The Worker does not check a writing token against D1's revocations; this does. A commit is
 * refused by D1 itself for a revoked token (migration 0005), and an answer given without a
 * commit (a replay, a 409, a refused change) first asks D1 whether the token was revoked.
 */
export class WriteLedger {
	private readonly queue = new SerialQueue();

	constructor(
		private readonly storage: DurableObjectStorage,
		private readonly db: D1Database,
	) {}

	/**
	 * Runs one change in the queue. targets name the ingest_log rows it writes, one per stream
	 * it changes; the idempotency key is scoped to the organization and each of those streams.
	 */
	change<T>(
		call: LedgerCall,
		scope: KeyScope,
		targets: IngestLogTarget[],
		apply: () => Promise<Applied<T> | StreamFailure>,
	): Promise<StreamSuccess<T> | StreamFailure> {
		return this.queue.run(async () => {
			const now = new Date();
			const since = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
			const streams = targets.map((t) => t.stream);
			const idempotency = call.idempotency;
			if (idempotency) {
				const earlier = await findIdempotentWrites(this.db, call.org, streams, idempotency.key, since);
				if (earlier.some((e) => e.request_hash !== idempotency.requestHash)) {
					const { status, code, message } = IDEMPOTENCY_KEY_REUSED;
					return this.unlessRevoked(call, { ok: false as const, status, code, message });
				}
				// Rows of one request commit together, and the same body names the same streams.
				const recorded = earlier.find((e) => e.response !== null);
				if (recorded) return this.unlessRevoked(call, { ok: true as const, response: JSON.parse(recorded.response!) as T, replayed: true });
			}
			const applied = await apply();
			if ("ok" in applied) return this.unlessRevoked(call, applied);
			const log = ingestLogStatements(this.db, {
				requestId: call.requestId,
				org: call.org,
				tokenId: call.tokenId,
				createdAt: now.toISOString(),
				targets,
				idempotency: idempotency && { ...idempotency, response: JSON.stringify(applied.response) },
			});
			const release = idempotency ? releaseExpiredIdempotencyKeys(this.db, call.org, streams, idempotency.key, since) : [];
			try {
				await this.db.batch([...release, ...applied.statements, ...log]);
			} catch (err) {
				if (isRevokedTokenError(err)) return TOKEN_REVOKED; // rolled back: nothing applied
				if (isValueOverflowError(err)) return this.unlessRevoked(call, (await applied.explainOverflow?.()) ?? UNEXPLAINED_OVERFLOW);
				throw err;
			}
			applied.afterCommit?.();
			if (idempotency) await this.scheduleExpiry(scope, now.getTime());
			return { ok: true as const, response: applied.response, replayed: false };
		});
	}

	/** An answer given without a commit goes only to a token that is not revoked. */
	private async unlessRevoked<R>(call: LedgerCall, answer: R): Promise<R | StreamFailure> {
		return (await isTokenIdRevoked(this.db, call.tokenId)) ? TOKEN_REVOKED : answer;
	}

	/** Call from the object's alarm(): forgets keys whose 24 hours are over. */
	async expireKeys(): Promise<void> {
		const scope = await this.storage.get<KeyScope>(SCOPE_STORAGE_KEY);
		if (!scope) return;
		await this.queue.run(async () => {
			const oldest = await expireIdempotencyKeys(this.db, scope, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS).toISOString());
			if (oldest) await this.storage.setAlarm(Date.parse(oldest) + IDEMPOTENCY_WINDOW_MS);
		});
	}

	private async scheduleExpiry(scope: KeyScope, recordedAt: number): Promise<void> {
		if ((await this.storage.getAlarm()) !== null) return;
		await this.storage.put(SCOPE_STORAGE_KEY, scope);
		await this.storage.setAlarm(recordedAt + IDEMPOTENCY_WINDOW_MS);
	}
}
