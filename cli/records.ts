import { InputError, readCsvTable } from "./csv";
import { jsonErrorLine, recordStartLines } from "./json-lines";

export const FORMATS = ["csv", "json", "jsonl"] as const;
export type Format = (typeof FORMATS)[number];

/** Records as they will be sent, each with the file line it came from. */
export interface FileRecords {
	records: Record<string, unknown>[];
	lines: number[];
}

/** How CSV columns become record fields. */
export interface CsvMapping {
	timestampColumn: string;
	valueColumn: string;
	/** [dimension name, column]; null means "every column not otherwise used, named by its header". */
	dimensions: [key: string, column: string][] | null;
	/** Whether columns that are neither timestamp, value nor a dimension are allowed. */
	ignoreExtraColumns: boolean;
	/** delete records carry no value, so the value column is not read. */
	withValue: boolean;
}

export function formatOf(fileName: string, explicit: string | undefined): Format {
	if (explicit !== undefined) {
		if (!(FORMATS as readonly string[]).includes(explicit)) throw new InputError(`--format must be one of ${FORMATS.join(", ")}`);
		return explicit as Format;
	}
	const extension = /\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase();
	if (extension === "csv") return "csv";
	if (extension === "json") return "json";
	if (extension === "jsonl" || extension === "ndjson") return "jsonl";
	throw new InputError(`cannot tell the format of '${fileName}' from its name: pass --format csv, json or jsonl`);
}

export function readRecords(text: string, format: Format, mapping: CsvMapping): FileRecords {
	if (format === "csv") return readCsv(text, mapping);
	if (format === "jsonl") return readJsonLines(text);
	return readJson(text);
}

function readJson(text: string): FileRecords {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (err) {
		throw new InputError(`invalid JSON: ${(err as Error).message}`, jsonErrorLine(text, err as Error));
	}
	const records = Array.isArray(parsed) ? parsed : (parsed as { records?: unknown } | null)?.records;
	if (!Array.isArray(records)) throw new InputError('a JSON file must hold {"records": [...]} or an array of records');
	const extra = Array.isArray(parsed) ? [] : Object.keys(parsed as object).filter((key) => key !== "records");
	if (extra.length > 0)
		throw new InputError(
			`unknown top-level field${extra.length > 1 ? "s" : ""} ${extra.map((k) => `'${k}'`).join(", ")}: only "records" is sent`,
		);
	return { records: records as Record<string, unknown>[], lines: recordStartLines(text) };
}

function readJsonLines(text: string): FileRecords {
	const records: Record<string, unknown>[] = [];
	const lines: number[] = [];
	text.split("\n").forEach((raw, index) => {
		if (raw.trim() === "") return;
		try {
			records.push(JSON.parse(raw) as Record<string, unknown>);
		} catch (err) {
			throw new InputError(`invalid JSON: ${(err as Error).message}`, index + 1);
		}
		lines.push(index + 1);
	});
	return { records, lines };
}

function readCsv(text: string, mapping: CsvMapping): FileRecords {
	const { columns, headerLine, body } = readCsvTable(text);
	const indexOf = (column: string, flag: string) => {
		const index = columns.indexOf(column);
		if (index < 0) throw new InputError(`no column '${column}' (${flag}); the header has: ${columns.join(", ")}`, headerLine);
		return index;
	};
	const timestampIndex = indexOf(mapping.timestampColumn, "--timestamp-column");
	const valueIndex = mapping.withValue ? indexOf(mapping.valueColumn, "--value-column") : -1;
	const used = new Set([timestampIndex, valueIndex]);
	if (!mapping.withValue) used.add(columns.indexOf(mapping.valueColumn));

	let dimensions: [string, number][];
	if (mapping.dimensions === null) {
		dimensions = columns.flatMap((name, index) => (used.has(index) ? [] : [[name, index] as [string, number]]));
	} else {
		dimensions = mapping.dimensions.map(([key, column]) => [key, indexOf(column, "--dimension")]);
		for (const [, index] of dimensions) used.add(index);
		const unmapped = columns.filter((_, index) => !used.has(index));
		if (unmapped.length > 0 && !mapping.ignoreExtraColumns) {
			throw new InputError(
				`column${unmapped.length > 1 ? "s" : ""} ${unmapped.map((c) => `'${c}'`).join(", ")} ${unmapped.length > 1 ? "are" : "is"} not mapped: ` +
					`pass --dimension "custom:Name=column" for each dimension, leave out --dimension to use every other column, or pass --ignore-extra-columns`,
				headerLine,
			);
		}
	}

	const records: Record<string, unknown>[] = [];
	const lines: number[] = [];
	for (const row of body) {
		if (row.fields.length !== columns.length) {
			throw new InputError(`expected ${columns.length} fields as in the header, found ${row.fields.length}`, row.line);
		}
		const record: Record<string, unknown> = { timestamp: row.fields[timestampIndex] };
		if (mapping.withValue) record.value = row.fields[valueIndex];
		if (dimensions.length > 0) record.associated_cost = Object.fromEntries(dimensions.map(([key, index]) => [key, row.fields[index]]));
		records.push(record);
		lines.push(row.line);
	}
	return { records, lines };
}
