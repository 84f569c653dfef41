import { base64Url } from "./encoding";

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
