// Docs that are tested: runs the shell blocks of README.md and docs/*.md against the service and
// compares what they print with what the docs show (test-e2e/doc-blocks.mjs says how blocks are
// read and compared, and how one is skipped). Run with `npm run test:docs`;
// `DOCS_TEST_FILES=docs/cli.md npm run test:docs` runs one file (several: separated by commas);
// DOCS_TEST_SHOW=1 prints what each command printed (to write a block's output).
//
// Per Markdown file, as a reader with a fresh `npm start` in another terminal would run it:
// - a fresh `wrangler dev` on its own fresh local state (a temporary --persist-to directory: a
//   copy of state migrated once per run), started by scripts/lib/dev-server.mjs as for every
//   end-to-end suite (ports 8841-8849), so the user's .wrangler/state is never touched;
// - its blocks in order, each command in its own bash (cwd: the repository root), carrying shell
//   variables from one command to the next as one terminal session would;
// - the service's address for http://localhost:8787 in commands (and METERLINE_URL, the CLI's
//   default), the admin token for <the admin token that npm start printed>, and for a token or
//   token id that the doc showed in an earlier command's output, the one printed there (a session
//   shows real-looking values, as a reader's would); no METERLINE_* variable of the caller's
//   environment. Any other <placeholder> in a command fails the block.
// - `npx meterline` runs bin/meterline.mjs directly (what npx runs here, without npm's 2 s of
//   start-up; a test checks that npx does resolve it so).
// Every command's process group is killed when it ends, and the service's when the file is done.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { applyMigrations, ROOT, startService } from "../scripts/lib/dev-server.mjs";
import { compareOutput, extractBlocks, learnAliases, PLACEHOLDER } from "./doc-blocks.mjs";

const PORTS = [8841, 8842, 8843, 8844, 8845, 8846, 8847, 8848, 8849];
const COMMAND_TIMEOUT_MS = 120_000;
const ADMIN_PLACEHOLDER = "<the admin token that npm start printed>";

const files = process.env.DOCS_TEST_FILES
	? process.env.DOCS_TEST_FILES.split(",")
			.map((f) => f.trim())
			.filter(Boolean)
	: [
			"README.md",
			...readdirSync(join(ROOT, "docs"))
				.filter((f) => f.endsWith(".md"))
				.sort()
				.map((f) => `docs/${f}`),
		];

/**
 * What to clean up should this process end early: process groups (killed at once on Ctrl-C or
 * SIGTERM) and temporary directories. Should it be killed outright, a watchdog that outlives it by
 * at most a second kills and removes what the list names.
 */
const running = new Set();
const leftovers = new Map(); // "g <pgid>" or "d <directory>"
const leftoversFile = join(tmpdir(), `meterline-docs-leftovers-${process.pid}`);
function track(entry, add) {
	if (add) leftovers.set(entry, true);
	else leftovers.delete(entry);
	writeFileSync(leftoversFile, [...leftovers.keys(), ""].join("\n"));
}
function trackGroup(pid, add) {
	if (add) running.add(pid);
	else running.delete(pid);
	track(`g ${pid}`, add);
}
track("", false);
spawn(
	"bash",
	[
		"-c",
		`while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
		while read -r kind value; do
			case $kind in g) kill -KILL -- "-$value" 2>/dev/null ;; d) rm -rf -- "$value" ;; esac
		done <${shellQuote(leftoversFile)}
		rm -f ${shellQuote(leftoversFile)}`,
	],
	{ detached: true, stdio: "ignore" },
).unref();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
	process.once(signal, () => {
		for (const pid of running) killGroup(pid);
		process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1)); // the watchdog removes the directories
	});
}

function killGroup(pid) {
	try {
		process.kill(-pid, "SIGKILL");
	} catch {
		// already gone
	}
}

/**
 * Commands a block must not run here, whatever the doc says: they would install packages, start a
 * second server or test suite, or act on a Cloudflare account. Such a block is skipped with a reason.
 */
const REFUSED = [
	[/\bnpm (ci|install|i|start|test|run (test\S*|deploy|bench))\b/, "installs packages, starts a server or runs a test suite"],
	[
		/\bwrangler (login|logout|deploy|dev|tail|secret|d1 create|kv namespace)\b|--remote\b/,
		"needs a Cloudflare account (or starts a server)",
	],
];

/**
 * The caller's environment without METERLINE_* (a doc must set what it uses) and without
 * Cloudflare credentials: wrangler's login is looked for under XDG_CONFIG_HOME, here an empty
 * directory, so no command can reach a Cloudflare account. Offline and quiet.
 */
function baseEnvironment(url, work) {
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([name]) => !name.startsWith("METERLINE_") && !/^(CLOUDFLARE|CF)_/.test(name)),
	);
	return {
		...env,
		XDG_CONFIG_HOME: join(work, "config"),
		METERLINE_URL: url,
		NO_COLOR: "1",
		TERM: "dumb",
		WRANGLER_SEND_METRICS: "false",
		CLOUDFLARE_CF_FETCH_ENABLED: "false",
		WRANGLER_HIDE_BANNER: "true",
	};
}

/**
 * Sourced before each command: the `npx meterline` shortcut, the variables the commands before
 * it left, and the trap that saves them again (every shell variable but bash's own).
 */
function prelude(stateFile) {
	return `npx() { if [ "\${1-}" = meterline ]; then shift; node ${shellQuote(join(ROOT, "bin", "meterline.mjs"))} "$@"; else command npx "$@"; fi; }
__docs_test_save() {
	local __docs_test_name
	for __docs_test_name in $(compgen -v); do
		case $__docs_test_name in
		BASH* | SHELLOPTS | EUID | UID | PPID | GROUPS | FUNCNAME | PIPESTATUS | RANDOM | SRANDOM | SECONDS | LINENO | HISTCMD | EPOCH* | COMP_* | DIRSTACK | _ | SHLVL | PWD | OLDPWD | OPT* | IFS | PS[0-9] | __docs_test_*) ;;
		*) declare -p "$__docs_test_name" ;;
		esac
	done >${shellQuote(`${stateFile}.new`)} 2>/dev/null
	mv -f ${shellQuote(`${stateFile}.new`)} ${shellQuote(stateFile)}
}
trap '__docs_test_status=$?; __docs_test_save; exit $__docs_test_status' EXIT
if [ -f ${shellQuote(stateFile)} ]; then source ${shellQuote(stateFile)} 2>/dev/null; fi
`;
}

function shellQuote(text) {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Runs one command as a script; resolves with its exit code and its stdout and stderr as one text, as a terminal shows them. */
function runCommand(work, text, { errexit, env }) {
	const script = join(work, "command.sh");
	const outFile = join(work, "output.txt");
	writeFileSync(script, `source ${shellQuote(join(work, "prelude.sh"))}\n${errexit ? "set -eo pipefail\n" : ""}${text}\n`);
	const out = openSync(outFile, "w");
	const child = spawn("bash", [script], { cwd: ROOT, env, stdio: ["ignore", out, out], detached: true });
	closeSync(out);
	trackGroup(child.pid, true);
	return new Promise((resolve) => {
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child.pid);
		}, COMMAND_TIMEOUT_MS);
		child.on("exit", (code, signal) => {
			clearTimeout(timer);
			killGroup(child.pid); // anything it left running in the background
			trackGroup(child.pid, false);
			resolve({ code: code ?? (signal ? 128 : 1), timedOut, output: readFileSync(outFile, "utf8") });
		});
	});
}

/** The command as run: the service's address, the admin token and the tokens the doc showed earlier filled in. */
function commandToRun(text, service, aliases) {
	for (const [pattern, why] of REFUSED) {
		const m = pattern.exec(text.replace(PLACEHOLDER, ""));
		if (m) return { problem: `\`${m[0]}\` ${why}: the suite does not run it; skip the block (<!-- docs-test: skip (reason) -->)` };
	}
	const unknown = (text.match(PLACEHOLDER) ?? []).filter((p) => p !== ADMIN_PLACEHOLDER);
	if (unknown.length > 0)
		return {
			problem: `it has a placeholder, ${unknown[0]}: write the command so that it runs as it stands, or skip the block (<!-- docs-test: skip (reason) -->)`,
		};
	let run = text.replaceAll(ADMIN_PLACEHOLDER, service.adminToken).replace(/\blocalhost:8787\b/g, `127.0.0.1:${service.port}`);
	for (const [shown, printed] of aliases) run = run.replaceAll(shown, printed);
	return { text: run };
}

function indent(text) {
	return text.replace(/\n/g, "\n    ");
}

/** Untracked files in the working tree (a doc's command must not leave any). */
function untrackedFiles() {
	const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: ROOT, encoding: "utf8" });
	return new Set(
		status.stdout
			.split("\n")
			.filter((l) => l.startsWith("?? "))
			.map((l) => l.slice(3)),
	);
}

it("npx meterline runs this clone's CLI (bin/meterline.mjs), as the shortcut assumes", () => {
	const viaNpx = spawnSync("npx", ["--no-install", "meterline", "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
	const direct = spawnSync(process.execPath, [join(ROOT, "bin", "meterline.mjs"), "--help"], { cwd: ROOT, encoding: "utf8" });
	assert.equal(viaNpx.status, 0, viaNpx.stderr);
	assert.equal(viaNpx.stdout, direct.stdout);
});

/** The Markdown files, read; `runnable`: whether any block of it runs (it then gets a service). */
const docs = files.map((file) => {
	const path = resolve(ROOT, file);
	if (!existsSync(path)) return { file, missing: true };
	const { blocks, problems } = extractBlocks(readFileSync(path, "utf8"), file);
	return { file, blocks, problems, runnable: blocks.some((b) => !b.skip && b.problems.length === 0) };
});

/**
 * Local state with the migrations applied, made once and copied for each file: the same fresh
 * state as applying them to each, without a wrangler migration run (10-20 s here) per file.
 */
let template;
function migratedState() {
	if (!template) {
		const dir = mkdtempSync(join(tmpdir(), "meterline-docs-template-"));
		track(`d ${dir}`, true);
		applyMigrations(join(dir, "state"));
		template = join(dir, "state");
	}
	return template;
}

/**
 * Starts a file's service on a copy of the migrated state, in a directory of its own (the state,
 * wrangler's log, the shell's variables). One file at a time: each `wrangler dev` start runs the
 * project's build, which rewrites dist/meterline.mjs, the CLI the blocks run.
 */
async function startFor() {
	const work = mkdtempSync(join(tmpdir(), "meterline-docs-"));
	track(`d ${work}`, true);
	writeFileSync(join(work, "prelude.sh"), prelude(join(work, "state.sh")));
	cpSync(migratedState(), join(work, "state"), { recursive: true });
	const service = await startService({
		stateDir: join(work, "state"),
		logFile: join(work, "wrangler.log"),
		ports: PORTS,
		migrate: false,
		onSpawn: (pid) => trackGroup(pid, true),
	});
	return { work, service };
}
after(() => {
	if (!template) return;
	rmSync(dirname(template), { recursive: true, force: true });
	track(`d ${dirname(template)}`, false);
});

for (const doc of docs) {
	const { file, blocks, problems, runnable } = doc;
	if (doc.missing) {
		it(file, () => assert.fail(`${file} does not exist (DOCS_TEST_FILES names files relative to the repository root)`));
		continue;
	}

	describe(file, () => {
		let service;
		let work;
		let env;
		let untrackedBefore;
		const aliases = new Map();
		before(async () => {
			if (!runnable) return;
			untrackedBefore = untrackedFiles();
			({ work, service } = await startFor());
			env = baseEnvironment(service.url, work);
		});
		after(async () => {
			if (service) {
				await service.stop();
				trackGroup(service.pid, false);
			}
			if (work) {
				rmSync(work, { recursive: true, force: true });
				track(`d ${work}`, false);
			}
		});

		if (problems.length > 0) it("docs-test markers", () => assert.fail(problems.join("\n")));

		for (const block of blocks) {
			const first = block.commands[0]?.text.split("\n")[0] ?? "";
			const name = `line ${block.line}: ${first.length > 70 ? `${first.slice(0, 69)}…` : first}`;
			it(name, { skip: block.skip ?? false }, async (t) => {
				if (block.problems.length > 0) assert.fail(block.problems.join("\n"));
				const failures = [];
				for (const command of block.commands) {
					const where = `${file}:${command.line}`;
					const run = commandToRun(command.text, service, aliases);
					if (run.problem) {
						failures.push(`${where}: ${run.problem}`);
						continue;
					}
					const result = await runCommand(work, run.text, { errexit: block.style === "script", env });
					if (command.expected) learnAliases(command.expected, result.output, aliases);
					const shown = indent(result.output.trimEnd() || "(nothing)");
					if (process.env.DOCS_TEST_SHOW)
						for (const line of `${where}: exit code ${result.code}\n    ${shown}`.split("\n")) t.diagnostic(line);
					if (result.timedOut) {
						failures.push(`${where}: still running after ${COMMAND_TIMEOUT_MS / 1000} s; it printed:\n    ${shown}`);
					} else if (command.expected === null) {
						if (result.code !== 0) failures.push(`${where}: exited with ${result.code}; it printed:\n    ${shown}`);
					} else {
						const difference = compareOutput(command.expected, result.output);
						if (difference)
							failures.push(`${where}: the output is not what the doc shows: ${indent(difference)}\n  it printed:\n    ${shown}`);
						else if (block.style === "script" && result.code !== 0) failures.push(`${where}: exited with ${result.code}`);
					}
				}
				if (failures.length > 0) assert.fail(`\n${failures.join("\n\n")}`);
			});
		}

		if (runnable)
			it("leaves no files in the working tree", () => {
				const left = [...untrackedFiles()].filter((f) => !untrackedBefore.has(f));
				assert.deepEqual(left, [], `the blocks of ${file} left these files: ${left.join(", ")}`);
			});
	});
}
