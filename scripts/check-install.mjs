#!/usr/bin/env node
// `npm test`'s pretest step: before anything runs from node_modules (wrangler, tsc, vitest), says
// what to run when `npm ci` has not run or is stale, instead of "wrangler: not found". The same
// check as `npm start` (scripts/lib/preflight.mjs); node: built-ins only, so it runs on Node 20
// before `npm ci`. Usage: node scripts/check-install.mjs "<the command the user ran>".
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkInstall } from "./lib/preflight.mjs";

checkInstall(join(fileURLToPath(new URL(".", import.meta.url)), ".."), process.argv[2] ?? "npm test");
