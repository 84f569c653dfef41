// Starts the service with `wrangler dev` on fresh local state for an end-to-end test, and stops it
// by its process id. Ports are the caller's (this project's tests use 8811-8819 only).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
// Offline and quiet: no usage metrics, no fetch of the Request.cf object from Cloudflare.
// node_modules/.bin first: wrangler needs the Node 22 of the `node` devDependency.
const OFFLINE_ENV = {
	...process.env,
	PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
	WRANGLER_SEND_METRICS: "false",
	CLOUDFLARE_CF_FETCH_ENABLED: "false",
	CI: "true",
};

/**
 * @param {{ port: number, inspectorPort: number, vars?: Record<string, string> }} options
 * @returns {Promise<{ url: string, adminToken: string, stop: () => Promise<void>, output: () => string }>}
 */
export async function startService({ port, inspectorPort, vars = {} }) {
	const persistTo = mkdtempSync(join(tmpdir(), "meterline-e2e-"));
	const adminToken = `adm_${randomBytes(18).toString("base64url")}`;
	const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
		cwd: ROOT,
		env: OFFLINE_ENV,
		encoding: "utf8",
	});
	if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

	const varArgs = Object.entries({ ADMIN_TOKEN: adminToken, ...vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
	const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", persistTo, ...varArgs];
	// Its own process group, so stopping it also stops the workerd it starts (and nothing else).
	const child = spawn(WRANGLER, args, { cwd: ROOT, env: OFFLINE_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
	let log = "";
	child.stdout.on("data", (d) => (log += d));
	child.stderr.on("data", (d) => (log += d));
	const exited = new Promise((resolve) => child.once("exit", resolve));

	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			process.kill(-child.pid, "SIGTERM");
			const timer = setTimeout(() => {
				try {
					process.kill(-child.pid, "SIGKILL");
				} catch {}
			}, 5000);
			await exited;
			clearTimeout(timer);
		}
		rmSync(persistTo, { recursive: true, force: true });
	};

	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 120_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
		try {
			const res = await fetch(`${url}/openapi.json`);
			if (res.ok) break;
		} catch {}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`wrangler dev did not answer on ${url} within 120 s:\n${log}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	return { url, adminToken, stop, output: () => log };
}
