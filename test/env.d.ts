import type { D1Migration } from "cloudflare:test";

declare global {
	namespace Cloudflare {
		interface Env {
			TEST_MIGRATIONS: D1Migration[];
			FUZZ_SCALE: string;
			PROPERTY_SEED: string;
			PROPERTY_ONLY: string;
		}
	}
}
