import { roundToSignificant } from "../schemas/telemetry";
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

export function csvField(value: string): string {
	return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: string[]): string {
	return `${fields.map(csvField).join(",")}\r\n`;
}
