// Cost (migrations 0008 to 0011): connections, dimension sets, hourly cost and its daily totals, a
// billing drop's scratch numbering of its dimension sets, and the organization's custom
// dimensions. Statements are parameterized; rows travel as JSON parameters.
import { COST_TYPES } from "../cost/cbf-rows";
import { monthBounds } from "../cost/months";
import { COST_FRACTION_UNITS, type CostParts } from "../lib/decimal";
import type { DropOperation } from "../schemas/costs";
import { joinJsonChunks } from "./json-params";

export interface ConnectionRow {
	connection_id: string;
	currency: string;
	/** The first UTC day (YYYY-MM-DD) whose hours the connection keeps; null: all (migration 0011). */
	hours_kept_from: string | null;
}

export async function findConnection(db: D1Database, org: string, connection: string): Promise<ConnectionRow | null> {
	return db
		.prepare("SELECT connection_id, currency, hours_kept_from FROM cost_connections WHERE org_id = ? AND connection_id = ?")
		.bind(org, connection)
		.first<ConnectionRow>();
}

/** A drop's row as the statements need it: its UTC hour, dimension set (canonical JSON) and five costs in stored parts. */
export interface CostLine {
	hour: string;
	dims: string;
	costs: readonly [CostParts, CostParts, CostParts, CostParts, CostParts];
}

/**
 * A drop's rows summed and encoded as its statements read them. Rows refer to their period and
 * dimension set by number, so they are plain JSON numbers: the cheapest text to send to D1.
 */
export interface EncodedDrop {
	/** The drop's distinct hours (YYYY-MM-DDTHH:00:00Z) and days (YYYY-MM-DD), as its rows number them. */
	hours: string[];
	days: string[];
	/** The distinct dimension sets (canonical JSON) in chunks: the number of the chunk's first and a JSON array. */
	dims: Array<{ first: number; json: string }>;
	/**
	 * JSON arrays of rows summed per (hour, set) and per (day, set): [period, dimension set, then
	 * each of cost, discounted, amortized, discounted amortized, on-demand as one integer count of
	 * 10^-10] ("narrow": every cost within ±9x10^8, so the count fits SQLite's 64-bit integers),
	 * or with each cost as whole units and a fraction apart ("wide").
	 */
	hourRows: RowChunk[];
	dayRows: RowChunk[];
}

export interface RowChunk {
	wide: boolean;
	json: string;
}

/** [period, set, whole0, frac0, ... whole4, frac4] */
type Sum = number[];

/** Numbers distinct values in the order they are first seen. */
class Numbering {
	readonly list: string[] = [];
	private readonly numbers = new Map<string, number>();
	of(value: string): number {
		let n = this.numbers.get(value);
		if (n === undefined) {
			n = this.list.push(value) - 1;
			this.numbers.set(value, n);
		}
		return n;
	}
}

/**
 * The most a drop may put into one cell (an hour or a day of one dimension set) of one cost type,
 * in whole units, so that the drop's sums stay exact in JavaScript numbers. What D1 stores (the
 * sum with earlier drops) is bounded by SQLite's 64-bit integers (migration 0010).
 */
export const MAX_COST_CELL = 9e15;

/**
 * Sums a drop's rows per (hour, dimension set) and per (day, dimension set), exactly (whole units
 * and 10^-10 fractions apart), and encodes them; or the index of the first row whose cell would
 * exceed MAX_COST_CELL.
 */
export function encodeDrop(lines: readonly CostLine[]): EncodedDrop | { overflowAt: number } {
	const dims = new Numbering();
	const hours = new Numbering();
	const days = new Numbering();
	const hourSums = new Map<number, Sum>();
	const daySums = new Map<number, Sum>();
	// (period, set) as one number: a set's number is below lines.length.
	const width = lines.length;
	for (let i = 0; i < lines.length; i++) {
		const { hour, dims: set, costs } = lines[i];
		const d = dims.of(set);
		if (!addTo(hourSums, hours.of(hour), d, width, costs) || !addTo(daySums, days.of(hour.slice(0, 10)), d, width, costs))
			return { overflowAt: i };
	}
	return {
		hours: hours.list,
		days: days.list,
		dims: joinJsonChunks(dims.list.map((set) => JSON.stringify(set))),
		hourRows: rowChunks(hourSums.values()),
		dayRows: rowChunks(daySums.values()),
	};
}

/** Adds a row's costs to its cell; false when a whole part would leave ±MAX_COST_CELL (checked at each step, so sums stay exact). */
function addTo(sums: Map<number, Sum>, period: number, d: number, width: number, costs: CostLine["costs"]): boolean {
	const key = period * width + d;
	let sum = sums.get(key);
	if (sum === undefined) {
		sum = [period, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
		sums.set(key, sum);
	}
	for (let c = 0; c < 5; c++) {
		const whole = sum[2 + 2 * c] + costs[c][0];
		// Fractions are below 10^10 each: a drop's sum of them stays far below 2^53.
		sum[3 + 2 * c] += costs[c][1];
		if (Math.abs(whole) > MAX_COST_CELL) return false;
		sum[2 + 2 * c] = whole;
	}
	return true;
}

/** A narrow row's costs are within ±9x10^8 whole units: its counts of 10^-10 stay below 2^63. */
const NARROW_WHOLE = 900_000_000;

function rowChunks(sums: Iterable<Sum>): RowChunk[] {
	const narrow: string[] = [];
	const wide: string[] = [];
	for (const sum of sums) {
		let isNarrow = true;
		for (let c = 2; c < 12; c += 2) {
			// Carry whole units out of the fraction (|fraction| < 10^10 as stored), then give both one sign.
			let whole = sum[c];
			let fraction = sum[c + 1];
			const carry = Math.trunc(fraction / COST_FRACTION_UNITS);
			whole += carry;
			fraction -= carry * COST_FRACTION_UNITS;
			if (whole > 0 && fraction < 0) {
				whole -= 1;
				fraction += COST_FRACTION_UNITS;
			} else if (whole < 0 && fraction > 0) {
				whole += 1;
				fraction -= COST_FRACTION_UNITS;
			}
			sum[c] = whole + 0;
			sum[c + 1] = fraction + 0;
			if (whole > NARROW_WHOLE || whole < -NARROW_WHOLE) isNarrow = false;
		}
		// By hand: every element is an integer, written exactly (a count of 10^-10 may pass 2^53).
		if (!isNarrow) wide.push(`[${sum.join(",")}]`);
		else
			narrow.push(
				`[${sum[0]},${sum[1]},${tenths(sum[2], sum[3])},${tenths(sum[4], sum[5])},${tenths(sum[6], sum[7])},${tenths(sum[8], sum[9])},${tenths(sum[10], sum[11])}]`,
			);
	}
	return [
		...joinJsonChunks(narrow).map(({ json }) => ({ wide: false, json })),
		...joinJsonChunks(wide).map(({ json }) => ({ wide: true, json })),
	];
}

/** whole + fraction / 10^10 (of one sign) as the decimal text of its count of 10^-10. */
function tenths(whole: number, fraction: number): string {
	if (whole === 0) return String(fraction);
	const digits = String(fraction < 0 ? -fraction : fraction);
	return `${whole}${"0000000000".slice(digits.length)}${digits}`;
}

export interface DropWrite extends EncodedDrop {
	org: string;
	connection: string;
	operation: DropOperation;
	/** YYYY-MM */
	month: string;
	currency: string;
}

const COST_COLUMNS = COST_TYPES.flatMap((t) => [`${t}_whole`, `${t}_frac`]).join(", ");
/**
 * An upsert's update that adds the new row's costs to the stored ones, carrying whole units out of
 * the fractions (SQLite's integer / and % truncate toward zero, so whole + frac / 10^10 is kept).
 */
const ADD_EXCLUDED_COSTS = COST_TYPES.map(
	(t) =>
		`${t}_whole = ${t}_whole + excluded.${t}_whole + (${t}_frac + excluded.${t}_frac) / ${COST_FRACTION_UNITS}, ${t}_frac = (${t}_frac + excluded.${t}_frac) % ${COST_FRACTION_UNITS}`,
).join(", ");
/** A row's ten cost columns: from counts of 10^-10 (narrow rows) or from whole and fraction apart (wide). */
const rowCosts = (wide: boolean) =>
	Array.from({ length: 5 }, (_, c) =>
		wide
			? `r.value ->> ${2 * c + 2}, r.value ->> ${2 * c + 3}`
			: `(r.value ->> ${c + 2}) / ${COST_FRACTION_UNITS}, (r.value ->> ${c + 2}) % ${COST_FRACTION_UNITS}`,
	).join(", ");

/**
 * Adds encoded rows (?4) to a table keyed by (org ?1, connection ?2, period, dimension set): each
 * row's period is looked up in ?3 (a JSON array) and its set in cost_drop_dims. CROSS JOIN keeps
 * json_each as the outer loop (see storage/streams.ts).
 */
function addRowsSql(table: "cost_hourly" | "cost_daily", period: "hour" | "day", wide: boolean): string {
	return `WITH periods AS MATERIALIZED (SELECT key AS n, value AS period FROM json_each(?3))
		INSERT INTO ${table} (org_id, connection_id, ${period}, dims_id, ${COST_COLUMNS})
		SELECT ?1, ?2, p.period, d.dims_id, ${rowCosts(wide)}
		FROM json_each(?4) r CROSS JOIN periods p ON p.n = r.value ->> 0 CROSS JOIN cost_drop_dims d ON d.idx = r.value ->> 1
		WHERE true
		ON CONFLICT (org_id, connection_id, ${period}, dims_id) DO UPDATE SET ${ADD_EXCLUDED_COSTS}`;
}

/** A day's totals of each cost type from its hours, carried as in ADD_EXCLUDED_COSTS. */
const DAY_SUMS_OF_HOURS = COST_TYPES.map(
	(t) => `SUM(h.${t}_whole) + SUM(h.${t}_frac) / ${COST_FRACTION_UNITS}, SUM(h.${t}_frac) % ${COST_FRACTION_UNITS}`,
).join(", ");

/**
 * The statements of a drop, to run in one batch: create the connection; number the drop's
 * dimension sets in cost_drop_dims (creating the new ones); replace (or add to) the hourly
 * cost; keep the daily totals: add the drop's own daily sums (sum, replace_drop after clearing
 * its month), or recompute the touched days from their hours (replace_hourly); empty
 * cost_drop_dims. A month has at most 744 hours, so the period lists are small parameters.
 */
export function dropStatements(db: D1Database, w: DropWrite, now: string): D1PreparedStatement[] {
	const [from, to] = monthBounds(w.month);
	const hours = JSON.stringify(w.hours);
	const days = JSON.stringify(w.days);
	const statements: D1PreparedStatement[] = [
		db
			.prepare(
				"INSERT INTO cost_connections (org_id, connection_id, currency, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id, connection_id) DO NOTHING",
			)
			.bind(w.org, w.connection, w.currency, now),
		db.prepare("DELETE FROM cost_drop_dims"),
	];
	const stageDims = db.prepare("INSERT INTO cost_drop_dims (idx, dims) SELECT ?1 + key, value FROM json_each(?2)");
	for (const { first, json } of w.dims) statements.push(stageDims.bind(first, json));
	statements.push(
		db
			.prepare(
				"INSERT INTO cost_dimension_sets (org_id, dims) SELECT ?1, dims FROM cost_drop_dims WHERE true ON CONFLICT (org_id, dims) DO NOTHING",
			)
			.bind(w.org),
		db
			.prepare("UPDATE cost_drop_dims SET dims_id = (SELECT id FROM cost_dimension_sets WHERE org_id = ?1 AND dims = cost_drop_dims.dims)")
			.bind(w.org),
	);

	if (w.operation === "replace_drop") {
		statements.push(
			db
				.prepare("DELETE FROM cost_hourly WHERE org_id = ?1 AND connection_id = ?2 AND hour >= ?3 AND hour < ?4")
				.bind(w.org, w.connection, from, to),
		);
	} else if (w.operation === "replace_hourly") {
		statements.push(
			db
				.prepare("DELETE FROM cost_hourly WHERE org_id = ?1 AND connection_id = ?2 AND hour IN (SELECT value FROM json_each(?3))")
				.bind(w.org, w.connection, hours),
		);
	}
	const addHours = [db.prepare(addRowsSql("cost_hourly", "hour", false)), db.prepare(addRowsSql("cost_hourly", "hour", true))];
	for (const rows of w.hourRows) statements.push(addHours[Number(rows.wide)].bind(w.org, w.connection, hours, rows.json));

	if (w.operation === "replace_hourly") {
		// The touched days' totals, recomputed from their hours as this transaction left them.
		statements.push(
			db
				.prepare("DELETE FROM cost_daily WHERE org_id = ?1 AND connection_id = ?2 AND day IN (SELECT value FROM json_each(?3))")
				.bind(w.org, w.connection, days),
			db
				.prepare(
					`INSERT INTO cost_daily (org_id, day, connection_id, dims_id, ${COST_COLUMNS})
					SELECT ?1, d.value, ?2, h.dims_id, ${DAY_SUMS_OF_HOURS}
					FROM json_each(?3) d CROSS JOIN cost_hourly h ON h.org_id = ?1 AND h.connection_id = ?2 AND h.hour >= d.value || 'T00' AND h.hour < d.value || 'T24'
					WHERE true
					GROUP BY d.value, h.dims_id`,
				)
				.bind(w.org, w.connection, days),
		);
	} else {
		// replace_drop and sum add the drop's own daily sums (replace_drop has cleared its month first).
		if (w.operation === "replace_drop") {
			statements.push(
				db
					.prepare("DELETE FROM cost_daily WHERE org_id = ?1 AND connection_id = ?2 AND day >= ?3 AND day < ?4")
					.bind(w.org, w.connection, from.slice(0, 10), to.slice(0, 10)),
			);
		}
		const addDays = [db.prepare(addRowsSql("cost_daily", "day", false)), db.prepare(addRowsSql("cost_daily", "day", true))];
		for (const rows of w.dayRows) statements.push(addDays[Number(rows.wide)].bind(w.org, w.connection, days, rows.json));
	}
	statements.push(db.prepare("DELETE FROM cost_drop_dims"));
	return statements;
}

// ---- custom dimensions ------------------------------------------------------------------------

export interface CustomDimensionRow {
	name: string;
	source: string;
	updated_at: string;
}

export async function listCustomDimensions(db: D1Database, org: string): Promise<CustomDimensionRow[]> {
	const { results } = await db
		.prepare("SELECT name, source, updated_at FROM cost_custom_dimensions WHERE org_id = ? ORDER BY name")
		.bind(org)
		.all<CustomDimensionRow>();
	return results;
}

export async function putCustomDimension(db: D1Database, org: string, name: string, source: string, now: string): Promise<void> {
	await db
		.prepare(
			"INSERT INTO cost_custom_dimensions (org_id, name, source, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id, name) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
		)
		.bind(org, name, source, now)
		.run();
}
