import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";

/**
 * Vite warns once per file when a file's sourcemap names sources that are not on disk. The
 * Cloudflare pool inlines every dependency (test.server.deps.inline = true), so Vite also
 * transforms the packages test/openapi-validation.global-setup.ts loads in Node, and
 * @redocly/openapi-core ships a sourcemap for each of its ~240 files without their sources: one
 * warning per file, about a dependency's packaging, on every first run. Only that warning, and
 * only for files under node_modules, is dropped; every other warning (and any about the
 * project's own files) is printed as before. The maps still work for the code they have.
 */
const DEPENDENCY_SOURCEMAP_WARNING = /^Sourcemap for "[^"]*\/node_modules\/[^"]*" points to missing source files$/;
const quietDependencySourcemaps: Plugin = {
	name: "meterline:quiet-dependency-sourcemaps",
	configResolved(config) {
		const { logger } = config;
		const warnOnce = logger.warnOnce;
		logger.warnOnce = (msg, options) => {
			if (!DEPENDENCY_SOURCEMAP_WARNING.test(msg)) warnOnce(msg, options);
		};
	},
};

export default defineConfig(async ({ mode }) => ({
	plugins: [
		quietDependencySourcemaps,
		cloudflareTest({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				bindings: {
					ADMIN_TOKEN: "test-admin-token",
					TEST_MIGRATIONS: await readD1Migrations("./migrations"),
					// `npm run test:fuzz` (vitest --mode fuzz) generates ten times more bad input.
					FUZZ_SCALE: mode === "fuzz" ? "10" : "1",
					// Replays test/service-openapi.property.test.ts: PROPERTY_SEED=<seed> [PROPERTY_ONLY=<operation substring>].
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
