// Checks that `npm ci` has run and is current, before a script loads anything from node_modules.
// Runs on any Node the engines field allows (20 too: before `npm ci` the project's own Node 22,
// the `node` devDependency, is not there yet), so it uses node: built-ins only.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Problems with node_modules, as sentences for the user, or [] when it matches package-lock.json.
 * Checks the direct dependencies only (installed, at the locked version): cheap, and what changes
 * when someone pulls a dependency bump without re-running `npm ci`.
 */
export function installProblems(root) {
	if (!existsSync(join(root, "node_modules"))) return ["node_modules/ does not exist."];
	let pkg;
	let lock;
	try {
		pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
		lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
	} catch {
		return []; // nothing to compare with; wrangler will say what is missing
	}
	const problems = [];
	for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
		const locked = lock.packages?.[`node_modules/${name}`]?.version;
		let installed;
		try {
			installed = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
		} catch {
			problems.push(`${name} is not installed.`);
			continue;
		}
		if (locked && installed !== locked) problems.push(`${name} ${installed} is installed, package-lock.json has ${locked}.`);
	}
	return problems;
}

/** The oldest Node the installed wrangler runs on (its engines field), as [major, minor, patch]. */
export function wranglerMinNode(root) {
	let range = "";
	try {
		range = JSON.parse(readFileSync(join(root, "node_modules", "wrangler", "package.json"), "utf8")).engines?.node ?? "";
	} catch {
		// checked by installProblems
	}
	const m = />=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range);
	return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : [22, 0, 0];
}

/** Whether `version` is at least `min`. */
export function atLeast(version, min) {
	const have = version.split(".").map((n) => parseInt(n, 10));
	for (let i = 0; i < 3; i++) if (have[i] !== min[i]) return have[i] > min[i];
	return true;
}

/**
 * Exits with a message saying what to run when the install is missing or stale, or when this Node
 * is too old for wrangler (outside npm scripts, or after `npm ci --ignore-scripts`).
 * `command`: how the user ran the script, for the message ("npm start").
 */
export function checkInstall(root, command) {
	const problems = installProblems(root);
	if (problems.length > 0) {
		const shown = problems.slice(0, 5).map((p) => `  ${p}`);
		if (problems.length > 5) shown.push(`  ... and ${problems.length - 5} more.`);
		fail([
			`${command}: the dependencies are not installed, or not the versions in package-lock.json:`,
			...shown,
			`Run \`npm ci\` first (it installs wrangler and the Node 22 it runs on), then \`${command}\` again.`,
		]);
	}
	const min = wranglerMinNode(root);
	if (!atLeast(process.versions.node, min)) {
		fail([
			`${command}: wrangler needs Node ${min.join(".")} or later; this is Node ${process.versions.node} (${process.execPath}).`,
			"`npm ci` installs Node 22 into node_modules (the `node` package), and npm scripts run on it:",
			`run \`npm ci\` (without --ignore-scripts), then \`${command}\`.`,
		]);
	}
}

function fail(lines) {
	console.error(lines.join("\n"));
	process.exit(1);
}
