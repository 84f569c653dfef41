// The OpenAPI document: valid OpenAPI 3.1, exactly the app's routes, and examples that really work.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../src/app";
import { ERROR_CATALOG, ERROR_CODES } from "../src/lib/error-catalog";
import { DOCS_PATH, DOCS_SCRIPT_PATH, DOCS_STYLESHEET_PATH } from "../src/routes/docs/docs-page";
import { OPENAPI_PATH } from "../src/routes/docs/openapi";
import { INDEX_PATH, MAIN_PATHS } from "../src/routes/docs/service-index";
import { ErrorResponseSchema } from "../src/schemas/errors";
import { type AllocationOp, allocate, postTelemetry } from "./allocation-helpers";
import { api, createToken, expectAccepted, json, type Op, uniqueOrg, write } from "./helpers";

type Operation = {
	security?: Record<string, string[]>[];
	parameters?: { name: string; in: string }[];
	requestBody?: { content: Record<string, { schema?: unknown; example?: unknown; examples?: Record<string, { value: unknown }> }> };
	responses: Record<
		string,
		{ content?: Record<string, { schema?: { $ref?: string }; example?: unknown }>; headers?: Record<string, unknown> }
	>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; servers?: { url: string }[] };

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

let doc: Document;
beforeAll(async () => {
	const res = await api("/openapi.json");
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toMatch(/^application\/json/);
	doc = await res.json();
});

/** Every (method, path) of the document, as "GET /a/{b}". */
function documentedOperations(): string[] {
	return Object.entries(doc.paths).flatMap(([path, item]) =>
		Object.keys(item)
			.filter((method) => HTTP_METHODS.has(method))
			.map((method) => `${method.toUpperCase()} ${path}`),
	);
}

function operations(): [string, Operation][] {
	return Object.entries(doc.paths).flatMap(([path, item]) =>
		Object.entries(item)
			.filter(([method]) => HTTP_METHODS.has(method))
			.map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]),
	);
}

describe("GET /openapi.json", () => {
	it("is a valid OpenAPI 3.1 document (offline validator: JSON Schema of OpenAPI 3.1, then every $ref)", () => {
		// Validated in Node by openapi-validation.global-setup.ts; this is the document the Worker serves.
		const validation = inject("openApiValidation");
		expect(validation.errors).toBe("");
		expect(validation.valid).toBe(true);
		expect(validation.version).toBe("3.1");
		expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
		expect({ ...doc, servers: undefined }).toEqual({ ...validation.document, servers: undefined });
	});

	it("lints clean with Redocly's recommended rules (what `npx @redocly/cli lint` runs), errors and warnings alike", () => {
		// Linted in Node by openapi-validation.global-setup.ts: nothing is accepted, not even a warning.
		const { lint, lintWithoutLicense } = inject("openApiValidation");
		expect(lint).toEqual([]);
		expect(lintWithoutLicense).toEqual(["info-license"]); // the linter ran, and reports warnings
	});

	it("states its licence, as package.json and LICENSE do", () => {
		expect((doc as unknown as { info: { license?: unknown } }).info.license).toEqual({
			name: "Apache-2.0",
			url: "https://www.apache.org/licenses/LICENSE-2.0",
		});
	});

	it("gives every operation an operationId, unique, and its security (the body token of /streams/ingest included)", () => {
		const ids = operations().map(([, op]) => (op as { operationId?: string }).operationId);
		expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
		expect(new Set(ids).size).toBe(ids.length);
		for (const [name, op] of operations()) expect(op.security?.length, name).toBeGreaterThan(0);
		expect(doc.paths["/streams/ingest"].post.security).toEqual([{ dataStreamToken: [] }]);
	});

	it("lists the service's closed set of error codes, each with its status and meaning, for bodies and details alike", () => {
		const schemas = (doc as unknown as { components: { schemas: Record<string, any> } }).components.schemas;
		const code = schemas.ErrorResponse.properties.error.properties.code;
		expect(code.enum).toEqual(ERROR_CODES);
		expect(schemas.ErrorDetail.properties.code.enum).toEqual(ERROR_CODES);
		for (const c of ERROR_CODES) expect(code.description, c).toContain(`| \`${c}\` | ${ERROR_CATALOG[c][0]} | `);
		// Every documented error response's status is a status some code of the catalog has.
		const statuses = new Set(Object.values(ERROR_CATALOG).map(([status]) => String(status)));
		for (const [name, op] of operations()) {
			for (const status of Object.keys(op.responses))
				if (Number(status) >= 400) expect(statuses.has(status), `${name} ${status}`).toBe(true);
		}
	});

	it("documents exactly the routes the app serves, no more and no fewer", () => {
		// Derived from the router itself: a route added anywhere (e.g. another API family) must be documented.
		// The documentation routes serve the document, its page and the index at /; they are no API operations.
		const docsRoutes = new Set([OPENAPI_PATH, DOCS_PATH, DOCS_SCRIPT_PATH, DOCS_STYLESHEET_PATH, INDEX_PATH]);
		const served = createApp()
			.routes.filter((route) => route.method !== "ALL" && !docsRoutes.has(route.path)) // app.use() middleware
			.map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}")}`);
		// A route's middleware and validators are router entries of their own: compare the sets.
		const servedOperations = [...new Set(served)].sort();
		expect(servedOperations.length).toBeGreaterThan(10);
		expect(servedOperations).toEqual(documentedOperations().sort());
	});

	it("GET / answers a JSON index: the service, its version, links to /docs and /openapi.json, and main paths the document has", async () => {
		const res = await api("/");
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^application\/json/);
		const index = await res.json<{ service: string; version: string; docs: string; openapi: string; paths: Record<string, string> }>();
		expect(index.service).toBe("Meterline");
		expect(index.version).toBe((doc as unknown as { info: { version: string } }).info.version);
		expect(index.docs).toBe("http://meterline.test/docs");
		expect(index.openapi).toBe("http://meterline.test/openapi.json");
		expect(index.paths).toEqual(MAIN_PATHS);
		for (const path of Object.values(index.paths)) expect(Object.keys(doc.paths), path).toContain(path);
		expect((await api(index.docs.replace("http://meterline.test", ""))).status).toBe(200);
	});

	it("points its server at the deployment it was fetched from", () => {
		expect(doc.servers).toEqual([{ url: "http://meterline.test" }]);
	});

	it("gives every error response the one error schema, with an example body of that shape", () => {
		let errorResponses = 0;
		for (const [name, op] of operations()) {
			for (const [status, response] of Object.entries(op.responses)) {
				if (Number(status) < 400) continue;
				errorResponses++;
				const media = response.content?.["application/json"];
				expect(media?.schema?.$ref, `${name} ${status}`).toBe("#/components/schemas/ErrorResponse");
				expect(ErrorResponseSchema.safeParse(media?.example).success, `${name} ${status} example`).toBe(true);
			}
		}
		expect(errorResponses).toBeGreaterThan(40);
	});

	it("documents authentication, rate limits and Retry-After on every endpoint that takes a stream token", () => {
		const streamTokenOps = operations().filter(([, op]) => op.security?.some((s) => "apiKey" in s));
		expect(streamTokenOps.length).toBeGreaterThanOrEqual(8);
		for (const [name, op] of streamTokenOps) {
			expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(["403", "429"]));
			expect(Object.keys(op.responses["429"].headers ?? {}), name).toEqual(expect.arrayContaining(["Retry-After", "RateLimit-Limit"]));
		}
		const adminOps = operations().filter(([, op]) => op.security?.some((s) => "adminToken" in s));
		expect(adminOps.length).toBe(5); // tokens (3) and custom dimensions (2)
	});

	it("documents the Idempotency-Key header and the 409/413/415/429 answers of every write endpoint", () => {
		const writes = operations().filter(
			([name]) => name.startsWith("POST /unit-cost/") || name.startsWith("DELETE /unit-cost/") || name.startsWith("POST /v2/"),
		);
		// CloudZero metric telemetry (5), allocation telemetry (6 with the oldest POST /unit-cost/v1/telemetry), billing drops.
		expect(writes.length).toBe(12);
		for (const [name, op] of writes) {
			expect(
				op.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key"),
				name,
			).toBe(true);
			expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(["200", "400", "403", "409", "413", "415", "429", "503"]));
			expect(Object.keys(op.responses["200"].headers ?? {}), name).toContain("Idempotent-Replayed");
		}
		const sum = doc.paths["/unit-cost/v1/telemetry/metric/{name}/sum"].post;
		expect(sum.responses["409"].content?.["application/json"].example).toMatchObject({ error: { code: "idempotency_key_reused" } });
	});

	it("documents the ingest log and the admin token endpoints", () => {
		expect(Object.keys(doc.paths)).toEqual(
			expect.arrayContaining(["/unit-cost/v1/telemetry/metric/{name}/log", "/admin/v1/tokens", "/admin/v1/tokens/{id}"]),
		);
		expect(Object.keys(doc.paths["/admin/v1/tokens"]).sort()).toEqual(["get", "post"]);
	});
});

describe("the request examples of the document", () => {
	let token: string;
	beforeAll(async () => {
		({ token } = await createToken(uniqueOrg("openapi")));
	});

	function examplesOf(path: string, method = "post"): [string, { records: Record<string, unknown>[] }][] {
		const media = doc.paths[path][method].requestBody?.content["application/json"];
		return Object.entries(media?.examples ?? {}).map(([name, example]) => [name, example.value as { records: Record<string, unknown>[] }]);
	}

	it("has the seeds' examples on every value write, each accepted as documented", async () => {
		const variants: [Op, string][] = [
			["legacy", "/unit-cost/v1/telemetry/metric/{name}"],
			["sum", "/unit-cost/v1/telemetry/metric/{name}/sum"],
			["replace", "/unit-cost/v1/telemetry/metric/{name}/replace"],
		];
		for (const [op, path] of variants) {
			const examples = examplesOf(path);
			expect(examples.length, path).toBeGreaterThanOrEqual(4);
			for (const [name, body] of examples) {
				// One stream per example: each fixes its own dimension keys.
				await expectAccepted(await write(token, `example-${op}-${name}`, op, body), body.records.length);
			}
		}
	});

	it("has delete examples, each accepted on a stream holding the matching data", async () => {
		const examples = examplesOf("/unit-cost/v1/telemetry/metric/{name}/delete");
		expect(examples.length).toBeGreaterThanOrEqual(2);
		for (const [name, body] of examples) {
			const stream = `example-delete-${name}`;
			await expectAccepted(await write(token, stream, "sum", { records: body.records.map((r) => ({ ...r, value: 1 })) }));
			const deleted = await expectAccepted(await write(token, stream, "delete", body), body.records.length);
			expect(deleted.series_deleted, name).toBeGreaterThan(0);
		}
	});

	it("has allocation examples on every allocation write, each accepted as documented (deletes on a stream holding their data)", async () => {
		const variants: [AllocationOp, string][] = [
			["bare", "/unit-cost/v1/telemetry/allocation/{name}"],
			["sum", "/unit-cost/v1/telemetry/allocation/{name}/sum"],
			["replace", "/unit-cost/v1/telemetry/allocation/{name}/replace"],
		];
		for (const [op, path] of variants) {
			const examples = examplesOf(path);
			expect(examples.length, path).toBeGreaterThanOrEqual(4);
			// One stream per example: each fixes its own granularity and filter keys.
			for (const [name, body] of examples)
				await expectAccepted(await allocate(token, `alloc-${op}-${name}`, op, body), body.records.length);
		}
		const legacy = examplesOf("/unit-cost/v1/telemetry");
		expect(legacy.length).toBeGreaterThanOrEqual(2);
		for (const [, body] of legacy) await expectAccepted(await postTelemetry(token, body), body.records.length);
		const deletes = examplesOf("/unit-cost/v1/telemetry/allocation/{name}/delete");
		expect(deletes.length).toBeGreaterThanOrEqual(2);
		for (const [name, body] of deletes) {
			const stream = `alloc-delete-${name}`;
			const records = body.records.map((r) => ({ element_name: "customer-42", ...r, value: 1 }));
			await expectAccepted(await allocate(token, stream, "sum", { records }));
			const deleted = await expectAccepted(await allocate(token, stream, "delete", body), body.records.length);
			expect(deleted.values_deleted, name).toBeGreaterThan(0);
		}
	});

	it("has Cloudthread ingest examples, each accepted with a real token in data_stream_token", async () => {
		const media = doc.paths["/streams/ingest"].post.requestBody?.content["application/json"];
		const examples = Object.entries(media?.examples ?? {});
		expect(examples.length).toBeGreaterThanOrEqual(2);
		for (const [name, example] of examples) {
			const body = { ...(example.value as Record<string, unknown>), data_stream_token: token };
			const res = await api("/streams/ingest", json("POST", body));
			expect(res.status, `${name}: ${await res.clone().text()}`).toBe(201);
		}
	});
});

describe("GET /docs", () => {
	it("is an HTML page that renders /openapi.json with the Swagger UI bundle and stylesheet this Worker serves (no CDN)", async () => {
		const res = await api("/docs");
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		const html = await res.text();
		const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
		expect(scripts).toEqual(["/docs/swagger-ui/swagger-ui-bundle.js"]);
		const stylesheets = [...html.matchAll(/<link[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]);
		expect(stylesheets).toEqual(["/docs/swagger-ui/swagger-ui.css"]);
		// The inline script starts Swagger UI on this Worker's document, without the validator badge.
		const start = /<script nonce="[^"]+">SwaggerUIBundle\((\{.*\})\);<\/script>/.exec(html);
		expect(start).not.toBeNull();
		expect(JSON.parse(start![1])).toMatchObject({
			url: "/openapi.json",
			dom_id: "#swagger-ui",
			validatorUrl: null,
			queryConfigEnabled: false,
		});
		expect(html).not.toMatch(/https?:\/\//);

		const script = await api("/docs/swagger-ui/swagger-ui-bundle.js");
		expect(script.status).toBe(200);
		expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		const source = await script.text();
		expect(source.length).toBeGreaterThan(1_000_000);
		expect(source).toContain("SwaggerUIBundle");

		const css = await api("/docs/swagger-ui/swagger-ui.css");
		expect(css.status).toBe(200);
		expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
		expect(await css.text()).toContain(".swagger-ui");
	});
});
