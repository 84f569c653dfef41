// The service's documented rules that JSON Schema cannot state (or that the document states only
// in words), computed independently of src/, so that KNOWN_GAPS entries of
// test/service-openapi.property.test.ts apply to exactly the requests that show a gap.

/** The largest stored magnitude: the largest 15-significant-digit number below the largest double. */
export const MAX_STORED = 1.79769313486231e308;

/** Whether a number written as `text` overflows once rounded to 15 significant digits. */
export function overflows(text: string): boolean {
	const n = Number(text.trim());
	if (Number.isNaN(n)) return false;
	return !(Math.abs(Number.isFinite(n) ? Number(n.toPrecision(15)) : n) <= MAX_STORED);
}

/** Whether a number written as `text` is non-zero but too small for a double (1e-400 reads as 0). */
export function underflows(text: string): boolean {
	const t = text.trim();
	return !Number.isNaN(Number(t)) && Number(t) === 0 && /[1-9]/.test(t.replace(/[eE].*$/, ""));
}

/** Whether a YYYY-MM-DD day (or the date part of a date-time) names a day of the Gregorian calendar. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
	const d = new Date(Date.UTC(2000, month - 1, day));
	d.setUTCFullYear(year);
	return month >= 1 && month <= 12 && d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export function isCalendarDay(text: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
	return m !== null && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Why the service refuses a timestamp of the shape the document's pattern gives. */
export type TimestampProblem = "calendar" | "time of day" | "offset beyond ±14:00" | "before 1900" | "future" | "shape";

/**
 * A CloudZero timestamp (TelemetryRecord.timestamp) as its description reads: ISO 8601 date or
 * date-time, optional offset within ±14:00, from 1900-01-01T00:00:00Z to 24 hours ahead.
 */
export function cloudZeroTimestamp(input: string, now = Date.now()): { epochMs: number } | { problem: TimestampProblem } {
	const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:\s*([Zz]|[+-]\d{2}(?::?\d{2})?))?)?$/.exec(
		input.trim(),
	);
	if (!m) return { problem: "shape" };
	const [y, mo, d, hh, mi, ss] = m.slice(1, 7).map((x) => Number(x ?? 0));
	if (!isCalendarDate(y, mo, d)) return { problem: "calendar" };
	if (hh > 23 || mi > 59 || ss > 59) return { problem: "time of day" };
	let offsetMinutes = 0;
	const offset = m[7];
	if (offset && offset.toUpperCase() !== "Z") {
		const digits = offset.slice(1).replace(":", "");
		const oh = Number(digits.slice(0, 2));
		const om = Number(digits.slice(2) || "0");
		if (om > 59 || oh * 60 + om > 14 * 60) return { problem: "offset beyond ±14:00" };
		offsetMinutes = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om);
	}
	const day = new Date(Date.UTC(2000, mo - 1, d));
	day.setUTCFullYear(y);
	const epochMs = day.getTime() + ((hh * 60 + mi) * 60 + ss) * 1000 - offsetMinutes * 60_000;
	if (epochMs < Date.UTC(1900, 0, 1)) return { problem: "before 1900" };
	// A minute of slack either way: the service reads its clock a moment later than the test.
	if (epochMs > now + 24 * 3_600_000 - 60_000) return { problem: "future" };
	return { epochMs };
}

/** Whether a string has a lone UTF-16 surrogate (JSON can carry one; UTF-8 storage cannot). */
export function hasLoneSurrogate(text: string): boolean {
	return !text.isWellFormed();
}

/** The Idempotency-Key the service takes: 1 to 255 printable ASCII characters without spaces. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The instant of a Cloudthread timestamp (CloudthreadDataPoint.timestamp) as its description
 * reads: epoch seconds (a number), 'YYYY-MM-DD HH:MM:SS' or ISO 8601 with 'T' (optional offset),
 * or 'yyyyMMddHHmmss'; undefined when it is none of them.
 */
export function cloudthreadEpochMs(input: unknown): number | undefined {
	if (typeof input === "number") return Number.isFinite(input) ? input * 1000 : undefined;
	if (typeof input !== "string") return undefined;
	const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(input.trim());
	const text = compact ? `${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}Z` : input;
	if (!compact && !/^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/.test(text)) return undefined;
	const parsed = cloudZeroTimestamp(text, Infinity);
	return "epochMs" in parsed ? parsed.epochMs : undefined;
}
