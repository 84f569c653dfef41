import { expect } from "vitest";
import { ADMIN, api, json } from "./helpers";

export function drop(token: string, connection: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
	return api(`/v2/connections/billing/anycost/${connection}/billing_drops`, json("POST", body, { Authorization: token, ...headers }));
}

export async function expectDrop(res: Response): Promise<Record<string, unknown>> {
	const body = await res.json<Record<string, unknown>>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	expect(body.message).toBe("Billing drop accepted");
	return body;
}

export type CostLine = { period: string; group: Record<string, string>; currency: string; cost: string };

export async function costs(token: string, query = ""): Promise<CostLine[]> {
	const res = await api(`/unit-cost/v1/costs${query ? `?${query}` : ""}`, { headers: { Authorization: token } });
	const body = await res.json<{ costs: CostLine[] }>();
	expect(res.status, JSON.stringify(body)).toBe(200);
	return body.costs;
}

export async function defineDimension(org: string, name: string, source: string) {
	const res = await api(`/admin/v1/orgs/${org}/dimensions/${name}`, json("PUT", { source }, ADMIN));
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<{ name: string; source: string }>();
}

export const row = (start: string, cost: number | string, extra: Record<string, unknown> = {}) => ({
	"time/usage_start": start,
	"cost/cost": cost,
	...extra,
});
