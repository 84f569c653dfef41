// Exact decimal arithmetic for money: a value is an integer of units of 10^-scale (BigInt), so
// sums and splits never pick up binary floating-point error, and split parts add up to the whole.

export interface Decimal {
	units: bigint;
	scale: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/** A decimal number as written ("12.50", "-0.0000008", "1E-7", ".5"), or null when it is not one. */
export function parseDecimal(text: string): Decimal | null {
	const match = DECIMAL.exec(text.trim());
	if (!match) return null;
	const [, sign, whole, fraction = "", exponent] = match;
	if (whole === "" && fraction === "") return null;
	let digits = `${whole}${fraction}`;
	let scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
	if (scale < 0) {
		digits += "0".repeat(-scale);
		scale = 0;
	}
	const units = BigInt(digits === "" ? "0" : digits);
	return { units: sign === "-" ? -units : units, scale };
}

/** The same value with at least `scale` decimal places. */
export function rescale(value: Decimal, scale: number): Decimal {
	return scale <= value.scale ? value : { units: value.units * 10n ** BigInt(scale - value.scale), scale };
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
	const scale = Math.max(a.scale, b.scale);
	return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}

export const ZERO: Decimal = { units: 0n, scale: 0 };

/** Plain decimal notation, trailing zeros after the point removed: "12.5", "-0.0000008", "0". */
export function formatDecimal(value: Decimal): string {
	const negative = value.units < 0n;
	let digits = (negative ? -value.units : value.units).toString();
	if (value.scale > 0) {
		digits = digits.padStart(value.scale + 1, "0");
		const point = digits.length - value.scale;
		const fraction = digits.slice(point).replace(/0+$/, "");
		digits = fraction ? `${digits.slice(0, point)}.${fraction}` : digits.slice(0, point);
	}
	return negative && digits !== "0" ? `-${digits}` : digits;
}

/**
 * Significant digits a split part may carry: a double (as the service stores costs) holds 15
 * exactly, so parts of at most 15 digits are stored as written and still add up to the whole.
 */
const SPLIT_DIGITS = 15;
/** Decimal places a split adds at most: beyond 10 (a 10^-10 of a currency unit) nothing is gained. */
const MAX_SPLIT_SCALE = 10;

/**
 * Splits a value into parts proportional to the weights (positive integers), exactly: the parts
 * add up to the value. Each part is the difference of two cumulative shares rounded toward zero,
 * so the rounding remainder is spread over the parts (no part differs from its exact share by a
 * unit of the last digit or more) and every part has the value's sign. The parts get more decimal
 * places than the value (up to 10, as far as 15 significant digits allow), so 0.01 over 3 days is
 * 0.0033333333, 0.0033333333, 0.0033333334, not 0, 0 and 0.01.
 */
export function splitDecimal(value: Decimal, weights: number[]): Decimal[] {
	if (weights.length === 1) return [value];
	const integerDigits = (value.units < 0n ? -value.units : value.units).toString().length - value.scale;
	const scale = Math.max(value.scale, Math.min(MAX_SPLIT_SCALE, SPLIT_DIGITS - Math.max(1, integerDigits)));
	const total = rescale(value, scale).units;
	const weightTotal = BigInt(weights.reduce((a, b) => a + b, 0));
	const parts: Decimal[] = [];
	let cumulative = 0n;
	let before = 0n;
	for (const weight of weights) {
		cumulative += BigInt(weight);
		const upTo = (total * cumulative) / weightTotal; // BigInt division rounds toward zero
		parts.push({ units: upTo - before, scale });
		before = upTo;
	}
	return parts;
}
