// Money as the API writes it. Costs are exact decimals (lib/decimal.ts) until they are written.
import { type Decimal, formatDecimal, roundToSignificantDigits } from "../lib/decimal";
import { SIGNIFICANT_DIGITS } from "../lib/numbers";

/** An exact sum as the API writes money: rounded once to 15 significant digits, plain decimal. */
export function formatCost(value: Decimal): string {
	return formatDecimal(roundToSignificantDigits(value, SIGNIFICANT_DIGITS));
}
