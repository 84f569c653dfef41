// Local validation with the service's own code: the same schemas, the same error codes and
// messages, and the same dimension-key rule, so a file that passes here is accepted there.
import type { ErrorDetail } from "../src/lib/api-error";
import { DeleteBodySchema, SumBodySchema, type WriteOperation } from "../src/schemas/cloudzero";
import { checkDimensionKeys, issuesToDetails } from "../src/schemas/validation";

export type { ErrorDetail };

export function validateRecords(op: WriteOperation, records: unknown[]): ErrorDetail[] {
	if (op === "delete") {
		const parsed = DeleteBodySchema.safeParse({ records });
		return parsed.success ? [] : issuesToDetails(parsed.error.issues, { records });
	}
	const parsed = SumBodySchema.safeParse({ records });
	if (!parsed.success) return issuesToDetails(parsed.error.issues, { records });
	return checkDimensionKeys(parsed.data.records).details;
}

/** "records[12].value" → "value": the record is named by its file line instead. */
export function fieldOf(detail: ErrorDetail): string | undefined {
	const field = detail.path?.replace(/^records\[\d+\]\.?/, "");
	return field === "" ? undefined : field;
}

/** One line per problem, `file:line: field: message [code]`, records in file order. */
export function describeDetails(details: ErrorDetail[], file: string, lines: number[], limit: number): string[] {
	const sorted = [...details].sort((a, b) => (a.record ?? -1) - (b.record ?? -1));
	const out = sorted.slice(0, limit).map((detail) => {
		const where = detail.record === undefined ? file : `${file}:${lines[detail.record] ?? "?"}`;
		const field = fieldOf(detail);
		return `${where}: ${field ? `${field}: ` : ""}${detail.message} [${detail.code}]`;
	});
	if (details.length > limit) out.push(`... and ${details.length - limit} more problem${details.length - limit === 1 ? "" : "s"}`);
	return out;
}
