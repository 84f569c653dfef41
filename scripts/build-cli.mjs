// Bundles the CLI (cli/*.ts plus the service's zod schemas it validates with) into one ES module.
import { readdirSync, statSync } from "node:fs";
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

/** The newest modification time (ms) of the files under `dir`, or 0 if it does not exist. */
function newestMtime(dir) {
	let newest = 0;
	let entries;
	try {
		entries = readdirSync(dir, { withFileTypes: true });
	} catch {
		return 0;
	}
	for (const entry of entries) {
		const path = join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
	}
	return newest;
}

/**
 * Whether the bundle is missing, or older than a file it is built from (cli/, and src/, whose
 * schemas it bundles): after an edit or a `git pull`, the CLI then runs the code as it is now.
 * Stats about a hundred files: a few milliseconds.
 */
export function cliBundleOutdated() {
	let built;
	try {
		built = statSync(CLI_BUNDLE).mtimeMs;
	} catch {
		return true;
	}
	return Math.max(newestMtime(join(root, "cli")), newestMtime(join(root, "src"))) > built;
}
