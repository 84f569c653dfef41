// The cost reads (GET /unit-cost/v1/costs and unit cost): filtered, grouped, summed, ordered and
// paged by D1, so a read's memory in the Worker grows with the lines it answers, never with the
// rows stored. Sums are exact: whole units and 10^-10 fractions are summed apart (migration 0010).
import type { CostType } from "../cost/cbf-rows";
import { ALLOCATION_PREFIX, BUILTIN_COST_DIMENSIONS } from "../cost/dimensions";
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
		WHEN substr(${name}, 1, 11) = 'allocation:' AND length(${name}) BETWEEN 12 AND 267 THEN ${name}
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

/** SQL: whether a resolved source (a column of a CTE) is an allocation dimension. */
const IS_ALLOCATION = (source: string) => `substr(${source}, 1, 11) IS 'allocation:'`;

/**
 * SQL CTEs: the split of the read's cost rows by its allocation dimension (docs/unit-cost.md,
 * "Allocated cost"). `names` is a subquery of the read's resolved sources (column `source`); the
 * read may name one allocation stream (the route refuses two). Without one, `ast` is empty, every
 * CTE below is empty and `crows` is the daily rows with alloc ''. `names` null: the read names
 * none (no allocation:<stream>, no custom:<name> that could stand for one), and `crows` is just
 * the daily rows, with alloc ''.
 * - ast: the live stream and the length of its period's day key (7: a month's records apply to
 *   each of its days; 10: a day's, hourly records summed to their day).
 * - agk: each filter group's keys, resolved like the read's names (NULL: names no dimension, so
 *   no row has one of its values); avals: the records per (day key, group, element) in range.
 * - apg: the groups each (connection, dimension set) of the period matches: once per pair, not
 *   per daily row.
 * - shares: per (day key, pair, element with a positive pooled value), the cumulative share of
 *   the elements before it (fprev) and up to it (fcur), in element name order, and whether it is
 *   the last; a pool whose values add up to 0 has none.
 * - crows: each daily row once per element of its pool (its part) or once with alloc '' (no pool).
 *   A part is P(fcur) - P(fprev), P(f) = (trunc(W f), round((W f - trunc(W f)) 10^10 + F f)) as
 *   (whole, 10^-10) integers, P(0) = (0, 0) and the last element's P(fcur) = (W, F): the parts
 *   telescope to the row exactly, whatever the doubles.
 */
function allocatedRows(costType: CostType, p: { from: string; to: string }, names: string | null): string {
	if (names === null) {
		return `crows AS (
					SELECT c.connection_id, k.currency, c.day, c.dims_id, '' AS alloc, c.${costType}_whole, c.${costType}_frac
					FROM ${dailyRows(p)})`;
	}
	const W = `c.${costType}_whole`;
	const F = `c.${costType}_frac`;
	const wholeAt = (f: string) => `CAST(${W} * ${f} AS INTEGER)`;
	const fracAt = (f: string) => `CAST(round((${W} * ${f} - CAST(${W} * ${f} AS INTEGER)) * 10000000000 + ${F} * ${f}) AS INTEGER)`;
	return `asrc AS MATERIALIZED (SELECT min(source) AS source FROM (${names}) WHERE ${IS_ALLOCATION("source")}),
				ast AS MATERIALIZED (
					SELECT s.id, CASE s.granularity WHEN 'MONTHLY' THEN 7 ELSE 10 END AS len FROM allocation_streams s
					WHERE s.org_id = ?1 AND s.name = substr((SELECT source FROM asrc), 12) AND s.deleted_at IS NULL),
				ag AS MATERIALIZED (
					SELECT group_id, json_group_array(json_array(source, ${jsonKeyPath("source")}, json(vals))) AS keys FROM (
						SELECT g.id AS group_id, ${sourceOfName("j.key")} AS source, j.value AS vals
						FROM allocation_filter_groups g, json_each(g.filter) j WHERE g.stream_id = (SELECT id FROM ast))
					GROUP BY group_id
					UNION ALL
					SELECT g.id, '[]' FROM allocation_filter_groups g WHERE g.stream_id = (SELECT id FROM ast) AND g.filter = '{}'),
				avals AS MATERIALIZED (
					SELECT substr(v.period, 1, (SELECT len FROM ast)) AS dk, v.group_id, v.element_id, SUM(v.value) AS w
					FROM allocation_values v
					WHERE v.stream_id = (SELECT id FROM ast)
						AND v.period BETWEEN substr(${p.from}, 1, (SELECT len FROM ast)) AND ${p.to} || 'U'
					GROUP BY 1, 2, 3),
				apg AS MATERIALIZED (
					SELECT p.connection_id, p.dims_id, g.group_id
					FROM (SELECT DISTINCT c.connection_id, c.dims_id FROM ${dailyRows(p)} WHERE EXISTS (SELECT 1 FROM ast)) p
					JOIN cost_dimension_sets d ON d.id = p.dims_id
					CROSS JOIN ag g
					WHERE NOT EXISTS (SELECT 1 FROM json_each(g.keys) k
						WHERE (CASE k.value ->> 0 WHEN 'Connection' THEN p.connection_id ELSE COALESCE(json_extract(d.dims, k.value ->> 1), '') END)
							NOT IN (SELECT value FROM json_each(k.value -> 2)))),
				apk AS MATERIALIZED (
					SELECT connection_id, dims_id, json_group_array(group_id) AS pk
					FROM (SELECT * FROM apg ORDER BY connection_id, dims_id, group_id)
					GROUP BY connection_id, dims_id),
				pkg AS MATERIALIZED (SELECT q.pk, j.value AS group_id FROM (SELECT DISTINCT pk FROM apk) q, json_each(q.pk) j),
				pools AS MATERIALIZED (
					SELECT a.dk, q.pk, e.name AS element, SUM(a.w) AS w
					FROM pkg q JOIN avals a ON a.group_id = q.group_id JOIN allocation_elements e ON e.id = a.element_id
					GROUP BY 1, 2, 3
					HAVING SUM(a.w) > 0),
				shares AS MATERIALIZED (
					SELECT dk, pk, element, COALESCE(LAG(fcur) OVER win, 0.0) AS fprev, fcur, n = cnt AS last FROM (
						SELECT dk, pk, element,
							SUM(w) OVER (PARTITION BY dk, pk ORDER BY element ROWS UNBOUNDED PRECEDING) / SUM(w) OVER (PARTITION BY dk, pk) AS fcur,
							ROW_NUMBER() OVER (PARTITION BY dk, pk ORDER BY element) AS n,
							COUNT(*) OVER (PARTITION BY dk, pk) AS cnt
						FROM pools)
					WINDOW win AS (PARTITION BY dk, pk ORDER BY element)),
				crows AS (
					SELECT c.connection_id, k.currency, c.day, c.dims_id, COALESCE(sh.element, '') AS alloc,
						CASE WHEN sh.element IS NULL THEN ${W} ELSE (CASE WHEN sh.last THEN ${W} ELSE ${wholeAt("sh.fcur")} END) - ${wholeAt("sh.fprev")} END
							AS ${costType}_whole,
						CASE WHEN sh.element IS NULL THEN ${F} ELSE (CASE WHEN sh.last THEN ${F} ELSE ${fracAt("sh.fcur")} END) - ${fracAt("sh.fprev")} END
							AS ${costType}_frac
					FROM ${dailyRows(p)}
					LEFT JOIN apk m ON m.connection_id = c.connection_id AND m.dims_id = c.dims_id
					LEFT JOIN shares sh ON sh.dk = substr(c.day, 1, (SELECT len FROM ast)) AND sh.pk = m.pk)`;
}

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
/** SQL: whether the allocated row `c` passes the read's allocation filters (its element, '' for cost no element has). */
const ALLOC_PASSES = `NOT EXISTS (SELECT 1 FROM flt WHERE ${IS_ALLOCATION("flt.source")}
	AND (c.alloc IN (SELECT value FROM json_each(flt.vals))) = flt.excl)`;
/** SQL: whether the dimension set `d` passes the read's filters (but Connection's, applied to `conns`); a missing value is ''. */
const SET_PASSES = `NOT EXISTS (SELECT 1 FROM flt WHERE flt.source IS NOT 'Connection' AND NOT ${IS_ALLOCATION("flt.source")}
	AND (COALESCE(json_extract(d.dims, flt.path), '') IN (SELECT value FROM json_each(flt.vals))) = flt.excl)`;
/** SQL: the group value of the dimension set `d` ('' without group_by). */
const SET_GROUP = "COALESCE(json_extract(d.dims, (SELECT path FROM grp)), '')";
const GROUP_OF = (connection: string, alloc: string, setGroup: string) =>
	`CASE WHEN (SELECT source FROM grp) = 'Connection' THEN ${connection} WHEN ${IS_ALLOCATION("(SELECT source FROM grp)")} THEN ${alloc} ELSE ${setGroup} END`;

/*
 * The lines CTE of a cost read: the (allocated) rows are first summed per (connection, period,
 * set, element), then each such sum's set is looked up by its key for the filters and the group
 * value (months: 20,000 lookups for 600,000 daily rows of 20,000 sets). Days were joined to the
 * organization's sets resolved once, which is faster for days (linesByDay), but with the allocated
 * rows as a subquery SQLite no longer indexes that join (a scan of the sets per row): days of a
 * read that may split by an allocation go this way too.
 */
/** Days of a read that names no allocation: the organization's sets resolved once, the rows joined to them (the faster for days). */
function linesByDay(costType: CostType): string {
	return `sets AS MATERIALIZED (SELECT d.id, ${SET_GROUP} AS value FROM cost_dimension_sets d WHERE d.org_id = ?1 AND ${SET_PASSES}),
				lines AS (
					SELECT c.day AS period, ${GROUP_OF("c.connection_id", "c.alloc", "s.value")} AS grp, c.currency, ${costSums(costType)}
					FROM crows c JOIN sets s ON s.id = c.dims_id
					GROUP BY 1, 2, 3)`;
}

function linesByPeriod(costType: CostType, granularity: Granularity): string {
	return `per AS (
					SELECT c.connection_id, c.currency, ${granularity === "month" ? "substr(c.day, 1, 7)" : "c.day"} AS period, c.dims_id, c.alloc,
						SUM(c.${costType}_whole / 1000000000) AS hi, SUM(c.${costType}_whole % 1000000000) AS lo, SUM(c.${costType}_frac) AS frac
					FROM crows c
					WHERE ${ALLOC_PASSES}
					GROUP BY c.connection_id, 3, c.dims_id, c.alloc),
				lines AS (
					SELECT per.period, ${GROUP_OF("per.connection_id", "per.alloc", SET_GROUP)} AS grp, per.currency,
						CAST(SUM(per.hi) AS TEXT) AS hi, CAST(SUM(per.lo) AS TEXT) AS lo, CAST(SUM(per.frac) AS TEXT) AS frac
					FROM per JOIN cost_dimension_sets d ON d.id = per.dims_id
					WHERE ${SET_PASSES}
					GROUP BY 1, 2, 3)`;
}

/** Whether a (resolved as far as TS can) name may read an allocation stream: allocation:<stream>, or a custom:<name>. */
const mayBeAllocation = (name: string) => name.startsWith(ALLOCATION_PREFIX) || name.startsWith("custom:");

/** Each of `names` with the dimension it reads (NULL: none, an undefined custom:<name>), as one statement. */
function resolveNamesQuery(db: D1Reader, org: string, names: string[]): D1PreparedStatement {
	return db.prepare(`SELECT value AS name, ${sourceOfName("value")} AS source FROM json_each(?2)`).bind(org, JSON.stringify(names));
}

interface ResolvedName {
	name: string;
	source: string | null;
}

/** The names that read no dimension, and the allocation streams (allocation:<stream>) the names read, each once. */
function resolvedNames(rows: ResolvedName[]): { unknown: string[]; allocations: Array<{ name: string; source: string }> } {
	const allocations = new Map<string, string>();
	for (const r of rows) if (r.source?.startsWith(ALLOCATION_PREFIX) && !allocations.has(r.source)) allocations.set(r.source, r.name);
	return {
		unknown: rows.filter((r) => r.source === null).map((r) => r.name),
		allocations: [...allocations].map(([source, name]) => ({ name, source })),
	};
}

/**
 * A page of cost lines (period, group value, currency) in that order (SQLite's binary order, which
 * the cursor follows too), the names among groupBy and the filters that name no dimension (an
 * undefined custom:<name>), and the allocation streams they read (the route refuses two), checked
 * in the same round trip. With an allocation dimension, the rows are split first (allocatedRows).
 */
export async function readCostLines(
	db: D1Reader,
	q: CostQuery,
): Promise<{ unknownNames: string[]; allocations: Array<{ name: string; source: string }>; lines: CostLine[]; rowsRead: number }> {
	const range = { from: "?2", to: "?3" };
	const names = [...(q.groupBy === null ? [] : [q.groupBy]), ...q.filters.map((f) => f.name)];
	const allocating = names.some(mayBeAllocation);
	const [resolved, lines] = await db.batch<Record<string, unknown>>([
		resolveNamesQuery(db, q.org, names),
		db
			.prepare(
				`WITH
				${FILTERS("?6")},
				grp AS MATERIALIZED (SELECT source, ${jsonKeyPath("source")} AS path FROM (SELECT ${sourceOfName("?5")} AS source)),
				${FILTERED_CONNECTIONS},
				${allocatedRows(q.costType, range, allocating ? "SELECT source FROM flt UNION ALL SELECT source FROM grp" : null)},
				${allocating || q.granularity === "month" ? linesByPeriod(q.costType, q.granularity) : linesByDay(q.costType)}
				SELECT period, grp, currency, hi, lo, frac FROM lines
				WHERE (period, grp, currency) > (?7, ?8, ?9)
				ORDER BY period, grp, currency
				LIMIT ?10`,
			)
			.bind(q.org, q.startDay, q.endDay, q.granularity, q.groupBy, filtersParam(q.filters), ...(q.after ?? ["", "", ""]), q.limit),
	]);
	const { unknown, allocations } = resolvedNames(resolved.results as unknown as ResolvedName[]);
	return {
		rowsRead: rowsReadOf([resolved, lines]),
		unknownNames: unknown,
		allocations,
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
 * SQL: the group of each (connection, dimension set, allocation element) triple in `pairs_in` (a
 * subquery) that passes the filters: its series' group, or NULL when none matches. A triple the
 * filters leave out has no row, so its cost is neither matched nor unmatched.
 */
const PAIR_GROUPS = (pairsIn: string) => `tuples AS MATERIALIZED (
					SELECT p.connection_id, p.dims_id, p.alloc, (SELECT json_group_array(
						CASE WHEN k.source = 'Connection' THEN p.connection_id WHEN ${IS_ALLOCATION("k.source")} THEN p.alloc
							ELSE COALESCE(json_extract(d.dims, k.cost_path), '') END) FROM keys k) AS tuple
					FROM (${pairsIn}) p JOIN cost_dimension_sets d ON d.id = p.dims_id
					WHERE ${SET_PASSES} AND ${ALLOC_PASSES.replaceAll("c.alloc", "p.alloc")}),
				pairs AS MATERIALIZED (
					SELECT t.connection_id, t.dims_id, t.alloc, CASE WHEN (SELECT ok FROM known) THEN (SELECT m.grp FROM ser m WHERE m.tuple = t.tuple) END AS grp
					FROM tuples t)`;

/*
 * The matched cost of unit cost, by granularity, as for the cost reads (linesByPeriod): months sum
 * the rows per (connection, month, set) first, then match each once; days match each (connection,
 * set) pair the period's rows use once, then sum the rows through it.
 */
function matchedByMonth(costType: CostType): string {
	return `per AS MATERIALIZED (
					SELECT c.connection_id, c.currency, substr(c.day, 1, 7) AS period, c.dims_id, c.alloc,
						SUM(c.${costType}_whole / 1000000000) AS hi, SUM(c.${costType}_whole % 1000000000) AS lo, SUM(c.${costType}_frac) AS frac
					FROM crows c
					WHERE EXISTS (SELECT 1 FROM st)
					GROUP BY c.connection_id, 3, c.dims_id, c.alloc),
				${PAIR_GROUPS("SELECT DISTINCT connection_id, dims_id, alloc FROM per")}
				SELECT per.period, p.grp, per.currency,
					CAST(SUM(per.hi) AS TEXT) AS hi, CAST(SUM(per.lo) AS TEXT) AS lo, CAST(SUM(per.frac) AS TEXT) AS frac
				FROM per JOIN pairs p ON p.connection_id = per.connection_id AND p.dims_id = per.dims_id AND p.alloc = per.alloc`;
}

function matchedByDay(costType: CostType): string {
	return `${PAIR_GROUPS("SELECT DISTINCT c.connection_id, c.dims_id, c.alloc FROM crows c WHERE EXISTS (SELECT 1 FROM st)")}
				SELECT c.day AS period, p.grp, c.currency, ${costSums(costType)}
				FROM crows c CROSS JOIN pairs p ON p.connection_id = c.connection_id AND p.dims_id = c.dims_id AND p.alloc = c.alloc
				WHERE EXISTS (SELECT 1 FROM st)`;
}

/**
 * What unit cost divides, per (period, group), all summed by D1 (see docs/unit-cost.md): the
 * metric's units, and the cost its series match. A cost row is matched by the series whose values
 * of the stream's associated_cost names equal the row's values of the dimensions those names read
 * (as JSON arrays in the names' order); a series has one such tuple, and distinct series of one
 * tuple have one group, since group_by is one of the names. The filters choose the cost rows
 * before they are matched (a row they leave out is neither matched nor unmatched); units are not
 * filtered. Also the stream's names that read no dimension (they make every cost unmatched), and
 * the filter names that read none (a 400 for the route), and the allocation streams both read
 * (the route refuses two); with one, the cost rows are split first (allocatedRows). A cost row's group is found once per
 * (connection, dimension set) in `pairs`, not per daily row: the series' tuples have no index to
 * join on.
 */
export async function readUnitCostSums(
	db: D1Reader,
	q: UnitCostQuery,
): Promise<{
	unknownNames: string[];
	unknownFilterNames: string[];
	allocations: Array<{ name: string; source: string }>;
	units: UnitsRow[];
	costs: MatchedCostRow[];
	rowsRead: number;
}> {
	const params = [q.org, q.stream, q.startDay, q.endDay, q.granularity, q.groupBy];
	const range = { from: "?3", to: "?4" };
	const [unknown, units, costs, unknownFilters] = await db.batch<Record<string, unknown>>([
		db
			.prepare(`WITH ${STREAM} SELECT k.value AS name, ${sourceOfName("k.value")} AS source FROM st, json_each(st.dimension_keys) k`)
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
				${allocatedRows(q.costType, range, "SELECT source FROM flt UNION ALL SELECT source FROM keys")},
				${q.granularity === "month" ? matchedByMonth(q.costType) : matchedByDay(q.costType)}
				GROUP BY 1, 2, 3`,
			)
			.bind(...params, filtersParam(q.filters)),
		resolveNamesQuery(
			db,
			q.org,
			q.filters.map((f) => f.name),
		),
	]);
	const streamNames = resolvedNames(unknown.results as unknown as ResolvedName[]);
	const filterNames = resolvedNames(unknownFilters.results as unknown as ResolvedName[]);
	const allocations = [
		...streamNames.allocations,
		...filterNames.allocations.filter((a) => !streamNames.allocations.some((b) => b.source === a.source)),
	];
	return {
		rowsRead: rowsReadOf([unknown, units, costs, unknownFilters]),
		unknownNames: streamNames.unknown,
		unknownFilterNames: filterNames.unknown,
		allocations,
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
