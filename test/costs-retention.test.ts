// Hourly cost retention (issue 18): the Cron Trigger rolls hours older than
// COST_HOURLY_RETENTION_DAYS (92 in wrangler.toml) up into their daily totals, through each
// connection's Durable Object; a replace_hourly into a rolled-up day is refused with 409.
// Everything through the HTTP API and the Worker's own scheduled handler, on real bindings.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import { connectionObject } from "../src/objects/cost-connection-protocol";
import { rollUpHourlyCost } from "../src/scheduled";
import { configOf } from "../src/schemas/config";
import { hourlyCutoffDay } from "../src/storage/cost-retention";
import { costs, drop, expectDrop, row } from "./costs-helpers";
import { createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";
import { slowLedgerD1 } from "./slow-d1";

/** The time of the runs: 2025-06-15 00:30 UTC. 92 days before that day is 2025-03-15. */
const NOW = Date.UTC(2025, 5, 15, 0, 30);
const CUTOFF = "2025-03-15";

/** Runs the Worker's scheduled handler as the Cron Trigger would. */
async function runCron(scheduledTime = NOW): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime, cron: "0 * * * *" }), env, ctx);
	await waitOnExecutionContext(ctx);
}

async function hoursOf(org: string, connection: string): Promise<string[]> {
	const { results } = await env.DB.prepare("SELECT hour FROM cost_hourly WHERE org_id = ? AND connection_id = ? ORDER BY hour, dims_id")
		.bind(org, connection)
		.all<{ hour: string }>();
	return results.map((r) => r.hour);
}

async function dailyRows(org: string): Promise<unknown[]> {
	return (await env.DB.prepare("SELECT * FROM cost_daily WHERE org_id = ? ORDER BY connection_id, day, dims_id").bind(org).all()).results;
}

async function keptFrom(org: string, connection: string): Promise<string | null | undefined> {
	return (
		await env.DB.prepare("SELECT hours_kept_from FROM cost_connections WHERE org_id = ? AND connection_id = ?")
			.bind(org, connection)
			.first<{ hours_kept_from: string | null }>()
	)?.hours_kept_from;
}

/** Every answer of the cost read this test looks at: per day and month, grouped by resource, all cost types that differ. */
async function reads(token: string, connection: string) {
	const q = `dim[Connection]=${connection}&limit=1000`;
	return {
		days: await costs(token, q),
		months: await costs(token, `${q}&granularity=month&group_by=Resource`),
		onDemand: await costs(token, `${q}&group_by=Resource&cost_type=on_demand_cost`),
	};
}

const r1 = { "resource/id": "i-0a1b2c3d4e5f", "resource/service": "Compute" };
const r2 = { "resource/id": "vol-99", "resource/service": "Storage", "cost/on_demand_cost": "3.3333333333" };

/** A connection's February (all before the cut-off), March (on both sides of it) and June. */
async function seed(token: string, connection: string): Promise<void> {
	await expectDrop(
		await drop(token, connection, {
			month: "2025-02",
			data: [row("2025-02-10T05:00:00Z", "0.1234567891", r1), row("2025-02-10T06:30:00Z", "2.5", r2), row("2025-02-28T23:00:00Z", "7", r1)],
		}),
	);
	await expectDrop(
		await drop(token, connection, {
			month: "2025-03",
			data: [
				row("2025-03-14T23:00:00Z", "1.0000000001", r1),
				row("2025-03-15T00:00:00Z", "3", r1),
				row("2025-03-20T10:00:00Z", "4.25", r2),
			],
		}),
	);
	await expectDrop(await drop(token, connection, { operation: "sum", data: [row("2025-06-14T12:00:00Z", "5", r1)] }));
}

describe("the setting and the cut-off day", () => {
	it("wrangler.toml keeps 92 days; a bad value fails clearly, naming the setting", () => {
		expect(env.COST_HOURLY_RETENTION_DAYS).toBe("92");
		expect(configOf(env).costHourlyRetentionDays).toBe(92);
		expect(configOf({ ...env, COST_HOURLY_RETENTION_DAYS: "400" }).costHourlyRetentionDays).toBe(400);
		for (const bad of ["0", "-3", "1.5", "ninety", "36501"]) {
			expect(() => configOf({ ...env, COST_HOURLY_RETENTION_DAYS: bad }), bad).toThrow(/Invalid configuration.*COST_HOURLY_RETENTION_DAYS/);
		}
	});

	it("the cut-off is today (UTC) minus the retention, whatever the time of day", () => {
		expect(hourlyCutoffDay(NOW, 92)).toBe(CUTOFF);
		expect(hourlyCutoffDay(Date.UTC(2025, 5, 15, 23, 59, 59), 92)).toBe(CUTOFF);
		expect(hourlyCutoffDay(Date.UTC(2024, 2, 1), 1)).toBe("2024-02-29");
		expect(hourlyCutoffDay(Date.UTC(2025, 0, 1), 366)).toBe("2024-01-01");
	});
});

describe("the roll-up", () => {
	let org: string;
	let token: string;
	beforeAll(async () => {
		org = uniqueOrg("retention");
		({ token } = await createToken(org, ["write_costs", "read"]));
	});

	it("deletes the hours before the cut-off of every organization's connections; days, reads and recent hours are unchanged; a second run changes nothing", async () => {
		await seed(token, "aws");
		await expectDrop(await drop(token, "recent", { data: [row("2025-05-01T00:00:00Z", "9", r1)] }));
		const other = uniqueOrg("retention-other");
		const otherToken = (await createToken(other, ["write_costs", "read"])).token;
		await expectDrop(await drop(otherToken, "aws", { data: [row("2025-01-31T23:59:59Z", "11", r1)] }));

		const days = await dailyRows(org);
		const otherDays = await dailyRows(other);
		const before = await reads(token, "aws");
		expect(before.days).toEqual([
			{ period: "2025-02-10", group: {}, currency: "USD", cost: "2.6234567891" },
			{ period: "2025-02-28", group: {}, currency: "USD", cost: "7" },
			{ period: "2025-03-14", group: {}, currency: "USD", cost: "1.0000000001" },
			{ period: "2025-03-15", group: {}, currency: "USD", cost: "3" },
			{ period: "2025-03-20", group: {}, currency: "USD", cost: "4.25" },
			{ period: "2025-06-14", group: {}, currency: "USD", cost: "5" },
		]);

		await runCron();

		expect(await hoursOf(org, "aws")).toEqual(["2025-03-15T00:00:00Z", "2025-03-20T10:00:00Z", "2025-06-14T12:00:00Z"]);
		expect(await hoursOf(org, "recent")).toEqual(["2025-05-01T00:00:00Z"]);
		expect(await hoursOf(other, "aws")).toEqual([]);
		expect(await keptFrom(org, "aws")).toBe(CUTOFF);
		expect(await keptFrom(org, "recent")).toBeNull(); // no hour to roll up: nothing recorded
		expect(await keptFrom(other, "aws")).toBe(CUTOFF);
		expect(await dailyRows(org)).toEqual(days);
		expect(await dailyRows(other)).toEqual(otherDays);
		expect(await reads(token, "aws")).toEqual(before);
		expect(await costs(otherToken, "")).toEqual([{ period: "2025-01-31", group: {}, currency: "USD", cost: "11" }]);

		const snapshot = await storageSnapshot();
		await runCron();
		expect(await storageSnapshot()).toBe(snapshot);
		// A later run moves the day forward, never back: a run with an earlier cut-off keeps it.
		await runCron(NOW - 30 * 86_400_000);
		expect(await storageSnapshot()).toBe(snapshot);
	});

	it("a replace_hourly with an hour of a rolled-up day gets 409 hours_rolled_up and changes nothing; one into a kept day works", async () => {
		await seed(token, "hourly");
		await runCron();
		const before = await storageSnapshot();
		const refused = await expectError(
			await drop(token, "hourly", {
				operation: "replace_hourly",
				month: "2025-03",
				data: [row("2025-03-16T01:00:00Z", "1", r1), row("2025-03-14T22:00:00Z", "2", r1), row("2025-03-01T00:00:00Z", "2", r1)],
			}),
			409,
			"hours_rolled_up",
		);
		expect(refused.message).toContain("hour 2025-03-01T00:00:00Z");
		expect(refused.message).toContain(`from ${CUTOFF} on`);
		await expectError(
			await drop(token, "hourly", { operation: "replace_hourly", data: [row("2025-02-10T05:00:00Z", "1", r1)] }),
			409,
			"hours_rolled_up",
		);
		// With an Idempotency-Key too: the refusal records nothing, so the key stays free.
		await expectError(
			await drop(
				token,
				"hourly",
				{ operation: "replace_hourly", data: [row("2025-02-10T05:00:00Z", "1", r1)] },
				{ "Idempotency-Key": "late-1" },
			),
			409,
			"hours_rolled_up",
		);
		expect(await storageSnapshot()).toBe(before);

		// The first kept hour (00:00 of the cut-off day) can still be replaced; its day is recomputed from its hours.
		await expectDrop(
			await drop(
				token,
				"hourly",
				{ operation: "replace_hourly", data: [row("2025-03-15T00:00:00Z", "10", r2)] },
				{ "Idempotency-Key": "late-1" },
			),
		);
		expect(await costs(token, "dim[Connection]=hourly&start_date=2025-03-14&end_date=2025-03-20&group_by=Resource")).toEqual([
			{ period: "2025-03-14", group: { Resource: "i-0a1b2c3d4e5f" }, currency: "USD", cost: "1.0000000001" },
			{ period: "2025-03-15", group: { Resource: "vol-99" }, currency: "USD", cost: "10" },
			{ period: "2025-03-20", group: { Resource: "vol-99" }, currency: "USD", cost: "4.25" },
		]);
	});

	it("sum and replace_drop into an old month still work and read correctly; the next run rolls their hours up again", async () => {
		await seed(token, "late");
		await runCron();

		// sum into a rolled-up day adds to its total (and leaves an hour row before the kept day).
		await expectDrop(await drop(token, "late", { operation: "sum", data: [row("2025-02-10T05:00:00Z", "0.0000000009", r1)] }));
		const afterSum = [
			{ period: "2025-02-10", group: { Resource: "i-0a1b2c3d4e5f" }, currency: "USD", cost: "0.12345679" },
			{ period: "2025-02-10", group: { Resource: "vol-99" }, currency: "USD", cost: "2.5" },
			{ period: "2025-02-28", group: { Resource: "i-0a1b2c3d4e5f" }, currency: "USD", cost: "7" },
		];
		const feb = "dim[Connection]=late&start_date=2025-02-01&end_date=2025-02-28&group_by=Resource";
		expect(await costs(token, feb)).toEqual(afterSum);
		expect(await hoursOf(org, "late")).toContain("2025-02-10T05:00:00Z");
		await runCron();
		expect((await hoursOf(org, "late")).filter((h) => h < CUTOFF)).toEqual([]);
		expect(await costs(token, feb)).toEqual(afterSum);

		// replace_drop of a rolled-up month replaces all its days.
		await expectDrop(await drop(token, "late", { month: "2025-02", data: [row("2025-02-03T01:00:00Z", "8", r2)] }));
		const afterReplace = [{ period: "2025-02-03", group: { Resource: "vol-99" }, currency: "USD", cost: "8" }];
		expect(await costs(token, feb)).toEqual(afterReplace);
		await runCron();
		expect((await hoursOf(org, "late")).filter((h) => h < CUTOFF)).toEqual([]);
		expect(await costs(token, feb)).toEqual(afterReplace);

		// replace_drop of the month the cut-off falls in; then a replace_hourly into its kept part.
		await expectDrop(
			await drop(token, "late", {
				month: "2025-03",
				data: [row("2025-03-01T00:00:00Z", "1", r1), row("2025-03-20T00:00:00Z", "2", r1), row("2025-03-20T05:00:00Z", "0.5", r2)],
			}),
		);
		await runCron();
		expect((await hoursOf(org, "late")).filter((h) => h.startsWith("2025-03"))).toEqual(["2025-03-20T00:00:00Z", "2025-03-20T05:00:00Z"]);
		await expectDrop(await drop(token, "late", { operation: "replace_hourly", data: [row("2025-03-20T00:00:00Z", "5", r1)] }));
		expect(await costs(token, "dim[Connection]=late&start_date=2025-03-01&end_date=2025-03-31")).toEqual([
			{ period: "2025-03-01", group: {}, currency: "USD", cost: "1" },
			{ period: "2025-03-20", group: {}, currency: "USD", cost: "5.5" },
		]);
		expect(await costs(token, "dim[Connection]=late&start_date=2025-03-01&end_date=2025-03-31&granularity=month")).toEqual([
			{ period: "2025-03", group: {}, currency: "USD", cost: "6.5" },
		]);
	});

	it("stops after its budget, sharing it between connections; the next runs go on until nothing is left", async () => {
		await runCron(); // whatever earlier tests left
		const org2 = uniqueOrg("retention-budget");
		const token2 = (await createToken(org2, ["write_costs", "read"])).token;
		for (const c of ["b1", "b2", "b3"]) {
			await expectDrop(await drop(token2, c, { data: [1, 2, 3, 4].map((d) => row(`2025-02-0${d}T00:00:00Z`, `${d}.25`, r1)) }));
			await expectDrop(await drop(token2, c, { data: [row("2025-06-01T00:00:00Z", "1", r1)] }));
		}
		const days = await dailyRows(org2);
		const before = await costs(token2, "granularity=month&group_by=Connection");
		const old = async () => Promise.all(["b1", "b2", "b3"].map(async (c) => (await hoursOf(org2, c)).filter((h) => h < CUTOFF).length));

		// Steps of one row, so each share takes several steps.
		expect(await rollUpHourlyCost(env, NOW, { rowsPerRun: 6, rowsPerStep: 1 })).toEqual({
			cutoffDay: CUTOFF,
			connections: 3,
			finished: 0,
			deleted: 6,
			failed: 0,
		});
		expect(await old()).toEqual([2, 2, 2]);
		// The day moved with the first step: the hours left before it can no longer be replaced.
		expect(await keptFrom(org2, "b3")).toBe(CUTOFF);
		await expectError(
			await drop(token2, "b3", { operation: "replace_hourly", data: [row("2025-02-04T00:00:00Z", "1", r1)] }),
			409,
			"hours_rolled_up",
		);

		expect(await rollUpHourlyCost(env, NOW, { rowsPerRun: 5, rowsPerStep: 1 })).toEqual({
			cutoffDay: CUTOFF,
			connections: 3,
			finished: 0,
			deleted: 5,
			failed: 0,
		});
		expect(await old()).toEqual([0, 0, 1]);
		expect(await rollUpHourlyCost(env, NOW, { rowsPerRun: 5, rowsPerStep: 1 })).toEqual({
			cutoffDay: CUTOFF,
			connections: 1,
			finished: 1,
			deleted: 1,
			failed: 0,
		});
		expect(await rollUpHourlyCost(env, NOW)).toEqual({ cutoffDay: CUTOFF, connections: 0, finished: 0, deleted: 0, failed: 0 });
		expect(await old()).toEqual([0, 0, 0]);
		expect(await dailyRows(org2)).toEqual(days);
		expect(await costs(token2, "granularity=month&group_by=Connection")).toEqual(before);

		// The object's own budget: a call stops at maxRows and says whether anything is left.
		await expectDrop(await drop(token2, "b1", { operation: "sum", data: [1, 2, 3].map((h) => row(`2025-01-05T0${h}:00:00Z`, "1", r1)) }));
		const object = connectionObject(env, org2, "b1");
		expect(await object.rollUpHours(org2, "b1", CUTOFF, 2, 10)).toEqual({ deleted: 2, done: false, hoursKeptFrom: CUTOFF });
		expect(await object.rollUpHours(org2, "b1", CUTOFF, 2, 10)).toEqual({ deleted: 1, done: true, hoursKeptFrom: CUTOFF });
	});

	it("a roll-up while drops arrive at the same connection loses nothing: each drop is applied or refused whole", async () => {
		await runCron();
		const org3 = uniqueOrg("retention-race");
		const token3 = (await createToken(org3, ["write_costs", "read"])).token;
		// January: one hour. February: every hour of two resources (1,344 rows: 34 steps of 40 rows).
		// June 1: six hours.
		await expectDrop(await drop(token3, "busy", { data: [row("2025-01-10T00:00:00Z", "100", r1)] }));
		const february = [];
		for (let d = 1; d <= 28; d++) {
			for (let h = 0; h < 24; h++) {
				const hour = `2025-02-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00Z`;
				february.push(row(hour, "0.01", { "resource/id": "a" }), row(hour, "0.02", { "resource/id": "b" }));
			}
		}
		await expectDrop(await drop(token3, "busy", { data: february }));
		await expectDrop(await drop(token3, "busy", { data: [0, 1, 2, 3, 4, 5].map((h) => row(`2025-06-01T0${h}:00:00Z`, "1", r1)) }));

		// Commits take 100 ms, the roll-up's steps 25 ms each.
		const d1 = await slowLedgerD1(connectionObject(env, org3, "busy"), { commitMs: 100, otherMs: 25 });
		// A replace_hourly into February planned before the roll-up starts: its commit is in flight
		// when the roll-up's first step is asked for. The step waits for it, so the day is recomputed
		// from all of its hours; a step between its planning and its commit would have deleted some.
		const first = drop(token3, "busy", { operation: "replace_hourly", data: [row("2025-02-02T03:00:00Z", "10", { "resource/id": "a" })] });
		while (d1.commits() === 0) await new Promise((resolve) => setTimeout(resolve, 2));
		const rollUp = rollUpHourlyCost(env, NOW, { rowsPerStep: 40 });
		// Then drops in waves while the roll-up runs, once it has moved the day: a sum into February,
		// a replace_hourly into a kept hour of June 1, one into a February day (refused now), and in
		// one wave a replace_drop of January.
		while ((await keptFrom(org3, "busy")) === null) await new Promise((resolve) => setTimeout(resolve, 2));
		const WAVES = 5;
		const sent: Array<Array<Promise<Response>>> = [];
		for (let w = 0; w < WAVES; w++) {
			sent.push([
				drop(token3, "busy", { operation: "sum", data: [row("2025-02-20T10:00:00Z", "0.5", { "resource/id": "a" })] }),
				drop(token3, "busy", { operation: "replace_hourly", data: [row(`2025-06-01T0${w}:00:00Z`, "2", r1)] }),
				drop(token3, "busy", {
					operation: "replace_hourly",
					data: [row(`2025-02-${String(w + 3).padStart(2, "0")}T03:00:00Z`, "10", { "resource/id": "a" })],
				}),
				...(w === 2 ? [drop(token3, "busy", { month: "2025-01", data: [row("2025-01-11T00:00:00Z", "50", r1)] })] : []),
			]);
			await new Promise((resolve) => setTimeout(resolve, 60));
		}
		const answer = async (pending: Promise<Response>) => {
			const res = await pending;
			return { status: res.status, body: await res.json<any>() };
		};
		const report = await rollUp;
		expect(report.failed).toBe(0);
		expect(await answer(first)).toMatchObject({ status: 200 });
		for (const responses of sent) {
			const [sum, june, february, january] = await Promise.all(responses.map(answer));
			expect(sum.status, JSON.stringify(sum.body)).toBe(200);
			expect(june.status, JSON.stringify(june.body)).toBe(200);
			expect(february).toMatchObject({ status: 409, body: { error: { code: "hours_rolled_up" } } });
			if (january) expect(january.status).toBe(200);
		}
		// The roll-up's 34 steps went through the object's ledger, after the first drop's commit, and
		// drops committed between them.
		expect(d1.order()).toMatch(/^c(o+c+)+o/);
		expect(d1.order().replace(/c/g, "").length).toBeGreaterThanOrEqual(34);

		await runCron(); // the sums' February hours, added after the day moved
		expect((await hoursOf(org3, "busy")).filter((h) => h < CUTOFF)).toEqual([]);
		expect(await hoursOf(org3, "busy")).toEqual([0, 1, 2, 3, 4, 5].map((h) => `2025-06-01T0${h}:00:00Z`));
		// The day whose hours are kept still adds up to its hours.
		const june = await env.DB.prepare(
			"SELECT (SELECT SUM(cost_whole * 10000000000 + cost_frac) FROM cost_daily WHERE org_id = ?1 AND day = '2025-06-01') AS day, (SELECT SUM(cost_whole * 10000000000 + cost_frac) FROM cost_hourly WHERE org_id = ?1) AS hours",
		)
			.bind(org3)
			.first<{ day: number; hours: number }>();
		expect(june).toEqual({ day: 11e10, hours: 11e10 });

		const expected = [{ period: "2025-01-11", group: {}, currency: "USD", cost: "50" }];
		for (let d = 1; d <= 28; d++) {
			const period = `2025-02-${String(d).padStart(2, "0")}`;
			// A day: 24 hours of 0.03. The first replace_hourly replaced one whole hour (both resources) with 10.
			let cents = 72;
			if (d === 2) cents += 1000 - 3;
			if (d === 20) cents += WAVES * 50;
			expected.push({ period, group: {}, currency: "USD", cost: String(cents / 100) });
		}
		expected.push({ period: "2025-06-01", group: {}, currency: "USD", cost: "11" }); // five hours replaced with 2, one left at 1
		expect(await costs(token3, "dim[Connection]=busy&limit=100")).toEqual(expected);
		const log = await env.DB.prepare("SELECT count(*) AS n FROM ingest_log WHERE org_id = ?").bind(org3).first<{ n: number }>();
		expect(log?.n).toBe(3 + 1 + WAVES * 2 + 1);
	});
});
