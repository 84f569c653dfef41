import { createApp } from "./app";
import { scheduled } from "./scheduled";

export { AllocationStreamObject } from "./objects/allocation-stream";
export { MetricObject } from "./objects/cloudthread-metrics";
export { StreamObject } from "./objects/cloudzero-stream";
export { CostConnectionObject } from "./objects/cost-connection";

const app = createApp();

/** HTTP requests go to the app; the Cron Trigger rolls old hourly cost up (src/scheduled.ts). */
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
