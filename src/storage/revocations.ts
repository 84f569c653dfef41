// Revoked stream tokens (token_revocations). KV takes up to a minute to forget a token
// everywhere; D1 knows of a revocation at once. Migration 0005 makes a write's commit refuse one.

export async function isTokenRevoked(db: Pick<D1Database, "prepare">, tokenHash: string): Promise<boolean> {
	return (await revocationQuery(db, tokenHash).first()) !== null;
}

/** The query of isTokenRevoked, to run in a read's batch: a row when the token is revoked. */
export function revocationQuery(db: Pick<D1Database, "prepare">, tokenHash: string): D1PreparedStatement {
	return db.prepare("SELECT 1 FROM token_revocations WHERE token_hash = ?").bind(tokenHash);
}

export async function isTokenIdRevoked(db: D1Database, tokenId: string): Promise<boolean> {
	return (await db.prepare("SELECT 1 FROM token_revocations WHERE token_id = ?").bind(tokenId).first()) !== null;
}

/** The statement that lists which of the given token ids are revoked (rows of { token_id }). */
export function revokedAmongStatement(db: D1Database, tokenIds: string[]): D1PreparedStatement {
	return db
		.prepare("SELECT token_id FROM token_revocations WHERE token_id IN (SELECT value FROM json_each(?1))")
		.bind(JSON.stringify(tokenIds));
}

/** True for the error of a write batch whose ingest_log insert was refused because its token is revoked (migration 0005). */
export function isRevokedTokenError(err: unknown): boolean {
	return String(err).includes("meterline_token_revoked");
}

export async function recordTokenRevocation(db: D1Database, tokenId: string, tokenHash: string, revokedAt: string): Promise<void> {
	await db
		.prepare("INSERT INTO token_revocations (token_id, token_hash, revoked_at) VALUES (?, ?, ?) ON CONFLICT (token_id) DO NOTHING")
		.bind(tokenId, tokenHash, revokedAt)
		.run();
}
