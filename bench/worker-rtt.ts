// The benchmark's Worker entry for a simulated distance to D1 (`npm run bench -- --d1-rtt-ms`):
// the service's app and Durable Objects from src/, with env.DB replaced by a D1Database that
// waits D1_RTT_MS milliseconds before every round trip, in the Worker and in every object.
// `wrangler dev bench/worker-rtt.ts` runs it with wrangler.toml's bindings and migrations; the
// production bundle (src/index.ts) contains none of this.
import { createApp } from "../src/app";
import { AllocationStreamObject as ServiceAllocationStreamObject } from "../src/objects/allocation-stream";
import { MetricObject as ServiceMetricObject } from "../src/objects/cloudthread-metrics";
import { StreamObject as ServiceStreamObject } from "../src/objects/cloudzero-stream";
import { CostConnectionObject as ServiceCostConnectionObject } from "../src/objects/cost-connection";
import { scheduled } from "../src/scheduled";
import { type Around, fixedDelay, interposeD1 } from "./worker/d1-interpose";

const distant = new WeakMap<Env, Env>();

/** env with DB `D1_RTT_MS` away (one wrapped env per env object, so the app's per-env caches hold). */
function distantEnv(env: Env): Env {
	let wrapped = distant.get(env);
	if (!wrapped) {
		const ms = Number((env as unknown as { D1_RTT_MS?: string }).D1_RTT_MS ?? 0);
		if (!Number.isFinite(ms) || ms < 0) throw new Error(`D1_RTT_MS must be a number of milliseconds ≥ 0, not ${ms}`);
		const delay = fixedDelay(ms);
		// --var D1_RTT_LOG:1 logs each round trip's kind (first, all, run, raw, batch, exec) to see what a request costs.
		const around: Around = (env as unknown as { D1_RTT_LOG?: string }).D1_RTT_LOG
			? (kind, go) => {
					console.warn(`d1-rtt ${kind}`);
					return delay(kind, go);
				}
			: delay;
		wrapped = { ...env, DB: interposeD1(env.DB, around) };
		distant.set(env, wrapped);
	}
	return wrapped;
}

export class StreamObject extends ServiceStreamObject {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, distantEnv(env));
	}
}

export class AllocationStreamObject extends ServiceAllocationStreamObject {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, distantEnv(env));
	}
}

export class MetricObject extends ServiceMetricObject {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, distantEnv(env));
	}
}

export class CostConnectionObject extends ServiceCostConnectionObject {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, distantEnv(env));
	}
}

const app = createApp();

export default {
	fetch: (request, env, ctx) => app.fetch(request, distantEnv(env), ctx),
	scheduled: (controller, env, ctx) => scheduled(controller, distantEnv(env), ctx),
} satisfies ExportedHandler<Env>;
