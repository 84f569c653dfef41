// Runs in Node before the workerd suite: validates the app's OpenAPI document with the offline
// validator, which needs Node (it reads its JSON Schemas from disk and compiles them deeper than
// workerd's stack allows). test/service-openapi.test.ts then checks that the document the Worker serves
// is this same document.

import { readFileSync } from "node:fs";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { TestProject } from "vitest/node";
import { createApp } from "../src/app";
import { RATE_LIMITS } from "../src/schemas/config";

export interface OpenApiValidation {
	document: Record<string, unknown>;
	valid: boolean;
	version: string | undefined;
	errors: string;
	/** What Redocly's linter (the engine of `npx @redocly/cli lint`) finds with its recommended rules. */
	lint: Array<{ severity: string; rule: string; message: string; where: string }>;
	/** The rules the linter reports for the same document without info.license: proves it runs. */
	lintWithoutLicense: string[];
}

declare module "vitest" {
	export interface ProvidedContext {
		openApiValidation: OpenApiValidation;
	}
}

/**
 * The platform's rate limiting bindings cannot report their settings, so the service states them
 * in src/schemas/config.ts; the two must agree with wrangler.toml's [[ratelimits]].
 */
function checkRateLimitsAgreeWithWranglerToml() {
	const toml = readFileSync("wrangler.toml", "utf8");
	const blocks = [...toml.matchAll(/\[\[ratelimits\]\]\s*\nname = "([A-Z_]+)"[^[]*?simple = \{ limit = (\d+), period = (\d+) \}/g)];
	const inToml = Object.fromEntries(
		blocks.map(([, name, limit, period]) => [name, { limit: Number(limit), periodSeconds: Number(period) }]),
	);
	if (JSON.stringify(inToml) !== JSON.stringify(RATE_LIMITS)) {
		throw new Error(
			`wrangler.toml [[ratelimits]] ${JSON.stringify(inToml)} differ from RATE_LIMITS in src/schemas/config.ts ${JSON.stringify(RATE_LIMITS)}`,
		);
	}
}

export default async function setup(project: TestProject) {
	checkRateLimitsAgreeWithWranglerToml();
	// The document route needs no bindings, so the app answers it outside workerd too
	// (its one-line request log is muted here, as in the suite).
	const log = console.log;
	console.log = () => {};
	const res = await Promise.resolve(createApp().request("http://meterline.test/openapi.json")).finally(() => (console.log = log));
	const document = (await res.json()) as Record<string, unknown>;
	const validator = new Validator();
	const result = await validator.validate(structuredClone(document));
	const config = await createConfig({ extends: ["recommended"] });
	const lint = (doc: Record<string, unknown>) => lintFromString({ source: JSON.stringify(doc), absoluteRef: "openapi.json", config });
	const problems = await lint(document);
	// The same document without its licence: proves the linter ran and would report a warning.
	const unlicensed = await lint({ ...document, info: { ...(document.info as object), license: undefined } });
	project.provide("openApiValidation", {
		document,
		valid: result.valid,
		version: validator.version,
		errors: result.valid ? "" : JSON.stringify(result.errors, null, 1).slice(0, 4000),
		lint: problems.map((p) => ({ severity: p.severity, rule: p.ruleId, message: p.message, where: p.location[0]?.pointer ?? "" })),
		lintWithoutLicense: unlicensed.map((p) => p.ruleId),
	});
}
