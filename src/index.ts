import { createApp } from "./app";

export { MetricObject } from "./stream/metric-object";
export { StreamObject } from "./stream/stream-object";

export default createApp() satisfies ExportedHandler<Env>;
