import { expect } from "vitest";
import { api, json } from "./helpers";

export type AllocationOp = "sum" | "replace" | "delete" | "bare";

/** POST …/telemetry/allocation/{stream}/{op} (the bare path without an op). */
export function allocate(token: string, stream: string, op: AllocationOp, body: unknown, headers: Record<string, string> = {}) {
	const path = `/unit-cost/v1/telemetry/allocation/${stream}${op === "bare" ? "" : `/${op}`}`;
	return api(path, json("POST", body, { Authorization: token, ...headers }));
}

/** The oldest POST /unit-cost/v1/telemetry, whose records name their stream. */
export function postTelemetry(token: string, body: unknown, headers: Record<string, string> = {}) {
	return api("/unit-cost/v1/telemetry", json("POST", body, { Authorization: token, ...headers }));
}

export type AllocationRead = {
	timestamp: string;
	granularity: string;
	filter: Record<string, string[]>;
	element_name: string;
	value: string;
};

export async function readAllocation(token: string, stream: string, query = ""): Promise<AllocationRead[]> {
	const res = await api(`/unit-cost/v1/telemetry/allocation/${stream}${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	const body = await res.json<{ records: AllocationRead[] }>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body.records;
}

/** The read records as compact [timestamp, element, value] rows. */
export async function readRows(token: string, stream: string, query = ""): Promise<Array<[string, string, string]>> {
	return (await readAllocation(token, stream, query)).map((r) => [r.timestamp, r.element_name, r.value]);
}

export async function allocationLog(token: string, stream: string): Promise<Array<Record<string, unknown>>> {
	const res = await api(`/unit-cost/v1/telemetry/allocation/${stream}/log?limit=1000`, { headers: { Authorization: token } });
	const body = await res.json<{ entries: Array<Record<string, unknown>> }>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body.entries;
}

export function deleteAllocationStream(token: string, stream: string, body?: unknown, headers: Record<string, string> = {}) {
	return api(`/unit-cost/v1/telemetry/allocation/${stream}`, {
		method: "DELETE",
		headers: { Authorization: token, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
}

/** A record with the usual fields; override any. */
export function rec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		timestamp: "2024-02-08T00:00:00Z",
		granularity: "DAILY",
		filter: { "custom:product": ["product A"] },
		element_name: "customer 1",
		value: "10",
		...overrides,
	};
}
