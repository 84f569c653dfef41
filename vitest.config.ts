import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async ({ mode }) => ({
	plugins: [
		cloudflareTest({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				bindings: {
					ADMIN_TOKEN: "test-admin-token",
					TEST_MIGRATIONS: await readD1Migrations("./migrations"),
					// `npm run test:fuzz` (vitest --mode fuzz) generates ten times more bad input.
					FUZZ_SCALE: mode === "fuzz" ? "10" : "1",
					// Replays test/service.openapi.property.test.ts: PROPERTY_SEED=<seed> [PROPERTY_ONLY=<operation substring>].
					PROPERTY_SEED: process.env.PROPERTY_SEED ?? "",
					PROPERTY_ONLY: process.env.PROPERTY_ONLY ?? "",
				},
			},
		}),
	],
	test: {
		include: ["test/**/*.test.ts"],
		setupFiles: ["./test/apply-migrations.ts"],
		globalSetup: ["./test/openapi-validation.global-setup.ts"],
		// The service's one-JSON-line-per-request logs are tested explicitly; keep them out of the output.
		onConsoleLog: (log: string) => !log.startsWith('{"level":'),
		// The machine is shared and has two cores: a test that takes 2 s alone can take 6 s under
		// load. Timeouts catch hangs here, not slowness (npm run bench measures speed).
		testTimeout: 30_000,
	},
}));
