import type { TokenIdentity } from "../auth/tokens";

/** Hono's typing for this app: the Worker's bindings and what middleware hands to handlers. */
export type AppEnv = {
	Bindings: Env;
	Variables: {
		requestId: string;
		/** The authenticated stream token (set by requireScope). */
		token: TokenIdentity;
	};
};
