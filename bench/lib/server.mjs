// Runs the service under `wrangler dev` on fresh local state for the benchmark, and reads what
// its processes use from /proc.
import { readdirSync, readFileSync } from "node:fs";
import { startService as startDevServer } from "../../scripts/lib/dev-server.mjs";

// The only ports the benchmark may use (shared machine): the service, then wrangler's inspector.
export const BENCH_PORTS = [8801, 8802, 8803, 8804, 8805, 8806, 8807, 8808, 8809];

/**
 * Applies the migrations to `stateDir` and starts `wrangler dev` on it, with the per-token rate
 * limiter off (it would cap the load at 1,000 requests per 10 s). Its process group is
 * stopped by stop(). `script` and `vars`: another entry and more --var values (lib/rtt.mjs).
 */
export function startService({ stateDir, logFile, script, vars = {} }) {
	return startDevServer({ stateDir, logFile, ports: BENCH_PORTS, script, vars: { RATE_LIMITS: "off", ...vars } });
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
			info.set(pid, {
				pid,
				name: stat.slice(stat.indexOf("(") + 1, close),
				cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
			});
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

/** CPU seconds of the whole machine (all cores, from /proc/stat): busy (not idle or I/O wait) and stolen by the hypervisor. */
export function machineCpuSeconds() {
	const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
		.split("\n")[0]
		.trim()
		.split(/\s+/)
		.slice(1)
		.map(Number);
	return { busy: (user + nice + system + irq + softirq) / CLOCK_TICKS, steal: steal / CLOCK_TICKS };
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
