// zod with the .openapi() metadata the OpenAPI document is generated from. The schemas take z
// from here rather than from @hono/zod-openapi (the same zod, extended the same way), which
// would also pull in Hono: the CLI validates files with these schemas and bundles no HTTP stack.
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

extendZodWithOpenApi(z);

export { z };
