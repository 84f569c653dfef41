// `meterline unit-cost <metric>`: the unit cost of a metric (cost imported by `costs import`,
// divided by the metric's units), as a table or CSV.
import type { ParseArgsConfig } from "node:util";
import { DEFAULT_RETRY_POLICY, describeError, GaveUpError, requestWithRetry, Service, USER_AGENT } from "./http";
import { type Io, type OptionValues, secret, UsageError } from "./options";

export const UNIT_COST_OPTIONS = {
	start: { type: "string" },
	end: { type: "string" },
	granularity: { type: "string" },
	"cost-type": { type: "string" },
	"group-by": { type: "string" },
	dim: { type: "string", multiple: true },
	exclude: { type: "string", multiple: true },
	csv: { type: "boolean" },
} satisfies ParseArgsConfig["options"];

type UnitCostValues = OptionValues<typeof UNIT_COST_OPTIONS>;

export const COST_TYPES = ["cost", "discounted_cost", "amortized_cost", "discounted_amortized_cost", "on_demand_cost"] as const;

export interface UnitCostResponse {
	metric: string;
	granularity: string;
	cost_type: string;
	/** currency is null for units without any cost in the period. */
	results: Array<{
		period: string;
		group: Record<string, string>;
		currency: string | null;
		units: string;
		cost: string;
		unit_cost: string | null;
	}>;
	unmatched_cost: Array<{ period: string; currency: string; cost: string }>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The query string of a unit-cost request; throws UsageError for bad flags. */
export function unitCostQuery(values: UnitCostValues): string {
	const query = new URLSearchParams();
	for (const [flag, param] of [
		["start", "start_date"],
		["end", "end_date"],
	] as const) {
		const value = values[flag];
		if (value === undefined) continue;
		if (!DATE.test(value)) throw new UsageError(`--${flag} must be a date, YYYY-MM-DD`);
		query.set(param, value);
	}
	if (values.granularity !== undefined) {
		if (values.granularity !== "day" && values.granularity !== "month") throw new UsageError("--granularity must be day or month");
		query.set("granularity", values.granularity);
	}
	if (values["cost-type"] !== undefined) {
		if (!(COST_TYPES as readonly string[]).includes(values["cost-type"]))
			throw new UsageError(`--cost-type must be one of ${COST_TYPES.join(", ")}`);
		query.set("cost_type", values["cost-type"]);
	}
	if (values["group-by"] !== undefined) query.set("group_by", values["group-by"]);
	// --dim and --exclude become the service's cost filters, values passed as written: a comma
	// separates values, \, and \\ escape (the service checks them and names a bad one).
	for (const kind of ["dim", "exclude"] as const) {
		for (const spec of values[kind] ?? []) {
			const at = spec.indexOf("=");
			if (at < 1)
				throw new UsageError(`--${kind} takes <dimension>=<value>[,<value>...], e.g. --${kind} LineItemType=Tax,Credit; got '${spec}'`);
			query.append(`${kind}[${spec.slice(0, at)}]`, spec.slice(at + 1));
		}
	}
	const text = query.toString();
	return text ? `?${text}` : "";
}

function groupText(group: Record<string, string> | undefined): string {
	const entries = Object.entries(group ?? {});
	return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join("; ");
}

function csvCell(value: string): string {
	return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * CSV: one line per result (kind "unit_cost") and per unmatched cost (kind "unmatched": cost with
 * no units to divide it by, so no unit cost).
 */
export function formatUnitCostCsv(body: UnitCostResponse): string {
	const lines = [["kind", "period", "group", "currency", "units", "cost", "unit_cost"]];
	for (const r of body.results)
		lines.push(["unit_cost", r.period, groupText(r.group).replace(/^-$/, ""), r.currency ?? "", r.units, r.cost, r.unit_cost ?? ""]);
	for (const u of body.unmatched_cost ?? []) lines.push(["unmatched", u.period, "", u.currency, "", u.cost, ""]);
	return `${lines.map((cells) => cells.map(csvCell).join(",")).join("\n")}\n`;
}

function table(rows: string[][], rightAligned: Set<number>): string {
	const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
	return `${rows
		.map((r) =>
			r
				.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
				.join("  ")
				.trimEnd(),
		)
		.join("\n")}\n`;
}

/** A table of the results, then the unmatched cost (cost in periods or currencies without units). */
export function formatUnitCostTable(body: UnitCostResponse): string {
	const head = `Unit cost of '${body.metric}' (${body.cost_type}, per ${body.granularity})\n`;
	const results =
		body.results.length === 0
			? "No cost matched to units in this range.\n"
			: table(
					[
						["PERIOD", "GROUP", "CURRENCY", "UNITS", "COST", "UNIT COST"],
						...body.results.map((r) => [r.period, groupText(r.group), r.currency ?? "-", r.units, r.cost, r.unit_cost ?? "-"]),
					],
					new Set([3, 4, 5]),
				);
	const unmatched = body.unmatched_cost ?? [];
	const tail =
		unmatched.length === 0
			? "Unmatched cost: none\n"
			: `Unmatched cost (matched by no series of the metric):\n${table([["PERIOD", "CURRENCY", "COST"], ...unmatched.map((u) => [u.period, u.currency, u.cost])], new Set([2]))}`;
	return `${head}${results}${tail}`;
}

/** The "path: message" of each detail of an error body (none for another body). */
function errorDetails(body: unknown): string[] {
	const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
	if (!Array.isArray(details)) return [];
	return details
		.filter((d): d is { message: string; path?: unknown } => typeof d?.message === "string")
		.map((d) => (typeof d.path === "string" && !d.message.startsWith(d.path) ? `${d.path}: ${d.message}` : d.message));
}

export async function unitCost(positionals: string[], values: UnitCostValues, url: string, io: Io): Promise<number> {
	if (positionals.length !== 1) throw new UsageError("unit-cost takes exactly one metric name");
	const [metric] = positionals;
	const query = unitCostQuery(values);
	const token = secret(values.token, "METERLINE_TOKEN", "--token", io);
	let result: Awaited<ReturnType<typeof requestWithRetry>>;
	try {
		result = await requestWithRetry(
			new Service(url),
			`/unit-cost/v1/unit-cost/${encodeURIComponent(metric)}${query}`,
			{ method: "GET", headers: { Authorization: token, Accept: "application/json", "User-Agent": USER_AGENT } },
			DEFAULT_RETRY_POLICY,
			(notice) => io.err(`${notice.reason}; retry ${notice.attempt} in ${(notice.delayMs / 1000).toFixed(1)} s\n`),
		);
	} catch (err) {
		if (!(err instanceof GaveUpError)) throw err;
		io.err(`unit-cost: ${err.message}\n`);
		return 1;
	}
	const body = result.json as UnitCostResponse | undefined;
	if (result.status !== 200 || !body || !Array.isArray(body.results)) {
		io.err(`unit-cost '${metric}': HTTP ${result.status}${describeError(result.json)}\n`);
		// The details name the parameter at fault (a filter's bad escape, an unknown dimension).
		for (const detail of errorDetails(result.json)) io.err(`  ${detail}\n`);
		return 1;
	}
	io.out(values.csv ? formatUnitCostCsv(body) : formatUnitCostTable(body));
	return 0;
}
