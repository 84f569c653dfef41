// The denominator: how fast plain SQLite applies the service's own upsert, with nothing in
// between (no HTTP, no validation, no RPC). The schema comes from migrations/ and the SQL from
// src/storage/telemetry-store.ts itself, so the two cannot drift apart.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { insertStream, valueWriteStatements } from "../../src/storage/telemetry-store.ts";
import { cells, dayString, dimensions, seriesKey, valueOf, WRITE_DAYS } from "./workload.mjs";

// Stands in for D1Database: captures each statement's SQL and parameters.
const recordingDb = { prepare: (sql) => ({ bind: (...params) => ({ sql, params }) }) };

export function applyMigrations(db, migrationsDir) {
	const files = readdirSync(migrationsDir).filter((f) => f.endsWith(".sql")).sort();
	for (const file of files) db.exec(readFileSync(join(migrationsDir, file), "utf8"));
	return files;
}

/**
 * Upserts `rowsPerTransaction`-row batches of the write grid (as the service's validation
 * produces them) in a loop for about `seconds`, one transaction per batch.
 */
export function rawSqliteUpsertRate({ dbFile, migrationsDir, seconds, rowsPerTransaction = 1000 }) {
	const db = new DatabaseSync(dbFile);
	// WAL with synchronous=NORMAL: the fastest durable setting, so the ratio is not flattered.
	db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
	const migrations = applyMigrations(db, migrationsDir);

	const org = "raw";
	const stream = "raw-sum";
	const keys = Array.from({ length: 200 }, (_, s) => seriesKey(s));
	const rows = cells(WRITE_DAYS).map(([d, s]) => [dayString(d), keys[s], valueOf(d, s)]);
	const batches = [];
	for (let i = 0; i < rows.length; i += rowsPerTransaction) batches.push(rows.slice(i, i + rowsPerTransaction));

	const prepared = new Map();
	const run = ({ sql, params }) => {
		let stmt = prepared.get(sql);
		if (!stmt) prepared.set(sql, (stmt = db.prepare(sql)));
		return stmt.run(...params);
	};
	run(insertStream(recordingDb, org, stream, Object.keys(dimensions(0)).sort(), new Date().toISOString()));

	let applied = 0;
	let transactions = 0;
	const started = performance.now();
	const deadline = started + seconds * 1000;
	while (performance.now() < deadline) {
		const batch = batches[transactions % batches.length];
		// The statements are built per batch, as the service builds them per request.
		const statements = valueWriteStatements(recordingDb, org, stream, "sum", batch);
		db.exec("BEGIN");
		for (const statement of statements) run(statement);
		db.exec("COMMIT");
		applied += batch.length;
		transactions++;
	}
	const elapsed = (performance.now() - started) / 1000;

	// Each cell must hold its value times the number of passes over it.
	const expected = new Map();
	for (let t = 0; t < transactions; t++) {
		for (const [day, key, value] of batches[t % batches.length]) expected.set(`${day}|${key}`, (expected.get(`${day}|${key}`) ?? 0) + value);
	}
	const stored = db.prepare("SELECT v.day, s.series_key, v.value FROM daily_values v JOIN series s ON s.id = v.series_id").all();
	const ok = stored.length === expected.size && stored.every((r) => expected.get(`${r.day}|${r.series_key}`) === r.value);
	db.close();
	return { migrations, transactions, records: applied, seconds: Math.round(elapsed * 100) / 100, records_per_second: Math.round(applied / elapsed), verified: ok };
}
