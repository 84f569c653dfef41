#!/usr/bin/env node
// How many bytes one allocation value takes in SQLite (the engine behind D1), with its primary key
// and its index, on the real schema (migrations/*.sql).
//
//   ./node_modules/.bin/node --disable-warning=ExperimentalWarning bench/allocation-row-size.mjs
//
// Fills a file database with one HOURLY stream's values: GROUPS filter groups x ELEMENTS elements
// x HOURS hours (default 5 x 1,000 x 200 = 1,000,000 rows), hour by hour as hourly data arrives,
// then measures allocation_values and allocation_values_by_element with dbstat, before and after
// VACUUM. Ids start high, as in a database that already holds many streams, groups and elements.
// ALLOCATION_GROUPS, ALLOCATION_ELEMENTS and ALLOCATION_HOURS change the grid.
import { withMigratedDatabase } from "./lib/migrated-db.mjs";

const GROUPS = Number(process.env.ALLOCATION_GROUPS) || 5;
const ELEMENTS = Number(process.env.ALLOCATION_ELEMENTS) || 1000;
const HOURS = Number(process.env.ALLOCATION_HOURS) || 200;
const STREAM_ID = 10_001;
const FIRST_GROUP_ID = 1_000_001;
const FIRST_ELEMENT_ID = 5_000_001;
const D1_LIMIT_BYTES = 10e9; // 10 GB per D1 database (Cloudflare's published limit)

withMigratedDatabase("allocation-row-size", (db) => {
	db.exec("BEGIN");
	db.prepare(
		"INSERT INTO allocation_streams (id, org_id, name, granularity, filter_keys, created_at) VALUES (?, 'acme', 'usage', 'HOURLY', ?, ?)",
	).run(STREAM_ID, '["custom:product"]', new Date().toISOString());
	const insertGroup = db.prepare("INSERT INTO allocation_filter_groups (id, stream_id, filter) VALUES (?, ?, ?)");
	for (let g = 0; g < GROUPS; g++) insertGroup.run(FIRST_GROUP_ID + g, STREAM_ID, JSON.stringify({ "custom:product": [`product ${g}`] }));
	const insertElement = db.prepare("INSERT INTO allocation_elements (id, stream_id, name) VALUES (?, ?, ?)");
	for (let e = 0; e < ELEMENTS; e++) insertElement.run(FIRST_ELEMENT_ID + e, STREAM_ID, `customer-${e}`);
	db.exec("COMMIT");

	// Usage as doubles with a fractional part (8 bytes each), rounded to 15 significant digits.
	let seed = 42;
	const random = () => {
		seed = (seed * 1103515245 + 12345) % 2 ** 31;
		return seed / 2 ** 31;
	};
	const insertValue = db.prepare("INSERT INTO allocation_values (stream_id, period, group_id, element_id, value) VALUES (?, ?, ?, ?, ?)");
	for (let h = 0; h < HOURS; h++) {
		const period = `${new Date(Date.UTC(2024, 0, 1) + h * 3_600_000).toISOString().slice(0, 13)}:00:00Z`;
		db.exec("BEGIN");
		for (let g = 0; g < GROUPS; g++)
			for (let e = 0; e < ELEMENTS; e++)
				insertValue.run(STREAM_ID, period, FIRST_GROUP_ID + g, FIRST_ELEMENT_ID + e, Number((random() * 1e6).toPrecision(15)));
		db.exec("COMMIT");
	}
	const rows = Number(db.prepare("SELECT count(*) AS n FROM allocation_values").get().n);
	const measure = (label) => {
		const sizes = Object.fromEntries(
			db
				.prepare(
					"SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name IN ('allocation_values', 'allocation_values_by_element') GROUP BY name",
				)
				.all()
				.map((r) => [r.name, Number(r.bytes)]),
		);
		const table = sizes.allocation_values / rows;
		const index = sizes.allocation_values_by_element / rows;
		console.log(
			`${label}: table ${table.toFixed(1)} B/row + index ${index.toFixed(1)} B/row = ${(table + index).toFixed(1)} B/row; 10 GB holds ${Math.floor(D1_LIMIT_BYTES / (table + index) / 1e6)} million rows`,
		);
	};
	console.log(
		`${rows.toLocaleString("en-US")} hourly allocation values: ${GROUPS} filter groups x ${ELEMENTS.toLocaleString("en-US")} elements x ${HOURS} hours; SQLite ${db.prepare("SELECT sqlite_version() AS v").get().v}, page size ${db.prepare("PRAGMA page_size").get().page_size}`,
	);
	measure("as written (hour by hour)");
	db.exec("VACUUM");
	measure("after VACUUM");
});
