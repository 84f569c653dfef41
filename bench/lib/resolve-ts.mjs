// Loaded with `node --import` by `npm run bench`: lib/raw-sqlite.mjs runs the service's own SQL
// (src/storage/*.ts, type-stripped by Node), whose relative imports have no extension, as the
// bundler expects. This resolves such an import from a .ts file to the .ts file.
import { register } from "node:module";

const hook = `export async function resolve(specifier, context, next) {
	try {
		return await next(specifier, context);
	} catch (err) {
		if (err?.code === "ERR_MODULE_NOT_FOUND" && /^\\.\\.?\\//.test(specifier) && context.parentURL?.endsWith(".ts")) return next(specifier + ".ts", context);
		throw err;
	}
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
