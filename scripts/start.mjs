#!/usr/bin/env node
// `npm start`: runs Meterline locally on local D1/KV/Durable Object state (.wrangler/state).
// Checks that `npm ci` has run, makes sure an admin token exists in .dev.vars, applies the D1
// migrations (quietly), then runs `wrangler dev`, passing through any extra flags
// (`npm start -- --port 8790`), and prints the URL, the admin token and a first command once it
// answers. Before `npm ci` this runs on whatever Node is on PATH (20 too), so nothing is loaded
// from node_modules, or from modules that might, until the check has passed.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkInstall } from "./lib/preflight.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
checkInstall(root, "npm start");

const { spawn } = await import("node:child_process");
const { randomBytes } = await import("node:crypto");
const { existsSync, readFileSync, writeFileSync } = await import("node:fs");
const { applyMigrations, portIsFree, WRANGLER_ENV, WRANGLER_JS } = await import("./lib/dev-server.mjs");

const args = process.argv.slice(2);
// Offline and quiet (see WRANGLER_ENV); X_LOCAL_OBSERVABILITY=true in the caller's environment opts in to wrangler's trace capture.
const env = { ...WRANGLER_ENV, X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false" };

const devVars = join(root, ".dev.vars");
let adminToken = readVar(devVars, "ADMIN_TOKEN");
let tokenSource = ".dev.vars";
if (!adminToken) {
	adminToken = `adm_${randomBytes(24).toString("base64url")}`;
	const existing = existsSync(devVars) ? readFileSync(devVars, "utf8").replace(/\n*$/, "\n") : "";
	writeFileSync(devVars, `${existing}ADMIN_TOKEN=${adminToken}\n`, { mode: 0o600 });
	tokenSource = ".dev.vars, created now";
}
// `--var ADMIN_TOKEN:value` on the command line wins over .dev.vars, as it does in wrangler.
for (let i = 0; i < args.length; i++) {
	const value = args[i] === "--var" ? args[i + 1] : args[i].startsWith("--var=") ? args[i].slice(6) : undefined;
	if (value?.startsWith("ADMIN_TOKEN:")) {
		adminToken = value.slice("ADMIN_TOKEN:".length);
		tokenSource = "--var";
	}
}

// wrangler would fail on a busy port only after building, with advice (`--port`) that needs `--` here.
const port = Number(
	flagValue(args, "--port") ?? /^\[dev\][^[]*?^port\s*=\s*(\d+)/m.exec(readFileSync(join(root, "wrangler.toml"), "utf8"))?.[1] ?? 8787,
);
if (!(await portIsFree(port))) {
	console.error(
		`npm start: port ${port} is in use (another \`npm start\` or wrangler dev?). Stop it, or use another port: npm start -- --port ${port === 8790 ? 8791 : 8790}`,
	);
	process.exit(1);
}

// Migrations must go to the same local state directory the dev server will use.
const persistTo = flagValue(args, "--persist-to");
try {
	const applied = applyMigrations(persistTo);
	const where = persistTo ?? ".wrangler/state";
	console.log(
		applied > 0
			? `D1: ${applied} migration${applied === 1 ? "" : "s"} applied to the local database (${where}).`
			: `D1: the local database (${where}) is up to date.`,
	);
} catch (err) {
	console.error(err.message);
	process.exit(1);
}

// wrangler's own start-up lines (bindings, "Ready on") come first, on the terminal as they are (its
// hotkeys need one); the essentials are printed last, once the service answers.
const dev = spawn(process.execPath, [WRANGLER_JS, "dev", ...args], { cwd: root, env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
let exited = false;
dev.on("message", async (message) => {
	// wrangler's bin sends its parent DEV_SERVER_READY with the address when its proxy listens:
	// the port is the real one, but the Worker may still be starting.
	let event;
	try {
		event = typeof message === "string" ? JSON.parse(message) : message;
	} catch {
		return;
	}
	if (event?.event !== "DEV_SERVER_READY") return;
	const host = ["0.0.0.0", "::", "*"].includes(event.ip) ? "localhost" : event.ip.includes(":") ? `[${event.ip}]` : event.ip;
	clearTimeout(fallback);
	const url = `http://${host}:${event.port}`;
	if (await runtimeAnswers(url)) printReady(url);
});
// Should a wrangler version not send that message, the port it was given is probed instead.
const fallback = setTimeout(async () => {
	const url = `http://localhost:${port}`;
	if (await runtimeAnswers(url)) printReady(url);
}, 30_000);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => {
	exited = true;
	clearTimeout(fallback);
	process.exit(code ?? (signal ? 1 : 0));
});

/**
 * Waits until the workerd runtime behind wrangler's proxy answers (by then wrangler has printed
 * "Ready on"). The probe is a HEAD of miniflare's local explorer page: the runtime answers it
 * itself, so it neither reaches the service (no request log line) nor shows in wrangler's output.
 */
async function runtimeAnswers(url) {
	const deadline = Date.now() + 120_000;
	while (!exited && Date.now() < deadline) {
		try {
			const res = await fetch(`${url}/cdn-cgi/local/explorer`, { method: "HEAD", signal: AbortSignal.timeout(5000) });
			await res.body?.cancel();
			return true;
		} catch {
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}
	return false;
}

let printed = false;
function printReady(url) {
	if (printed) return;
	printed = true;
	const local = url === "http://localhost:8787" ? "" : ` --url ${url}`;
	console.log(`
Meterline is running at ${url}
  API reference, to read and try requests: ${url}/docs
  Admin token (${tokenSource}): ${adminToken}
  Create a stream token, in another terminal:
    npx meterline tokens create --org acme --name local${local} --admin-token ${adminToken}
Ctrl-C stops it.
`);
}

function readVar(file, name) {
	if (!existsSync(file)) return undefined;
	const line = readFileSync(file, "utf8")
		.split(/\r?\n/)
		.find((l) => l.startsWith(`${name}=`));
	return line?.slice(name.length + 1).replace(/^"(.*)"$/, "$1") || undefined;
}

/** `--flag value` or `--flag=value`. */
function flagValue(argv, flag) {
	const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
	if (i < 0) return undefined;
	return argv[i].includes("=") ? argv[i].slice(flag.length + 1) : argv[i + 1];
}
