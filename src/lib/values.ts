import { roundToSignificant } from "./numbers";
import { base64Url } from "./encoding";

/** A stored value as the API shows it: a string of at most 15 significant digits (0.1 × 10 reads "1"). */
export function formatValue(value: number): string {
	return String(roundToSignificant(value));
}

/** Opaque keyset cursors: base64url of a JSON value's UTF-8 (btoa alone fails beyond Latin-1). */
export function encodeCursor(value: unknown): string {
	return base64Url(new TextEncoder().encode(JSON.stringify(value)));
}

export function decodeCursor(cursor: string): unknown {
	try {
		const bytes = Uint8Array.from(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
		return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
	} catch {
		return undefined;
	}
}

// A cell a spreadsheet would run as a formula (OWASP, CSV injection): it starts with =, +, -, @,
// a tab or a carriage return. A plain number such as -5 is no formula and is left as it is.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * One CSV cell: a would-be formula is neutralized by a leading apostrophe (which spreadsheets
 * show as text and do not evaluate) and quoted, as OWASP recommends; quotes are doubled.
 */
export function csvField(value: string): string {
	if (FORMULA_START.test(value) && !PLAIN_NUMBER.test(value)) return `"'${value.replace(/"/g, '""')}"`;
	return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: string[]): string {
	return `${fields.map(csvField).join(",")}\r\n`;
}
