import { createApp } from "./app";

export { StreamObject } from "./stream/stream-object";

export default createApp() satisfies ExportedHandler<Env>;
