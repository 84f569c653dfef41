// Migration 0006: every stored daily value (both APIs) stays within MAX_STORED_VALUE
// (src/lib/numbers.ts); its triggers refuse a commit that would store more.

/** True for the error of a batch that would have stored a value beyond MAX_STORED_VALUE. */
export function isValueOverflowError(err: unknown): boolean {
	return String(err).includes("meterline_value_overflow");
}
