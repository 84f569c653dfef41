// The denominator: how fast plain SQLite upserts the same daily-aggregate rows with nothing in
// between (no HTTP, no validation, no RPC). Same schema and indexes (migrations/), the same
// 1,000-row batches the service receives, one transaction per batch, and the most direct way a
// program would do it: one prepared statement run per row, series ids kept in a Map.
//
// A second, diagnostic figure runs the service's own bulk statements (src/storage) on the
// same engine, to separate the cost of the SQL from the cost of everything around it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { insertStream, valueChunks, valueWriteStatements } from "../../src/storage/streams.ts";
import { cells, cellValue, dayString, dimensions, seriesKey, WRITE_DAYS } from "./workload.mjs";

// Stands in for D1Database: captures each statement's SQL and parameters.
const recordingDb = { prepare: (sql) => ({ bind: (...params) => ({ sql, params }) }) };

function applyMigrations(db, migrationsDir) {
	const files = readdirSync(migrationsDir)
		.filter((f) => f.endsWith(".sql"))
		.sort();
	for (const file of files) db.exec(readFileSync(join(migrationsDir, file), "utf8"));
	return files;
}

function openDatabase(dbFile, migrationsDir) {
	const db = new DatabaseSync(dbFile);
	// WAL with synchronous=NORMAL: the fastest durable setting, so the ratio is not flattered.
	db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
	const migrations = applyMigrations(db, migrationsDir);
	return { db, migrations };
}

function workloadBatches(rowsPerTransaction) {
	const keys = Array.from({ length: 200 }, (_, s) => seriesKey(s));
	const rows = cells(WRITE_DAYS).map(([d, s]) => [dayString(d), keys[s], cellValue(d, s)]);
	const batches = [];
	for (let i = 0; i < rows.length; i += rowsPerTransaction) batches.push(rows.slice(i, i + rowsPerTransaction));
	return batches;
}

/** Runs `applyBatch` in one transaction per batch for about `seconds`, then checks every stored cell. */
function timedUpserts(db, batches, seconds, applyBatch) {
	let applied = 0;
	let transactions = 0;
	const started = performance.now();
	const deadline = started + seconds * 1000;
	while (performance.now() < deadline) {
		const batch = batches[transactions % batches.length];
		db.exec("BEGIN");
		applyBatch(batch);
		db.exec("COMMIT");
		applied += batch.length;
		transactions++;
	}
	const elapsed = (performance.now() - started) / 1000;

	// Each cell must hold its value times the number of passes over it.
	const expected = new Map();
	for (let t = 0; t < transactions; t++) {
		for (const [day, key, value] of batches[t % batches.length])
			expected.set(`${day}|${key}`, (expected.get(`${day}|${key}`) ?? 0) + value);
	}
	const stored = db.prepare("SELECT v.day, s.series_key, v.value FROM daily_values v JOIN series s ON s.id = v.series_id").all();
	const verified = stored.length === expected.size && stored.every((r) => expected.get(`${r.day}|${r.series_key}`) === r.value);
	return {
		transactions,
		records: applied,
		seconds: Math.round(elapsed * 100) / 100,
		records_per_second: Math.round(applied / elapsed),
		verified,
	};
}

/** The raw limit: a prepared upsert per row, 1,000-row transactions. */
export function rawSqliteUpsertRate({ dbFile, migrationsDir, seconds, rowsPerTransaction = 1000 }) {
	const { db, migrations } = openDatabase(dbFile, migrationsDir);
	const streamId = Number(
		db
			.prepare("INSERT INTO streams (org_id, name, dimension_keys, created_at) VALUES (?, ?, ?, ?) RETURNING id")
			.get("raw", "raw-sum", JSON.stringify(Object.keys(dimensions(0)).sort()), new Date().toISOString()).id,
	);
	const insertSeries = db.prepare("INSERT INTO series (stream_id, series_key) VALUES (?, ?) RETURNING id");
	const upsert = db.prepare(
		`INSERT INTO daily_values (stream_id, day, series_id, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (stream_id, day, series_id) DO UPDATE SET value = value + excluded.value`,
	);
	const seriesIds = new Map();
	const result = timedUpserts(db, workloadBatches(rowsPerTransaction), seconds, (batch) => {
		for (const [day, key, value] of batch) {
			let id = seriesIds.get(key);
			if (id === undefined) {
				id = insertSeries.get(streamId, key).id;
				seriesIds.set(key, id);
			}
			upsert.run(streamId, day, id, value);
		}
	});
	db.close();
	return { method: "node:sqlite, prepared upsert per row, series ids cached", migrations, ...result };
}

/** Diagnostic: the service's own statements (json_each bulk upserts) on the same engine. */
export function serviceSqlRate({ dbFile, migrationsDir, seconds, rowsPerTransaction = 1000 }) {
	const { db, migrations } = openDatabase(dbFile, migrationsDir);
	const prepared = new Map();
	const run = ({ sql, params }) => {
		let stmt = prepared.get(sql);
		if (!stmt) {
			stmt = db.prepare(sql);
			prepared.set(sql, stmt);
		}
		return stmt.run(...params);
	};
	const org = "raw";
	const stream = "service-sql";
	run(insertStream(recordingDb, org, stream, Object.keys(dimensions(0)).sort(), new Date().toISOString()));
	const result = timedUpserts(db, workloadBatches(rowsPerTransaction), seconds, (batch) => {
		for (const statement of valueWriteStatements(recordingDb, org, stream, "sum", valueChunks(batch))) run(statement);
	});
	db.close();
	return { method: "node:sqlite, the service's json_each statements from src/storage", migrations, ...result };
}
