// Billing months (YYYY-MM, UTC): reading one, its hours and days, and the month of a billing drop
// (the one it names or its rows', not too far ahead, holding every row).
import type { ErrorDetail } from "../lib/api-error";
import { parseTimestamp } from "../lib/timestamps";

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
/** MONTH for the OpenAPI document (no capture groups there). */
export const MONTH_PATTERN = String.raw`^\d{4}-(?:0[1-9]|1[0-2])$`;

/** A drop's month as YYYY-MM: given as YYYY-MM, or as an ISO date-time in that month (UTC). */
export function parseMonth(input: string): string | { error: string } {
	if (MONTH.test(input)) return input;
	const parsed = parseTimestamp(input);
	return "error" in parsed
		? { error: `month must be YYYY-MM or an ISO 8601 date-time: ${parsed.error}` }
		: new Date(parsed.epochMs).toISOString().slice(0, 7);
}

/** The first hour of a month and of the month after it. */
export function monthBounds(month: string): [string, string] {
	const [y, m] = month.split("-").map(Number);
	// After December 9999 (the last month a timestamp can name) no 4-digit month follows: day 32 sorts after its hours.
	if (y === 9999 && m === 12) return [`${month}-01T00:00:00Z`, `${month}-32T00:00:00Z`];
	const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
	return [`${month}-01T00:00:00Z`, `${next}-01T00:00:00Z`];
}

export function daysInMonth(month: string): number {
	const [y, m] = month.split("-").map(Number);
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/**
 * How many months after the current UTC month a drop's month may be. A bill is for a month that
 * has begun, and cost dated ahead (a commitment's fees spread over the year to come) is the most a
 * drop carries; a year covers that. Beyond it, a month is a mistake (a year mistyped as 2205, a
 * timestamp in milliseconds read as seconds), which would otherwise be stored and carried by every
 * read and by the retention job until replaced.
 */
export const MAX_MONTHS_AHEAD = 12;

/** The latest month a drop may be for (YYYY-MM): MAX_MONTHS_AHEAD months after the UTC month of `now`. */
function latestDropMonth(now: number): string {
	const date = new Date(now);
	return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + MAX_MONTHS_AHEAD, 1)).toISOString().slice(0, 7);
}

/** A drop row as the month rules see it: its UTC hour (YYYY-MM-DDTHH:00:00Z). */
interface HourRow {
	hour: string;
}

/**
 * A billing drop's month: the one it names, or else its rows' (then they must all be in one); at
 * most MAX_MONTHS_AHEAD months after the UTC month of `now`; and every row in it. Otherwise the
 * problems of the first of these checks that fails, naming the drop's `month` or its rows.
 */
export function dropMonth(
	named: string | undefined,
	rows: readonly HourRow[],
	now: number,
): { month: string } | { problems: ErrorDetail[] } {
	const given = named === undefined ? onlyMonth(rows) : { month: named };
	if ("problems" in given) return given;
	const { month } = given;
	const latest = latestDropMonth(now);
	if (month > latest) {
		return {
			problems: [
				{
					code: "future_month",
					message: `the drop's month ${month} is more than ${MAX_MONTHS_AHEAD} months after the current UTC month; the latest accepted is ${latest}`,
					...(named === undefined ? { record: 0, path: "data[0].time/usage_start" } : { path: "month" }),
				},
			],
		};
	}
	const outside: ErrorDetail[] = [];
	rows.forEach((row, record) => {
		if (row.hour.slice(0, 7) !== month) {
			outside.push({
				code: "row_outside_month",
				message: `time/usage_start is in ${row.hour.slice(0, 13)}h UTC, outside the drop's month ${month}`,
				record,
				path: `data[${record}].time/usage_start`,
			});
		}
	});
	return outside.length > 0 ? { problems: outside } : { month };
}

/** The month of a drop that names none: its rows' month, which must be one (a problem for each row outside the first's). */
function onlyMonth(rows: readonly HourRow[]): { month: string } | { problems: ErrorDetail[] } {
	const months = [...new Set(rows.map((r) => r.hour.slice(0, 7)))];
	if (months.length === 1) return { month: months[0] };
	const first = rows[0].hour.slice(0, 7);
	return {
		problems: rows.flatMap((row, record) =>
			row.hour.slice(0, 7) === first
				? []
				: [
						{
							code: "row_outside_month" as const,
							message: `without month, every row must be in the month of the first (${first}); this one is in ${row.hour.slice(0, 7)}`,
							record,
							path: `data[${record}].time/usage_start`,
						},
					],
		),
	};
}
