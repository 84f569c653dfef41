#!/usr/bin/env node
// `npm start`: runs Meterline locally on local D1/KV/Durable Object state (.wrangler/state).
// Applies D1 migrations, makes sure an admin token exists in .dev.vars, then runs
// `wrangler dev`, passing through any extra flags (`npm start -- --port 8790`).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkInstall } from "./lib/preflight.mjs";

// Before `npm ci` this runs on whatever Node is on PATH (20 too): nothing is loaded from
// node_modules, or from modules that might, until the check has passed.
const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
checkInstall(root, "npm start");

const { spawn, spawnSync } = await import("node:child_process");
const { randomBytes } = await import("node:crypto");
const { existsSync, readFileSync, writeFileSync } = await import("node:fs");
const { WRANGLER_ENV } = await import("./lib/dev-server.mjs");

const wrangler = join(root, "node_modules", ".bin", "wrangler");
const args = process.argv.slice(2);
// Offline and quiet (see WRANGLER_ENV); X_LOCAL_OBSERVABILITY=true in the caller's environment opts in to wrangler's trace capture.
const env = { ...WRANGLER_ENV, X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false" };

const devVars = join(root, ".dev.vars");
let adminToken = readVar(devVars, "ADMIN_TOKEN");
if (!adminToken) {
	adminToken = `adm_${randomBytes(24).toString("base64url")}`;
	const existing = existsSync(devVars) ? readFileSync(devVars, "utf8").replace(/\n*$/, "\n") : "";
	writeFileSync(devVars, `${existing}ADMIN_TOKEN=${adminToken}\n`, { mode: 0o600 });
	console.log(`Created .dev.vars with a new local ADMIN_TOKEN.`);
}
// `--var ADMIN_TOKEN:value` on the command line wins over .dev.vars, as it does in wrangler.
for (let i = 0; i < args.length; i++) {
	const value = args[i] === "--var" ? args[i + 1] : args[i].startsWith("--var=") ? args[i].slice(6) : undefined;
	if (value?.startsWith("ADMIN_TOKEN:")) adminToken = value.slice("ADMIN_TOKEN:".length);
}

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...persistArgs(args)], {
	cwd: root,
	env: { ...env, CI: "true" }, // CI=true: no confirmation prompt
	stdio: ["ignore", "inherit", "inherit"],
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const port = portOf(args) ?? "8787";
console.log(`
Meterline is starting on http://localhost:${port}
  Admin token (from ${args.some((a) => a.includes("ADMIN_TOKEN:")) ? "--var" : ".dev.vars"}): ${adminToken}
  Create a stream token:
    curl -s -X POST http://localhost:${port}/admin/v1/tokens -H "Authorization: Bearer ${adminToken}" \\
      -H "Content-Type: application/json" -d '{"org":"acme","name":"local","scopes":["write","read","delete_stream"]}'
`);

const dev = spawn(wrangler, ["dev", ...args], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

function readVar(file, name) {
	if (!existsSync(file)) return undefined;
	const line = readFileSync(file, "utf8").split(/\r?\n/).find((l) => l.startsWith(`${name}=`));
	return line?.slice(name.length + 1).replace(/^"(.*)"$/, "$1") || undefined;
}

function portOf(argv) {
	const i = argv.findIndex((a) => a === "--port" || a.startsWith("--port="));
	if (i < 0) return undefined;
	return argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
}

// Migrations must go to the same local state directory the dev server will use.
function persistArgs(argv) {
	const i = argv.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
	if (i < 0) return [];
	return argv[i].includes("=") ? [argv[i]] : ["--persist-to", argv[i + 1]];
}
