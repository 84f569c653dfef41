// Bundles the CLI (cli/*.ts plus the service's zod schemas it validates with) into one ES module.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_BUNDLE = join(root, "dist", "meterline.mjs");

export async function buildCli() {
	const { build } = await import("esbuild");
	await build({
		entryPoints: [join(root, "cli", "main.ts")],
		outfile: CLI_BUNDLE,
		bundle: true,
		platform: "node",
		format: "esm",
		// The engines field allows Node 20; the bundle must run there too.
		target: "node20",
		logLevel: "warning",
		legalComments: "none",
	});
}
