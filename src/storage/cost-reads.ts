// The cost reads (GET /unit-cost/v1/costs and unit cost): filtered, grouped, summed, ordered and
// paged by D1, so a read's memory in the Worker grows with the lines it answers, never with the
// rows stored. Sums are exact: whole units and 10^-10 fractions are summed apart (migration 0010).
import type { CostType } from "../cost/cbf-rows";
import { BUILTIN_COST_DIMENSIONS } from "../cost/dimensions";
import type { MatchedCostRow, UnitsRow } from "../cost/unit-cost";
import { costOfSums, type Decimal } from "../lib/decimal";
import type { DimensionFilter } from "../schemas/common";
import type { D1Reader } from "./d1";
import { filtersParam } from "./json-params";

export type Granularity = "day" | "month";

/** SQL: a JSON path that names one object key exactly, whatever its characters ($."tag:a.b"). */
export const jsonKeyPath = (key: string) => `'$."' || replace(replace(${key}, '\\', '\\\\'), '"', '\\"') || '"'`;

/**
 * SQL: the dimension a cost dimension name reads (the key of the dimension-set JSON, or
 * 'Connection'), or NULL when it names none: sourceDimension (cost/dimensions.ts) in SQL, and
 * custom:<name> through the organization's definitions (?1), so that custom dimensions resolve
 * inside the query. test/costs-read.bounded.test.ts checks that it agrees with sourceDimension.
 */
export const sourceOfName = (name: string) => `CASE
		WHEN substr(${name}, 1, 7) = 'custom:' THEN (
			SELECT source FROM cost_custom_dimensions WHERE org_id = ?1 AND name = substr(${name}, 8))
		WHEN ${name} IN (${BUILTIN_COST_DIMENSIONS.map((d) => `'${d}'`).join(", ")}) THEN ${name}
		WHEN substr(${name}, 1, 4) IN ('tag:', 'Tag:') AND length(${name}) BETWEEN 5 AND 132 THEN 'tag:' || substr(${name}, 5)
	END`;

/** SQL: the period of a day, by the granularity parameter. */
const PERIOD = (day: string, granularity: string) => `CASE ${granularity} WHEN 'month' THEN substr(${day}, 1, 7) ELSE ${day} END`;

/**
 * SQL: the daily cost rows of the connections in `conns` (a CTE of connection_id and currency) in
 * the days between the parameters `from` and `to` (org ?1), as `c` with its connection `k`: one
 * range scan of cost_daily's key per connection.
 */
const dailyRows = (p: { from: string; to: string }) =>
	`conns k CROSS JOIN cost_daily c ON c.org_id = ?1 AND c.connection_id = k.connection_id AND c.day BETWEEN ${p.from} AND ${p.to}`;

/**
 * SQL: the sum of one cost type over the rows `c`. Whole units are summed as billions and a
 * remainder, so no SUM can overflow SQLite's 64-bit integers whatever the row count (a stored cell
 * is below 9.3x10^18, so 9.3x10^9 per row, and a 10 GB database holds under 2x10^8 rows); D1
 * hands them back as decimal text (CAST AS TEXT), since they can pass 2^53. costType is one of
 * the five column names (a validated enum), never client text.
 */
const costSums = (costType: CostType) =>
	`CAST(SUM(c.${costType}_whole / 1000000000) AS TEXT) AS hi, CAST(SUM(c.${costType}_whole % 1000000000) AS TEXT) AS lo, CAST(SUM(c.${costType}_frac) AS TEXT) AS frac`;

/** The exact value of costSums' columns. */
export function exactSum(row: { hi: string | number; lo: string | number; frac: string | number }): Decimal {
	return costOfSums(BigInt(row.hi) * 1_000_000_000n + BigInt(row.lo), row.frac);
}

/** What D1 bills a batch for: the rows its statements read. */
const rowsReadOf = (results: D1Result[]) => results.reduce((n, r) => n + (r.meta?.rows_read ?? 0), 0);

interface SumColumns {
	hi: string;
	lo: string;
	frac: string;
}

export interface CostQuery {
	org: string;
	startDay: string;
	endDay: string;
	costType: CostType;
	granularity: Granularity;
	/** A dimension name (Service, tag:<key>, Connection, custom:<name>, ...), or null for one group. */
	groupBy: string | null;
	/** Filters on dimension names (Service, tag:<key>, Connection, custom:<name>, ...); every filter must pass a row. */
	filters: DimensionFilter[];
	/** The last line of the previous page: lines after it in (period, group, currency) order. */
	after: [period: string, group: string, currency: string] | null;
	limit: number;
}

export interface CostLine {
	period: string;
	group: string;
	currency: string;
	cost: Decimal;
}

/**
 * SQL: the read's filters (JSON [[name, [values], exclude]], see filtersParam) as `flt`, each name
 * resolved to the dimension it reads (`source`, NULL for an undefined custom:<name>) and its path
 * in a dimension set's JSON. A filter fails a value when whether the value is one of `vals` equals
 * `excl` (1 for exclude[...], 0 for dim[...]).
 */
const FILTERS = (param: string) =>
	`flt AS MATERIALIZED (SELECT s.source, ${jsonKeyPath("s.source")} AS path, s.vals, s.excl FROM (SELECT ${sourceOfName("f.value ->> 0")} AS source, f.value -> 1 AS vals, f.value ->> 2 AS excl FROM json_each(${param}) f) s)`;
/** SQL: the organization's connections (org ?1) that pass the read's Connection filters, with their currency. */
const FILTERED_CONNECTIONS = `conns AS MATERIALIZED (
					SELECT connection_id, currency FROM cost_connections k WHERE org_id = ?1
						AND NOT EXISTS (SELECT 1 FROM flt WHERE flt.source = 'Connection' AND (k.connection_id IN (SELECT value FROM json_each(flt.vals))) = flt.excl))`;
/** SQL: whether the dimension set `d` passes the read's filters (but Connection's, applied to `conns`); a missing value is ''. */
const SET_PASSES = `NOT EXISTS (SELECT 1 FROM flt WHERE flt.source IS NOT 'Connection'
	AND (COALESCE(json_extract(d.dims, flt.path), '') IN (SELECT value FROM json_each(flt.vals))) = flt.excl)`;
/** SQL: the group value of the dimension set `d` ('' without group_by). */
const SET_GROUP = "COALESCE(json_extract(d.dims, (SELECT path FROM grp)), '')";
const GROUP_OF = (connection: string, setGroup: string) =>
	`CASE (SELECT source FROM grp) WHEN 'Connection' THEN ${connection} ELSE ${setGroup} END`;

/*
 * The lines CTE of a cost read, by granularity (each measured fastest for its own on 600,000 daily
 * rows of 20,000 sets in node:sqlite). Months: the rows are first summed per (connection, month,
 * set), so the sets are looked up once per month and set (20,000 times, not 600,000). Days: the
 * organization's sets are resolved once (filters, group value) and the rows joined to them, since
 * summing per day and set first would not reduce them.
 */
function linesByMonth(costType: CostType, range: { from: string; to: string }): string {
	return `per AS (
					SELECT c.connection_id, k.currency, substr(c.day, 1, 7) AS period, c.dims_id,
						SUM(c.${costType}_whole / 1000000000) AS hi, SUM(c.${costType}_whole % 1000000000) AS lo, SUM(c.${costType}_frac) AS frac
					FROM ${dailyRows(range)}
					GROUP BY c.connection_id, 3, c.dims_id),
				lines AS (
					SELECT per.period, ${GROUP_OF("per.connection_id", SET_GROUP)} AS grp, per.currency,
						CAST(SUM(per.hi) AS TEXT) AS hi, CAST(SUM(per.lo) AS TEXT) AS lo, CAST(SUM(per.frac) AS TEXT) AS frac
					FROM per JOIN cost_dimension_sets d ON d.id = per.dims_id
					WHERE ${SET_PASSES}
					GROUP BY 1, 2, 3)`;
}

function linesByDay(costType: CostType, range: { from: string; to: string }): string {
	return `sets AS MATERIALIZED (SELECT d.id, ${SET_GROUP} AS value FROM cost_dimension_sets d WHERE d.org_id = ?1 AND ${SET_PASSES}),
				lines AS (
					SELECT c.day AS period, ${GROUP_OF("c.connection_id", "s.value")} AS grp, k.currency, ${costSums(costType)}
					FROM ${dailyRows(range)} JOIN sets s ON s.id = c.dims_id
					GROUP BY 1, 2, 3)`;
}

/** The names among `names` that read no cost dimension (an undefined custom:<name>), as one statement. */
function unknownNamesQuery(db: D1Reader, org: string, names: string[]): D1PreparedStatement {
	return db.prepare(`SELECT value AS name FROM json_each(?2) WHERE (${sourceOfName("value")}) IS NULL`).bind(org, JSON.stringify(names));
}

/**
 * A page of cost lines (period, group value, currency) in that order (SQLite's binary order, which
 * the cursor follows too), and the names among groupBy and the filters that name no dimension
 * (an undefined custom:<name>), checked in the same round trip.
 */
export async function readCostLines(db: D1Reader, q: CostQuery): Promise<{ unknownNames: string[]; lines: CostLine[]; rowsRead: number }> {
	const range = { from: "?2", to: "?3" };
	const names = [...(q.groupBy === null ? [] : [q.groupBy]), ...q.filters.map((f) => f.name)];
	const [resolved, lines] = await db.batch<Record<string, unknown>>([
		unknownNamesQuery(db, q.org, names),
		db
			.prepare(
				`WITH
				${FILTERS("?6")},
				grp AS MATERIALIZED (SELECT source, ${jsonKeyPath("source")} AS path FROM (SELECT ${sourceOfName("?5")} AS source)),
				${FILTERED_CONNECTIONS},
				${q.granularity === "month" ? linesByMonth(q.costType, range) : linesByDay(q.costType, range)}
				SELECT period, grp, currency, hi, lo, frac FROM lines
				WHERE (period, grp, currency) > (?7, ?8, ?9)
				ORDER BY period, grp, currency
				LIMIT ?10`,
			)
			.bind(q.org, q.startDay, q.endDay, q.granularity, q.groupBy, filtersParam(q.filters), ...(q.after ?? ["", "", ""]), q.limit),
	]);
	return {
		rowsRead: rowsReadOf([resolved, lines]),
		unknownNames: (resolved.results as Array<{ name: string }>).map((r) => r.name),
		lines: (lines.results as unknown as Array<SumColumns & { period: string; grp: string; currency: string }>).map((r) => ({
			period: r.period,
			group: r.grp,
			currency: r.currency,
			cost: exactSum(r),
		})),
	};
}

// ---- unit cost --------------------------------------------------------------------------------

export interface UnitCostQuery {
	org: string;
	/** The metric: a live CloudZero stream of the organization. */
	stream: string;
	startDay: string;
	endDay: string;
	costType: CostType;
	granularity: Granularity;
	/** One of the stream's associated_cost names, or null for one group. */
	groupBy: string | null;
	/** Filters on the cost rows, as for the cost read (cost dimension names); units are not filtered. */
	filters: DimensionFilter[];
}

const STREAM = "st AS (SELECT id, dimension_keys FROM streams WHERE org_id = ?1 AND name = ?2 AND deleted_at IS NULL)";
/** SQL: a series' group, the value of its group_by name ?6 ('' without one). */
const SERIES_GROUP = `CASE WHEN ?6 IS NULL THEN '' ELSE COALESCE(json_extract(s.series_key, ${jsonKeyPath("?6")}), '') END`;

/**
 * SQL: the group of each (connection, dimension set) pair in `pairs_in` (a subquery) whose set
 * passes the filters: its series' group, or NULL when none matches. A pair the filters leave out
 * has no row, so its cost is neither matched nor unmatched.
 */
const PAIR_GROUPS = (pairsIn: string) => `tuples AS MATERIALIZED (
					SELECT p.connection_id, p.dims_id, (SELECT json_group_array(
						CASE k.source WHEN 'Connection' THEN p.connection_id ELSE COALESCE(json_extract(d.dims, k.cost_path), '') END) FROM keys k) AS tuple
					FROM (${pairsIn}) p JOIN cost_dimension_sets d ON d.id = p.dims_id
					WHERE ${SET_PASSES}),
				pairs AS MATERIALIZED (
					SELECT t.connection_id, t.dims_id, CASE WHEN (SELECT ok FROM known) THEN (SELECT m.grp FROM ser m WHERE m.tuple = t.tuple) END AS grp
					FROM tuples t)`;

/*
 * The matched cost of unit cost, by granularity, as for the cost reads (linesByMonth): months sum
 * the rows per (connection, month, set) first, then match each once; days match each (connection,
 * set) pair the period's rows use once, then sum the rows through it.
 */
function matchedByMonth(costType: CostType, range: { from: string; to: string }): string {
	return `per AS MATERIALIZED (
					SELECT c.connection_id, k.currency, substr(c.day, 1, 7) AS period, c.dims_id,
						SUM(c.${costType}_whole / 1000000000) AS hi, SUM(c.${costType}_whole % 1000000000) AS lo, SUM(c.${costType}_frac) AS frac
					FROM ${dailyRows(range)}
					WHERE EXISTS (SELECT 1 FROM st)
					GROUP BY c.connection_id, 3, c.dims_id),
				${PAIR_GROUPS("SELECT DISTINCT connection_id, dims_id FROM per")}
				SELECT per.period, p.grp, per.currency,
					CAST(SUM(per.hi) AS TEXT) AS hi, CAST(SUM(per.lo) AS TEXT) AS lo, CAST(SUM(per.frac) AS TEXT) AS frac
				FROM per JOIN pairs p ON p.connection_id = per.connection_id AND p.dims_id = per.dims_id`;
}

function matchedByDay(costType: CostType, range: { from: string; to: string }): string {
	return `${PAIR_GROUPS(`SELECT DISTINCT c.connection_id, c.dims_id FROM ${dailyRows(range)} WHERE EXISTS (SELECT 1 FROM st)`)}
				SELECT c.day AS period, p.grp, k.currency, ${costSums(costType)}
				FROM ${dailyRows(range)} JOIN pairs p ON p.connection_id = c.connection_id AND p.dims_id = c.dims_id`;
}

/**
 * What unit cost divides, per (period, group), all summed by D1 (see docs/unit-cost.md): the
 * metric's units, and the cost its series match. A cost row is matched by the series whose values
 * of the stream's associated_cost names equal the row's values of the dimensions those names read
 * (as JSON arrays in the names' order); a series has one such tuple, and distinct series of one
 * tuple have one group, since group_by is one of the names. The filters choose the cost rows
 * before they are matched (a row they leave out is neither matched nor unmatched); units are not
 * filtered. Also the stream's names that read no dimension (they make every cost unmatched), and
 * the filter names that read none (a 400 for the route). A cost row's group is found once per
 * (connection, dimension set) in `pairs`, not per daily row: the series' tuples have no index to
 * join on.
 */
export async function readUnitCostSums(
	db: D1Reader,
	q: UnitCostQuery,
): Promise<{ unknownNames: string[]; unknownFilterNames: string[]; units: UnitsRow[]; costs: MatchedCostRow[]; rowsRead: number }> {
	const params = [q.org, q.stream, q.startDay, q.endDay, q.granularity, q.groupBy];
	const range = { from: "?3", to: "?4" };
	const [unknown, units, costs, unknownFilters] = await db.batch<Record<string, unknown>>([
		db
			.prepare(`WITH ${STREAM} SELECT k.value AS name FROM st, json_each(st.dimension_keys) k WHERE (${sourceOfName("k.value")}) IS NULL`)
			.bind(q.org, q.stream),
		db
			.prepare(
				`WITH ${STREAM},
				ser AS MATERIALIZED (SELECT s.id, ${SERIES_GROUP} AS grp FROM series s WHERE s.stream_id = (SELECT id FROM st))
				SELECT ${PERIOD("v.day", "?5")} AS period, ser.grp,
					CASE WHEN abs(SUM(v.value)) <= 1.79769313486231e308 THEN SUM(v.value) END AS units
				FROM daily_values v JOIN ser ON ser.id = v.series_id
				WHERE v.stream_id = (SELECT id FROM st) AND v.day BETWEEN ?3 AND ?4
				GROUP BY 1, 2`,
			)
			.bind(...params),
		db
			.prepare(
				`WITH ${STREAM},
				keys AS MATERIALIZED (
					SELECT i, series_path, source, ${jsonKeyPath("source")} AS cost_path FROM (
						SELECT k.key AS i, ${jsonKeyPath("k.value")} AS series_path, ${sourceOfName("k.value")} AS source FROM st, json_each(st.dimension_keys) k)),
				known AS MATERIALIZED (SELECT NOT EXISTS (SELECT 1 FROM keys WHERE source IS NULL) AS ok),
				ser AS MATERIALIZED (
					SELECT DISTINCT (SELECT json_group_array(COALESCE(json_extract(s.series_key, k.series_path), '')) FROM keys k) AS tuple, ${SERIES_GROUP} AS grp
					FROM series s WHERE s.stream_id = (SELECT id FROM st)),
				${FILTERS("?7")},
				${FILTERED_CONNECTIONS},
				${q.granularity === "month" ? matchedByMonth(q.costType, range) : matchedByDay(q.costType, range)}
				GROUP BY 1, 2, 3`,
			)
			.bind(...params, filtersParam(q.filters)),
		unknownNamesQuery(
			db,
			q.org,
			q.filters.map((f) => f.name),
		),
	]);
	return {
		rowsRead: rowsReadOf([unknown, units, costs, unknownFilters]),
		unknownNames: (unknown.results as Array<{ name: string }>).map((r) => r.name),
		unknownFilterNames: (unknownFilters.results as Array<{ name: string }>).map((r) => r.name),
		units: (units.results as Array<{ period: string; grp: string; units: number | null }>).map((r) => ({
			period: r.period,
			group: r.grp,
			units: r.units,
		})),
		costs: (costs.results as unknown as Array<SumColumns & { period: string; grp: string | null; currency: string }>).map((r) => ({
			period: r.period,
			group: r.grp,
			currency: r.currency,
			cost: exactSum(r),
		})),
	};
}
