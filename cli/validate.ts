// Local validation with the service's own code: the same schemas, the same error codes and
// messages, and the same dimension-key rule, so a file that passes here is accepted there.
import type { ErrorDetail } from "../src/lib/api-error";
import { DeleteBodySchema, dayTotals, SumBodySchema, type WriteOperation } from "../src/schemas/cloudzero";
import { checkDimensionKeys, issuesToDetails } from "../src/schemas/validation";

export type { ErrorDetail };

export function validateRecords(op: WriteOperation, records: unknown[]): ErrorDetail[] {
	if (op === "delete") {
		const parsed = DeleteBodySchema.safeParse({ records });
		return parsed.success ? [] : issuesToDetails(parsed.error.issues, { records });
	}
	const parsed = SumBodySchema.safeParse({ records });
	if (!parsed.success) return issuesToDetails(parsed.error.issues, { records });
	const keys = checkDimensionKeys(parsed.data.records);
	return keys.details.length > 0 ? keys.details : dayTotals(parsed.data.records, keys.dimensionKeys).details;
}

/**
 * A replace file as the records to send: its day totals, one record per (day, series), each with
 * the index of the first record it sums. The service sums a request's records per day before it
 * replaces, so sent as they are, the hours of one day split across two requests would leave only
 * the second request's share; sent as totals, a day is never split. Call after validateRecords.
 */
export function replaceTotals(records: unknown[]): Array<{ record: unknown; first: number }> {
	const { records: valid } = SumBodySchema.parse({ records });
	return dayTotals(valid, checkDimensionKeys(valid).dimensionKeys).rows.map((t) => ({
		record: { timestamp: t.day, value: t.value, ...(t.dimensions ? { associated_cost: t.dimensions } : {}) },
		first: t.record,
	}));
}

/** "records[12].value" → "value": the record is named by its file line instead. */
export function fieldOf(detail: ErrorDetail): string | undefined {
	const field = detail.path?.replace(/^records\[\d+\]\.?/, "");
	return field === "" ? undefined : field;
}

/**
 * One line per problem, `file:line: field: message [code]`, records in file order. `total`: how
 * many problems there are in all, when `details` lists only some (a service's error body lists at
 * most 100 and gives the count in `details_total`).
 */
export function describeDetails(details: ErrorDetail[], file: string, lines: number[], limit: number, total = details.length): string[] {
	return limitedProblems(
		details.map((detail) => {
			const where = detail.record === undefined ? file : `${file}:${lines[detail.record] ?? "?"}`;
			const field = fieldOf(detail);
			return { order: detail.record ?? -1, text: `${where}: ${field ? `${field}: ` : ""}${detail.message} [${detail.code}]` };
		}),
		limit,
		total,
	);
}

/**
 * Problems' lines in `order`, at most `limit` of them, then how many more there are: counted from
 * `total` (all the problems, of which `problems` may be only the ones listed), never less than
 * those left out of `problems`.
 */
export function limitedProblems(problems: Array<{ order: number; text: string }>, limit: number, total = problems.length): string[] {
	const out = [...problems]
		.sort((a, b) => a.order - b.order)
		.slice(0, limit)
		.map((p) => p.text);
	const more = Math.max(total, problems.length) - out.length;
	if (more > 0) out.push(`... and ${more} more problem${more === 1 ? "" : "s"}`);
	return out;
}
