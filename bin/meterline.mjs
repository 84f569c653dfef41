#!/usr/bin/env node
// The `meterline` command. Runs the CLI bundle built by `npm ci` / `npm install` (prepare script);
// builds it first if it is missing (e.g. after `npm ci --ignore-scripts`) or older than cli/ or
// src/ (after an edit or a pull).
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { buildCli, CLI_BUNDLE, cliBundleOutdated } from "../scripts/build-cli.mjs";

if (cliBundleOutdated()) {
	try {
		await buildCli();
	} catch (err) {
		// Without esbuild (a production install) an existing bundle is still better than nothing.
		if (!existsSync(CLI_BUNDLE)) throw err;
		console.error(`meterline: could not rebuild ${CLI_BUNDLE} from cli/ and src/ (${err.message}); running the existing one`);
	}
}
const { main } = await import(pathToFileURL(CLI_BUNDLE).href);
process.exitCode = await main(process.argv.slice(2));
