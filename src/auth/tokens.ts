import { base64Url, sha256Hex } from "../lib/encoding";
import type { Scope, TokenIdentity, TokenRecord } from "../schemas/tokens";
import { isTokenRevoked, recordTokenRevocation } from "../storage/revocations";

// KV layout:
//   auth:<sha256 of token>  -> TokenIdentity            (the lookup on every request)
//   token:<id>              -> TokenRecord & { hash }    (revocation by id)
//   org:<org>:<id>          -> "" with TokenRecord as metadata (listing without a get per key)
const authKey = (hash: string) => `auth:${hash}`;
const tokenKey = (id: string) => `token:${id}`;
const orgKey = (org: string, id: string) => `org:${org}:${id}`;

type StoredToken = TokenRecord & { hash: string };

/**
 * Tokens are 256 random bits, so a plain SHA-256 is enough to make the stored form useless
 * to a reader of KV; a slow password hash would only add latency to every request.
 */
export function hashToken(token: string): Promise<string> {
	return sha256Hex(token);
}

function randomBase64Url(bytes: number): string {
	return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function createToken(
	kv: KVNamespace,
	input: { org: string; name: string; scopes: Scope[] },
): Promise<{ token: string; record: TokenRecord }> {
	const token = `mlt_${randomBase64Url(32)}`;
	const hash = await hashToken(token);
	const record: TokenRecord = {
		id: `tok_${randomBase64Url(12)}`,
		org: input.org,
		name: input.name,
		scopes: [...new Set(input.scopes)],
		created_at: new Date().toISOString(),
		revoked_at: null,
	};
	const identity: TokenIdentity = { id: record.id, org: record.org, scopes: record.scopes };
	const stored: StoredToken = { ...record, hash };
	// The auth entry is written last so a token never authenticates before it can be listed and revoked.
	await kv.put(tokenKey(record.id), JSON.stringify(stored));
	await kv.put(orgKey(record.org, record.id), "", { metadata: record });
	await kv.put(authKey(hash), JSON.stringify(identity));
	return { token, record };
}

export async function listTokens(kv: KVNamespace, org: string): Promise<TokenRecord[]> {
	const tokens: TokenRecord[] = [];
	let cursor: string | undefined;
	do {
		const page = await kv.list<TokenRecord>({ prefix: `org:${org}:`, cursor });
		for (const key of page.keys) if (key.metadata) tokens.push(key.metadata);
		cursor = page.list_complete ? undefined : page.cursor;
	} while (cursor);
	return tokens.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/**
 * Revokes a token: D1 first (strongly consistent, checked on every request), then KV,
 * whose deletion takes up to a minute to reach every location.
 */
export async function revokeToken(kv: KVNamespace, db: D1Database, id: string): Promise<TokenRecord | null> {
	const stored = await kv.get<StoredToken>(tokenKey(id), "json");
	if (!stored) return null;
	const { hash, ...record } = stored;
	if (record.revoked_at) return record;
	record.revoked_at = new Date().toISOString();
	await recordTokenRevocation(db, id, hash, record.revoked_at);
	await kv.delete(authKey(hash));
	await kv.put(tokenKey(id), JSON.stringify({ ...record, hash }));
	await kv.put(orgKey(record.org, id), "", { metadata: record });
	return record;
}

/**
 * Where a request's token is checked against the revocations in D1, which (unlike KV, which
 * may serve a deleted entry for up to a minute) know of a revocation at once:
 * - "now": a D1 query beside the KV lookup, before the request is admitted;
 * - "in_read": for the reads of a stream's or metric's values, the query goes into the read's
 *   own D1 batch (revocationInRead in middleware.ts), so the read is one D1 round trip; the
 *   middleware checks after the handler if the handler did not (an error before its batch);
 * - "at_commit": for writes, which all commit through a stream's Durable Object into D1. That
 *   commit refuses a revoked token (migration 0005; see WriteLedger), so admitting the request
 *   needs no round trip to D1, and a token revoked while its write waited in the object's
 *   queue is refused as well.
 */
export type RevocationCheck = "now" | "in_read" | "at_commit";

/**
 * Identities of tokens recently found in KV, kept by this isolate for as long as KV's own
 * location cache may serve an entry (60 s). Revocation is never decided from it but by D1
 * (RevocationCheck), and unknown tokens are not kept, so a new token works at once.
 */
class IdentityCache {
	private readonly entries = new Map<string, { identity: TokenIdentity; until: number }>();

	constructor(
		private readonly ttlMs: number,
		private readonly maxEntries: number,
	) {}

	get(hash: string, now: number): TokenIdentity | null {
		const entry = this.entries.get(hash);
		if (!entry) return null;
		if (entry.until > now) return entry.identity;
		this.entries.delete(hash);
		return null;
	}

	set(hash: string, identity: TokenIdentity, now: number): void {
		this.entries.delete(hash);
		// Oldest first (Map keeps insertion order): drop it when full.
		if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
		this.entries.set(hash, { identity, until: now + this.ttlMs });
	}
}

const identities = new IdentityCache(60_000, 10_000);

async function lookUpIdentity(kv: KVNamespace, hash: string): Promise<TokenIdentity | null> {
	const now = Date.now();
	const cached = identities.get(hash, now);
	if (cached) return cached;
	const identity = await kv.get<TokenIdentity>(authKey(hash), "json");
	if (identity) identities.set(hash, identity, now);
	return identity;
}

/** The identity behind a presented token, or null if it is unknown (or, checked now, revoked). */
export async function authenticate(
	kv: KVNamespace,
	db: Pick<D1Database, "prepare">,
	token: string,
	revocation: RevocationCheck,
): Promise<TokenIdentity | null> {
	const hash = await hashToken(token);
	if (revocation !== "now") return lookUpIdentity(kv, hash);
	// Both are looked up by the hash, so the two lookups run side by side.
	const [identity, revoked] = await Promise.all([lookUpIdentity(kv, hash), isTokenRevoked(db, hash)]);
	return identity && !revoked ? identity : null;
}

/** Constant-time comparison of two secrets (through their digests, so lengths do not leak). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
	const [ha, hb] = await Promise.all([hashToken(a), hashToken(b)]);
	let diff = 0;
	for (let i = 0; i < ha.length; i++) diff |= ha.charCodeAt(i) ^ hb.charCodeAt(i);
	return diff === 0;
}
