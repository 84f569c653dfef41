// Cost and unit cost, computed from the daily cost rows of one organization (see
// docs/unit-cost.md for the rules): cost per period, group and currency; and a metric's units
// against the cost its series' associated_cost dimensions match.
import { ApiError, type ErrorDetail } from "../lib/api-error";
import { formatValue } from "../lib/numbers";
import { dimensionValue, resolveDimension } from "../schemas/costs";
import type { DailyCostRow } from "../storage/costs";

export type Granularity = "day" | "month";

export const periodOf = (day: string, granularity: Granularity) => (granularity === "day" ? day : day.slice(0, 7));

export interface CostData {
	rows: DailyCostRow[];
	dims: Map<number, Record<string, string>>;
	currencies: Map<string, string>;
}

/** A cost dimension name resolved for reading, or a 400 naming the parameter. */
export function requireDimension(name: string, custom: ReadonlyMap<string, string>, path: string): string {
	const source = resolveDimension(name, custom);
	if (source === null) {
		const detail: ErrorDetail = {
			code: "unknown_dimension",
			message: `'${name.slice(0, 200)}' is not a cost dimension (Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key>, or a defined custom:<name>)`,
			path,
		};
		throw new ApiError(400, "unknown_dimension", `Unknown cost dimension '${name.slice(0, 200)}'`, [detail]);
	}
	return source;
}

export interface CostLine {
	period: string;
	group: string;
	currency: string;
	cost: number;
}

/** Cost per (period, group value, currency), sorted, of the rows every filter accepts. */
export function costLines(
	data: CostData,
	granularity: Granularity,
	groupSource: string | null,
	filters: Array<[source: string, values: Set<string>]>,
): CostLine[] {
	// What a (connection, dimension set) contributes to: its group, or null when filtered out.
	const groupOf = new Map<string, string | null>();
	const sums = new Map<string, CostLine>();
	for (const row of data.rows) {
		const key = `${row.connection_id}\n${row.dims_id}`;
		let group = groupOf.get(key);
		if (group === undefined) {
			const dims = data.dims.get(row.dims_id) ?? {};
			const accepted = filters.every(([source, values]) => values.has(dimensionValue(source, row.connection_id, dims)));
			group = accepted ? (groupSource === null ? "" : dimensionValue(groupSource, row.connection_id, dims)) : null;
			groupOf.set(key, group);
		}
		if (group === null) continue;
		const period = periodOf(row.day, granularity);
		const currency = data.currencies.get(row.connection_id) ?? "USD";
		const id = JSON.stringify([period, group, currency]);
		const line = sums.get(id);
		if (line) line.cost += row.cost;
		else sums.set(id, { period, group, currency, cost: row.cost });
	}
	return [...sums.values()].sort(compareCostLines);
}

type CostLineKey = Pick<CostLine, "period" | "group" | "currency">;

/** The order of cost lines and of their cursors: period, then group, then currency, each as a whole. */
export function compareCostLines(a: CostLineKey, b: CostLineKey): number {
	return compare(a.period, b.period) || compare(a.group, b.group) || compare(a.currency, b.currency);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface UnitCostResult {
	results: Array<{ period: string; group: Record<string, string>; currency: string | null; units: string; cost: string; unit_cost: string | null }>;
	unmatched_cost: Array<{ period: string; currency: string; cost: string }>;
	unknown_dimensions: string[];
}

/**
 * A metric's unit cost. Every series of a stream has the same associated_cost names; a cost row
 * belongs to the series whose values equal the row's values of those dimensions (at most one
 * series, since series differ in some value), or to none (unmatched). A series without
 * associated_cost matches every cost row. Groups: the series' value of group_by (one group
 * without it); a group's units are its series' units, its cost the cost its series matched.
 */
export function unitCost(
	values: Array<{ day: string; series_key: string; value: number }>,
	dimensionKeys: string[],
	data: CostData,
	custom: ReadonlyMap<string, string>,
	granularity: Granularity,
	groupBy: string | undefined,
): UnitCostResult {
	const sources = dimensionKeys.map((k) => resolveDimension(k, custom));
	const unknown = dimensionKeys.filter((_, i) => sources[i] === null);
	const tupleOf = (dims: Record<string, string>) => JSON.stringify(dimensionKeys.map((k) => dims[k] ?? ""));

	const groupOfSeries = new Map<string, string>();
	const units = new Map<string, number>(); // [period, group]
	for (const v of values) {
		const dims = JSON.parse(v.series_key) as Record<string, string>;
		const group = groupBy === undefined ? "" : (dims[groupBy] ?? "");
		groupOfSeries.set(tupleOf(dims), group);
		const key = JSON.stringify([periodOf(v.day, granularity), group]);
		units.set(key, (units.get(key) ?? 0) + v.value);
	}

	const matched = new Map<string, string | null>(); // connection+dims -> group
	const costs = new Map<string, number>(); // [period, group, currency]
	const unmatched = new Map<string, number>(); // [period, currency]
	for (const row of data.rows) {
		const key = `${row.connection_id}\n${row.dims_id}`;
		let group = matched.get(key);
		if (group === undefined) {
			const dims = data.dims.get(row.dims_id) ?? {};
			const tuple = unknown.length > 0 ? null : JSON.stringify(sources.map((s) => dimensionValue(s!, row.connection_id, dims)));
			group = tuple === null ? null : (groupOfSeries.get(tuple) ?? null);
			matched.set(key, group);
		}
		const period = periodOf(row.day, granularity);
		const currency = data.currencies.get(row.connection_id) ?? "USD";
		if (group === null) {
			const id = JSON.stringify([period, currency]);
			unmatched.set(id, (unmatched.get(id) ?? 0) + row.cost);
		} else {
			const id = JSON.stringify([period, group, currency]);
			costs.set(id, (costs.get(id) ?? 0) + row.cost);
		}
	}

	type Line = UnitCostResult["results"][number];
	const lines: Line[] = [];
	const withCost = new Set<string>();
	const line = (period: string, group: string, currency: string | null, cost: number): Line => {
		const u = units.get(JSON.stringify([period, group])) ?? 0;
		return {
			period,
			group: groupBy === undefined ? {} : { [groupBy]: group },
			currency,
			units: formatValue(u),
			cost: formatValue(cost),
			unit_cost: u === 0 ? null : formatValue(cost / u),
		};
	};
	for (const [id, cost] of costs) {
		const [period, group, currency] = JSON.parse(id) as [string, string, string];
		withCost.add(JSON.stringify([period, group]));
		lines.push(line(period, group, currency, cost));
	}
	for (const id of units.keys()) {
		if (withCost.has(id)) continue;
		const [period, group] = JSON.parse(id) as [string, string];
		lines.push(line(period, group, null, 0));
	}
	// Sorted by period, group (as JSON) and currency; each line's group JSON made once, not per comparison.
	const sorted = lines
		.map((l) => ({ l, group: JSON.stringify(l.group), currency: l.currency ?? "" }))
		.sort((a, b) => compare(a.l.period, b.l.period) || compare(a.group, b.group) || compare(a.currency, b.currency))
		.map(({ l }) => l);
	const unmatchedLines = [...unmatched]
		.map(([id, cost]) => {
			const [period, currency] = JSON.parse(id) as [string, string];
			return { period, currency, cost: formatValue(cost) };
		})
		.sort((a, b) => compare(a.period, b.period) || compare(a.currency, b.currency));
	return { results: sorted, unmatched_cost: unmatchedLines, unknown_dimensions: unknown };
}
