// Runs the service under `wrangler dev` on a given local state directory, for the scripts that
// drive it over HTTP (crash test, benchmark, CLI tests). Offline and quiet like `npm start`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * The environment every wrangler run of this project gets (`npm start` too). Offline and quiet:
 * no usage metrics, no fetch of the Request.cf object from Cloudflare. X_LOCAL_OBSERVABILITY=false:
 * wrangler dev otherwise records a trace of every invocation (Worker, Durable Object, each D1
 * and KV call) for its Local Explorer dashboard, which this API-only service does not use; it
 * costs about 1.5 ms of CPU per request.
 */
export const WRANGLER_ENV = {
	...process.env,
	WRANGLER_SEND_METRICS: "false",
	CLOUDFLARE_CF_FETCH_ENABLED: "false",
	X_LOCAL_OBSERVABILITY: "false",
	// No "⛅️ wrangler 4.x" banner on every command, and no npm registry check for a newer wrangler behind it.
	WRANGLER_HIDE_BANNER: "true",
};
// Run wrangler's JS with this Node (the `node` devDependency): the one on PATH may be too old.
export const WRANGLER_JS = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Whether nothing listens on the port (checked on 127.0.0.1). */
export function portIsFree(port) {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
	});
}

/** The first `count` free ports among `candidates`. */
export async function freePorts(candidates, count) {
	const free = [];
	for (const port of candidates) {
		if (free.length === count) break;
		if (await portIsFree(port)) free.push(port);
	}
	if (free.length < count) throw new Error(`need ${count} free ports among ${candidates.join(", ")}; found ${free.length}`);
	return free;
}

/**
 * Applies the D1 migrations to a local state directory (wrangler's default, .wrangler/state, when
 * stateDir is undefined), quietly: wrangler's output only in the error when they fail.
 * Returns the number of migrations applied now (0: already up to date).
 */
export function applyMigrations(stateDir) {
	const args = [WRANGLER_JS, "d1", "migrations", "apply", "DB", "--local", ...(stateDir === undefined ? [] : ["--persist-to", stateDir])];
	const migrate = spawnSync(process.execPath, args, {
		cwd: ROOT,
		env: { ...WRANGLER_ENV, CI: "true" }, // CI=true: no confirmation prompt
		encoding: "utf8",
	});
	if (migrate.status !== 0) {
		const why = migrate.error ? String(migrate.error) : migrate.signal ? `killed by ${migrate.signal}` : `exit code ${migrate.status}`;
		throw new Error(`D1 migrations failed (${why}):\n${migrate.stdout ?? ""}${migrate.stderr ?? ""}`.trimEnd());
	}
	return Number(/About to apply (\d+) migration/.exec(migrate.stdout)?.[1] ?? 0);
}

/**
 * Starts `wrangler dev` on `stateDir` (migrations applied first) and waits until it answers.
 * Wrangler runs in its own process group, so stop() and crash() reach everything it spawned.
 * `ports`: the ports this caller may use (service, inspector). `vars`: extra --var values.
 * `script`: another Worker entry than wrangler.toml's `main`, with the same bindings (the
 * benchmark's bench/worker-rtt.ts). `onSpawn(pid)`: called with wrangler's process group as soon as
 * it exists, before it answers (for a caller that must clean up should it be killed meanwhile).
 * `migrate: false`: stateDir has the migrations applied already (a copy of migrated state).
 */
export async function startService({
	stateDir,
	logFile,
	ports,
	vars = {},
	script,
	onSpawn,
	migrate = true,
	adminToken = `adm_${randomBytes(24).toString("base64url")}`,
}) {
	if (migrate) applyMigrations(stateDir);
	const [port, inspectorPort] = await freePorts(ports, 2);
	const varArgs = Object.entries({ ADMIN_TOKEN: adminToken, ...vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
	const log = openSync(logFile, "a");
	const child = spawn(
		process.execPath,
		[
			WRANGLER_JS,
			"dev",
			...(script ? [script] : []),
			"--persist-to",
			stateDir,
			"--ip",
			"127.0.0.1",
			"--port",
			String(port),
			// An explicit inspector port: the default 9229 may be taken by another wrangler.
			"--inspector-port",
			String(inspectorPort),
			...varArgs,
			"--log-level",
			"warn",
			"--show-interactive-dev-session=false",
		],
		{ cwd: ROOT, env: WRANGLER_ENV, stdio: ["ignore", log, log], detached: true },
	);
	onSpawn?.(child.pid);
	closeSync(log);
	let exited = false;
	const exit = new Promise((resolve) =>
		child.once("exit", () => {
			exited = true;
			resolve(true);
		}),
	);
	const killGroup = (signal) => {
		try {
			process.kill(-child.pid, signal);
		} catch {
			// already gone
		}
	};
	const onExit = () => exited || killGroup("SIGKILL");
	process.on("exit", onExit);

	const service = {
		port,
		url: `http://127.0.0.1:${port}`,
		adminToken,
		pid: child.pid,
		/** Stops the server politely, then forcibly. */
		async stop() {
			if (!exited) {
				killGroup("SIGTERM");
				const timer = setTimeout(() => killGroup("SIGKILL"), 5000);
				await exit;
				clearTimeout(timer);
			}
			killGroup("SIGKILL"); // anything of the group that outlived wrangler
			process.off("exit", onExit);
		},
		/** kill -9 of wrangler and workerd at once: no chance to flush or finish anything. */
		async crash() {
			killGroup("SIGKILL");
			await exit;
			process.off("exit", onExit);
		},
	};

	const deadline = Date.now() + 90_000;
	while (!(await answers(port))) {
		if (exited) throw new Error(`wrangler dev exited early; see ${logFile}:\n${tail(logFile)}`);
		if (Date.now() > deadline) {
			await service.stop();
			throw new Error(`wrangler dev did not answer within 90 s; see ${logFile}:\n${tail(logFile)}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	return service;
}

function answers(port) {
	return new Promise((resolve) => {
		const req = http.get({ host: "127.0.0.1", port, path: "/", timeout: 2000 }, (res) => {
			res.resume();
			resolve(true);
		});
		req.on("error", () => resolve(false));
		req.on("timeout", () => req.destroy());
	});
}

function tail(file) {
	try {
		return readFileSync(file, "utf8").split("\n").slice(-30).join("\n");
	} catch {
		return "";
	}
}
