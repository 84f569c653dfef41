#!/usr/bin/env node
// Builds what is not committed, from installed packages only (runs as `prepare` after `npm ci`,
// and as wrangler's build step before `wrangler dev` and `wrangler deploy`):
//  - dist/swagger-ui-bundle.txt and dist/swagger-ui-css.txt: Swagger UI's self-contained bundle
//    and its stylesheet (swagger-ui-dist), imported by the Worker as text modules (wrangler's
//    default rule for .txt) and served under /docs/swagger-ui/, so /docs loads nothing from a CDN;
//  - dist/meterline.mjs: the `meterline` CLI, bundled with esbuild so plain Node runs it.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// A direct devDependency, so npm installs it at the top of node_modules.
const swaggerUi = join(root, "node_modules", "swagger-ui-dist");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });
copyFileSync(join(swaggerUi, "swagger-ui-bundle.js"), join(dist, "swagger-ui-bundle.txt"));
copyFileSync(join(swaggerUi, "swagger-ui.css"), join(dist, "swagger-ui-css.txt"));

const { buildCli } = await import("./build-cli.mjs");
await buildCli();
