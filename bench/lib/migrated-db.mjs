// A temporary file database with the service's schema (migrations/*.sql applied in order), for
// the measurements that run the real schema on node:sqlite (row-size.mjs, cost-row-size.mjs).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Runs `measure(db, file)` on a fresh migrated database in a temporary folder, removed afterwards. */
export function withMigratedDatabase(name, measure) {
	const tmp = mkdtempSync(join(os.tmpdir(), `meterline-${name}-`));
	const file = join(tmp, `${name}.sqlite`);
	try {
		const db = new DatabaseSync(file);
		db.exec("PRAGMA synchronous = OFF"); // speed only: the layout on disk is the same
		for (const f of readdirSync(join(root, "migrations"))
			.filter((n) => n.endsWith(".sql"))
			.sort()) {
			db.exec(readFileSync(join(root, "migrations", f), "utf8"));
		}
		return measure(db, file);
	} finally {
		rmSync(tmp, { recursive: true, force: true });
	}
}
