/// <reference types="vite/client" />
// The architecture, read from the imports alone: layers that only import downward, no cycles,
// and a CLI that shares the service's schemas and cost rules without its HTTP stack or storage.
import { describe, expect, it } from "vitest";

// Every source file's text, bundled by Vite at test time (workerd has no file system).
const SOURCES: Record<string, string> = {
	...import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }),
	...import.meta.glob("../cli/**/*.ts", { query: "?raw", import: "default", eager: true }),
};

/**
 * Lower layers never import higher ones. A file at the top of src/ (app.ts, index.ts) is the top.
 * cost/ (the cost rules: CBF rows, months, dimensions, unit cost) is pure: only lib/ is below it,
 * and the zod schemas that document its rules build on it.
 */
const LAYERS = ["lib", "cost", "schemas", "storage", "objects", "http", "auth", "routes", "(app)"] as const;

const files = Object.keys(SOURCES).map((key) => key.replace(/^\.\.\//, ""));

function layerOf(file: string): number {
	const folder = /^src\/([^/]+)\//.exec(file)?.[1] ?? "(app)";
	const layer = LAYERS.indexOf(folder as (typeof LAYERS)[number]);
	if (layer < 0) throw new Error(`${file} is in no layer: add its folder to LAYERS`);
	return layer;
}

/** The project files a file imports (relative specifiers only), resolved to paths. */
function importsOf(file: string): string[] {
	const text = SOURCES[`../${file}`];
	const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s+["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
	return specs.map((spec) => resolve(file, spec)).filter((target): target is string => target !== null);
}

function resolve(from: string, spec: string): string | null {
	const parts = from.split("/").slice(0, -1);
	for (const part of spec.split("/")) {
		if (part === "..") parts.pop();
		else if (part !== ".") parts.push(part);
	}
	const path = parts.join("/");
	for (const candidate of [path, `${path}.ts`, `${path}/index.ts`]) if (files.includes(candidate)) return candidate;
	return null; // not a TypeScript source (package.json, dist/ text modules)
}

describe("the import graph", () => {
	it("reads every source file", () => {
		expect(files.filter((f) => f.startsWith("src/")).length).toBeGreaterThan(40);
		expect(files.filter((f) => f.startsWith("cli/")).length).toBeGreaterThan(5);
	});

	it(`layers src/ as ${LAYERS.join(" < ")}: nothing imports a higher layer`, () => {
		const upward: string[] = [];
		for (const file of files.filter((f) => f.startsWith("src/"))) {
			for (const target of importsOf(file)) {
				if (target.startsWith("src/") && layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
			}
		}
		expect(upward).toEqual([]);
	});

	it("has no import cycles in src/ or cli/ (type-only imports included)", () => {
		const cycles: string[] = [];
		const state = new Map<string, "visiting" | "done">();
		const visit = (file: string, path: string[]) => {
			if (state.get(file) === "done") return;
			if (state.get(file) === "visiting") {
				cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
				return;
			}
			state.set(file, "visiting");
			for (const target of importsOf(file)) visit(target, [...path, file]);
			state.set(file, "done");
		};
		for (const file of files) visit(file, []);
		expect(cycles).toEqual([]);
	});

	// Everything the CLI reaches, transitively: so src/cost and src/schemas stay free of storage and HTTP too.
	it("lets the CLI share the service's helpers, cost rules and schemas (src/lib, src/cost, src/schemas), not its HTTP stack", () => {
		const reached = new Set<string>();
		const walk = (file: string) => {
			if (reached.has(file)) return;
			reached.add(file);
			for (const target of importsOf(file)) walk(target);
		};
		walk("cli/main.ts");
		const fromSrc = [...reached].filter((f) => f.startsWith("src/"));
		expect(fromSrc.length).toBeGreaterThan(0);
		expect(fromSrc.filter((f) => !/^src\/(lib|cost|schemas)\//.test(f))).toEqual([]);
		const packages = [...reached].flatMap((f) => [...SOURCES[`../${f}`].matchAll(/from\s+["']([^."'][^"']*)["']/g)].map((m) => m[1]));
		expect(packages.filter((p) => p === "hono" || p.startsWith("hono/") || p === "@hono/zod-openapi")).toEqual([]);
	});
});

describe("the benchmark's Worker entry", () => {
	it("exports every Durable Object class the service's entry does (wrangler refuses to start otherwise)", () => {
		const [service, bench] = [
			import.meta.glob("../src/index.ts", { query: "?raw", import: "default", eager: true })["../src/index.ts"] as string,
			import.meta.glob("../bench/worker-rtt.ts", { query: "?raw", import: "default", eager: true })["../bench/worker-rtt.ts"] as string,
		];
		const objects = [...service.matchAll(/export \{ (\w+Object) \}/g)].map((m) => m[1]);
		expect(objects.length).toBeGreaterThanOrEqual(3);
		for (const name of objects) expect(bench, name).toMatch(new RegExp(`export class ${name} extends`));
	});
});
