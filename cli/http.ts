import { version } from "../package.json";

export const USER_AGENT = `meterline-cli/${version}`;

/** 429: rate limited; 502/503/504: the service or a proxy in front of it is overloaded or restarting. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

export interface RetryPolicy {
	/** Retries after the first attempt. */
	maxRetries: number;
	/** First backoff delay; doubled on each retry, with jitter. */
	baseDelayMs: number;
	/** Longest wait between two attempts, Retry-After included. */
	maxDelayMs: number;
	/** Per-attempt time limit. */
	timeoutMs: number;
	/**
	 * Whether to retry when no answer came back. The request may have been applied, so only
	 * requests that are safe to repeat (an Idempotency-Key, a read, a revocation) set it.
	 */
	retryNetworkErrors: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 8, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 60_000, retryNetworkErrors: true };

export interface HttpResult {
	status: number;
	headers: Headers;
	text: string;
	/** The body as JSON, when it is JSON. */
	json: unknown;
	attempts: number;
}

/** Why an attempt is being retried, for progress output. */
export interface RetryNotice {
	attempt: number;
	reason: string;
	delayMs: number;
}

export class GaveUpError extends Error {
	constructor(
		message: string,
		readonly attempts: number,
	) {
		super(message);
	}
}

/**
 * Sends a request, retrying rate limits, overload answers and network errors with exponential
 * backoff. A Retry-After header sets the wait instead. Retrying a write is safe only because every
 * write carries an Idempotency-Key: the service applies a key's body once.
 */
export async function requestWithRetry(
	url: string,
	init: RequestInit,
	policy: RetryPolicy,
	onRetry: (notice: RetryNotice) => void = () => {},
	sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<HttpResult> {
	for (let attempt = 1; ; attempt++) {
		let reason: string;
		let retryAfterMs: number | undefined;
		try {
			const res = await fetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs) });
			const text = await res.text();
			if (!RETRYABLE_STATUSES.has(res.status)) return { status: res.status, headers: res.headers, text, json: parseJson(text), attempts: attempt };
			reason = `HTTP ${res.status}${describeError(parseJson(text))}`;
			retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
		} catch (err) {
			reason = networkErrorText(err);
			if (!policy.retryNetworkErrors) throw new GaveUpError(`${reason}; not retried: the request may have been applied`, attempt);
		}
		if (attempt > policy.maxRetries) throw new GaveUpError(`gave up after ${attempt} attempts: ${reason}`, attempt);
		const delayMs = Math.min(policy.maxDelayMs, retryAfterMs ?? backoffDelay(attempt, policy.baseDelayMs));
		onRetry({ attempt, reason, delayMs });
		await sleep(delayMs);
	}
}

/** Exponential backoff with jitter: between half and all of base × 2^(attempt-1). */
export function backoffDelay(attempt: number, baseDelayMs: number): number {
	const ceiling = baseDelayMs * 2 ** (attempt - 1);
	return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
	if (value === null || value.trim() === "") return undefined;
	const trimmed = value.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const date = Date.parse(trimmed);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** The service's error shape: {"error": {"code", "message", ...}}. */
export function describeError(body: unknown): string {
	const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
	if (!error || typeof error.message !== "string") return "";
	return typeof error.code === "string" ? ` ${error.code}: ${error.message}` : `: ${error.message}`;
}

function networkErrorText(err: unknown): string {
	const error = err as Error & { cause?: { code?: string; message?: string } };
	if (error?.name === "TimeoutError") return "the request timed out";
	const cause = error?.cause?.code ?? error?.cause?.message;
	return `network error: ${error?.message ?? String(err)}${cause ? ` (${cause})` : ""}`;
}
