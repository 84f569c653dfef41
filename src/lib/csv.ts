// CSV as the read endpoints write it (RFC 4180, CRLF), safe to open in a spreadsheet.

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
