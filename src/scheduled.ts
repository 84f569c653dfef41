// The Cron Trigger (wrangler.toml [triggers]): rolls hourly cost older than
// COST_HOURLY_RETENTION_DAYS up into the daily totals, for every organization's connections.
import { connectionObject } from "./objects/cost-connection-protocol";
import { configOf } from "./schemas/config";
import { connectionsWithOldHours, hourlyCutoffDay } from "./storage/cost-retention";

/**
 * The most hourly rows one run deletes, over all connections: about 4 s of SQLite's time (4 µs a
 * row, bench/cost-row-size.mjs), in 100 short transactions of the one D1 writer, while 10,000
 * resources add 240,000 hour rows a day. A bounded run keeps within the time a Cron Trigger
 * invocation and the writer can give it; a backlog (a year of hours when retention is first
 * switched on: about 65 million rows) continues in the next hourly runs.
 */
export const ROLL_UP_ROWS_PER_RUN = 1_000_000;
/**
 * The most hourly rows one step (one D1 transaction) deletes: about 35 ms of SQLite's time, so
 * the writer and the connection's queued drops wait no longer than that for any one step.
 */
export const ROLL_UP_ROWS_PER_STEP = 10_000;

export interface RollUpOptions {
	rowsPerRun?: number;
	rowsPerStep?: number;
}

export interface RollUpReport {
	cutoffDay: string;
	/** Connections that held hours to roll up when the run began. */
	connections: number;
	/** Of them, those the run finished (no old hour left). */
	finished: number;
	deleted: number;
	/** Connections whose object failed; the next run tries them again. */
	failed: number;
}

/**
 * Rolls up the hours before today (UTC, at `now`) minus COST_HOURLY_RETENTION_DAYS. Each
 * connection's own Durable Object does it (CostConnectionObject.rollUpHours), in the queue its
 * drops are applied in, so a roll-up never falls inside a drop. Connections are taken one after
 * the other (D1 has one writer: in parallel they would not go faster), each given an equal share
 * of what is left of the run's budget, so one connection's backlog cannot hold all others back.
 */
export async function rollUpHourlyCost(
	env: Env,
	now: number,
	{ rowsPerRun = ROLL_UP_ROWS_PER_RUN, rowsPerStep = ROLL_UP_ROWS_PER_STEP }: RollUpOptions = {},
): Promise<RollUpReport> {
	const cutoffDay = hourlyCutoffDay(now, configOf(env).costHourlyRetentionDays);
	const todo = await connectionsWithOldHours(env.DB, cutoffDay);
	const report: RollUpReport = { cutoffDay, connections: todo.length, finished: 0, deleted: 0, failed: 0 };
	for (let i = 0; i < todo.length && report.deleted < rowsPerRun; i++) {
		const { org_id: org, connection_id: connection } = todo[i];
		const share = Math.ceil((rowsPerRun - report.deleted) / (todo.length - i));
		try {
			const result = await connectionObject(env, org, connection).rollUpHours(org, connection, cutoffDay, share, rowsPerStep);
			report.deleted += result.deleted;
			if (result.done) report.finished++;
		} catch (err) {
			// One connection's failure (its object overloaded, D1 busy) does not stop the others.
			report.failed++;
			console.error(
				JSON.stringify({ level: "error", event: "cost_hourly_rollup", org, connection, cutoff_day: cutoffDay, error: String(err) }),
			);
		}
	}
	return report;
}

/** The scheduled handler: one line per run for Workers Logs; a run with failures ends in an error so the Cron Events show it. */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) => {
	const started = Date.now();
	const report = await rollUpHourlyCost(env, controller.scheduledTime);
	const level = report.failed > 0 ? "error" : "info";
	console[level](
		JSON.stringify({
			level,
			event: "cost_hourly_rollup",
			cron: controller.cron,
			cutoff_day: report.cutoffDay,
			connections: report.connections,
			finished: report.finished,
			rows_deleted: report.deleted,
			failed: report.failed,
			duration_ms: Date.now() - started,
		}),
	);
	if (report.failed > 0)
		throw new Error(
			`Roll-up of hourly cost failed for ${report.failed} of ${report.connections} connections; the next run tries them again`,
		);
};
