#!/usr/bin/env node
// How many bytes a cost row takes in SQLite (the engine behind D1), key and indexes included, on
// the real schema (migrations/*.sql): an hourly row (cost_hourly), a daily row (cost_daily) and a
// dimension set (cost_dimension_sets); and how fast the roll-up deletes old hours.
//
//   ./node_modules/.bin/node --disable-warning=ExperimentalWarning bench/cost-row-size.mjs
//
// Fills a file database as billing drops would: RESOURCES resources (default 10,000) spread over
// CONNECTIONS connections (default 4, each in its own organization), one dimension set each
// (8 keys, as CBF rows with an ARN and two tags give), then day by day every connection's hours
// (24 x its resources, for HOURLY_DAYS days, default 7) and, separately, its days (DAILY_DAYS,
// default 100). Organization ids are 20 characters, connection ids UUIDs (36), dimension set ids
// 90,001 to 100,000 (a database that already holds 90,000 sets); costs have 6 to 10 decimals,
// stored as whole units and 10^-10 fractions as the service stores them. Then it measures each
// table's b-trees (the table and every index on it) with dbstat, before and after VACUUM, and
// times the roll-up's own statement (src/storage/cost-retention.ts) deleting a day of hours.
// COST_ROW_SIZE_RESOURCES, COST_ROW_SIZE_CONNECTIONS, COST_ROW_SIZE_HOURLY_DAYS and
// COST_ROW_SIZE_DAILY_DAYS change the grid.
import { statSync } from "node:fs";
import { rollUpStepStatements } from "../src/storage/cost-retention.ts";
import { withMigratedDatabase } from "./lib/migrated-db.mjs";

const RESOURCES = Number(process.env.COST_ROW_SIZE_RESOURCES) || 10_000;
const CONNECTIONS = Number(process.env.COST_ROW_SIZE_CONNECTIONS) || 4;
const HOURLY_DAYS = Number(process.env.COST_ROW_SIZE_HOURLY_DAYS) || 7;
const DAILY_DAYS = Number(process.env.COST_ROW_SIZE_DAILY_DAYS) || 100;
const FIRST_DIMS_ID = 90_001;
const D1_LIMIT_BYTES = 10e9; // 10 GB per D1 database (Cloudflare's published limit)
const RETENTION_DAYS = 92; // COST_HOURLY_RETENTION_DAYS in wrangler.toml
const ROLL_UP_ROWS_PER_STEP = 10_000; // ROLL_UP_ROWS_PER_STEP in src/scheduled.ts
const FRACTION_UNITS = 1e10;
const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 0, 1);

// Stands in for D1Database: each statement's SQL and parameters, to run on node:sqlite.
const recordingDb = { prepare: (sql) => ({ bind: (...params) => ({ sql, params }) }) };

withMigratedDatabase("cost-row-size", main);

function main(db, file) {
	let seed = 42;
	const random = () => {
		seed = (seed * 1103515245 + 12345) % 2 ** 31;
		return seed / 2 ** 31;
	};
	const hex = (n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
	const alnum = (n) =>
		Array.from({ length: n }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 62)]).join("");

	// Connections: an organization (20 characters) and a UUID each; resources dealt out in turn.
	const connections = Array.from({ length: CONNECTIONS }, () => ({
		org: `org_${alnum(16)}`,
		id: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
		dims: [],
	}));
	const insertConnection = db.prepare("INSERT INTO cost_connections (org_id, connection_id, currency, created_at) VALUES (?, ?, 'USD', ?)");
	const insertSet = db.prepare("INSERT INTO cost_dimension_sets (id, org_id, dims) VALUES (?, ?, ?)");
	const services = [
		["AmazonEC2", "Compute Instance", "instance/i-"],
		["AmazonRDS", "Database Instance", "db:db-"],
		["AmazonS3", "Storage", "bucket/b-"],
		["AWSLambda", "Serverless", "function/f-"],
	];
	const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];
	let dimsBytes = 0;
	db.exec("BEGIN");
	for (const c of connections) insertConnection.run(c.org, c.id, new Date(START).toISOString());
	for (let r = 0; r < RESOURCES; r++) {
		const c = connections[r % CONNECTIONS];
		const [service, family, prefix] = services[r % services.length];
		const account = String(100_000_000_000 + Math.floor(random() * 900_000_000_000));
		const region = regions[r % regions.length];
		// Canonical JSON as src/cost/cbf-rows.ts builds it: built-ins in their order, then tags by key.
		const dims = JSON.stringify({
			Service: service,
			Account: account,
			Region: region,
			UsageFamily: family,
			LineItemType: "Usage",
			Resource: `arn:aws:${service.toLowerCase()}:${region}:${account}:${prefix}${hex(17)}`,
			"tag:env": ["prod", "staging", "dev"][r % 3],
			"tag:team": `team-${r % 40}`,
		});
		dimsBytes += Buffer.byteLength(dims);
		insertSet.run(FIRST_DIMS_ID + r, c.org, dims);
		c.dims.push(FIRST_DIMS_ID + r);
	}
	db.exec("COMMIT");

	// A cost in 10^-10 units: `scale` whole units at most, with 6 to 10 decimals; then the five
	// cost types as whole and fraction (discounted 7% off, amortized = cost, on-demand 17% more).
	const costOf = (scale) => {
		const decimals = 6 + Math.floor(random() * 5);
		return Math.floor(random() * scale * 10 ** decimals) * 10 ** (10 - decimals);
	};
	const parts = (units) => [Math.trunc(units / FRACTION_UNITS), units % FRACTION_UNITS];
	const fiveCosts = (units) => {
		const discounted = Math.floor(units * 0.93);
		return [...parts(units), ...parts(discounted), ...parts(units), ...parts(discounted), ...parts(Math.floor(units * 1.17))];
	};
	const insertHour = db.prepare("INSERT INTO cost_hourly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	const insertDay = db.prepare(
		"INSERT INTO cost_daily (org_id, day, connection_id, dims_id, cost_whole, cost_frac, discounted_cost_whole, discounted_cost_frac, amortized_cost_whole, amortized_cost_frac, discounted_amortized_cost_whole, discounted_amortized_cost_frac, on_demand_cost_whole, on_demand_cost_frac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	);
	const dayString = (d) => new Date(START + d * DAY_MS).toISOString().slice(0, 10);
	for (let d = 0; d < Math.max(HOURLY_DAYS, DAILY_DAYS); d++) {
		const day = dayString(d);
		db.exec("BEGIN");
		for (const c of connections) {
			if (d < HOURLY_DAYS) {
				for (let h = 0; h < 24; h++) {
					const hour = `${day}T${String(h).padStart(2, "0")}:00:00Z`;
					for (const dimsId of c.dims) insertHour.run(c.org, c.id, hour, dimsId, ...fiveCosts(costOf(3)));
				}
			}
			if (d < DAILY_DAYS) for (const dimsId of c.dims) insertDay.run(c.org, day, c.id, dimsId, ...fiveCosts(costOf(72)));
		}
		db.exec("COMMIT");
	}

	const count = (table) => Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get().n);
	const rows = { cost_hourly: count("cost_hourly"), cost_daily: count("cost_daily"), cost_dimension_sets: count("cost_dimension_sets") };
	// Every b-tree of a table: the table itself and each of its indexes (a UNIQUE constraint's too).
	const bytesOf = (table) =>
		Number(
			db
				.prepare(
					"SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ? AND type IN ('table', 'index'))",
				)
				.get(table).bytes,
		);
	const measure = (label) => {
		const perRow = Object.fromEntries(Object.keys(rows).map((t) => [t, bytesOf(t) / rows[t]]));
		console.log(
			`${label}: hourly ${perRow.cost_hourly.toFixed(1)} B/row, daily ${perRow.cost_daily.toFixed(1)} B/row, dimension set ${perRow.cost_dimension_sets.toFixed(1)} B/set` +
				`; whole file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`,
		);
		return perRow;
	};

	console.log(
		`${rows.cost_hourly.toLocaleString("en-US")} hourly rows (${RESOURCES.toLocaleString("en-US")} resources x 24 h x ${HOURLY_DAYS} days), ` +
			`${rows.cost_daily.toLocaleString("en-US")} daily rows (x ${DAILY_DAYS} days), ${rows.cost_dimension_sets.toLocaleString("en-US")} dimension sets ` +
			`(${(dimsBytes / rows.cost_dimension_sets).toFixed(0)} B of JSON each) in ${CONNECTIONS} connections; SQLite ${db.prepare("SELECT sqlite_version() AS v").get().v}, page size ${db.prepare("PRAGMA page_size").get().page_size}`,
	);
	const written = measure("as written (day by day)");
	db.exec("VACUUM");
	const vacuumed = measure("after VACUUM");

	// What one database holds, with each measured pair (as written, after VACUUM).
	const gb = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;
	for (const [label, size] of [
		["as written", written],
		["after VACUUM", vacuumed],
	]) {
		const resourceDay = 24 * size.cost_hourly + size.cost_daily;
		const window = (RETENTION_DAYS + 1) * 24 * size.cost_hourly; // today's hours and RETENTION_DAYS days before
		const setsOf = (n) => n * size.cost_dimension_sets;
		console.log(
			`${label}: a resource-day with its hours ${resourceDay.toFixed(0)} B -> 10 GB holds ${(D1_LIMIT_BYTES / resourceDay / 1e6).toFixed(1)} million resource-days without retention` +
				` (${RESOURCES.toLocaleString("en-US")} resources: ${(D1_LIMIT_BYTES / resourceDay / RESOURCES).toFixed(0)} days)` +
				`; with ${RETENTION_DAYS} days of hours, ${RESOURCES.toLocaleString("en-US")} resources keep ${gb(RESOURCES * window)} of hours and ${gb(setsOf(RESOURCES))} of sets` +
				`, and the rest holds ${((D1_LIMIT_BYTES - RESOURCES * window - setsOf(RESOURCES)) / size.cost_daily / 1e6).toFixed(0)} million resource-days of daily rows` +
				` (${((D1_LIMIT_BYTES - RESOURCES * window - setsOf(RESOURCES)) / size.cost_daily / RESOURCES / 365.25).toFixed(0)} years of them)`,
		);
	}

	// The roll-up: one connection's first day of hours deleted in steps, with the service's statements.
	const c = connections[0];
	const day = dayString(1);
	const run = ({ sql, params }) => db.prepare(sql).all(...params);
	const before = count("cost_hourly");
	const started = performance.now();
	let steps = 0;
	for (;;) {
		const [advance, remove] = rollUpStepStatements(recordingDb, c.org, c.id, day, ROLL_UP_ROWS_PER_STEP);
		db.exec("BEGIN");
		run(advance);
		const changes = Number(db.prepare(remove.sql).run(...remove.params).changes);
		db.exec("COMMIT");
		steps++;
		if (changes < ROLL_UP_ROWS_PER_STEP) break;
	}
	const deleted = before - count("cost_hourly");
	const ms = performance.now() - started;
	console.log(
		`roll-up: ${deleted.toLocaleString("en-US")} hourly rows deleted in ${steps} steps of at most ${ROLL_UP_ROWS_PER_STEP.toLocaleString("en-US")}: ${(ms / steps).toFixed(0)} ms a step, ${((ms * 1000) / deleted).toFixed(1)} µs a row`,
	);
	db.close();
}
