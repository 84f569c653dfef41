// Exact decimal arithmetic for money: a value is an integer count of 10^-scale (BigInt), so sums
// and splits never pick up binary floating-point error, and split parts add up to the whole.
// The service stores costs as whole currency units and 10^-10 fractions (see COST_DECIMALS), the
// CLI splits FOCUS charges with the same rule, and every number the API returns is written by
// plainDecimal: never in exponent notation, so it can be sent back as it was read.

export interface Decimal {
	units: bigint;
	scale: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,9}))?$/;

/**
 * A decimal number as written ("12.50", "-0.0000008", "8e-7", ".5"), or null when it is not one.
 * `maxDigits` bounds the work a hostile exponent can cause (1e999999999 would be a billion digits):
 * a value whose plain form would need more digits than that is refused (null).
 */
export function parseDecimal(text: string, maxDigits = 1000): Decimal | null {
	const match = DECIMAL.exec(text.trim());
	if (!match) return null;
	const [, sign, whole, fraction = "", exponent] = match;
	if (whole === "" && fraction === "") return null;
	let digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, "");
	let scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
	if (digits === "0" || /^0*$/.test(digits)) return { units: 0n, scale: 0 };
	if (scale < 0) {
		if (digits.length - scale > maxDigits) return null;
		digits += "0".repeat(-scale);
		scale = 0;
	}
	if (scale > maxDigits) return null;
	const units = BigInt(digits);
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

const abs = (n: bigint) => (n < 0n ? -n : n);

/** n / d (d > 0) rounded to the nearest integer, halves away from zero. */
function divideRounded(n: bigint, d: bigint): bigint {
	const q = n / d;
	const r = abs(n % d);
	if (2n * r >= d) return n < 0n ? q - 1n : q + 1n;
	return q;
}

/** The value rounded to `scale` decimal places (halves away from zero); unchanged when it has no more. */
export function roundToScale(value: Decimal, scale: number): Decimal {
	if (value.scale <= scale) return value;
	return { units: divideRounded(value.units, 10n ** BigInt(value.scale - scale)), scale };
}

/** The value rounded to `digits` significant digits (halves away from zero). */
export function roundToSignificantDigits(value: Decimal, digits: number): Decimal {
	const length = abs(value.units).toString().length;
	if (value.units === 0n || length <= digits) return value;
	const drop = length - digits;
	return { units: divideRounded(value.units, 10n ** BigInt(drop)) * 10n ** BigInt(drop), scale: value.scale };
}

/**
 * a ÷ b to `digits` significant digits (halves away from zero); null when b is 0. Both are exact,
 * so the quotient is rounded once.
 */
export function divideDecimals(a: Decimal, b: Decimal, digits: number): Decimal | null {
	if (b.units === 0n) return null;
	if (a.units === 0n) return ZERO;
	// a/b = (a.units / b.units) * 10^(b.scale - a.scale). Widen the numerator until the integer
	// quotient has more than `digits` digits, then round it to `digits`.
	const extra = Math.max(0, digits + 1 - (abs(a.units).toString().length - abs(b.units).toString().length));
	const numerator = a.units * 10n ** BigInt(extra);
	const denominator = b.units < 0n ? -b.units : b.units;
	const sign = b.units < 0n ? -1n : 1n;
	const quotient = roundToSignificantDigits(
		{ units: divideRounded(numerator * 10n, denominator) * sign, scale: a.scale + extra + 1 - b.scale },
		digits,
	);
	return normalize(quotient);
}

/** The same value without trailing zeros in its integer count where the scale allows (1.50 → 1.5). */
function normalize(value: Decimal): Decimal {
	let { units, scale } = value;
	if (units === 0n) return ZERO;
	while (units % 10n === 0n && scale > 0) {
		units /= 10n;
		scale--;
	}
	if (scale < 0) return { units: units * 10n ** BigInt(-scale), scale: 0 };
	return { units, scale };
}

/** Plain decimal notation, trailing zeros after the point removed: "12.5", "-0.0000008", "0". */
export function formatDecimal(value: Decimal): string {
	if (value.scale < 0) return formatDecimal(normalize(value));
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
 * A decimal string (as String or toPrecision write numbers: "8e-7", "1.5e+21") in plain notation:
 * "0.0000008", "1500000000000000000000". Text that is no number is returned as it is.
 */
export function plainDecimal(text: string): string {
	if (!/[eE]/.test(text)) return text;
	const parsed = parseDecimal(text, 400);
	return parsed === null ? text : formatDecimal(parsed);
}

// ---- money ----------------------------------------------------------------------------------

/** Decimal places a stored cost keeps exactly; a cost with more is rounded to them (halves away from zero). */
export const COST_DECIMALS = 10;
export const COST_FRACTION_UNITS = 10_000_000_000; // 10^COST_DECIMALS
const COST_FRACTION_BIG = 10n ** BigInt(COST_DECIMALS);

/**
 * A cost as it is stored: whole currency units and 10^-10 fractions, both safe integers of the
 * same sign (or zero): value = whole + fraction / 10^10.
 */
export type CostParts = readonly [whole: number, fraction: number];

const PLAIN_COST = /^([+-]?)(\d{1,15})(?:\.(\d{0,10}))?$/;
/** The largest magnitude of one cost (of a CBF row): 10^15, in 10^-10 units. */
const MAX_COST_SCALED = 10n ** 25n;
const FRACTION_SCALE = [1e10, 1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * A plain decimal of at most 15 digits before the point and 10 after it ("12.5", "-0.07") in
 * stored parts, without BigInt: nearly every cost. Null for any other text.
 */
export function plainCostParts(text: string): CostParts | null {
	const plain = PLAIN_COST.exec(text);
	if (plain === null) return null;
	const whole = Number(plain[2]);
	const places = plain[3];
	// An integer below 10^10 times a power of ten up to 10^10: exact.
	const fraction = places ? Number(places) * FRACTION_SCALE[places.length] : 0;
	return plain[1] === "-" ? [-whole + 0, -fraction + 0] : [whole, fraction];
}

/**
 * A cost written as a decimal ("12.5", "-0.0000008", "8e-7", "1E+3"), rounded to 10 decimal places
 * (halves away from zero) and in stored parts; or why it cannot be one: not a decimal number, or
 * beyond ±10^15. Callers bound the text's length (CBF cells: 1,024 characters).
 */
export function costPartsOf(text: string): CostParts | "not_a_number" | "out_of_range" {
	const plain = plainCostParts(text);
	if (plain !== null) return plain;
	const match = DECIMAL.exec(text);
	if (match === null || (match[2] === "" && (match[3] ?? "") === "")) return "not_a_number";
	const digits = `${match[2]}${match[3] ?? ""}`.replace(/^0+/, "");
	if (digits === "") return [0, 0];
	// The value is 0.digits x 10^magnitude: bound the work before any BigInt.
	const magnitude = digits.length - ((match[3] ?? "").length - Number(match[4] ?? 0));
	if (magnitude > 16) return "out_of_range";
	if (magnitude < -COST_DECIMALS - 1) return [0, 0];
	const parsed = roundToScale(parseDecimal(text, Infinity)!, COST_DECIMALS);
	const scaled = rescale(parsed, COST_DECIMALS).units;
	if ((scaled < 0n ? -scaled : scaled) > MAX_COST_SCALED) return "out_of_range";
	return costPartsOfDecimal(parsed);
}

/** A decimal of at most 10 places in stored parts (its whole part must be a safe integer). */
export function costPartsOfDecimal(value: Decimal): CostParts {
	const scaled = rescale(value, COST_DECIMALS).units;
	return [Number(scaled / COST_FRACTION_BIG) + 0, Number(scaled % COST_FRACTION_BIG) + 0];
}

/** The exact value of summed parts (each sum as D1 returns it: a number or its decimal text). */
export function costOfSums(whole: bigint | number | string, fraction: bigint | number | string): Decimal {
	return { units: BigInt(whole) * COST_FRACTION_BIG + BigInt(fraction), scale: COST_DECIMALS };
}

/**
 * Splits a value into parts proportional to the weights (positive integers), exactly: the parts
 * add up to the value. The value is first rounded to 10 decimal places (what the service keeps of
 * a cost); each part is then the difference of two cumulative shares rounded toward zero, so the
 * remainder is spread over the parts (no part differs from its exact share by 10^-10 or more) and
 * every part has the value's sign: 0.01 over 3 days is 0.0033333333, 0.0033333333, 0.0033333334.
 */
export function splitDecimal(value: Decimal, weights: number[]): Decimal[] {
	const rounded = roundToScale(value, COST_DECIMALS);
	if (weights.length === 1) return [rounded];
	const scale = COST_DECIMALS;
	const total = rescale(rounded, scale).units;
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
