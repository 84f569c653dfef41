import { createHash } from "node:crypto";

/** The service's limits per request (wrangler.toml: MAX_RECORDS_PER_REQUEST, MAX_BODY_BYTES). */
export const SERVICE_MAX_RECORDS = 10_000;
export const SERVICE_MAX_BODY_BYTES = 5_000_000;

export interface Batch {
	/** 0-based position among the batches. */
	index: number;
	/** Index of the batch's first record in the file's records. */
	first: number;
	count: number;
	/** The exact JSON body sent, and so the input of the idempotency key. */
	body: string;
	bytes: number;
	idempotencyKey: string;
}

export interface BatchOptions {
	maxRecords: number;
	maxBytes: number;
	/** What the requests write to (a stream, a connection), their operation and the run id: with the body, the idempotency key's input. */
	stream: string;
	op: string;
	runId: string;
	/** The JSON around the records of the batch with this index; by default {"records":[…]}. */
	envelope?: (index: number) => readonly [prefix: string, suffix: string];
	/** Whether a request may end between these two consecutive records; by default anywhere. */
	canSplit?: (before: unknown, after: unknown) => boolean;
}

const RECORDS_ENVELOPE = ['{"records":[', "]}"] as const;

/**
 * Splits records into request bodies of at most maxRecords records and fewer than maxBytes bytes,
 * keeping file order (a replace of the same day twice must apply in file order). Where canSplit
 * forbids a cut, a request ends at the last allowed cut before it; a run of records that may not
 * be cut and fits no request is a RangeError.
 */
export function* batches(records: unknown[], opts: BatchOptions): Generator<Batch> {
	const envelope = opts.envelope ?? (() => RECORDS_ENVELOPE);
	const emptyBytes = (i: number) => envelope(i).reduce((n, part) => n + Buffer.byteLength(part), 0);
	let parts: string[] = [];
	let sizes: number[] = [];
	let index = 0;
	let bytes = emptyBytes(0);
	let first = 0;
	/** parts.length at the last place the current request may end (0: none yet). */
	let lastCut = 0;
	const finish = (count: number): Batch => {
		const [prefix, suffix] = envelope(index);
		const body = prefix + parts.slice(0, count).join(",") + suffix;
		const batch = {
			index,
			first,
			count,
			body,
			bytes: Buffer.byteLength(body),
			idempotencyKey: idempotencyKey(opts.stream, opts.op, opts.runId, body),
		};
		index++;
		first += count;
		parts = parts.slice(count);
		sizes = sizes.slice(count);
		bytes = emptyBytes(index) + sizes.reduce((n, size) => n + size, 0) + Math.max(0, sizes.length - 1);
		lastCut = 0;
		return batch;
	};
	for (let i = 0; i < records.length; i++) {
		const json = JSON.stringify(records[i]);
		const recordBytes = Buffer.byteLength(json);
		if (emptyBytes(index) + recordBytes >= opts.maxBytes) {
			throw new RangeError(`record ${i} alone is ${recordBytes} bytes, more than a request may carry (${opts.maxBytes} bytes)`);
		}
		if (parts.length > 0 && (!opts.canSplit || opts.canSplit(records[i - 1], records[i]))) lastCut = parts.length;
		if (parts.length > 0 && (parts.length >= opts.maxRecords || bytes + 1 + recordBytes >= opts.maxBytes)) {
			if (lastCut === 0) {
				throw new RangeError(
					`records ${first}-${i} must go in one request but do not fit in one (${opts.maxRecords} records, ${opts.maxBytes} bytes)`,
				);
			}
			yield finish(lastCut);
			if (parts.length > 0 && (parts.length >= opts.maxRecords || bytes + 1 + recordBytes >= opts.maxBytes)) {
				throw new RangeError(
					`records ${first}-${i} must go in one request but do not fit in one (${opts.maxRecords} records, ${opts.maxBytes} bytes)`,
				);
			}
		}
		bytes += (parts.length > 0 ? 1 : 0) + recordBytes; // 1: the comma
		parts.push(json);
		sizes.push(recordBytes);
	}
	if (parts.length > 0) yield finish(parts.length);
}

/**
 * Derived from what is sent, so re-sending the same batch (a retry, or a re-run of the same file
 * with the same batch size) carries the same key and the service applies it only once.
 * A run id makes an intentional repeat of the same data a new request.
 */
export function idempotencyKey(stream: string, op: string, runId: string, body: string): string {
	return createHash("sha256").update(`meterline-cli/1\n${stream}\n${op}\n${runId}\n`).update(body).digest("hex");
}
