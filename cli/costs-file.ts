// Cost files as CBF rows: a FOCUS 1.0–1.3 cost-and-usage CSV mapped to CloudZero's Common Bill
// Format (docs/cli.md, "meterline costs import"), or a CBF CSV read as it is. Every problem is
// collected with its file line and column, so a file is fixed in one pass.

import { CBF_NUMBER_COLUMNS, CBF_TAG_PREFIX, CBF_TEXT_COLUMNS, CBF_TIME_COLUMNS } from "../src/cost/cbf-rows";
import { addDecimals, type Decimal, formatDecimal, parseDecimal, splitDecimal, ZERO } from "../src/lib/decimal";
import { InputError, readCsvTable } from "./csv";

/** A CBF row as sent: column name → value, empty cells left out. */
export type CbfRow = Record<string, string>;

export interface CostRow {
	cbf: CbfRow;
	/** BillingCurrency of the FOCUS row; "" for a CBF file (the connection's currency). */
	currency: string;
	/** File line of the row it comes from (a spread FOCUS row gives several CBF rows). */
	line: number;
	/** time/usage_start in milliseconds since the epoch. */
	at: number;
}

export interface CostProblem {
	line: number;
	column?: string;
	message: string;
}

export interface CostFile {
	rows: CostRow[];
	/** Data rows read from the file, per currency. */
	read: Map<string, number>;
	problems: CostProblem[];
}

/** CBF's columns, as the service checks them (src/cost/cbf-rows.ts). */
export { CBF_NUMBER_COLUMNS };

const CBF_COLUMNS: readonly string[] = [...CBF_TEXT_COLUMNS, ...CBF_TIME_COLUMNS, ...CBF_NUMBER_COLUMNS];
const TAG_PREFIX = CBF_TAG_PREFIX;

/** FOCUS text columns and the CBF column each becomes (docs/cli.md has the table). */
const FOCUS_TEXT: ReadonlyArray<[focus: string, cbf: string]> = [
	["ChargeCategory", "lineitem/type"],
	["ChargeDescription", "lineitem/description"],
	["ServiceName", "resource/service"],
	["ServiceCategory", "resource/usage_family"],
	["SubAccountId", "resource/account"],
	["RegionId", "resource/region"],
	["ConsumedUnit", "usage/units"],
	["InvoiceId", "bill/invoice_id"],
];
/** FOCUS number columns and their CBF column; BilledCost is required, the others optional. */
const FOCUS_NUMBERS: ReadonlyArray<[focus: string, cbf: (typeof CBF_NUMBER_COLUMNS)[number]]> = [
	["BilledCost", "cost/cost"],
	["ContractedCost", "cost/discounted_cost"],
	["EffectiveCost", "cost/discounted_amortized_cost"],
	["ListCost", "cost/on_demand_cost"],
	["ConsumedQuantity", "usage/amount"],
];
const FOCUS_REQUIRED = ["ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "BillingCurrency"];

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * A FOCUS date-time: ISO 8601 with "T" or a space, seconds and fraction optional, "Z", an offset
 * or no zone (UTC, as database exports write it); or a bare date. Null when it is none or not a
 * calendar date.
 */
export function parseDateTime(text: string): number | null {
	const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
	if (!m) return null;
	const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = m;
	const ms = Date.UTC(
		Number(y),
		Number(mo) - 1,
		Number(d),
		Number(h),
		Number(mi),
		Number(s),
		Math.floor(Number(`0.${fraction || "0"}`) * 1000),
	);
	const check = new Date(ms);
	if (
		check.getUTCFullYear() !== Number(y) ||
		check.getUTCMonth() !== Number(mo) - 1 ||
		check.getUTCDate() !== Number(d) ||
		Number(h) > 23 ||
		Number(mi) > 59 ||
		Number(s) > 59
	)
		return null;
	if (!zone || zone.toUpperCase() === "Z") return ms;
	const sign = zone[0] === "-" ? -1 : 1;
	const digits = zone.slice(1).replace(":", "");
	return ms - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** "2024-09-18T22:00:00Z": ISO 8601 in UTC, without milliseconds. */
export function formatInstant(ms: number): string {
	return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Where a charge of [start, end) goes: within one UTC day, all of it at its start hour; across
 * several days, one part per day it covers, weighted by the time it covers that day (so evenly for
 * whole days), each at the first hour it covers that day.
 */
export function periodParts(start: number, end: number): Array<{ at: number; weight: number }> {
	const startHour = Math.floor(start / HOUR_MS) * HOUR_MS;
	const firstDay = Math.floor(start / DAY_MS) * DAY_MS;
	if (end <= firstDay + DAY_MS) return [{ at: startHour, weight: 1 }];
	const parts = [];
	for (let day = firstDay; day < end; day += DAY_MS) {
		const from = Math.max(day, start);
		parts.push({ at: day === firstDay ? startHour : day, weight: Math.min(day + DAY_MS, end) - from });
	}
	return parts;
}

/** A cell that FOCUS leaves empty: "" or, as database exports write it, NULL. */
function isNull(value: string | undefined): boolean {
	return value === undefined || value === "" || value === "NULL";
}

/**
 * Maps a FOCUS CSV to CBF rows. Unknown columns (x_ provider columns, and FOCUS columns CBF has
 * no place for) are ignored. A row without ResourceId but with Tags gets the synthetic resource id
 * "<SubAccountId>/<ChargeCategory>" (CBF requires resource/id with tags; the tags are what
 * allocates a tax or fee). A charge spanning several days is spread over them (periodParts),
 * every number column exactly (splitDecimal).
 */
export function readFocus(text: string): CostFile {
	const { columns, headerLine, body } = readCsvTable(text);
	const missing = FOCUS_REQUIRED.filter((c) => !columns.includes(c));
	if (missing.length > 0) {
		throw new InputError(`not a FOCUS cost-and-usage file: no column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`, headerLine);
	}
	const at = (name: string) => columns.indexOf(name);
	const rows: CostRow[] = [];
	const read = new Map<string, number>();
	const problems: CostProblem[] = [];
	for (const { line, fields } of body) {
		if (fields.length !== columns.length) {
			problems.push({ line, message: `expected ${columns.length} fields as in the header, found ${fields.length}` });
			continue;
		}
		const get = (name: string) => {
			const i = at(name);
			return i < 0 || isNull(fields[i]) ? undefined : fields[i];
		};
		const rowProblems: CostProblem[] = [];
		const problem = (column: string, message: string) => rowProblems.push({ line, column, message });

		const currency = get("BillingCurrency");
		if (currency === undefined) problem("BillingCurrency", "is empty: every row needs its currency");
		else if (!/^[A-Z]{3}$/.test(currency)) problem("BillingCurrency", `'${currency}' is not an ISO 4217 currency code`);

		const times = ["ChargePeriodStart", "ChargePeriodEnd"].map((name) => {
			const value = get(name);
			const ms = value === undefined ? null : parseDateTime(value);
			if (value === undefined) problem(name, "is empty");
			else if (ms === null) problem(name, `'${value}' is not an ISO 8601 date-time`);
			return ms;
		});
		const [start, end] = times;
		if (start !== null && end !== null && end <= start) problem("ChargePeriodEnd", "must be after ChargePeriodStart");

		const numbers: Array<[string, Decimal]> = [];
		for (const [focus, cbf] of FOCUS_NUMBERS) {
			const value = get(focus);
			if (value === undefined) {
				if (focus === "BilledCost") problem(focus, "is empty");
				continue;
			}
			const parsed = parseDecimal(value);
			if (parsed === null) problem(focus, `'${value.slice(0, 40)}' is not a decimal number`);
			else numbers.push([cbf, parsed]);
		}

		const base: CbfRow = {};
		for (const [focus, cbf] of FOCUS_TEXT) {
			const value = get(focus);
			if (value !== undefined) base[cbf] = value;
		}
		const tags = get("Tags");
		let tagCount = 0;
		if (tags !== undefined) {
			let parsed: unknown;
			try {
				parsed = JSON.parse(tags);
			} catch {
				parsed = undefined;
			}
			if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
				problem("Tags", "is not a JSON object of tag keys and values");
			} else {
				for (const [key, value] of Object.entries(parsed)) {
					if (value === null) continue;
					if (key === "") {
						problem("Tags", "has an empty tag key");
						continue;
					}
					base[`${TAG_PREFIX}${key}`] = typeof value === "string" ? value : JSON.stringify(value);
					tagCount++;
				}
			}
		}
		const resource = get("ResourceId");
		if (resource !== undefined) base["resource/id"] = resource;
		else if (tagCount > 0)
			base["resource/id"] = `${get("SubAccountId") ?? get("BillingAccountId") ?? "no-account"}/${get("ChargeCategory") ?? "Charge"}`;

		if (currency !== undefined) read.set(currency, (read.get(currency) ?? 0) + 1);
		if (rowProblems.length > 0 || start === null || end === null || currency === undefined) {
			problems.push(...rowProblems);
			continue;
		}
		const parts = periodParts(start, end);
		const weights = parts.map((p) => p.weight);
		const split = numbers.map(([column, value]) => [column, splitDecimal(value, weights)] as const);
		parts.forEach((part, i) => {
			const cbf: CbfRow = { "time/usage_start": formatInstant(part.at), ...base };
			for (const [column, values] of split) cbf[column] = formatDecimal(values[i]);
			rows.push({ cbf, currency, line, at: part.at });
		});
	}
	return { rows, read, problems };
}

/**
 * Reads a CBF CSV: columns named as CBF, checked as the service will (CBF_NUMBER_COLUMNS are
 * decimals), time/usage_start rewritten as ISO 8601 in UTC ("2024-03-01 05:00:00" is UTC).
 */
export function readCbf(text: string): CostFile {
	const { columns, headerLine, body } = readCsvTable(text);
	const unknown = columns.filter((c) => !c.startsWith(TAG_PREFIX) && !CBF_COLUMNS.includes(c));
	if (unknown.length > 0) throw new InputError(`not CBF column${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`, headerLine);
	for (const required of ["time/usage_start", "cost/cost"]) {
		if (!columns.includes(required))
			throw new InputError(`no column ${required}: a CBF file needs time/usage_start and cost/cost`, headerLine);
	}
	const rows: CostRow[] = [];
	const problems: CostProblem[] = [];
	for (const { line, fields } of body) {
		if (fields.length !== columns.length) {
			problems.push({ line, message: `expected ${columns.length} fields as in the header, found ${fields.length}` });
			continue;
		}
		const cbf: CbfRow = {};
		columns.forEach((column, i) => {
			if (fields[i] !== "") cbf[column] = fields[i];
		});
		const before = problems.length;
		const start = cbf["time/usage_start"] === undefined ? null : parseDateTime(cbf["time/usage_start"]);
		if (start === null)
			problems.push({
				line,
				column: "time/usage_start",
				message: cbf["time/usage_start"] === undefined ? "is empty" : `'${cbf["time/usage_start"]}' is not an ISO 8601 date-time`,
			});
		if (cbf["cost/cost"] === undefined) problems.push({ line, column: "cost/cost", message: "is empty" });
		for (const column of CBF_NUMBER_COLUMNS) {
			if (cbf[column] !== undefined && parseDecimal(cbf[column]) === null)
				problems.push({ line, column, message: `'${cbf[column].slice(0, 40)}' is not a decimal number` });
		}
		if (cbf["resource/id"] === undefined && Object.keys(cbf).some((c) => c.startsWith(TAG_PREFIX))) {
			problems.push({ line, column: "resource/id", message: "is required when the row has a resource/tag: value" });
		}
		if (problems.length !== before || start === null) continue;
		cbf["time/usage_start"] = formatInstant(start); // as the service reads it: ISO 8601, UTC
		rows.push({ cbf, currency: "", line, at: start });
	}
	return { rows, read: new Map([["", body.length]]), problems };
}

/** The sum of a column over rows, exactly, as a decimal string. */
export function columnTotal(rows: CostRow[], column: string): string {
	let total = ZERO;
	for (const row of rows) {
		const value = row.cbf[column] === undefined ? null : parseDecimal(row.cbf[column]);
		if (value) total = addDecimals(total, value);
	}
	return formatDecimal(total);
}
