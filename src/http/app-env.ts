import type { ApiError } from "../lib/api-error";
import type { TokenIdentity } from "../schemas/tokens";

/** Hono's typing for this app: the Worker's bindings and what middleware hands to handlers. */
export type AppEnv = {
	Bindings: Env;
	Variables: {
		requestId: string;
		/** The authenticated stream token (set by requireScope). */
		token: TokenIdentity;
		/** The error this route answers for an unknown or revoked token (set with token). */
		refuseToken: () => ApiError;
		/** The token was admitted without asking D1 about revocation (writes: checked at commit). */
		revocationUnchecked: boolean;
		/** The token's hash while its revocation is still to be checked in the read's batch ("in_read"). */
		pendingRevocation: string | undefined;
		/** The request's D1 session for reads (src/http/read-session.ts), once made. */
		readSession: D1DatabaseSession;
		/** What the request log line says the request was about (set by handlers). */
		logFields: RequestLogFields;
	};
};

export interface RequestLogFields {
	stream?: string;
	operation?: string;
	records?: number;
	/** D1 rows read by the request's reads (D1 bills them), where a read reports them. */
	rowsRead?: number;
}
