// Cost (migration 0008): connections, dimension sets, hourly cost and its daily totals, and the
// organization's custom dimensions. Statements are parameterized; rows travel as JSON parameters.
import type { CostType, DropOperation } from "../schemas/costs";
import { jsonChunks, MAX_JSON_PARAM_CHARS } from "./json-params";

export interface ConnectionRow {
	connection_id: string;
	currency: string;
}

export async function findConnection(db: D1Database, org: string, connection: string): Promise<ConnectionRow | null> {
	return db
		.prepare("SELECT connection_id, currency FROM cost_connections WHERE org_id = ? AND connection_id = ?")
		.bind(org, connection)
		.first<ConnectionRow>();
}

/**
 * Summed cost rows in the compact form the statements read: the dimension sets the chunk uses,
 * listed once (`dims`, a JSON array of canonical JSON), and its rows (`rows`) as
 * [period, index into dims, cost, discounted, amortized, discounted amortized, on-demand].
 */
export interface CostChunk {
	dims: string;
	rows: string;
}

/** A drop's row as the statements need it: its UTC hour, dimension set (canonical JSON) and five costs. */
export interface CostLine {
	hour: string;
	dims: string;
	costs: readonly [number, number, number, number, number];
}

/** A sum per (period, dimension set); the set by its number in the drop. */
type Sum = [period: string, dims: number, cost: number, discounted: number, amortized: number, discountedAmortized: number, onDemand: number];

/**
 * A drop's rows summed per (hour, dimension set) and per (day, dimension set), each encoded in
 * chunks that stay within the JSON parameter budget, and the drop's distinct hours, sorted.
 * The hot path of a 10,000-row drop: dimension sets are numbered once, so the per-row work is
 * on short keys.
 */
export function dropChunks(lines: readonly CostLine[]): { hours: string[]; hourChunks: CostChunk[]; dayChunks: CostChunk[] } {
	const dimsIndex = new Map<string, number>();
	const dimsList: string[] = [];
	const hourSums = new Map<string, Sum>();
	const daySums = new Map<string, Sum>();
	const hours = new Set<string>();
	for (const { hour, dims, costs } of lines) {
		let d = dimsIndex.get(dims);
		if (d === undefined) {
			d = dimsList.push(dims) - 1;
			dimsIndex.set(dims, d);
		}
		addTo(hourSums, hour, d, costs);
		addTo(daySums, hour.slice(0, 10), d, costs);
		hours.add(hour);
	}
	return { hours: [...hours].sort(), hourChunks: encodeChunks(hourSums.values(), dimsList), dayChunks: encodeChunks(daySums.values(), dimsList) };
}

function addTo(sums: Map<string, Sum>, period: string, d: number, costs: CostLine["costs"]): void {
	const key = `${d} ${period}`;
	const sum = sums.get(key);
	if (sum === undefined) sums.set(key, [period, d, costs[0], costs[1], costs[2], costs[3], costs[4]]);
	else for (let c = 0; c < 5; c++) sum[c + 2] = (sum[c + 2] as number) + costs[c];
}

/** Sums in chunks, each listing the dimension sets its rows use. */
function encodeChunks(sums: Iterable<Sum>, dimsList: readonly string[]): CostChunk[] {
	const chunks: CostChunk[] = [];
	let local = new Map<number, number>();
	let dims: string[] = [];
	let dimChars = 2;
	let rows: string[] = [];
	let rowChars = 2;
	const flush = () => {
		if (rows.length === 0) return;
		chunks.push({ dims: JSON.stringify(dims), rows: `[${rows.join(",")}]` });
		local = new Map();
		dims = [];
		dimChars = 2;
		rows = [];
		rowChars = 2;
	};
	for (const [period, d, c0, c1, c2, c3, c4] of sums) {
		let i = local.get(d);
		const keyChars = i === undefined ? JSON.stringify(dimsList[d]).length + 1 : 0;
		// A row is at most about 160 characters.
		if (rowChars + 160 > MAX_JSON_PARAM_CHARS || dimChars + keyChars > MAX_JSON_PARAM_CHARS) {
			flush();
			i = undefined;
		}
		if (i === undefined) {
			i = dims.push(dimsList[d]) - 1;
			local.set(d, i);
			dimChars += keyChars;
		}
		// By hand: the period is digits, '-', 'T', ':' and 'Z', and the costs are finite numbers.
		const row = `["${period}",${i},${c0},${c1},${c2},${c3},${c4}]`;
		rows.push(row);
		rowChars += row.length + 1;
	}
	flush();
	return chunks;
}

export interface DropWrite {
	org: string;
	connection: string;
	operation: DropOperation;
	/** YYYY-MM */
	month: string;
	currency: string;
	/** The distinct hours of the drop (replace_hourly replaces them). */
	hours: string[];
	/** The rows summed per (hour, dimension set), then per (day, dimension set). */
	hourChunks: CostChunk[];
	dayChunks: CostChunk[];
}

const COST_COLUMNS = "cost, discounted_cost, amortized_cost, discounted_amortized_cost, on_demand_cost";
/** An upsert's update that adds the new row's five costs to the stored ones. */
const ADD_EXCLUDED_COSTS = COST_COLUMNS.split(", ")
	.map((column) => `${column} = ${column} + excluded.${column}`)
	.join(", ");
/** A chunk's dimension sets (?3, JSON) resolved to their ids once (?1 org), for its rows (?4) to join. */
const REQUEST_DIMS = `WITH request_dims AS MATERIALIZED (
			SELECT k.key AS idx, ds.id AS dims_id FROM json_each(?3) k CROSS JOIN cost_dimension_sets ds ON ds.org_id = ?1 AND ds.dims = k.value
		)`;

/** The first hour of a month and of the month after it. */
export function monthBounds(month: string): [string, string] {
	const [y, m] = month.split("-").map(Number);
	// After December 9999 (the last month a timestamp can name) no 4-digit month follows: day 32 sorts after its hours.
	if (y === 9999 && m === 12) return [`${month}-01T00:00:00Z`, `${month}-32T00:00:00Z`];
	const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
	return [`${month}-01T00:00:00Z`, `${next}-01T00:00:00Z`];
}

/**
 * The statements of a drop, to run in one batch: create the connection, replace (or add to) the
 * hourly cost, then keep the daily totals: add the drop's own daily sums (sum, replace_drop after
 * clearing its month), or recompute the touched days from their hours (replace_hourly).
 */
export function dropStatements(db: D1Database, w: DropWrite, now: string): D1PreparedStatement[] {
	const [from, to] = monthBounds(w.month);
	const statements: D1PreparedStatement[] = [
		db
			.prepare("INSERT INTO cost_connections (org_id, connection_id, currency, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id, connection_id) DO NOTHING")
			.bind(w.org, w.connection, w.currency, now),
	];
	const hourChunks = jsonChunks(w.hours);
	if (w.operation === "replace_drop") {
		statements.push(db.prepare("DELETE FROM cost_hourly WHERE org_id = ?1 AND connection_id = ?2 AND hour >= ?3 AND hour < ?4").bind(w.org, w.connection, from, to));
	} else if (w.operation === "replace_hourly") {
		const remove = db.prepare("DELETE FROM cost_hourly WHERE org_id = ?1 AND connection_id = ?2 AND hour IN (SELECT value FROM json_each(?3))");
		for (const json of hourChunks) statements.push(remove.bind(w.org, w.connection, json));
	}
	const insertDims = db.prepare(
		"INSERT INTO cost_dimension_sets (org_id, dims) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT (org_id, dims) DO NOTHING",
	);
	// CROSS JOIN keeps json_each as the outer loop (see storage/streams.ts).
	const upsert = db.prepare(
		`${REQUEST_DIMS}
		INSERT INTO cost_hourly (org_id, connection_id, hour, dims_id, ${COST_COLUMNS})
		SELECT ?1, ?2, r.value ->> 0, rd.dims_id, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6
		FROM json_each(?4) r CROSS JOIN request_dims rd ON rd.idx = r.value ->> 1
		WHERE true
		ON CONFLICT (org_id, connection_id, hour, dims_id) DO UPDATE SET ${ADD_EXCLUDED_COSTS}`,
	);
	// replace_drop and sum add the drop's own daily sums to the daily totals (replace_drop has
	// cleared its month first); replace_hourly recomputes the days it touches from the hours.
	const addDays = db.prepare(
		`${REQUEST_DIMS}
		INSERT INTO cost_daily (org_id, day, connection_id, dims_id, ${COST_COLUMNS})
		SELECT ?1, r.value ->> 0, ?2, rd.dims_id, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6
		FROM json_each(?4) r CROSS JOIN request_dims rd ON rd.idx = r.value ->> 1
		WHERE true
		ON CONFLICT (org_id, day, connection_id, dims_id) DO UPDATE SET ${ADD_EXCLUDED_COSTS}`,
	);
	if (w.operation === "replace_drop") {
		statements.push(db.prepare("DELETE FROM cost_daily WHERE org_id = ?1 AND connection_id = ?2 AND day >= ?3 AND day < ?4").bind(w.org, w.connection, from.slice(0, 10), to.slice(0, 10)));
	}
	for (const { dims, rows } of w.hourChunks) statements.push(insertDims.bind(w.org, dims), upsert.bind(w.org, w.connection, dims, rows));
	// Every dimension set of the days is in some hour chunk, so it exists by now.
	if (w.operation !== "replace_hourly") {
		for (const { dims, rows } of w.dayChunks) statements.push(addDays.bind(w.org, w.connection, dims, rows));
		return statements;
	}

	// replace_hourly: the touched days' totals, recomputed from their hours as this transaction left them.
	const sums = "SUM(h.cost), SUM(h.discounted_cost), SUM(h.amortized_cost), SUM(h.discounted_amortized_cost), SUM(h.on_demand_cost)";
	{
		const days = [...new Set(w.hours.map((h) => h.slice(0, 10)))];
		const clear = db.prepare("DELETE FROM cost_daily WHERE org_id = ?1 AND connection_id = ?2 AND day IN (SELECT value FROM json_each(?3))");
		const recompute = db.prepare(
			`INSERT INTO cost_daily (org_id, day, connection_id, dims_id, ${COST_COLUMNS})
			SELECT ?1, d.value, ?2, h.dims_id, ${sums}
			FROM json_each(?3) d CROSS JOIN cost_hourly h ON h.org_id = ?1 AND h.connection_id = ?2 AND h.hour >= d.value || 'T00' AND h.hour < d.value || 'T24'
			WHERE true
			GROUP BY d.value, h.dims_id`,
		);
		for (const json of jsonChunks(days)) statements.push(clear.bind(w.org, w.connection, json), recompute.bind(w.org, w.connection, json));
	}
	return statements;
}

export interface DailyCostRow {
	day: string;
	connection_id: string;
	dims_id: number;
	cost: number;
}

/** An organization's daily cost of one type in a day range, with the dimension sets and connections it uses. */
export async function readDailyCost(
	db: D1Database,
	org: string,
	startDay: string,
	endDay: string,
	costType: CostType,
): Promise<{ rows: DailyCostRow[]; dims: Map<number, Record<string, string>>; currencies: Map<string, string> }> {
	// costType is one of the five column names (a validated enum), never client text.
	const [rows, dims, connections] = await db.batch<Record<string, unknown>>([
		db
			.prepare(`SELECT day, connection_id, dims_id, ${costType} AS cost FROM cost_daily WHERE org_id = ?1 AND day BETWEEN ?2 AND ?3`)
			.bind(org, startDay, endDay),
		db
			.prepare(
				`SELECT id, dims FROM cost_dimension_sets WHERE org_id = ?1 AND id IN (SELECT DISTINCT dims_id FROM cost_daily WHERE org_id = ?1 AND day BETWEEN ?2 AND ?3)`,
			)
			.bind(org, startDay, endDay),
		db.prepare("SELECT connection_id, currency FROM cost_connections WHERE org_id = ?1").bind(org),
	]);
	return {
		rows: rows.results as unknown as DailyCostRow[],
		dims: new Map((dims.results as Array<{ id: number; dims: string }>).map((d) => [d.id, JSON.parse(d.dims) as Record<string, string>])),
		currencies: new Map((connections.results as unknown as ConnectionRow[]).map((c) => [c.connection_id, c.currency])),
	};
}

// ---- custom dimensions ------------------------------------------------------------------------

export interface CustomDimensionRow {
	name: string;
	source: string;
	updated_at: string;
}

export async function listCustomDimensions(db: D1Database, org: string): Promise<CustomDimensionRow[]> {
	const { results } = await db.prepare("SELECT name, source, updated_at FROM cost_custom_dimensions WHERE org_id = ? ORDER BY name").bind(org).all<CustomDimensionRow>();
	return results;
}

export async function customDimensionMap(db: D1Database, org: string): Promise<Map<string, string>> {
	return new Map((await listCustomDimensions(db, org)).map((d) => [d.name, d.source]));
}

export async function putCustomDimension(db: D1Database, org: string, name: string, source: string, now: string): Promise<void> {
	await db
		.prepare(
			"INSERT INTO cost_custom_dimensions (org_id, name, source, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id, name) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
		)
		.bind(org, name, source, now)
		.run();
}
