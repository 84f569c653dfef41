import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";

type WithoutBody<R extends RouteConfig> = Omit<R, "request"> & { request: Omit<NonNullable<R["request"]>, "body">; hide: true };

/**
 * For a route whose handler reads its own body (size limits first, then every record's problems
 * at once, with the service's error codes): lists the whole route, body schema included, in the
 * OpenAPI document, and returns the route to register its handler with, whose router-side
 * validation skips the body. Pass the result to app.openapi().
 */
export function withOwnBody<R extends RouteConfig>(app: OpenAPIHono<AppEnv>, route: R): WithoutBody<R> {
	// middleware is Hono's, not OpenAPI's: the document must not carry it.
	const { middleware: _honoOnly, ...documented } = route;
	app.openAPIRegistry.registerPath(documented as RouteConfig);
	const { body: _readByTheHandler, ...request } = route.request ?? {};
	return { ...route, request, hide: true } as WithoutBody<R>;
}
