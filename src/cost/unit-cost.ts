// Unit cost (docs/unit-cost.md): per period and group, cost ÷ units, from the sums D1 returns
// (storage/cost-reads.ts reads them). The exact cost is divided by the units as shown; a quotient
// no double can carry is null, and units no double can hold refuse the read (400 value_overflow).
import { ApiError } from "../lib/api-error";
import { type Decimal, divideDecimals, formatDecimal, parseDecimal } from "../lib/decimal";
import { formatValue, isStorable, roundToSignificant, SIGNIFICANT_DIGITS } from "../lib/numbers";
import { formatCost } from "./money";

/** A group's units in a period, as D1 sums them. */
export interface UnitsRow {
	period: string;
	group: string;
	/** null when the sum is beyond the largest finite double (MAX_STORED_VALUE). */
	units: number | null;
}

/** Cost its series matched, per (period, group, currency), as D1 sums it. */
export interface MatchedCostRow {
	period: string;
	/** The group of the series that matched the cost, or null for cost no series matched. */
	group: string | null;
	currency: string;
	cost: Decimal;
}

export interface UnitCostLine {
	period: string;
	group: Record<string, string>;
	currency: string | null;
	units: string;
	cost: string;
	unit_cost: string | null;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * cost ÷ units to 15 significant digits, from the exact cost and the units as shown (15 digits);
 * null when units are 0, or when the quotient is no finite double or rounds to 0 as one (so that
 * every unit_cost is a value the telemetry API takes back).
 */
export function unitCostOf(cost: Decimal, units: number): string | null {
	const quotient = divideDecimals(cost, parseDecimal(String(units))!, SIGNIFICANT_DIGITS);
	if (quotient === null) return null;
	const text = formatDecimal(quotient);
	const asDouble = Number(text);
	if (!isStorable(asDouble) || (asDouble === 0 && quotient.units !== 0n)) return null;
	return text;
}

/**
 * Unit cost lines from D1's sums: per (period, group) the group's units, and one line per
 * currency of the cost its series matched (or one with currency null and cost 0); and the cost no
 * series matched, per (period, currency). A group whose units sum beyond the largest finite
 * double is refused with a 400 naming it.
 */
export function unitCostLines(
	units: UnitsRow[],
	costs: MatchedCostRow[],
	groupBy: string | null,
): { results: UnitCostLine[]; unmatched_cost: Array<{ period: string; currency: string; cost: string }> } {
	const unitsOf = new Map<string, number>();
	for (const row of units) {
		const rounded = row.units === null ? Number.POSITIVE_INFINITY : roundToSignificant(row.units);
		if (!isStorable(rounded)) {
			const group = groupBy === null ? "" : ` of ${groupBy} '${row.group.slice(0, 200)}'`;
			throw new ApiError(
				400,
				"value_overflow",
				`The units${group} in ${row.period} add up beyond 1.79769313486231e308, the largest value a unit cost can divide; read a shorter period or another grouping`,
				[
					{
						code: "value_overflow",
						message: `units${group} in ${row.period} overflow`,
						path: groupBy === null ? "start_date" : "group_by",
					},
				],
			);
		}
		unitsOf.set(JSON.stringify([row.period, row.group]), rounded);
	}
	const line = (period: string, group: string, currency: string | null, cost: Decimal | null): UnitCostLine => {
		const u = unitsOf.get(JSON.stringify([period, group])) ?? 0;
		return {
			period,
			group: groupBy === null ? {} : { [groupBy]: group },
			currency,
			units: formatValue(u),
			cost: cost === null ? "0" : formatCost(cost),
			unit_cost: u === 0 || cost === null ? (u === 0 ? null : "0") : unitCostOf(cost, u),
		};
	};
	const lines: UnitCostLine[] = [];
	const withCost = new Set<string>();
	const unmatched: Array<{ period: string; currency: string; cost: string }> = [];
	for (const row of costs) {
		if (row.group === null) {
			unmatched.push({ period: row.period, currency: row.currency, cost: formatCost(row.cost) });
			continue;
		}
		withCost.add(JSON.stringify([row.period, row.group]));
		lines.push(line(row.period, row.group, row.currency, row.cost));
	}
	for (const row of units) {
		if (!withCost.has(JSON.stringify([row.period, row.group]))) lines.push(line(row.period, row.group, null, null));
	}
	// Sorted by period, group (as JSON) and currency; each line's group JSON made once, not per comparison.
	const results = lines
		.map((l) => ({ l, group: JSON.stringify(l.group), currency: l.currency ?? "" }))
		.sort((a, b) => compare(a.l.period, b.l.period) || compare(a.group, b.group) || compare(a.currency, b.currency))
		.map(({ l }) => l);
	unmatched.sort((a, b) => compare(a.period, b.period) || compare(a.currency, b.currency));
	return { results, unmatched_cost: unmatched };
}
