#!/usr/bin/env node
// The `meterline` command. Runs the CLI bundle built by `npm ci` / `npm install` (prepare script);
// builds it first if it is missing (e.g. after `npm ci --ignore-scripts`).
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { buildCli, CLI_BUNDLE } from "../scripts/build-cli.mjs";

if (!existsSync(CLI_BUNDLE)) await buildCli();
const { main } = await import(pathToFileURL(CLI_BUNDLE).href);
process.exitCode = await main(process.argv.slice(2));
