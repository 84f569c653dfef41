// Numbers as both APIs store them: finite doubles rounded to 15 significant digits.
import { plainDecimal } from "./decimal";

/** CloudZero keeps 15 significant digits (a double holds 15 exactly: DBL_DIG). */
export const SIGNIFICANT_DIGITS = 15;

/** A value rounded to 15 significant digits, as it is stored and shown. */
export function roundToSignificant(n: number): number {
	return Number(n.toPrecision(SIGNIFICANT_DIGITS)) + 0; // + 0 turns -0 into 0
}

/**
 * The largest magnitude stored: the largest 15-digit number below the largest double (anything
 * larger rounds to Infinity when shown). Migration 0006's triggers enforce the same bound.
 */
export const MAX_STORED_VALUE = 1.79769313486231e308;

/** Whether a number (also a sum, before rounding) can be stored. */
export function isStorable(n: number): boolean {
	return Math.abs(n) <= MAX_STORED_VALUE; // false for NaN and ±Infinity
}

/** Whether a number written as `source` (1e-400) was parsed as 0 although its digits are not all zero. */
export function underflowsToZero(n: number, source: string): boolean {
	return n === 0 && /[1-9]/.test(source.replace(/[eE].*$/, ""));
}

export type NumberProblem = { code: "value_overflow" | "value_underflow"; error: string };

/**
 * A parsed number as it will be stored (rounded), or why it cannot be: beyond the largest
 * finite double, or rounding up to it (1.7976931348623157e308 has no finite 15-digit form),
 * or a non-zero number written in `source` that parsing turned into 0 (1e-400).
 */
export function storableNumber(n: number, field: string, source?: string): number | NumberProblem {
	if (source !== undefined && underflowsToZero(n, source)) {
		return { code: "value_underflow", error: `${field} ${source.slice(0, 40)} is too small to represent (it would be stored as 0)` };
	}
	// Checked before rounding too, so the bound is exactly MAX_STORED_VALUE, as documented.
	if (!isStorable(n)) return { code: "value_overflow", error: `${field} is beyond the largest value stored, ${MAX_STORED_VALUE}` };
	return roundToSignificant(n);
}

/** The sum of two stored values, rounded, or null when it could not be stored. */
export function finiteSum(a: number, b: number): number | null {
	const sum = a + b;
	return isStorable(sum) ? roundToSignificant(sum) : null;
}

/**
 * A stored value as the API shows it: a plain decimal string of at most 15 significant digits
 * (0.1 × 10 reads "1", 8e-7 reads "0.0000008"), never in exponent notation, so it can be sent back.
 */
export function formatValue(value: number): string {
	return plainDecimal(String(roundToSignificant(value)));
}
