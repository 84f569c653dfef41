// The service in `wrangler dev` on fresh local state for an end-to-end suite (scripts/lib/dev-server.mjs
// does the work), removed again by stop(). Each suite passes its own ports (8811-8819 here).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startService as startDevServer } from "../scripts/lib/dev-server.mjs";

export { ROOT };

/** @param {{ ports: number[], vars?: Record<string, string> }} options */
export async function startService({ ports, vars }) {
	const dir = mkdtempSync(join(tmpdir(), "meterline-e2e-"));
	const logFile = join(dir, "wrangler.log");
	let service;
	try {
		service = await startDevServer({ stateDir: join(dir, "state"), logFile, ports, vars });
	} catch (err) {
		rmSync(dir, { recursive: true, force: true });
		throw err;
	}
	return {
		...service,
		async stop() {
			await service.stop();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
