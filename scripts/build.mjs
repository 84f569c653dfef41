#!/usr/bin/env node
// Builds what is not committed, from installed packages only (runs as `prepare` after `npm ci`,
// and as wrangler's build step before `wrangler dev` and `wrangler deploy`):
//  - public/docs/scalar/standalone.js: the Scalar API reference bundle, served by Workers static
//    assets so /docs loads no script from a CDN (4 MB: too big to ship inside the Worker script);
//  - dist/meterline.mjs: the `meterline` CLI, bundled with esbuild so plain Node runs it.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// A direct devDependency, so npm installs it at the top of node_modules (its exports map hides package.json).
const scalar = join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");
const scalarTarget = join(root, "public", "docs", "scalar", "standalone.js");
mkdirSync(dirname(scalarTarget), { recursive: true });
copyFileSync(scalar, scalarTarget);

const { buildCli } = await import("./build-cli.mjs");
await buildCli();
