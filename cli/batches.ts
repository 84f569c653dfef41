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

const PREFIX = '{"records":[';
const SUFFIX = "]}";
const EMPTY_BODY_BYTES = PREFIX.length + SUFFIX.length;

/**
 * Splits records into request bodies of at most maxRecords records and fewer than maxBytes bytes,
 * keeping file order (a replace of the same day twice must apply in file order).
 */
export function* batches(records: unknown[], opts: { maxRecords: number; maxBytes: number; stream: string; op: string; runId: string }): Generator<Batch> {
	let parts: string[] = [];
	let bytes = EMPTY_BODY_BYTES;
	let first = 0;
	let index = 0;
	const finish = (): Batch => {
		const body = PREFIX + parts.join(",") + SUFFIX;
		return { index: index++, first, count: parts.length, body, bytes, idempotencyKey: idempotencyKey(opts.stream, opts.op, opts.runId, body) };
	};
	for (let i = 0; i < records.length; i++) {
		const json = JSON.stringify(records[i]);
		const recordBytes = Buffer.byteLength(json);
		if (EMPTY_BODY_BYTES + recordBytes >= opts.maxBytes) {
			throw new RangeError(`record ${i} alone is ${recordBytes} bytes, more than a request may carry (${opts.maxBytes} bytes)`);
		}
		if (parts.length > 0 && (parts.length >= opts.maxRecords || bytes + 1 + recordBytes >= opts.maxBytes)) {
			yield finish();
			parts = [];
			bytes = EMPTY_BODY_BYTES;
			first = i;
		}
		bytes += (parts.length > 0 ? 1 : 0) + recordBytes; // 1: the comma
		parts.push(json);
	}
	if (parts.length > 0) yield finish();
}

/**
 * Derived from what is sent, so re-sending the same batch (a retry, or a re-run of the same file
 * with the same batch size) carries the same key and the service applies it only once.
 * A run id makes an intentional repeat of the same data a new request.
 */
export function idempotencyKey(stream: string, op: string, runId: string, body: string): string {
	return createHash("sha256").update(`meterline-cli/1\n${stream}\n${op}\n${runId}\n`).update(body).digest("hex");
}
