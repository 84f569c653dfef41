import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ADMIN = { Authorization: "Bearer test-admin-token" };

export function api(path: string, init: RequestInit = {}): Promise<Response> {
	return exports.default.fetch(new Request(`http://meterline.test${path}`, init));
}

export function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
	return {
		method,
		headers: { "Content-Type": "application/json", ...headers },
		body: typeof body === "string" ? body : JSON.stringify(body),
	};
}

let orgCounter = 0;
/** A fresh organization name per call, so tests never see each other's streams. */
export function uniqueOrg(prefix = "org"): string {
	return `${prefix}-${Date.now().toString(36)}-${++orgCounter}`;
}

export async function createToken(org: string, scopes = ["write", "read", "delete_stream"]): Promise<{ id: string; token: string }> {
	const res = await api("/admin/v1/tokens", json("POST", { org, name: "test", scopes }, ADMIN));
	expect(res.status).toBe(201);
	return res.json();
}

export type Op = "sum" | "replace" | "delete" | "legacy";

export function write(token: string, stream: string, op: Op, body: unknown, headers: Record<string, string> = {}) {
	const path = `/unit-cost/v1/telemetry/metric/${stream}${op === "legacy" ? "" : `/${op}`}`;
	return api(path, json("POST", body, { Authorization: token, ...headers }));
}

export async function expectAccepted(res: Response, records?: number) {
	const body = await res.json<Record<string, unknown>>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	expect(body.message).toBe("Telemetry accepted");
	if (records !== undefined) expect(body.records).toBe(records);
	return body;
}

export interface ApiErrorBody {
	error: {
		code: string;
		message: string;
		request_id: string;
		details?: Array<{ code: string; message: string; record?: number; path?: string }>;
		details_total?: number;
	};
}

export async function expectError(res: Response, status: number, code: string): Promise<ApiErrorBody["error"]> {
	const body = await res.json<ApiErrorBody>();
	expect(res.status, JSON.stringify(body)).toBe(status);
	expect(body.error.code, JSON.stringify(body)).toBe(code);
	expect(body.error.message.length).toBeGreaterThan(0);
	expect(body.error.request_id).toBe(res.headers.get("X-Request-Id"));
	return body.error;
}

export type ReadRecord = { timestamp: string; value: string; associated_cost?: Record<string, string> };

export async function readStream(token: string, stream: string, query = ""): Promise<ReadRecord[]> {
	const res = await api(`/unit-cost/v1/telemetry/metric/${stream}${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	const body = await res.json<{ records: ReadRecord[] }>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body.records;
}

/** Everything stored in D1 (every table the migrations created), to prove a rejected request changed nothing. */
export async function storageSnapshot(): Promise<string> {
	const { results } = await env.DB.prepare(
		"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name",
	).all<{ name: string }>();
	const parts = await Promise.all(results.map(({ name }) => env.DB.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()));
	return JSON.stringify(parts.map((p, i) => [results[i].name, p.results]));
}

/** A small deterministic generator (mulberry32), so a generated test can be replayed from its seed. */
export function seededRandom(seed: number) {
	let s = seed >>> 0;
	const next = () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = Math.imul(s ^ (s >>> 15), s | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const int = (n: number) => Math.floor(next() * n);
	const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
	const chars = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[int(alphabet.length)]).join("");
	return { next, int, pick, chars };
}

/**
 * A double as the API writes numbers: its shortest decimal form without an exponent (8e-7 is
 * "0.0000008", 1e+21 is "1000000000000000000000"). Written apart from src/ to check it.
 */
export function plainOf(n: number): string {
	const [mantissa, exponentText] = String(n).split("e");
	if (exponentText === undefined) return mantissa;
	const negative = mantissa.startsWith("-");
	const [whole, fraction = ""] = mantissa.replace("-", "").split(".");
	const digits = whole + fraction;
	const point = whole.length + Number(exponentText);
	const plain =
		point <= 0
			? `0.${"0".repeat(-point)}${digits}`
			: point >= digits.length
				? digits + "0".repeat(point - digits.length)
				: `${digits.slice(0, point)}.${digits.slice(point)}`;
	return negative ? `-${plain}` : plain;
}
