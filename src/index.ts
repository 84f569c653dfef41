import { createApp } from "./app";

export { CostConnectionObject } from "./objects/cost-connection";
export { MetricObject } from "./objects/cloudthread-metrics";
export { StreamObject } from "./objects/cloudzero-stream";

export default createApp() satisfies ExportedHandler<Env>;
