// Placement: stream, allocation stream, metric and cost connection objects are created next to the D1 database, named by one
// setting (wrangler.toml [vars] D1_LOCATION, also the --location of `wrangler d1 create`).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allocationStreamObject } from "../src/objects/allocation-stream-protocol";
import { metricObject } from "../src/objects/cloudthread-metrics-protocol";
import { streamObject } from "../src/objects/cloudzero-stream-protocol";
import { connectionObject } from "../src/objects/cost-connection-protocol";
import { configOf } from "../src/schemas/config";

/** A Durable Object namespace that records what get() was asked. */
function fakeNamespace() {
	const calls: Array<{ name: string; options: unknown }> = [];
	const namespace = {
		idFromName: (name: string) => ({ name }),
		get: (id: { name: string }, options?: unknown) => {
			calls.push({ name: id.name, options });
			return { id };
		},
	};
	return { calls, namespace };
}

describe("placement", () => {
	it("wrangler.toml names a D1 location, parsed into the configuration", () => {
		expect(env.D1_LOCATION).toBe("weur");
		expect(configOf(env).d1Location).toBe("weur");
	});

	it("stream, allocation stream, metric and cost connection objects get the D1 location as their locationHint", () => {
		for (const location of ["enam", "apac"]) {
			const stream = fakeNamespace();
			const metric = fakeNamespace();
			const costs = fakeNamespace();
			const allocation = fakeNamespace();
			const fake = {
				...env,
				D1_LOCATION: location,
				STREAM: stream.namespace,
				METRIC: metric.namespace,
				COSTS: costs.namespace,
				ALLOCATION: allocation.namespace,
			} as unknown as Env;
			streamObject(fake, "acme", "costs");
			metricObject(fake, "acme", "Sum");
			connectionObject(fake, "acme", "aws");
			allocationStreamObject(fake, "acme", "rds-writes");
			expect(stream.calls).toEqual([{ name: "acme/costs", options: { locationHint: location } }]);
			expect(metric.calls).toEqual([{ name: "acme/Sum", options: { locationHint: location } }]);
			expect(costs.calls).toEqual([{ name: "acme/aws", options: { locationHint: location } }]);
			expect(allocation.calls).toEqual([{ name: "acme/rds-writes", options: { locationHint: location } }]);
		}
	});

	it("a bad or missing D1_LOCATION fails clearly, naming the setting", () => {
		for (const bad of ["mars", "", undefined, "WEUR", "sam"]) {
			expect(() => configOf({ ...env, D1_LOCATION: bad } as unknown as Env), String(bad)).toThrow(
				/Invalid configuration.*D1_LOCATION.*wnam, enam, weur, eeur, apac, oc/,
			);
		}
	});
});
