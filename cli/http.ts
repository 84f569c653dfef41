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
	/**
	 * Until the service has answered once, how long network errors are retried, from the first
	 * attempt (the last attempt's own time comes on top): a stopped server or a wrong URL fails in
	 * seconds, not after the whole backoff.
	 */
	firstContactMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxRetries: 8,
	baseDelayMs: 500,
	maxDelayMs: 60_000,
	timeoutMs: 60_000,
	retryNetworkErrors: true,
	firstContactMs: 8_000,
};

/**
 * The service one CLI run talks to: its base URL, and whether anything has come back from it yet.
 * Before the first answer, a network error most likely means nothing runs at that URL (stopped
 * server, typo, wrong port, DNS, TLS, a proxy with nothing behind it) and is not worth minutes of backoff; after it, a network error
 * is a transient failure of a service that runs, and is retried like a 503.
 */
export class Service {
	/** An HTTP response of any status has arrived from this URL. */
	answered = false;

	constructor(readonly url: string) {}
}

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
 * Nothing has come back from the service's URL: most likely no request reached a running service.
 * The message names the URL and says what to check.
 */
export class UnreachableError extends GaveUpError {}

/**
 * Sends a request to `service.url + path`, retrying rate limits, overload answers and network errors
 * with exponential backoff. A Retry-After header sets the wait instead. Retrying a write is safe
 * only because every write carries an Idempotency-Key: the service applies a key's body once.
 * Until the service has answered once, network errors are retried for policy.firstContactMs only
 * (even without retryNetworkErrors when the request certainly never left: refused, DNS, TLS), then
 * reported as an UnreachableError naming the URL.
 */
export async function requestWithRetry(
	service: Service,
	path: string,
	init: RequestInit,
	policy: RetryPolicy,
	onRetry: (notice: RetryNotice) => void = () => {},
	sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
	now: () => number = Date.now,
): Promise<HttpResult> {
	const started = now();
	for (let attempt = 1; ; attempt++) {
		let reason: string;
		let retryAfterMs: number | undefined;
		let unreached: NetworkFailure | undefined;
		// A timer that keeps the process alive: AbortSignal.timeout's does not, and Node 20's fetch can
		// leave a connection closed before any response pending forever, so the CLI would exit (code 13) without a word.
		const abort = new AbortController();
		const timer = setTimeout(() => abort.abort(new DOMException("The operation timed out.", "TimeoutError")), policy.timeoutMs);
		try {
			const res = await fetch(`${service.url}${path}`, { ...init, signal: abort.signal });
			service.answered = true;
			const text = await res.text();
			if (!RETRYABLE_STATUSES.has(res.status))
				return { status: res.status, headers: res.headers, text, json: parseJson(text), attempts: attempt };
			reason = `HTTP ${res.status}${describeError(parseJson(text))}`;
			retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
		} catch (err) {
			const failure = networkFailure(err, policy.timeoutMs);
			reason = `network error: ${failure.text}`;
			const firstContact = !service.answered;
			if (!policy.retryNetworkErrors && !(firstContact && failure.notSent)) {
				const message = `${reason}; not retried: the request may have been applied`;
				throw firstContact ? new UnreachableError(`${message}.\n${checkService(service.url)}`, attempt) : new GaveUpError(message, attempt);
			}
			if (firstContact) unreached = failure;
		} finally {
			clearTimeout(timer);
		}
		const delayMs = Math.min(policy.maxDelayMs, retryAfterMs ?? backoffDelay(attempt, policy.baseDelayMs));
		if (unreached) {
			// Nothing has come back from this URL yet: retried only while the time since the first
			// attempt stays within firstContactMs.
			if (attempt > policy.maxRetries || now() - started + delayMs > policy.firstContactMs) {
				const tried = attempt === 1 ? "" : `, ${attempt} attempts in ${((now() - started) / 1000).toFixed(1)} s`;
				throw new UnreachableError(`cannot reach ${service.url}: ${unreached.text}${tried}.\n${checkService(service.url)}`, attempt);
			}
		} else if (attempt > policy.maxRetries) throw new GaveUpError(`gave up after ${attempt} attempts: ${reason}`, attempt);
		onRetry({ attempt, reason, delayMs });
		await sleep(delayMs);
	}
}

function checkService(url: string): string {
	return `Check that the Meterline service runs at ${url} (\`npm start\` runs one at http://localhost:8787), or give its URL with --url or METERLINE_URL.`;
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

interface NetworkFailure {
	/** What happened, for the user: "connection refused (ECONNREFUSED)". */
	text: string;
	/** Failed before any byte of the request was sent (no connection, no DNS answer, TLS refused): repeating it is safe. */
	notSent: boolean;
}

/** Connection-level failures, by error code: what the user reads, and whether the request was sent. */
const CONNECT_ERRORS: Record<string, string> = {
	ECONNREFUSED: "connection refused",
	ENOTFOUND: "host name not found",
	EAI_AGAIN: "host name lookup failed",
	EAI_NONAME: "host name not found",
	EHOSTUNREACH: "host unreachable",
	ENETUNREACH: "network unreachable",
	EADDRNOTAVAIL: "address not available",
	UND_ERR_CONNECT_TIMEOUT: "connection timed out",
};

function networkFailure(err: unknown, timeoutMs: number): NetworkFailure {
	const error = err as Error & { cause?: { code?: string; message?: string } };
	if (error?.name === "TimeoutError") return { text: `no answer within ${timeoutMs / 1000} s`, notSent: false };
	const code = error?.cause?.code;
	const detail = error?.cause?.message ?? error?.message ?? String(err);
	if (code && CONNECT_ERRORS[code]) return { text: `${CONNECT_ERRORS[code]} (${code})`, notSent: true };
	// Certificate and handshake errors: the request never went out.
	if (code && /^(ERR_TLS_|ERR_SSL_|CERT_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/.test(code)) {
		return { text: `TLS failure: ${detail} (${code})`, notSent: true };
	}
	if (code === "ECONNRESET" || code === "UND_ERR_SOCKET")
		return { text: `connection closed without an answer: ${detail} (${code})`, notSent: false };
	return {
		text: `${error?.message ?? String(err)}${code || error?.cause?.message ? ` (${code ?? error?.cause?.message})` : ""}`,
		notSent: false,
	};
}
