#!/usr/bin/env node
// How many bytes one CloudZero daily value takes in SQLite (the engine behind D1), with its
// primary key and its index, on the real schema (migrations/*.sql).
//
//   ./node_modules/.bin/node --disable-warning=ExperimentalWarning bench/row-size.mjs
//
// Fills a file database with SERIES x DAYS daily values (default 200 x 5,000 = 1,000,000 rows)
// spread over STREAMS streams, in the order daily data arrives (day by day, every series of the
// day), then measures the table and its index with dbstat, before and after VACUUM.
// Stream and series ids start at 10,001 and 1,000,001, as in a database that already holds
// 10,000 streams and a million series (bigger ids take more bytes than 1, 2, 3).
// ROW_SIZE_SERIES, ROW_SIZE_DAYS and ROW_SIZE_STREAMS change the grid.
import { statSync } from "node:fs";
import { withMigratedDatabase } from "./lib/migrated-db.mjs";

const SERIES = Number(process.env.ROW_SIZE_SERIES) || 200;
const DAYS = Number(process.env.ROW_SIZE_DAYS) || 5000;
const STREAMS = Number(process.env.ROW_SIZE_STREAMS) || 10;
const FIRST_STREAM_ID = 10_001;
const FIRST_SERIES_ID = 1_000_001;
const D1_LIMIT_BYTES = 10e9; // 10 GB per D1 database (Cloudflare's published limit)

withMigratedDatabase("row-size", main);

function main(db, file) {
	// Streams and series as the service creates them: each stream has SERIES / STREAMS series,
	// each series a canonical JSON key of its dimensions.
	const insertStream = db.prepare("INSERT INTO streams (id, org_id, name, dimension_keys, created_at) VALUES (?, ?, ?, ?, ?)");
	const insertSeries = db.prepare("INSERT INTO series (id, stream_id, series_key) VALUES (?, ?, ?)");
	const series = []; // [stream_id, series_id]
	db.exec("BEGIN");
	for (let s = 0; s < STREAMS; s++) {
		const streamId = FIRST_STREAM_ID + s;
		insertStream.run(streamId, "acme", `stream-${s}`, '["Region","custom:Client"]', new Date().toISOString());
		for (let k = s; k < SERIES; k += STREAMS) {
			const key = JSON.stringify({ Region: `region-${k % 7}`, "custom:Client": `Client ${k}` });
			insertSeries.run(FIRST_SERIES_ID + k, streamId, key);
			series.push([streamId, FIRST_SERIES_ID + k]);
		}
	}
	db.exec("COMMIT");

	// Values as the service stores them: doubles with a fractional part (8 bytes each; SQLite
	// would store a whole number in fewer bytes), rounded to 15 significant digits.
	let seed = 42;
	const random = () => {
		seed = (seed * 1103515245 + 12345) % 2 ** 31;
		return seed / 2 ** 31;
	};
	const insertValue = db.prepare("INSERT INTO daily_values (stream_id, day, series_id, value) VALUES (?, ?, ?, ?)");
	const start = Date.UTC(2012, 0, 1);
	for (let d = 0; d < DAYS; d++) {
		const day = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
		db.exec("BEGIN");
		for (const [streamId, seriesId] of series) insertValue.run(streamId, day, seriesId, Number((random() * 1e6).toPrecision(15)));
		db.exec("COMMIT");
	}
	const rows = Number(db.prepare("SELECT count(*) AS n FROM daily_values").get().n);

	const measure = (label) => {
		const sizes = Object.fromEntries(
			db
				.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name IN ('daily_values', 'daily_values_by_series') GROUP BY name")
				.all()
				.map((r) => [r.name, Number(r.bytes)]),
		);
		const table = sizes.daily_values;
		const index = sizes.daily_values_by_series;
		const perRow = (table + index) / rows;
		console.log(
			`${label}: table ${(table / rows).toFixed(1)} B/row + index ${(index / rows).toFixed(1)} B/row = ${perRow.toFixed(1)} B/row` +
				`; whole file ${(statSync(file).size / rows).toFixed(1)} B/row` +
				`; 10 GB holds ${Math.floor(D1_LIMIT_BYTES / perRow / 1e6)} million rows`,
		);
		return perRow;
	};

	console.log(
		`${rows.toLocaleString("en-US")} daily values: ${SERIES} series in ${STREAMS} streams x ${DAYS.toLocaleString("en-US")} days; SQLite ${db.prepare("SELECT sqlite_version() AS v").get().v}, page size ${db.prepare("PRAGMA page_size").get().page_size}`,
	);
	measure("as written (day by day)");
	db.exec("VACUUM");
	measure("after VACUUM");
	db.close();
}
