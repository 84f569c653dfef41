// Sending planned write requests one after another, as `meterline send` and `meterline costs import`
// both do: each with its Idempotency-Key, retried by requestWithRetry, with a progress bar, and on
// the first request not accepted, a message saying which requests were applied.
import type { ErrorDetail } from "../src/lib/api-error";
import { describeError, GaveUpError, type RetryPolicy, requestWithRetry, Service, USER_AGENT } from "./http";
import type { Io } from "./options";
import { formatRate, Progress } from "./progress";

export interface PlannedRequest {
	path: string;
	/** The exact JSON body; fixed before the first attempt, so a retry resends the same bytes. */
	body: string;
	idempotencyKey: string;
	/** Records in the body, for the progress bar. */
	count: number;
	/** Names the request in messages: "request 2/3 (lines 4002-8001)". */
	where: string;
}

export interface SendOutcome {
	ok: boolean;
	retries: number;
	/** Requests answered with Idempotent-Replayed: true (applied by an earlier run). */
	replayed: number;
	elapsedMs: number;
}

/**
 * Sends the requests in order and stops at the first one not accepted (HTTP status other than
 * 200, or retries exhausted), printing why and what was applied. `rejected` turns the service's
 * error details of a refused request into lines naming the file's lines.
 */
export async function sendRequests(
	io: Io,
	url: string,
	token: string,
	policy: RetryPolicy,
	requests: PlannedRequest[],
	rejected: (request: number, details: ErrorDetail[], total: number) => string[],
): Promise<SendOutcome> {
	const service = new Service(url);
	const total = requests.reduce((n, r) => n + r.count, 0);
	const progress = new Progress(io.progress, total, requests.length);
	progress.start();
	const outcome: SendOutcome = { ok: false, retries: 0, replayed: 0, elapsedMs: 0 };
	for (const [index, request] of requests.entries()) {
		let result: Awaited<ReturnType<typeof requestWithRetry>>;
		try {
			result = await requestWithRetry(
				service,
				request.path,
				{
					method: "POST",
					headers: {
						Authorization: token,
						"Content-Type": "application/json",
						"Idempotency-Key": request.idempotencyKey,
						"User-Agent": USER_AGENT,
					},
					body: request.body,
				},
				policy,
				(notice) => {
					outcome.retries++;
					progress.note(`${request.where}: ${notice.reason}; retry ${notice.attempt} in ${(notice.delayMs / 1000).toFixed(1)} s`);
				},
			);
		} catch (err) {
			if (!(err instanceof GaveUpError)) throw err;
			failed(io, progress, `${request.where}: ${err.message}`, index);
			return outcome;
		}
		if (result.status !== 200) {
			const { details, total } = rejectionDetails(result.json);
			const listed = details.length > 0 ? `\n${rejected(index, details, total).join("\n")}` : "";
			failed(io, progress, `${request.where}: HTTP ${result.status}${describeError(result.json)}${listed}`, index);
			return outcome;
		}
		if (result.headers.get("idempotent-replayed") === "true") outcome.replayed++;
		progress.advance(request.count, index);
	}
	progress.finish();
	outcome.ok = true;
	outcome.elapsedMs = progress.elapsedMs();
	return outcome;
}

/**
 * The problems a refused request's error body lists, and how many there are in all: the service
 * lists at most 100 and counts every one in `details_total`.
 */
export function rejectionDetails(json: unknown): { details: ErrorDetail[]; total: number } {
	const error = (json as { error?: { details?: unknown; details_total?: unknown } } | undefined)?.error;
	const details = Array.isArray(error?.details) ? (error.details as ErrorDetail[]) : [];
	const reported = error?.details_total;
	const total = typeof reported === "number" && Number.isInteger(reported) && reported > details.length ? reported : details.length;
	return { details, total };
}

/** " in 1.2 s (1,234 records/s); 2 retries; 1 request was already applied earlier (…)" */
export function describeOutcome(outcome: SendOutcome, records: number): string {
	const notes = [
		outcome.retries > 0 ? `${outcome.retries} retr${outcome.retries === 1 ? "y" : "ies"}` : "",
		outcome.replayed > 0
			? `${outcome.replayed} request${outcome.replayed === 1 ? " was" : "s were"} already applied earlier (same Idempotency-Key) and not applied again`
			: "",
	].filter(Boolean);
	return ` in ${(outcome.elapsedMs / 1000).toFixed(1)} s (${formatRate(records, outcome.elapsedMs)})${notes.length ? `; ${notes.join("; ")}` : ""}`;
}

function failed(io: Io, progress: Progress, message: string, requestIndex: number): void {
	progress.finish();
	io.err(`${message}\n`);
	io.err(
		requestIndex === 0
			? "Nothing was applied.\n"
			: `Requests 1-${requestIndex} were applied; the rest were not. Re-running the same command re-sends them all, and the applied ones are not applied twice (same Idempotency-Keys, within 24 hours).\n`,
	);
}
