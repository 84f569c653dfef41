// Runs the service under `wrangler dev` on fresh local state, and reads what its processes use.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import http from "node:http";

// Same as scripts/start.mjs: offline and quiet.
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// The only ports the benchmark may use (shared machine): the service, then wrangler's inspector.
export const BENCH_PORTS = [8801, 8802, 8803, 8804, 8805, 8806, 8807, 8808, 8809];

function portIsFree(port) {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
	});
}

/** The first `count` free ports of BENCH_PORTS. */
export async function benchPorts(count) {
	const free = [];
	for (const port of BENCH_PORTS) {
		if (free.length === count) break;
		if (await portIsFree(port)) free.push(port);
	}
	if (free.length < count) throw new Error(`need ${count} free ports among ${BENCH_PORTS[0]}-${BENCH_PORTS.at(-1)}, found ${free.length}`);
	return free;
}

/**
 * Applies the migrations to `stateDir`, starts `wrangler dev` on it and waits until it answers.
 * Wrangler runs in its own process group so that stop() ends it and everything it spawned.
 */
export async function startService({ root, stateDir, logFile }) {
	// Run wrangler's JS with this Node: the one on PATH may be older than wrangler needs.
	const wranglerJs = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
	const persist = ["--persist-to", stateDir];
	const migrate = spawnSync(process.execPath, [wranglerJs, "d1", "migrations", "apply", "DB", "--local", ...persist], {
		cwd: root,
		env: { ...WRANGLER_ENV, CI: "true" },
		encoding: "utf8",
	});
	if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

	// An explicit inspector port: the default 9229 may be taken by another wrangler.
	const [port, inspectorPort] = await benchPorts(2);
	const adminToken = `adm_${randomBytes(24).toString("base64url")}`;
	const log = openSync(logFile, "a");
	const child = spawn(
		process.execPath,
		[wranglerJs, "dev", ...persist, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
			"--var", `ADMIN_TOKEN:${adminToken}`,
			// The per-token rate limiter (1,000 requests / 10 s) would cap the small-request cases.
			"--var", "RATE_LIMITS:off",
			"--log-level", "warn", "--show-interactive-dev-session=false"],
		{ cwd: root, env: WRANGLER_ENV, stdio: ["ignore", log, log], detached: true },
	);
	closeSync(log);
	let exited = false;
	child.on("exit", () => (exited = true));

	const stop = async () => {
		if (exited) return;
		const gone = new Promise((resolve) => child.once("exit", resolve));
		killGroup(child.pid, "SIGTERM");
		const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5000);
		await gone;
		clearTimeout(timer);
		killGroup(child.pid, "SIGKILL"); // anything of the group that outlived wrangler
	};
	// Last resort on a crash or Ctrl-C: a synchronous kill is all that 'exit' allows.
	process.on("exit", () => exited || killGroup(child.pid, "SIGKILL"));
	// Signals end Node without 'exit' unless handled.
	for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(signal, () => process.exit(130));

	const deadline = Date.now() + 90_000;
	while (!(await answers(port))) {
		if (exited) throw new Error(`wrangler dev exited early; see ${logFile}:\n${tail(logFile)}`);
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`wrangler dev did not answer within 90 s; see ${logFile}:\n${tail(logFile)}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	return { port, adminToken, pid: child.pid, stop };
}

function killGroup(pid, signal) {
	try {
		process.kill(-pid, signal);
	} catch {
		// already gone
	}
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

// ---- /proc ------------------------------------------------------------------------------

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** pid, command name, CPU seconds and memory of `rootPid` and all its descendants. */
export function processTree(rootPid) {
	const children = new Map();
	const info = new Map();
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			// The command name is in parentheses and may contain spaces: parse after the last ')'.
			const close = stat.lastIndexOf(")");
			const fields = stat.slice(close + 2).split(" ");
			const pid = Number(entry);
			const ppid = Number(fields[1]);
			info.set(pid, { pid, name: stat.slice(stat.indexOf("(") + 1, close), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
			if (!children.has(ppid)) children.set(ppid, []);
			children.get(ppid).push(pid);
		} catch {
			// exited while we looked
		}
	}
	const out = [];
	const visit = (pid) => {
		const p = info.get(pid);
		if (!p) return;
		out.push({ ...p, ...memoryOf(pid), cmdline: cmdlineOf(pid) });
		for (const c of children.get(pid) ?? []) visit(c);
	};
	visit(rootPid);
	return out;
}

function memoryOf(pid) {
	try {
		const status = readFileSync(`/proc/${pid}/status`, "utf8");
		const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
		return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
	} catch {
		return { rssMiB: 0, hwmMiB: 0 };
	}
}

function cmdlineOf(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
	} catch {
		return "";
	}
}

/**
 * The workerd processes wrangler runs: its proxy (listening on our port) and the runtime
 * that runs the Worker, its Durable Objects and the local D1.
 */
export function workerdProcesses(rootPid, port) {
	return processTree(rootPid)
		.filter((p) => p.name === "workerd")
		.map((p) => ({ ...p, role: p.cmdline.includes(`entry=127.0.0.1:${port}`) ? "proxy" : "runtime" }));
}
