// ISO 8601 timestamps as both APIs and CBF rows take them: a date, an optional time and UTC
// offset, converted to a UTC instant from 1900 on. In lib/ because the telemetry schemas and the
// cost rules (src/cost, below the schemas) both parse them.

/** The earliest instant either API stores: 1900-01-01T00:00:00Z. */
export const EARLIEST_EPOCH_MS = Date.UTC(1900, 0, 1);
/** UTC offsets in use on Earth run from -12:00 to +14:00; anything beyond ±14:00 is a typo. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * The UTC instant of a date-time given as its parts and an optional UTC offset ('Z', '+05:30',
 * '-0800', '+05'), or why it is not one. `shown` is how error messages quote the input. The
 * 1900 floor applies to the instant after conversion to UTC.
 */
export function utcEpochMs(
	shown: string,
	[year, month, day, hour, minute, second]: number[],
	offset: string | undefined,
): { epochMs: number } | { error: string } {
	// (Date.UTC reads years 0-99 as 1900-1999; any year before 1899 is before 1900 in UTC anyway.)
	if (year < 1899) return { error: `${shown} is before 1900-01-01T00:00:00Z` };
	if (hour > 23 || minute > 59 || second > 59) return { error: `${shown} has an invalid time of day` };
	const calendar = Date.UTC(year, month - 1, day);
	const check = new Date(calendar);
	if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
		return { error: `${shown} is not a calendar date` };
	}
	let offsetMinutes = 0;
	if (offset && offset.toUpperCase() !== "Z") {
		const digits = offset.slice(1).replace(":", "");
		const oh = Number(digits.slice(0, 2));
		const om = Number(digits.slice(2) || "0");
		if (om > 59 || oh * 60 + om > MAX_OFFSET_MINUTES) return { error: `${shown} has a UTC offset beyond ±14:00` };
		offsetMinutes = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om);
	}
	const epochMs = calendar + ((hour * 60 + minute) * 60 + second) * 1000 - offsetMinutes * 60_000;
	if (epochMs < EARLIEST_EPOCH_MS) return { error: `${shown} is before 1900-01-01T00:00:00Z` };
	return { epochMs };
}

/** TIMESTAMP below, for the OpenAPI document (no regex flags there): date, optional time and offset. */
export const TIMESTAMP_PATTERN = String.raw`^\s*\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?))?)?\s*$`;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?)?$/i;

type ParsedTimestamp = { day: string; epochMs: number } | { error: string };

// A backfill repeats the same few timestamps thousands of times, and parsing one (regex and
// Date arithmetic) was the largest single cost of validating a request. The result depends on
// the input alone, so it is remembered; the cache is emptied when it fills.
const parsedTimestamps = new Map<string, ParsedTimestamp>();
const MAX_CACHED_TIMESTAMPS = 4096;

/** A CloudZero timestamp reduced to its UTC day, or the reason it cannot be. */
export function parseTimestamp(input: string): ParsedTimestamp {
	let parsed = parsedTimestamps.get(input);
	if (parsed === undefined) {
		if (parsedTimestamps.size >= MAX_CACHED_TIMESTAMPS) parsedTimestamps.clear();
		parsed = parseTimestampUncached(input);
		parsedTimestamps.set(input, parsed);
	}
	return parsed;
}

function parseTimestampUncached(input: string): ParsedTimestamp {
	const m = TIMESTAMP.exec(input.trim());
	if (!m) return { error: `'${input.slice(0, 64)}' is not an ISO 8601 date or date-time` };
	const [, y, mo, d, hh = "0", mi = "0", ss = "0", offset] = m;
	const utc = utcEpochMs(`'${input}'`, [y, mo, d, hh, mi, ss].map(Number), offset);
	if ("error" in utc) return utc;
	const { epochMs } = utc;
	return { day: new Date(epochMs).toISOString().slice(0, 10), epochMs };
}
