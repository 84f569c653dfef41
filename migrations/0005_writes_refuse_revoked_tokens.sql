-- Every accepted write (both APIs, every operation) inserts its ingest_log row in the same D1
-- transaction as its data. Refusing that insert for a revoked token rolls the whole write
-- back, so a revocation recorded in D1 stops a token's writes at commit: the Worker need not
-- query D1 before forwarding a write, and a token revoked while its write waited in a stream's
-- queue is refused too. The message is matched by src/storage/revocations.ts.
CREATE TRIGGER ingest_log_refuses_revoked_tokens
BEFORE INSERT ON ingest_log
WHEN EXISTS (SELECT 1 FROM token_revocations WHERE token_id = NEW.token_id)
BEGIN
	SELECT RAISE(ABORT, 'meterline_token_revoked');
END;
