// `meterline send`: validate a whole file locally, then send it in batches that are safe to retry.
import type { ParseArgsConfig } from "node:util";
import { WRITE_OPERATIONS, type WriteOperation } from "../src/schemas/cloudzero";
import { StreamNameSchema } from "../src/schemas/common";
import { type Batch, batches } from "./batches";
import { type Io, type OptionValues, readInputFile, SENDING_OPTIONS, secret, sendingSettings, UsageError } from "./options";
import { type CsvMapping, formatOf, readRecords } from "./records";
import { describeOutcome, sendRequests } from "./sender";
import { describeDetails, replaceTotals, validateRecords } from "./validate";

export const SEND_OPTIONS = {
	stream: { type: "string" },
	op: { type: "string" },
	format: { type: "string" },
	"timestamp-column": { type: "string" },
	"value-column": { type: "string" },
	dimension: { type: "string", multiple: true },
	"ignore-extra-columns": { type: "boolean" },
	...SENDING_OPTIONS,
} satisfies ParseArgsConfig["options"];

type SendValues = OptionValues<typeof SEND_OPTIONS>;

export async function send(positionals: string[], values: SendValues, url: string, io: Io): Promise<number> {
	if (positionals.length !== 1) throw new UsageError("send takes exactly one file");
	const [file] = positionals;
	const stream = values.stream;
	if (stream === undefined) throw new UsageError("--stream is required");
	if (!StreamNameSchema.safeParse(stream).success)
		throw new UsageError(`--stream '${stream}': stream names are 1 to 256 characters of A-Z, a-z, 0-9, '_', '.' and '-'`);
	const op = (values.op ?? "sum") as WriteOperation;
	if (!WRITE_OPERATIONS.includes(op)) throw new UsageError(`--op must be one of ${WRITE_OPERATIONS.join(", ")}`);
	const { maxRecords, maxBytes, maxErrors, policy } = sendingSettings(values);
	const token = values["dry-run"] ? "" : secret(values.token, "METERLINE_TOKEN", "--token", io);

	// 1. Read and check the whole file before sending any of it: a file is all or nothing as far as validation goes.
	const parsed = await readInputFile(file, io, (text) => readRecords(text, formatOf(file, values.format), csvMapping(values, op)));
	if (parsed === undefined) return 1;
	const { records: fileRecords, lines: fileLines } = parsed;
	if (fileRecords.length === 0) {
		io.err(`${file}: no records\n`);
		return 1;
	}
	const problems = validateRecords(op, fileRecords);
	if (problems.length > 0) {
		io.err(`${describeDetails(problems, file, fileLines, maxErrors).join("\n")}\n`);
		io.err(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"} found; nothing was sent.\n`);
		return 1;
	}
	// A replace is sent as the file's day totals, so that no day is split across requests.
	const totals = op === "replace" ? replaceTotals(fileRecords) : null;
	const records = totals ? totals.map((t) => t.record) : fileRecords;
	const lines = totals ? totals.map((t) => fileLines[t.first]) : fileLines;

	// 2. Plan the requests. Their bodies and idempotency keys are fixed now, so a retry resends the same bytes.
	let planned: Batch[];
	try {
		planned = [...batches(records, { maxRecords, maxBytes, stream, op, runId: values["run-id"] ?? "" })];
	} catch (err) {
		if (!(err instanceof RangeError)) throw err;
		io.err(`${file}: ${err.message}\n`);
		return 1;
	}
	const counted = totals
		? `${fileRecords.length.toLocaleString("en-US")} records as ${records.length.toLocaleString("en-US")} day totals`
		: `${records.length.toLocaleString("en-US")} records`;
	const summary = `${counted} to stream '${stream}' (${op}) in ${planned.length} request${planned.length === 1 ? "" : "s"}`;
	if (values["dry-run"]) {
		io.out(`${file}: valid. Would send ${summary}.\n`);
		return 0;
	}
	io.err(`Sending ${summary} to ${url}\n`);

	// 3. Send in file order: a replace or delete must apply after the records before it.
	const path = `/unit-cost/v1/telemetry/metric/${encodeURIComponent(stream)}/${op}`;
	const requests = planned.map((batch) => ({
		path,
		body: batch.body,
		idempotencyKey: batch.idempotencyKey,
		count: batch.count,
		where: `request ${batch.index + 1}/${planned.length} (lines ${lines[batch.first]}-${lines[batch.first + batch.count - 1]})`,
	}));
	const outcome = await sendRequests(io, url, token, policy, requests, (index, details, total) =>
		// The service numbers records within the request; the file's lines are what the user can fix.
		describeDetails(
			details.map((d) => (d.record === undefined ? d : { ...d, record: d.record + planned[index].first })),
			file,
			lines,
			maxErrors,
			total,
		),
	);
	if (!outcome.ok) return 1;
	io.out(`Sent ${summary}${describeOutcome(outcome, records.length)}.\n`);
	return 0;
}

function csvMapping(values: SendValues, op: WriteOperation): CsvMapping {
	const dimensions = values.dimension?.map((spec): [string, string] => {
		const at = spec.lastIndexOf("=");
		if (at <= 0 || at === spec.length - 1)
			throw new UsageError(`--dimension '${spec}' must be <dimension>=<column>, e.g. "custom:Client=client"`);
		return [spec.slice(0, at), spec.slice(at + 1)];
	});
	return {
		timestampColumn: values["timestamp-column"] ?? "timestamp",
		valueColumn: values["value-column"] ?? "value",
		dimensions: dimensions ?? null,
		ignoreExtraColumns: values["ignore-extra-columns"] ?? false,
		withValue: op !== "delete",
	};
}
