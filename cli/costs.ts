// `meterline costs import`: a FOCUS (or CBF) cost file to AnyCost Stream billing drops, one
// connection per currency, one month per drop, sent like `meterline send` sends records.
import type { ParseArgsConfig } from "node:util";
import type { ErrorDetail } from "../src/lib/api-error";
import { batches } from "./batches";
import { type CostProblem, type CostRow, columnTotal, readCbf, readFocus } from "./costs-file";
import { type Io, type OptionValues, readInputFile, SENDING_OPTIONS, secret, sendingSettings, UsageError } from "./options";
import { describeOutcome, type PlannedRequest, sendRequests } from "./sender";
import { limitedProblems } from "./validate";

export const COSTS_OPTIONS = {
	connection: { type: "string", multiple: true },
	operation: { type: "string" },
	format: { type: "string" },
	...SENDING_OPTIONS,
} satisfies ParseArgsConfig["options"];

type CostsValues = OptionValues<typeof COSTS_OPTIONS>;

export const DROP_OPERATIONS = ["replace_drop", "replace_hourly", "sum"] as const;
export type DropOperation = (typeof DROP_OPERATIONS)[number];

const CURRENCY_SPEC = /^([A-Z]{3})=(.*)$/;
const CONNECTION_ID = /^[A-Za-z0-9_.:@-]{1,256}$/;

/**
 * Which connection each currency's rows go to. A connection holds one currency, so one plain
 * `--connection <id>` takes a file of one currency, and a file of several needs
 * `--connection <CUR>=<id>` for each; no two currencies share a connection. Returns the map, or
 * the reason the file cannot be sent as asked.
 */
export function routeCurrencies(specs: string[], currencies: string[]): { routes: Map<string, string> } | { error: string } {
	const plain = specs.filter((s) => !CURRENCY_SPEC.test(s));
	const byCurrency = specs.flatMap((s) => {
		const m = CURRENCY_SPEC.exec(s);
		return m ? [[m[1], m[2]] as const] : [];
	});
	for (const id of [...plain, ...byCurrency.map(([, id]) => id)]) {
		if (!CONNECTION_ID.test(id))
			throw new UsageError(
				`--connection '${id}': a connection id is 1 to 256 characters of A-Z, a-z, 0-9, '_', '.', ':', '@' and '-' (or <CUR>=<id>, e.g. USD=aws-usd)`,
			);
	}
	if (plain.length > 0 && (plain.length > 1 || byCurrency.length > 0)) {
		throw new UsageError(
			"--connection: give one connection id, or one <CUR>=<id> per currency (e.g. --connection USD=aws-usd --connection EUR=aws-eur), not both",
		);
	}
	const named = currencies.filter((c) => c !== "");
	if (plain.length === 1) {
		if (named.length > 1) {
			return {
				error: `the file holds costs in ${named.length} currencies (${named.join(", ")}); a connection holds one, and costs in different currencies are never added together: pass ${named.map((c) => `--connection ${c}=<id>`).join(" ")}`,
			};
		}
		return { routes: new Map(currencies.map((c) => [c, plain[0]])) };
	}
	if (currencies.includes(""))
		return { error: "a CBF file has no currency column: pass one --connection <id> (the connection's currency is the file's)" };
	const routes = new Map<string, string>();
	const owner = new Map<string, string>();
	for (const [currency, id] of byCurrency) {
		if (routes.has(currency) && routes.get(currency) !== id) throw new UsageError(`--connection: ${currency} is given two connections`);
		if (owner.has(id) && owner.get(id) !== currency)
			throw new UsageError(`--connection: '${id}' is given for ${owner.get(id)} and ${currency}; a connection holds one currency`);
		routes.set(currency, id);
		owner.set(id, currency);
	}
	const unrouted = named.filter((c) => !routes.has(c));
	if (unrouted.length > 0)
		return {
			error: `the file has costs in ${unrouted.join(", ")} but no --connection ${unrouted[0]}=<id> for ${unrouted.length > 1 ? "them" : "it"}`,
		};
	return { routes };
}

export interface PlannedDrop extends PlannedRequest {
	connection: string;
	currency: string;
	month: string;
	operation: DropOperation;
	/** The rows in `data`, in order (for the lines of rejected rows). */
	rows: CostRow[];
}

/** "2024-09" */
export function monthOf(ms: number): string {
	return new Date(ms).toISOString().slice(0, 7);
}

/**
 * The billing drops for the rows: per connection (in order of first appearance) and month (in
 * order), the month's rows in time order, cut into requests within the limits. With replace_drop,
 * a month that needs several requests is sent as a replace_drop of the first and a sum of each
 * other, so the month ends up as exactly the file's rows. With replace_hourly, no hour is cut
 * across two requests (the second would replace the first's share of it).
 */
export function planDrops(
	rows: CostRow[],
	routes: Map<string, string>,
	opts: { operation: DropOperation; maxRecords: number; maxBytes: number; runId: string },
): PlannedDrop[] {
	const groups = new Map<string, { connection: string; currency: string; month: string; rows: CostRow[] }>();
	for (const row of rows) {
		const connection = routes.get(row.currency)!;
		const month = monthOf(row.at);
		const key = `${connection}\n${month}`;
		let group = groups.get(key);
		if (!group) {
			group = { connection, currency: row.currency, month, rows: [] };
			groups.set(key, group);
		}
		group.rows.push(row);
	}
	const connections = [...new Set([...groups.values()].map((g) => g.connection))];
	const ordered = [...groups.values()].sort(
		(a, b) => connections.indexOf(a.connection) - connections.indexOf(b.connection) || (a.month < b.month ? -1 : a.month > b.month ? 1 : 0),
	);
	const drops: Omit<PlannedDrop, "where">[] = [];
	for (const group of ordered) {
		const sorted = [...group.rows].sort((a, b) => a.at - b.at); // stable: file order within an hour
		const hourOf = new Map(sorted.map((r) => [r.cbf, Math.floor(r.at / 3_600_000)]));
		const operationOf = (i: number): DropOperation => (opts.operation === "replace_drop" && i > 0 ? "sum" : opts.operation);
		const path = `/v2/connections/billing/anycost/${encodeURIComponent(group.connection)}/billing_drops`;
		for (const batch of batches(
			sorted.map((r) => r.cbf),
			{
				maxRecords: opts.maxRecords,
				maxBytes: opts.maxBytes,
				stream: `anycost:${group.connection}`,
				op: "billing_drops",
				runId: opts.runId,
				// A FOCUS file names its currency: the drop says it, so the connection records it (and the
				// service refuses a drop in another currency than the connection's). A CBF file has none.
				envelope: (i) => [
					`{"month":"${group.month}","operation":"${operationOf(i)}",${group.currency ? `"currency":"${group.currency}",` : ""}"data":[`,
					"]}",
				],
				canSplit:
					opts.operation === "replace_hourly" ? (a, b) => hourOf.get(a as CostRow["cbf"]) !== hourOf.get(b as CostRow["cbf"]) : undefined,
			},
		)) {
			drops.push({
				path,
				body: batch.body,
				idempotencyKey: batch.idempotencyKey,
				count: batch.count,
				connection: group.connection,
				currency: group.currency,
				month: group.month,
				operation: operationOf(batch.index),
				rows: sorted.slice(batch.first, batch.first + batch.count),
			});
		}
	}
	return drops.map((drop, i) => {
		const lines = drop.rows.map((r) => r.line);
		return {
			...drop,
			where: `drop ${i + 1}/${drops.length} (connection '${drop.connection}', ${drop.month}, ${drop.operation}, ${drop.count} row${drop.count === 1 ? "" : "s"} from lines ${Math.min(...lines)}-${Math.max(...lines)})`,
		};
	});
}

/** One line per problem, `file:line: column: message`, in file order. */
export function describeProblems(problems: CostProblem[], file: string, limit: number): string[] {
	return limitedProblems(
		problems.map((p) => ({ order: p.line, text: `${file}:${p.line}: ${p.column ? `${p.column}: ` : ""}${p.message}` })),
		limit,
	);
}

/** The service's details of a refused drop (`total`: its details_total), with the file lines of the rows they name ("data[3].cost/cost"). */
export function describeRejectedRows(
	drop: PlannedDrop,
	details: ErrorDetail[],
	file: string,
	limit: number,
	total = details.length,
): string[] {
	return limitedProblems(
		details.map((d) => {
			const row = d.record === undefined ? undefined : drop.rows[d.record];
			const column = d.path?.replace(/^data\[\d+\]\.?/, "") || undefined;
			// The service's CBF messages already start with the column ("cost/cost: ..."): named once.
			const message = column && d.message.startsWith(`${column}: `) ? d.message.slice(column.length + 2) : d.message;
			return { order: row?.line ?? 0, text: `${row ? `${file}:${row.line}` : file}: ${column ? `${column}: ` : ""}${message} [${d.code}]` };
		}),
		limit,
		total,
	);
}

function count(n: number): string {
	return n.toLocaleString("en-US");
}

/** "1 row", "1,120 rows" */
function rowCount(n: number): string {
	return `${count(n)} row${n === 1 ? "" : "s"}`;
}

export async function costs(positionals: string[], values: CostsValues, url: string, io: Io): Promise<number> {
	const [sub, ...files] = positionals;
	if (sub !== "import")
		throw new UsageError(
			sub === undefined ? "costs needs a subcommand: costs import <file> --connection <id>" : `unknown costs subcommand '${sub}'`,
		);
	if (files.length !== 1) throw new UsageError("costs import takes exactly one file");
	const [file] = files;
	const format = values.format ?? "focus";
	if (format !== "focus" && format !== "cbf") throw new UsageError("--format must be focus or cbf");
	const operation = (values.operation ?? "replace_drop") as DropOperation;
	if (!DROP_OPERATIONS.includes(operation)) throw new UsageError(`--operation must be one of ${DROP_OPERATIONS.join(", ")}`);
	if (!values.connection?.length)
		throw new UsageError("--connection is required: the AnyCost Stream connection id (or one <CUR>=<id> per currency)");
	// A drop's envelope ({"month", "operation", "data"}) is larger than a telemetry body's.
	const { maxRecords, maxBytes, maxErrors, policy } = sendingSettings(values, { minBytes: 200 });
	const token = values["dry-run"] ? "" : secret(values.token, "METERLINE_TOKEN", "--token", io);
	// The flags' syntax is checked before the file is read.
	routeCurrencies(values.connection, []);

	// 1. Read, map and check the whole file: nothing is sent unless every row is valid.
	const parsed = await readInputFile(file, io, format === "cbf" ? readCbf : readFocus);
	if (parsed === undefined) return 1;
	if (parsed.problems.length > 0) {
		io.err(`${describeProblems(parsed.problems, file, maxErrors).join("\n")}\n`);
		io.err(`${file}: ${parsed.problems.length} problem${parsed.problems.length === 1 ? "" : "s"} found; nothing was sent.\n`);
		return 1;
	}
	const rowsRead = [...parsed.read.values()].reduce((a, b) => a + b, 0);
	if (parsed.rows.length === 0) {
		io.err(`${file}: no rows\n`);
		return 1;
	}
	const currencies = [...parsed.read.keys()].sort();
	const routed = routeCurrencies(values.connection, currencies);
	if ("error" in routed) {
		io.err(`${file}: ${routed.error}; nothing was sent.\n`);
		return 1;
	}

	// 2. Plan the drops; bodies and idempotency keys are fixed now, so a retry resends the same bytes.
	let drops: PlannedDrop[];
	try {
		drops = planDrops(parsed.rows, routed.routes, { operation, maxRecords, maxBytes, runId: values["run-id"] ?? "" });
	} catch (err) {
		if (!(err instanceof RangeError)) throw err;
		io.err(`${file}: ${err.message}\n`);
		return 1;
	}
	const kind = format === "cbf" ? "CBF" : "FOCUS";
	const summary = `${count(parsed.rows.length)} CBF rows from ${count(rowsRead)} ${kind} rows in ${drops.length} drop${drops.length === 1 ? "" : "s"}`;
	const perCurrency = currencies.map((currency) => {
		const rows = parsed.rows.filter((r) => r.currency === currency);
		const total = columnTotal(rows, "cost/cost");
		const months = [...new Set(rows.map((r) => monthOf(r.at)))].sort();
		return `  ${currency || "the connection's currency"}: ${rowCount(parsed.read.get(currency) ?? 0)} read, ${rowCount(rows.length)} sent to connection '${routed.routes.get(currency)}' (${months.join(", ")}), total cost ${total}${currency ? ` ${currency}` : ""}\n`;
	});
	if (values["dry-run"]) {
		io.out(`${file}: valid. Would send ${summary}:\n`);
		for (const drop of drops) io.out(`  ${drop.where}, ${count(Buffer.byteLength(drop.body))} bytes\n`);
		io.out(perCurrency.join(""));
		return 0;
	}
	io.err(`Sending ${summary} to ${url}\n`);

	// 3. Send in order: a month's replace_drop before its sums.
	const outcome = await sendRequests(io, url, token, policy, drops, (index, details, total) =>
		describeRejectedRows(drops[index], details, file, maxErrors, total),
	);
	if (!outcome.ok) return 1;
	io.out(`Sent ${summary}${describeOutcome(outcome, parsed.rows.length)}.\n${perCurrency.join("")}`);
	return 0;
}
