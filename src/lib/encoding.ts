// Byte encodings shared by tokens, cursors, idempotency keys and Cloudthread record IDs.

/** Bytes as base64url without padding (URL- and header-safe: tokens, ids, cursors). */
export function base64Url(bytes: Uint8Array): string {
	return btoa(String.fromCharCode(...bytes))
		.replace(/\+/g, "-")
		.replace(/\//g, "_")
		.replace(/=+$/, "");
}

/** SHA-256 of the text's UTF-8, as lowercase hex of its first `bytes` bytes (all 32 by default). */
export async function sha256Hex(text: string, bytes = 32): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
	return [...new Uint8Array(digest, 0, bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
