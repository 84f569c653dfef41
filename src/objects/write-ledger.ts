import { IDEMPOTENCY_KEY_REUSED } from "../lib/api-error";
import { MAX_STORED_VALUE } from "../lib/numbers";
import { isValueOverflowError } from "../storage/finite-values";
import {
	expireIdempotencyKeys,
	type IdempotentWrite,
	type IngestLogTarget,
	idempotentWritesStatements,
	ingestLogStatements,
	releaseExpiredIdempotencyKeys,
} from "../storage/ingest-log";
import { isRevokedTokenError, isTokenIdRevoked, revokedAmongStatement } from "../storage/revocations";
import { type StreamFailure, type StreamSuccess, TOKEN_REVOKED } from "./outcome";
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

/**
 * A change ready to commit: its statements, and the response to send and to record for its key.
 * A change is planned against the object's state as the changes before it in its group leave it;
 * should the group's commit fail, the ledger calls the object's rollback and plans it again.
 */
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

/** Most changes and records one commit takes: D1 runs a batch within 30 s and as one transaction. */
const MAX_CHANGES_PER_COMMIT = 100;
const MAX_RECORDS_PER_COMMIT = 20_000;

interface PendingChange {
	call: LedgerCall;
	scope: KeyScope;
	targets: IngestLogTarget[];
	apply: () => Promise<Applied<unknown> | StreamFailure>;
	/** Plans by reading D1 (a delete finds its series): it must see every change before it committed. */
	readsStorage: boolean;
	settle: (result: StreamSuccess<unknown> | StreamFailure) => void;
	fail: (err: unknown) => void;
}

/** What became of one change of a group once planned. */
type Planned =
	| { kind: "answer"; change: PendingChange; answer: StreamSuccess<unknown> | StreamFailure; needsRevocationCheck: boolean }
	| { kind: "commit"; change: PendingChange; applied: Applied<unknown>; statements: D1PreparedStatement[] }
	| { kind: "same-key"; change: PendingChange; first: PendingChange };

/**
 * The part of a writing Durable Object shared by all four: the CloudZero metric and allocation
 * stream objects (StreamObject, AllocationStreamObject), the Cloudthread metric object
 * (MetricObject) and the cost connection object (CostConnectionObject): changes committed to D1 in arrival order with group commit,
 * idempotency keys looked up in and recorded with D1's ingest_log, and their expiry by alarm.
 *
 * Group commit: a Durable Object lets the next call run while it awaits D1, so changes arrive
 * while a commit is in flight. They queue; the next commit takes all of them (up to
 * MAX_CHANGES_PER_COMMIT / MAX_RECORDS_PER_COMMIT) as one D1 batch, in arrival order, so a
 * stream's throughput is no longer one change per D1 round trip. One commit at a time keeps the
 * serial order: each change is planned against the state the changes before it leave, and its
 * statements follow theirs in the one transaction. A change whose planning reads D1 (a delete)
 * waits for the commit before it and commits alone.
 *
 * Each change keeps its own outcome: its Idempotency-Key (looked up for the whole group in one
 * batch, beside the group's token revocations), its ingest log rows, its response or error. A
 * change refused while planning (against the stream, or a reused key) is answered without
 * joining the batch. If the batch fails for one change's sake (a token revoked since admission,
 * caught by migration 0005's trigger; a sum overflowing, migration 0006), the group is rolled
 * back whole and its changes are committed again one by one, so only that change fails.
 *
 * The Worker does not check a writing token against D1's revocations; this does. A commit is
 * refused by D1 itself for a revoked token, and an answer given without a commit (a replay, a
 * 409, a refused change) is given only to a token D1 does not list as revoked.
 */
export class WriteLedger {
	private readonly pending: PendingChange[] = [];
	private committing = false;
	/** Serializes commits (each group's planning and batch) with the alarm's key expiry and batchBetweenCommits. */
	private readonly maintenance = new SerialQueue();

	constructor(
		private readonly storage: DurableObjectStorage,
		private readonly db: D1Database,
		/** Forgets the state planned by changes that did not commit (called after a failed batch). */
		private readonly rollback: () => void = () => {},
	) {}

	/**
	 * Queues one change; resolves once it is durably committed (or refused, or replayed). targets
	 * name the ingest_log rows it writes, one per stream it changes; the idempotency key is scoped
	 * to the organization and each of those streams.
	 */
	change<T>(
		call: LedgerCall,
		scope: KeyScope,
		targets: IngestLogTarget[],
		apply: () => Promise<Applied<T> | StreamFailure>,
		{ readsStorage = false } = {},
	): Promise<StreamSuccess<T> | StreamFailure> {
		return new Promise((resolve, reject) => {
			this.pending.push({
				call,
				scope,
				targets,
				apply: apply as PendingChange["apply"],
				readsStorage,
				settle: resolve as PendingChange["settle"],
				fail: reject,
			});
			void this.drain();
		});
	}

	/** Commits queued changes, a group at a time, until none is left. */
	private async drain(): Promise<void> {
		if (this.committing) return;
		this.committing = true;
		try {
			while (this.pending.length > 0) {
				const group = this.takeGroup();
				// commitGroup settles every change it takes; should anything it awaits after the commit
				// throw (scheduling the keys' expiry), no change may be left waiting: a promise settles once,
				// so this only reaches the changes not yet settled.
				await this.maintenance
					.run(() => this.commitGroup(group))
					.catch((err) => {
						for (const change of group) change.fail(err);
					});
			}
		} finally {
			this.committing = false;
		}
	}

	/** The next changes to commit together, in arrival order. */
	private takeGroup(): PendingChange[] {
		if (this.pending[0].readsStorage) return this.pending.splice(0, 1);
		let count = 0;
		let records = 0;
		while (count < this.pending.length && count < MAX_CHANGES_PER_COMMIT) {
			const next = this.pending[count];
			const nextRecords = next.targets.reduce((sum, t) => sum + t.recordCount, 0);
			if (next.readsStorage || (count > 0 && records + nextRecords > MAX_RECORDS_PER_COMMIT)) break;
			records += nextRecords;
			count++;
		}
		return this.pending.splice(0, count);
	}

	/** Plans and commits one group; every change of it is settled when this returns. */
	private async commitGroup(group: PendingChange[]): Promise<void> {
		const now = new Date();
		// One D1 session for the group's look-ups and its commit: its bookmark, returned with every
		// answer, lets a read that sends it back see this commit (even from a read replica).
		const session = this.db.withSession("first-primary");
		let planned: Planned[];
		let revoked: ReadonlySet<string>;
		try {
			({ planned, revoked } = await this.plan(group, now, session));
		} catch (err) {
			this.rollback();
			for (const change of group) change.fail(err);
			return;
		}
		const commits = planned.filter((p): p is Extract<Planned, { kind: "commit" }> => p.kind === "commit");
		let committed = commits.length === 0;
		if (!committed) {
			try {
				await session.batch(commits.flatMap((p) => p.statements));
				committed = true;
			} catch (err) {
				this.rollback();
				const refusal = isRevokedTokenError(err) || isValueOverflowError(err);
				if (refusal && group.length > 1) {
					// One change's refusal rolled back the whole group: commit each on its own, in order.
					for (const change of group) await this.commitGroup([change]);
					return;
				}
				if (refusal) {
					const [only] = commits;
					const answer = isRevokedTokenError(err) ? TOKEN_REVOKED : await this.explainOverflow(only.applied);
					only.change.settle(answer === TOKEN_REVOKED ? answer : await this.unlessRevoked(only.change.call, answer));
					for (const p of planned) if (p !== only) await this.settleWithoutCommit(p, revoked);
					return;
				}
				for (const change of group) change.fail(err);
				return;
			}
		}
		for (const p of commits) p.applied.afterCommit?.();
		const committedResponse = new Map(commits.map((p) => [p.change, p.applied.response]));
		const bookmark = session.getBookmark() ?? undefined;
		for (const p of planned) {
			if (p.kind === "commit") p.change.settle({ ok: true, response: p.applied.response, replayed: false, bookmark });
			else if (p.kind === "same-key") p.change.settle({ ok: true, response: committedResponse.get(p.first), replayed: true, bookmark });
			else await this.settleWithoutCommit(p, revoked, bookmark);
		}
		// After the answers: the commit stands whatever becomes of scheduling its keys' expiry.
		const keyed = commits.find((p) => p.change.call.idempotency);
		if (keyed) await this.scheduleExpiry(keyed.change.scope, now.getTime());
	}

	/**
	 * Each change's outcome before the commit: a replay or 409 of its key, a refusal from its own
	 * planning, or the statements it commits. One D1 batch looks up every key of the group and
	 * the revocation of its tokens (an answer without a commit needs it).
	 */
	private async plan(
		group: PendingChange[],
		now: Date,
		session: D1DatabaseSession,
	): Promise<{ planned: Planned[]; revoked: ReadonlySet<string> }> {
		const since = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
		const keyed = group.filter((c) => c.call.idempotency);
		const lookups = keyed.map((c) =>
			idempotentWritesStatements(
				this.db,
				c.call.org,
				c.targets.map((t) => t.stream),
				c.call.idempotency!.key,
				since,
			),
		);
		const earlier = new Map<PendingChange, IdempotentWrite[]>();
		// The group's revoked tokens, looked up beside its keys (an answer without a commit needs it).
		const revoked = new Set<string>();
		if (keyed.length > 0) {
			const tokens = [...new Set(group.map((c) => c.call.tokenId))];
			const results = await session.batch<IdempotentWrite & { token_id: string }>([
				revokedAmongStatement(this.db, tokens),
				...lookups.flat(),
			]);
			for (const row of results[0].results) revoked.add(row.token_id);
			let at = 1;
			keyed.forEach((c, i) => {
				earlier.set(
					c,
					results.slice(at, at + lookups[i].length).flatMap((r) => r.results),
				);
				at += lookups[i].length;
			});
		}
		const planned: Planned[] = [];
		const inGroup = new Map<string, PendingChange>();
		for (const change of group) {
			const { call } = change;
			const idempotency = call.idempotency;
			if (idempotency) {
				const found = earlier.get(change) ?? [];
				const scopeKey = JSON.stringify([call.org, change.targets.map((t) => t.stream), idempotency.key]);
				const first = inGroup.get(scopeKey);
				if (
					found.some((e) => e.request_hash !== idempotency.requestHash) ||
					(first && first.call.idempotency!.requestHash !== idempotency.requestHash)
				) {
					const { status, code, message } = IDEMPOTENCY_KEY_REUSED;
					planned.push({ kind: "answer", change, answer: { ok: false, status, code, message }, needsRevocationCheck: false });
					continue;
				}
				// Rows of one request commit together, and the same body names the same streams.
				const recorded = found.find((e) => e.response !== null);
				if (recorded) {
					planned.push({
						kind: "answer",
						change,
						answer: { ok: true, response: JSON.parse(recorded.response!), replayed: true },
						needsRevocationCheck: false,
					});
					continue;
				}
				if (first) {
					planned.push({ kind: "same-key", change, first });
					continue;
				}
				inGroup.set(scopeKey, change);
			}
			const applied = await change.apply();
			if ("ok" in applied) {
				planned.push({ kind: "answer", change, answer: applied, needsRevocationCheck: !idempotency });
				continue;
			}
			const streams = change.targets.map((t) => t.stream);
			const log = ingestLogStatements(this.db, {
				requestId: call.requestId,
				org: call.org,
				tokenId: call.tokenId,
				createdAt: now.toISOString(),
				targets: change.targets,
				idempotency: idempotency && { ...idempotency, response: JSON.stringify(applied.response) },
			});
			const release = idempotency ? releaseExpiredIdempotencyKeys(this.db, call.org, streams, idempotency.key, since) : [];
			planned.push({ kind: "commit", change, applied, statements: [...release, ...applied.statements, ...log] });
		}
		return { planned, revoked };
	}

	/**
	 * Settles a change answered without a commit, unless its token is revoked (`revoked`: as the
	 * group's look-up found them, for keyed changes); a replay carries the session's bookmark.
	 */
	private async settleWithoutCommit(p: Planned, revoked: ReadonlySet<string>, bookmark?: string): Promise<void> {
		if (p.kind !== "answer") return;
		if (p.answer.ok === false && p.answer.code === "token_revoked") return p.change.settle(p.answer);
		const answer = p.answer.ok ? { ...p.answer, bookmark } : p.answer;
		if (p.needsRevocationCheck) p.change.settle(await this.unlessRevoked(p.change.call, answer));
		else p.change.settle(revoked.has(p.change.call.tokenId) ? TOKEN_REVOKED : answer);
	}

	/** An answer given without a commit goes only to a token that is not revoked. */
	private async unlessRevoked<R>(call: LedgerCall, answer: R): Promise<R | StreamFailure> {
		return (await isTokenIdRevoked(this.db, call.tokenId)) ? TOKEN_REVOKED : answer;
	}

	private async explainOverflow(applied: Applied<unknown>): Promise<StreamFailure> {
		return (await applied.explainOverflow?.()) ?? UNEXPLAINED_OVERFLOW;
	}

	/**
	 * Runs one D1 batch (one transaction) between two commits, in the queue the changes are planned
	 * and committed in: a change planned before it has committed, and a change planned after it
	 * sees what it did. For maintenance an object does to its own rows (the cost connection's
	 * roll-up of old hours), which must never fall between a change's planning and its commit.
	 */
	batchBetweenCommits<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
		return this.maintenance.run(() => this.db.batch<T>(statements));
	}

	/** Call from the object's alarm(): forgets keys whose 24 hours are over. */
	async expireKeys(): Promise<void> {
		const scope = await this.storage.get<KeyScope>(SCOPE_STORAGE_KEY);
		if (!scope) return;
		await this.maintenance.run(async () => {
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
