// Migration 0006: every stored daily value (both APIs) stays within MAX_STORED_VALUE
// (src/lib/numbers.ts); its triggers refuse a commit that would store more.

/**
 * True for the error of a batch that would have stored a value beyond MAX_STORED_VALUE, or a cost
 * beyond SQLite's 64-bit integers: migration 0010's STRICT cost tables refuse the inexact REAL
 * SQLite would make of it, and a day recomputed from its hours can overflow SUM.
 */
export function isValueOverflowError(err: unknown): boolean {
	const text = String(err);
	return text.includes("meterline_value_overflow") || /cannot store REAL value in INTEGER column cost_|integer overflow/.test(text);
}
