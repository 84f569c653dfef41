// What the Worker sends to a cost connection's Durable Object and what it answers (over RPC).
import { configOf } from "../schemas/config";
import type { DropAccepted } from "../schemas/costs";
import type { DropWrite } from "../storage/costs";
import type { StreamFailure, StreamSuccess } from "./outcome";
import type { KeyScope, LedgerCall } from "./write-ledger";

/** A validated billing drop; `currency` is the one the drop names, if any. */
export type DropCommand = Omit<DropWrite, "currency"> &
	LedgerCall & { currency: string | undefined; rowCount: number; response: Omit<DropAccepted, "currency" | "connection_created"> };

export type DropResult = StreamSuccess<DropAccepted> | StreamFailure;

/** What one call of the object's rollUpHours did (see CostConnectionObject.rollUpHours). */
export interface RollUpResult {
	/** Hourly rows deleted by this call. */
	deleted: number;
	/** No hour before hoursKeptFrom is left (false: the call stopped at its budget). */
	done: boolean;
	/** The first day whose hours the connection keeps, after the call; null if the connection is unknown. */
	hoursKeptFrom: string | null;
}

/**
 * A connection as ingest_log.stream names it: CloudZero stream names cannot contain ':' and
 * Cloudthread's start with 'cloudthread:', so the three never collide.
 */
export function connectionLogName(connection: string): string {
	return `costs:${connection}`;
}

export function connectionKeyScope(org: string, connection: string): KeyScope {
	const name = connectionLogName(connection);
	return { org, firstStream: name, lastStream: name };
}

/** One Durable Object per (organization, connection): orgs contain no '/', so names cannot collide. */
export function connectionObject(env: Env, org: string, connection: string) {
	// Placed beside D1 like the stream and metric objects: a drop's commit is D1 round trips.
	return env.COSTS.get(env.COSTS.idFromName(`${org}/${connection}`), { locationHint: configOf(env).d1Location });
}
