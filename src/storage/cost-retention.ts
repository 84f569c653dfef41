// Hourly cost retention (migration 0011): which connections hold hours older than they keep, and
// the statements that roll one connection's old hours up. The daily totals (cost_daily) are kept
// by every drop's own transaction, so rolling hours up is deleting them; cost_daily is never
// touched here. Statements are parameterized.

const DAY_MS = 86_400_000;

/**
 * The first UTC day whose hours are kept when `now` is the time of the run: today (UTC) minus
 * `retentionDays`. With 92 days, a run on 2025-06-15 keeps the hours of 2025-03-15 onwards.
 */
export function hourlyCutoffDay(now: number, retentionDays: number): string {
	const today = Math.floor(now / DAY_MS) * DAY_MS;
	return new Date(today - retentionDays * DAY_MS).toISOString().slice(0, 10);
}

export interface ConnectionKey {
	org_id: string;
	connection_id: string;
}

/**
 * Every organization's connections that hold an hour before the later of `cutoffDay` and the day
 * they already keep hours from (a sum or replace_drop may have added hours before it since). One
 * look-up of the primary key of cost_hourly per connection ('YYYY-MM-DDTHH…' < 'YYYY-MM-DD' is
 * "an hour of an earlier day"), not a scan of the hours.
 */
export async function connectionsWithOldHours(db: D1Database, cutoffDay: string): Promise<ConnectionKey[]> {
	const { results } = await db
		.prepare(
			`SELECT org_id, connection_id FROM cost_connections c
			WHERE EXISTS (SELECT 1 FROM cost_hourly h WHERE h.org_id = c.org_id AND h.connection_id = c.connection_id AND h.hour < max(?1, coalesce(c.hours_kept_from, '')))
			ORDER BY org_id, connection_id`,
		)
		.bind(cutoffDay)
		.all<ConnectionKey>();
	return results;
}

/**
 * One step of rolling a connection's hours up, as one D1 batch (one transaction): move the day it
 * keeps hours from forward to `cutoffDay` (never backwards), then delete at most `limit` of its
 * hourly rows before that day, oldest first, and read the day back. The delete's count
 * (meta.changes of the second result) below `limit` means no old hour is left.
 *
 * Moving the day comes first, in the same transaction as the first delete: from the moment any
 * hour is gone, a replace_hourly into it is refused (src/objects/cost-connection.ts).
 */
export function rollUpStepStatements(
	db: D1Database,
	org: string,
	connection: string,
	cutoffDay: string,
	limit: number,
): D1PreparedStatement[] {
	return [
		db
			.prepare(
				"UPDATE cost_connections SET hours_kept_from = ?3 WHERE org_id = ?1 AND connection_id = ?2 AND (hours_kept_from IS NULL OR hours_kept_from < ?3)",
			)
			.bind(org, connection, cutoffDay),
		// SQLite has no DELETE ... LIMIT here: the keys of the first `limit` old hours, then those rows.
		db
			.prepare(
				`DELETE FROM cost_hourly WHERE org_id = ?1 AND connection_id = ?2 AND (hour, dims_id) IN (
					SELECT hour, dims_id FROM cost_hourly
					WHERE org_id = ?1 AND connection_id = ?2 AND hour < (SELECT hours_kept_from FROM cost_connections WHERE org_id = ?1 AND connection_id = ?2)
					ORDER BY hour, dims_id LIMIT ?3)`,
			)
			.bind(org, connection, limit),
		db.prepare("SELECT hours_kept_from FROM cost_connections WHERE org_id = ?1 AND connection_id = ?2").bind(org, connection),
	];
}
