#!/usr/bin/env node
// Builds what is not committed, from installed packages only (runs as `prepare` after `npm ci`,
// and as wrangler's build step before `wrangler dev` and `wrangler deploy`):
//  - dist/scalar-standalone.txt: the Scalar API reference bundle, imported by the Worker as a
//    text module (wrangler's default rule for .txt) and served at /docs/scalar/standalone.js,
//    so /docs loads no script from a CDN;
//  - dist/meterline.mjs: the `meterline` CLI, bundled with esbuild so plain Node runs it.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// A direct devDependency, so npm installs it at the top of node_modules (its exports map hides package.json).
const scalar = join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");
const scalarTarget = join(root, "dist", "scalar-standalone.txt");
mkdirSync(dirname(scalarTarget), { recursive: true });
copyFileSync(scalar, scalarTarget);

const { buildCli } = await import("./build-cli.mjs");
await buildCli();
