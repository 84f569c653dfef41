// The authentication, scope and tenant matrix, generated from /openapi.json: every operation the
// document lists (those to come included) is called with no credential, a wrong one, a token
// without the scope its security requirement names, and another organization's token, and must
// refuse each as documented and leave the first organization's data untouched.
import { beforeAll, describe, expect, it } from "vitest";
import { allocate } from "./allocation-helpers";
import { ingest, ingestBody, point, send } from "./cloudthread-helpers";
import { ADMIN, api, createToken, expectAccepted, storageSnapshot, uniqueOrg, write } from "./helpers";

type Operation = {
	operationId: string;
	security: Record<string, string[]>[];
	parameters?: {
		name: string;
		in: string;
		required?: boolean;
		example?: unknown;
		schema?: { example?: unknown; default?: unknown; enum?: unknown[] };
	}[];
	requestBody?: { content: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> };
};
type Document = { paths: Record<string, Record<string, Operation>> };

const SCOPES = ["write", "read", "delete_stream", "write_costs"] as const;
const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch"]);

let doc: Document;
const owner = { org: "", tokens: {} as Record<string, string>, all: "" };
let stranger: string;
let fixtures: Record<string, string>;

beforeAll(async () => {
	doc = await (await api("/openapi.json")).json();
	owner.org = uniqueOrg("matrix-owner");
	owner.all = (await createToken(owner.org, [...SCOPES])).token;
	// For each scope, a token of the owner that has every scope but that one.
	for (const scope of SCOPES)
		owner.tokens[scope] = (
			await createToken(
				owner.org,
				SCOPES.filter((s) => s !== scope),
			)
		).token;
	stranger = (await createToken(uniqueOrg("matrix-stranger"), [...SCOPES])).token;
	// The owner's data, which every call below addresses by name.
	await expectAccepted(
		await write(owner.all, "matrix-stream", "sum", {
			records: [{ timestamp: "2023-12-07", value: 7, associated_cost: { "custom:Client": "Patric Star" } }],
		}),
	);
	await expectAccepted(
		await allocate(owner.all, "matrix-stream", "sum", {
			records: [
				{
					timestamp: "2023-12-07",
					granularity: "DAILY",
					filter: { "custom:Client": ["Patric Star"] },
					element_name: "Patric Star",
					value: 7,
				},
			],
		}),
	);
	await send(owner.all, "Sum", [point("2022-10-01 00:00:00", "active_users", 3)]);
	const { id } = await createToken(owner.org, ["read"]);
	fixtures = { name: "matrix-stream", metric_name: "active_users", id, org: owner.org, agg: "Sum" };
});

/** Every operation of the document, with a request that is valid but for its credential. */
function operations() {
	return Object.entries(doc.paths).flatMap(([path, item]) =>
		Object.entries(item)
			.filter(([method]) => HTTP_METHODS.has(method))
			.map(([method, op]) => {
				const query = new URLSearchParams();
				for (const p of op.parameters ?? []) {
					if (p.in === "query" && (p.required || p.name in fixtures))
						query.set(p.name, String(fixtures[p.name] ?? p.example ?? p.schema?.example ?? p.schema?.enum?.[0]));
				}
				const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(fixtures[name])) + (query.size ? `?${query}` : "");
				const media = op.requestBody?.content["application/json"];
				const body = media?.example ?? Object.values(media?.examples ?? {})[0]?.value;
				const [scheme, roles] = Object.entries(op.security[0])[0];
				return {
					name: `${method.toUpperCase()} ${path}`,
					method: method.toUpperCase(),
					url,
					body,
					scheme,
					scope: roles[0] as (typeof SCOPES)[number] | undefined,
					op,
				};
			}),
	);
}

type Call = ReturnType<typeof operations>[number];

/** The call with a stream token in Authorization, or in the body for the Cloudthread scheme. */
function call(c: Call, token: string | undefined, extraHeaders: Record<string, string> = {}): Promise<Response> {
	const headers: Record<string, string> = { ...extraHeaders };
	let body = c.body;
	if (c.scheme === "dataStreamToken") body = { ...(body as object), data_stream_token: token };
	else if (token !== undefined) headers.Authorization = c.scheme === "adminToken" ? `Bearer ${token}` : token;
	if (body !== undefined) headers["Content-Type"] = "application/json";
	return api(c.url, { method: c.method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function errorCode(res: Response): Promise<string> {
	return (await res.json<{ error?: { code: string } }>()).error?.code ?? `(status ${res.status}, no error)`;
}

describe("the matrix covers the document", () => {
	it("every operation names one security scheme, and every stream-token operation the scope it needs", () => {
		const calls = operations();
		expect(calls.length).toBeGreaterThanOrEqual(23);
		// The allocation telemetry operations are among them (issue 19).
		expect(calls.filter((c) => c.name.includes("/telemetry/allocation") || c.name === "POST /unit-cost/v1/telemetry")).toHaveLength(9);
		for (const c of calls) {
			expect(["apiKey", "dataStreamToken", "adminToken"], c.name).toContain(c.scheme);
			if (c.scheme === "apiKey") expect(SCOPES, c.name).toContain(c.scope);
		}
	});
});

describe("each operation, from the document", () => {
	it("refuses a missing, malformed or unknown credential with its documented answer, changing nothing", async () => {
		const before = await storageSnapshot();
		for (const c of operations()) {
			for (const token of [undefined, "", "mlt_unknown-token", "Bearer"]) {
				const res = await call(c, token);
				const code = await errorCode(res);
				if (c.scheme === "dataStreamToken") {
					// Cloudthread: a missing or empty token is a 400 of the body; an unknown one is "no stream found".
					expect([400, 404], `${c.name} ${token}`).toContain(res.status);
					expect(code, `${c.name} ${token}`).toBe(
						res.status === 400 ? (token === undefined ? "missing_field" : "invalid_type") : "no_stream_found",
					);
				} else {
					expect(res.status, `${c.name} ${token}`).toBe(403);
					expect(code, `${c.name} ${token}`).toBe("not_authorized");
				}
			}
		}
		expect(await storageSnapshot()).toBe(before);
	});

	it("refuses a stream token without the scope the operation names (403 insufficient_scope), changing nothing", async () => {
		const before = await storageSnapshot();
		for (const c of operations().filter((c) => c.scheme !== "adminToken")) {
			const scope = c.scope ?? "write"; // the Cloudthread body token needs write
			const res = await call(c, owner.tokens[scope]);
			expect(res.status, c.name).toBe(403);
			expect(await errorCode(res), c.name).toBe("insufficient_scope");
		}
		expect(await storageSnapshot()).toBe(before);
	});

	it("never lets another organization's token read or change the owner's data", async () => {
		const ownerView = async () => {
			const reads = await Promise.all([
				api("/unit-cost/v1/telemetry/metric/matrix-stream", { headers: { Authorization: owner.all } }).then((r) => r.text()),
				api("/unit-cost/v1/telemetry/allocation/matrix-stream", { headers: { Authorization: owner.all } }).then((r) => r.text()),
				api("/streams/metrics/active_users?agg=Sum&granularity=hour", { headers: { Authorization: owner.all } }).then((r) => r.text()),
			]);
			return reads.join("\n");
		};
		const before = await ownerView();
		// Reads first: before the stranger's own writes create streams of the same names.
		const calls = operations().filter((c) => c.scheme !== "adminToken");
		for (const c of [...calls.filter((c) => c.method === "GET"), ...calls.filter((c) => c.method !== "GET")]) {
			const res = await call(c, stranger);
			const text = await res.text();
			// What it reads is its own organization's: never the owner's values or names.
			expect(text, c.name).not.toContain("Patric Star");
			expect(text, c.name).not.toContain(owner.org);
			if (c.method === "GET" && /\{(name|metric_name)\}/.test(c.name)) expect(res.status, c.name).toBe(404);
		}
		expect(await ownerView()).toBe(before);
		// And the stranger's writes landed in the stranger's organization (its stream deletion included).
		const log = await api("/unit-cost/v1/telemetry/metric/matrix-stream/log", { headers: { Authorization: stranger } });
		const logged = (await log.json<{ entries: Array<{ operation: string }> }>()).entries.map((e) => e.operation);
		expect(logged).toEqual(expect.arrayContaining(["sum", "replace", "delete_stream"]));
		const allocationLog = await api("/unit-cost/v1/telemetry/allocation/matrix-stream/log", { headers: { Authorization: stranger } });
		const allocationLogged = (await allocationLog.json<{ entries: Array<{ operation: string }> }>()).entries.map((e) => e.operation);
		expect(allocationLogged).toEqual(expect.arrayContaining(["sum", "replace", "delete_stream"]));
	});

	it("Cloudthread's body token of another organization writes there, never here", async () => {
		const res = await ingest(ingestBody(stranger, "Sum", [point("2022-10-01 00:00:00", "active_users", 1000)]));
		expect(res.status).toBe(201);
		const mine = await api("/streams/metrics/active_users?agg=Sum", { headers: { Authorization: owner.all } });
		expect((await mine.json<{ data: Array<{ metric_value: string }> }>()).data.map((p) => p.metric_value)).toEqual(["3"]);
	});
	// Last: these calls change the owner's data (a stream deletion among them).
	it("admits the right credential (the matrix's requests are otherwise valid)", async () => {
		for (const c of operations()) {
			const res = await call(c, c.scheme === "adminToken" ? ADMIN.Authorization.replace("Bearer ", "") : owner.all, {
				"Idempotency-Key": `matrix-${crypto.randomUUID()}`,
			});
			expect(res.status, `${c.name}: ${res.status} ${await res.clone().text()}`).toBeLessThan(500);
			expect([401, 403], c.name).not.toContain(res.status);
		}
	});
});
