import { createApp } from "./app";

export { MetricObject } from "./objects/cloudthread-metrics";
export { StreamObject } from "./objects/cloudzero-stream";

export default createApp() satisfies ExportedHandler<Env>;
